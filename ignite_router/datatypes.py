"""pyignite 0.6.1's type hints and constants, under pyignite's names, without pyignite.

Code written for pyignite changes ``from pyignite.datatypes import IntObject``
(and ``...datatypes.prop_codes``, ``...datatypes.cache_config``) to
``from ignite_router.datatypes import IntObject`` and keeps working: a hint
class here names one Ignite type by its ``type_code``, exactly as pyignite's
class of the same name does, and is accepted wherever a hint is (``key_hint=``,
``value_hint=``, ``(value, hint)`` tuples, binary type schemas). pyignite's own
classes are accepted too; the mapping is ``ignite_router.affinity.types.hint_type``.

The classes are markers: values are plain Python values (``(kind, items)``
tuples for collections and maps, as in pyignite).
"""

from __future__ import annotations

from typing import ClassVar

from ignite_router.affinity.types import CollectionKind, IgniteType, MapKind
from ignite_router.protocol.messages.cache_properties import (
    CacheAtomicityMode,
    CacheMode,
    CacheProperty,
    ExpiryPolicy,
    IndexType,
    PartitionLossPolicy,
    RebalanceMode,
    WriteSynchronizationMode,
)
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.messages.tx import TxConcurrency, TxIsolation

T = IgniteType


class IgniteDataType:
    """A type hint: names the Ignite type a value is written as (``type_code``)."""

    type_code: ClassVar[IgniteType]


def _hint(name: str, code: IgniteType, doc: str) -> type[IgniteDataType]:
    return type(
        name, (IgniteDataType,), {"type_code": code, "__doc__": doc, "__module__": __name__}
    )


# -- primitives and standard objects --------------------------------------------------------

ByteObject = _hint("ByteObject", T.BYTE, "Java ``byte`` (an int in -128..127).")
ShortObject = _hint("ShortObject", T.SHORT, "Java ``short``.")
IntObject = _hint("IntObject", T.INT, "Java ``int``.")
LongObject = _hint("LongObject", T.LONG, "Java ``long`` (what an ``int`` is by default).")
FloatObject = _hint("FloatObject", T.FLOAT, "Java ``float`` (32 bits).")
DoubleObject = _hint("DoubleObject", T.DOUBLE, "Java ``double`` (what a ``float`` is).")
CharObject = _hint("CharObject", T.CHAR, "Java ``char`` (a one-character str).")
BoolObject = _hint("BoolObject", T.BOOL, "Java ``boolean``.")
Null = _hint("Null", T.NULL, "Null.")
String = _hint("String", T.STRING, "Java ``String``.")
UUIDObject = _hint("UUIDObject", T.UUID, "Java ``UUID``.")
DateObject = _hint("DateObject", T.DATE, "``java.util.Date`` (a datetime; naive = local).")
TimestampObject = _hint(
    "TimestampObject",
    T.TIMESTAMP,
    "``java.sql.Timestamp``: a datetime, or pyignite's ``(datetime, nanoseconds)``.",
)
TimeObject = _hint("TimeObject", T.TIME, "``java.sql.Time`` (a timedelta since midnight).")
DecimalObject = _hint("DecimalObject", T.DECIMAL, "``BigDecimal`` (a decimal.Decimal).")
EnumObject = _hint("EnumObject", T.ENUM, "An enum: ``(type_id, ordinal)``.")
BinaryEnumObject = _hint(
    "BinaryEnumObject", T.BINARY_ENUM, "A binary enum: ``(type_id, ordinal)``."
)

# -- arrays ---------------------------------------------------------------------------------

ByteArrayObject = _hint("ByteArrayObject", T.BYTE_ARRAY, "``byte[]`` (bytes, or ints).")
ShortArrayObject = _hint("ShortArrayObject", T.SHORT_ARRAY, "``short[]``.")
IntArrayObject = _hint("IntArrayObject", T.INT_ARRAY, "``int[]``.")
LongArrayObject = _hint("LongArrayObject", T.LONG_ARRAY, "``long[]``.")
FloatArrayObject = _hint("FloatArrayObject", T.FLOAT_ARRAY, "``float[]``.")
DoubleArrayObject = _hint("DoubleArrayObject", T.DOUBLE_ARRAY, "``double[]``.")
CharArrayObject = _hint("CharArrayObject", T.CHAR_ARRAY, "``char[]``.")
BoolArrayObject = _hint("BoolArrayObject", T.BOOL_ARRAY, "``boolean[]``.")
StringArrayObject = _hint("StringArrayObject", T.STRING_ARRAY, "``String[]``.")
UUIDArrayObject = _hint("UUIDArrayObject", T.UUID_ARRAY, "``UUID[]``.")
DateArrayObject = _hint("DateArrayObject", T.DATE_ARRAY, "``Date[]``.")
TimestampArrayObject = _hint("TimestampArrayObject", T.TIMESTAMP_ARRAY, "``Timestamp[]``.")
TimeArrayObject = _hint("TimeArrayObject", T.TIME_ARRAY, "``Time[]``.")
DecimalArrayObject = _hint("DecimalArrayObject", T.DECIMAL_ARRAY, "``BigDecimal[]``.")
EnumArrayObject = _hint("EnumArrayObject", T.ENUM_ARRAY, "``Enum[]``: ``(type_id, items)``.")
BinaryEnumArrayObject = _hint(
    "BinaryEnumArrayObject", T.ENUM_ARRAY, "``Enum[]`` of binary enums: ``(type_id, items)``."
)
WrappedDataObject = _hint("WrappedDataObject", T.WRAPPED_DATA, "A value wrapped in a byte array.")
BinaryObject = _hint("BinaryObject", T.COMPLEX_OBJECT, "A binary (complex) object.")


class ObjectArrayObject(IgniteDataType):
    """``Object[]``: ``(type_id, items)``; :attr:`OBJECT` (-1) is ``java.lang.Object``."""

    type_code = T.OBJECT_ARRAY
    OBJECT: ClassVar[int] = -1


class CollectionObject(IgniteDataType):
    """A Java collection: ``(kind, items)`` with one of the kinds below."""

    type_code = T.COLLECTION
    USER_SET: ClassVar[int] = CollectionKind.USER_SET
    USER_COL: ClassVar[int] = CollectionKind.USER_COL
    ARR_LIST: ClassVar[int] = CollectionKind.ARR_LIST
    LINKED_LIST: ClassVar[int] = CollectionKind.LINKED_LIST
    HASH_SET: ClassVar[int] = CollectionKind.HASH_SET
    LINKED_HASH_SET: ClassVar[int] = CollectionKind.LINKED_HASH_SET
    SINGLETON_LIST: ClassVar[int] = CollectionKind.SINGLETON_LIST


class MapObject(IgniteDataType):
    """A Java map: ``(kind, dict)``, :attr:`HASH_MAP` or :attr:`LINKED_HASH_MAP`."""

    type_code = T.MAP
    HASH_MAP: ClassVar[int] = MapKind.HASH_MAP
    LINKED_HASH_MAP: ClassVar[int] = MapKind.LINKED_HASH_MAP


class AnyDataObject:
    """No particular type: the value's default mapping (pyignite's ``AnyDataObject``)."""


# -- transactions, cluster state --------------------------------------------------------------

TransactionConcurrency = TxConcurrency
TransactionIsolation = TxIsolation

# -- pyignite.datatypes.prop_codes ------------------------------------------------------------

PROP_NAME = CacheProperty.NAME
PROP_CACHE_MODE = CacheProperty.CACHE_MODE
PROP_CACHE_ATOMICITY_MODE = CacheProperty.CACHE_ATOMICITY_MODE
PROP_BACKUPS_NUMBER = CacheProperty.BACKUPS_NUMBER
PROP_WRITE_SYNCHRONIZATION_MODE = CacheProperty.WRITE_SYNCHRONIZATION_MODE
PROP_COPY_ON_READ = CacheProperty.COPY_ON_READ
PROP_READ_FROM_BACKUP = CacheProperty.READ_FROM_BACKUP
PROP_DATA_REGION_NAME = CacheProperty.DATA_REGION_NAME
PROP_IS_ONHEAP_CACHE_ENABLED = CacheProperty.IS_ONHEAP_CACHE_ENABLED
PROP_QUERY_ENTITIES = CacheProperty.QUERY_ENTITIES
PROP_QUERY_PARALLELISM = CacheProperty.QUERY_PARALLELISM
PROP_QUERY_DETAIL_METRIC_SIZE = CacheProperty.QUERY_DETAIL_METRIC_SIZE
PROP_SQL_SCHEMA = CacheProperty.SQL_SCHEMA
PROP_SQL_INDEX_INLINE_MAX_SIZE = CacheProperty.SQL_INDEX_INLINE_MAX_SIZE
PROP_SQL_ESCAPE_ALL = CacheProperty.SQL_ESCAPE_ALL
PROP_MAX_QUERY_ITERATORS = CacheProperty.MAX_QUERY_ITERATORS
PROP_REBALANCE_MODE = CacheProperty.REBALANCE_MODE
PROP_REBALANCE_DELAY = CacheProperty.REBALANCE_DELAY
PROP_REBALANCE_TIMEOUT = CacheProperty.REBALANCE_TIMEOUT
PROP_REBALANCE_BATCH_SIZE = CacheProperty.REBALANCE_BATCH_SIZE
PROP_REBALANCE_BATCHES_PREFETCH_COUNT = CacheProperty.REBALANCE_BATCHES_PREFETCH_COUNT
PROP_REBALANCE_ORDER = CacheProperty.REBALANCE_ORDER
PROP_REBALANCE_THROTTLE = CacheProperty.REBALANCE_THROTTLE
PROP_GROUP_NAME = CacheProperty.GROUP_NAME
PROP_CACHE_KEY_CONFIGURATION = CacheProperty.CACHE_KEY_CONFIGURATION
PROP_DEFAULT_LOCK_TIMEOUT = CacheProperty.DEFAULT_LOCK_TIMEOUT
PROP_MAX_CONCURRENT_ASYNC_OPERATIONS = CacheProperty.MAX_CONCURRENT_ASYNC_OPERATIONS
PROP_PARTITION_LOSS_POLICY = CacheProperty.PARTITION_LOSS_POLICY
PROP_EAGER_TTL = CacheProperty.EAGER_TTL
PROP_STATISTICS_ENABLED = CacheProperty.STATISTICS_ENABLED
PROP_EXPIRY_POLICY = CacheProperty.EXPIRY_POLICY

__all__ = [
    "PROP_BACKUPS_NUMBER",
    "PROP_CACHE_ATOMICITY_MODE",
    "PROP_CACHE_KEY_CONFIGURATION",
    "PROP_CACHE_MODE",
    "PROP_COPY_ON_READ",
    "PROP_DATA_REGION_NAME",
    "PROP_DEFAULT_LOCK_TIMEOUT",
    "PROP_EAGER_TTL",
    "PROP_EXPIRY_POLICY",
    "PROP_GROUP_NAME",
    "PROP_IS_ONHEAP_CACHE_ENABLED",
    "PROP_MAX_CONCURRENT_ASYNC_OPERATIONS",
    "PROP_MAX_QUERY_ITERATORS",
    "PROP_NAME",
    "PROP_PARTITION_LOSS_POLICY",
    "PROP_QUERY_DETAIL_METRIC_SIZE",
    "PROP_QUERY_ENTITIES",
    "PROP_QUERY_PARALLELISM",
    "PROP_READ_FROM_BACKUP",
    "PROP_REBALANCE_BATCHES_PREFETCH_COUNT",
    "PROP_REBALANCE_BATCH_SIZE",
    "PROP_REBALANCE_DELAY",
    "PROP_REBALANCE_MODE",
    "PROP_REBALANCE_ORDER",
    "PROP_REBALANCE_THROTTLE",
    "PROP_REBALANCE_TIMEOUT",
    "PROP_SQL_ESCAPE_ALL",
    "PROP_SQL_INDEX_INLINE_MAX_SIZE",
    "PROP_SQL_SCHEMA",
    "PROP_STATISTICS_ENABLED",
    "PROP_WRITE_SYNCHRONIZATION_MODE",
    "AnyDataObject",
    "BinaryEnumArrayObject",
    "BinaryEnumObject",
    "BinaryObject",
    "BoolArrayObject",
    "BoolObject",
    "ByteArrayObject",
    "ByteObject",
    "CacheAtomicityMode",
    "CacheMode",
    "CharArrayObject",
    "CharObject",
    "ClusterState",
    "CollectionObject",
    "DateArrayObject",
    "DateObject",
    "DecimalArrayObject",
    "DecimalObject",
    "DoubleArrayObject",
    "DoubleObject",
    "EnumArrayObject",
    "EnumObject",
    "ExpiryPolicy",
    "FloatArrayObject",
    "FloatObject",
    "IgniteDataType",
    "IndexType",
    "IntArrayObject",
    "IntObject",
    "LongArrayObject",
    "LongObject",
    "MapObject",
    "Null",
    "ObjectArrayObject",
    "PartitionLossPolicy",
    "RebalanceMode",
    "ShortArrayObject",
    "ShortObject",
    "String",
    "StringArrayObject",
    "TimeArrayObject",
    "TimeObject",
    "TimestampArrayObject",
    "TimestampObject",
    "TransactionConcurrency",
    "TransactionIsolation",
    "UUIDArrayObject",
    "UUIDObject",
    "WrappedDataObject",
    "WriteSynchronizationMode",
]
