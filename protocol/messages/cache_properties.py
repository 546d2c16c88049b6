"""Cache configuration properties: codes, value layouts and server defaults.

A configuration is a mapping of :class:`CacheProperty` code -> Python value
(pyignite's ``PROP_*`` codes and value shapes). Scalars are ints/bools/str;
``QUERY_ENTITIES`` and ``CACHE_KEY_CONFIGURATION`` are lists of dicts keyed
like pyignite's structs (``key_type_name``, ``query_fields``, ...);
``EXPIRY_POLICY`` is an :class:`ExpiryPolicy` (pyignite's is accepted too) or
None. Layouts follow the
server's ``ClientCacheConfigurationSerializer``: QueryEntity field precision
and scale exist from 1.2.0, the expiry policy from 1.6.0.
"""

from __future__ import annotations

import datetime
import math
import struct
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any, ClassVar, NamedTuple

from ignite_router.protocol.context import V1_2, ProtocolContext
from ignite_router.protocol.errors import ParameterError, ProtocolError
from ignite_router.protocol.messages import cache_keys
from ignite_router.protocol.values import read_string, read_value, write_string, write_value
from ignite_router.protocol.wire import BOOL, I8, I32, I64, count, take

__all__ = [
    "CONFIGURATION_ORDER",
    "DEFAULTS",
    "CacheAtomicityMode",
    "CacheMode",
    "CacheProperty",
    "ExpiryPolicy",
    "IndexType",
    "PartitionLossPolicy",
    "PropertyCodec",
    "RebalanceMode",
    "WriteSynchronizationMode",
    "expiry_policy",
    "property_codec",
]


class CacheProperty(IntEnum):
    """Cache configuration property codes."""

    NAME = 0
    CACHE_MODE = 1
    CACHE_ATOMICITY_MODE = 2
    BACKUPS_NUMBER = 3
    WRITE_SYNCHRONIZATION_MODE = 4
    COPY_ON_READ = 5
    READ_FROM_BACKUP = 6
    DATA_REGION_NAME = 100
    IS_ONHEAP_CACHE_ENABLED = 101
    QUERY_ENTITIES = 200
    QUERY_PARALLELISM = 201
    QUERY_DETAIL_METRIC_SIZE = 202
    SQL_SCHEMA = 203
    SQL_INDEX_INLINE_MAX_SIZE = 204
    SQL_ESCAPE_ALL = 205
    MAX_QUERY_ITERATORS = 206
    REBALANCE_MODE = 300
    REBALANCE_DELAY = 301
    REBALANCE_TIMEOUT = 302
    REBALANCE_BATCH_SIZE = 303
    REBALANCE_BATCHES_PREFETCH_COUNT = 304
    REBALANCE_ORDER = 305
    REBALANCE_THROTTLE = 306
    GROUP_NAME = 400
    CACHE_KEY_CONFIGURATION = 401
    DEFAULT_LOCK_TIMEOUT = 402
    MAX_CONCURRENT_ASYNC_OPERATIONS = 403
    PARTITION_LOSS_POLICY = 404
    EAGER_TTL = 405
    STATISTICS_ENABLED = 406
    EXPIRY_POLICY = 407


def _ttl_ms(value: Any, name: str) -> int:
    """A TTL in ms from ms or a timedelta (floored, as pyignite); -2 unchanged, -1 eternal."""
    if isinstance(value, datetime.timedelta):
        value = math.floor(value.total_seconds() * 1000)
    elif not isinstance(value, int) or isinstance(value, bool):
        raise ParameterError(f"expiry {name} must be ms (int) or a timedelta, got {value!r}")
    if value < -2:
        raise ParameterError(
            f"expiry {name} must not be negative (-1 eternal, -2 unchanged): {value}"
        )
    return int(value)


class ExpiryPolicy(cache_keys.ExpiryPolicy):
    """Expiry TTLs for create, update and access: pyignite's ``ExpiryPolicy``.

    Each is milliseconds or a ``timedelta`` (stored as ms, floored);
    :attr:`UNCHANGED` (-2, the default) leaves the entry's TTL as it is,
    :attr:`ETERNAL` (-1) removes it. Equal to any expiry policy object with the
    same ``create``/``update``/``access`` (pyignite's included).
    """

    __slots__ = ()
    UNCHANGED: ClassVar[int] = -2
    ETERNAL: ClassVar[int] = -1

    def __init__(
        self,
        create: int | datetime.timedelta = -2,
        update: int | datetime.timedelta = -2,
        access: int | datetime.timedelta = -2,
    ) -> None:
        super().__init__(
            _ttl_ms(create, "create"), _ttl_ms(update, "update"), _ttl_ms(access, "access")
        )

    def __eq__(self, other: object) -> bool:
        if not all(hasattr(other, name) for name in ("create", "update", "access")):
            return NotImplemented
        try:
            return (self.create, self.update, self.access) == _ttls(other)
        except (TypeError, ValueError):
            return False

    __hash__ = cache_keys.ExpiryPolicy.__hash__


def _ttls(policy: Any) -> tuple[int, int, int]:
    return (
        _ttl_ms(policy.create, "create"),
        _ttl_ms(policy.update, "update"),
        _ttl_ms(policy.access, "access"),
    )


def expiry_policy(value: Any) -> ExpiryPolicy | None:
    """Any expiry policy (ours, pyignite's: ms or timedeltas) as an :class:`ExpiryPolicy`."""
    if value is None or isinstance(value, ExpiryPolicy):
        return value
    if not all(hasattr(value, name) for name in ("create", "update", "access")):
        raise ParameterError(f"an expiry policy needs create, update and access, got {value!r}")
    return ExpiryPolicy(*_ttls(value))


class CacheMode(IntEnum):
    LOCAL = 0
    REPLICATED = 1
    PARTITIONED = 2


class CacheAtomicityMode(IntEnum):
    TRANSACTIONAL = 0
    ATOMIC = 1


class WriteSynchronizationMode(IntEnum):
    FULL_SYNC = 0
    FULL_ASYNC = 1
    PRIMARY_SYNC = 2


class RebalanceMode(IntEnum):
    SYNC = 0
    ASYNC = 1
    NONE = 2


class PartitionLossPolicy(IntEnum):
    READ_ONLY_SAFE = 0
    READ_ONLY_ALL = 1
    READ_WRITE_SAFE = 2
    READ_WRITE_ALL = 3
    IGNORE = 4


class IndexType(IntEnum):
    SORTED = 0
    FULLTEXT = 1
    GEOSPATIAL = 2


Writer = Callable[[bytearray, Any, ProtocolContext], None]
Reader = Callable[[memoryview, int, ProtocolContext], tuple[Any, int]]


class PropertyCodec(NamedTuple):
    write: Writer
    read: Reader


def _scalar(shape: struct.Struct, default: Any = None) -> PropertyCodec:
    def write(buf: bytearray, value: Any, context: ProtocolContext) -> None:
        buf += shape.pack(default if value is None else value)

    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        (value,), pos = take(shape, view, pos)
        return value, pos

    return PropertyCodec(write, read)


def _write_string(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    write_string(buf, value)


def _read_string(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    return read_string(view, pos)


def _write_object(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    write_value(buf, value)


def _read_object(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    return read_value(view, pos)


def _since_1_2(codec: PropertyCodec, absent: Any) -> PropertyCodec:
    """A field that exists on the wire from protocol 1.2.0 only."""

    def write(buf: bytearray, value: Any, context: ProtocolContext) -> None:
        if context.version >= V1_2:
            codec.write(buf, value, context)

    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        if context.version < V1_2:
            return absent, pos
        return codec.read(view, pos, context)

    return PropertyCodec(write, read)


def _array(item: PropertyCodec, min_item_size: int) -> PropertyCodec:
    """i32 count + items; None is written as an empty array (as the server does)."""

    def write(buf: bytearray, values: Any, context: ProtocolContext) -> None:
        values = list(values or ())
        buf += I32.pack(len(values))
        for value in values:
            item.write(buf, value, context)

    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        n, pos = count(view, pos, min_item_size)
        values = []
        for _ in range(n):
            value, pos = item.read(view, pos, context)
            values.append(value)
        return values, pos

    return PropertyCodec(write, read)


def _struct(*fields: tuple[str, PropertyCodec]) -> PropertyCodec:
    """Named fields in order, as a dict; a missing key writes the field's default."""

    def write(buf: bytearray, value: Any, context: ProtocolContext) -> None:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a dict with {[name for name, _ in fields]}, got {value!r}")
        for name, codec in fields:
            codec.write(buf, value.get(name), context)

    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        result = {}
        for name, codec in fields:
            result[name], pos = codec.read(view, pos, context)
        return result, pos

    return PropertyCodec(write, read)


def _write_expiry(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    policy = expiry_policy(value)
    if policy is None:
        buf += b"\x00"
    else:
        buf += b"\x01" + _EXPIRY.pack(policy.create, policy.update, policy.access)


def _read_expiry(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    (present,), pos = take(BOOL, view, pos)
    if not present:
        return None, pos
    fields, pos = take(_EXPIRY, view, pos)
    try:
        return ExpiryPolicy(*fields), pos
    except ValueError as exc:
        raise ProtocolError(f"expiry policy at offset {pos - _EXPIRY.size}: {exc}") from None


_EXPIRY = struct.Struct("<qqq")
_INT = _scalar(I32)
_LONG = _scalar(I64)
_BOOL = _scalar(BOOL)
_STRING = PropertyCodec(_write_string, _read_string)

_QUERY_FIELD = _struct(
    ("name", _STRING),
    ("type_name", _STRING),
    ("is_key_field", _scalar(BOOL, False)),
    ("is_notnull_constraint_field", _scalar(BOOL, False)),
    ("default_value", PropertyCodec(_write_object, _read_object)),
    ("precision", _since_1_2(_scalar(I32, -1), -1)),
    ("scale", _since_1_2(_scalar(I32, -1), -1)),
)
_ALIAS = _struct(("field_name", _STRING), ("alias", _STRING))
_INDEX_FIELD = _struct(("name", _STRING), ("is_descending", _scalar(BOOL, False)))
_INDEX = _struct(
    ("index_name", _STRING),
    ("index_type", _scalar(I8, IndexType.SORTED)),
    ("inline_size", _scalar(I32, -1)),
    ("fields", _array(_INDEX_FIELD, 2)),
)
_QUERY_ENTITY = _struct(
    ("key_type_name", _STRING),
    ("value_type_name", _STRING),
    ("table_name", _STRING),
    ("key_field_name", _STRING),
    ("value_field_name", _STRING),
    ("query_fields", _array(_QUERY_FIELD, 5)),
    ("field_name_aliases", _array(_ALIAS, 2)),
    ("query_indexes", _array(_INDEX, 10)),
)
_KEY_CONFIG = _struct(("type_name", _STRING), ("affinity_key_field_name", _STRING))

P = CacheProperty
_CODECS: dict[int, PropertyCodec] = {
    P.NAME: _STRING,
    P.CACHE_MODE: _INT,
    P.CACHE_ATOMICITY_MODE: _INT,
    P.BACKUPS_NUMBER: _INT,
    P.WRITE_SYNCHRONIZATION_MODE: _INT,
    P.COPY_ON_READ: _BOOL,
    P.READ_FROM_BACKUP: _BOOL,
    P.DATA_REGION_NAME: _STRING,
    P.IS_ONHEAP_CACHE_ENABLED: _BOOL,
    P.QUERY_ENTITIES: _array(_QUERY_ENTITY, 8),
    P.QUERY_PARALLELISM: _INT,
    P.QUERY_DETAIL_METRIC_SIZE: _INT,
    P.SQL_SCHEMA: _STRING,
    P.SQL_INDEX_INLINE_MAX_SIZE: _INT,
    P.SQL_ESCAPE_ALL: _BOOL,
    P.MAX_QUERY_ITERATORS: _INT,
    P.REBALANCE_MODE: _INT,
    P.REBALANCE_DELAY: _LONG,
    P.REBALANCE_TIMEOUT: _LONG,
    P.REBALANCE_BATCH_SIZE: _INT,
    P.REBALANCE_BATCHES_PREFETCH_COUNT: _LONG,
    P.REBALANCE_ORDER: _INT,
    P.REBALANCE_THROTTLE: _LONG,
    P.GROUP_NAME: _STRING,
    P.CACHE_KEY_CONFIGURATION: _array(_KEY_CONFIG, 2),
    P.DEFAULT_LOCK_TIMEOUT: _LONG,
    P.MAX_CONCURRENT_ASYNC_OPERATIONS: _INT,
    P.PARTITION_LOSS_POLICY: _INT,
    P.EAGER_TTL: _BOOL,
    P.STATISTICS_ENABLED: _BOOL,
    P.EXPIRY_POLICY: PropertyCodec(_write_expiry, _read_expiry),
}

# Order of the full configuration in the OP_CACHE_GET_CONFIGURATION answer
# (EXPIRY_POLICY follows from protocol 1.6.0).
CONFIGURATION_ORDER: tuple[CacheProperty, ...] = (
    P.CACHE_ATOMICITY_MODE, P.BACKUPS_NUMBER, P.CACHE_MODE, P.COPY_ON_READ,
    P.DATA_REGION_NAME, P.EAGER_TTL, P.STATISTICS_ENABLED, P.GROUP_NAME,
    P.DEFAULT_LOCK_TIMEOUT, P.MAX_CONCURRENT_ASYNC_OPERATIONS, P.MAX_QUERY_ITERATORS,
    P.NAME, P.IS_ONHEAP_CACHE_ENABLED, P.PARTITION_LOSS_POLICY, P.QUERY_DETAIL_METRIC_SIZE,
    P.QUERY_PARALLELISM, P.READ_FROM_BACKUP, P.REBALANCE_BATCH_SIZE,
    P.REBALANCE_BATCHES_PREFETCH_COUNT, P.REBALANCE_DELAY, P.REBALANCE_MODE,
    P.REBALANCE_ORDER, P.REBALANCE_THROTTLE, P.REBALANCE_TIMEOUT, P.SQL_ESCAPE_ALL,
    P.SQL_INDEX_INLINE_MAX_SIZE, P.SQL_SCHEMA, P.WRITE_SYNCHRONIZATION_MODE,
    P.CACHE_KEY_CONFIGURATION, P.QUERY_ENTITIES,
)  # fmt: skip

# Server defaults (Ignite's CacheConfiguration) for properties a cache was created without.
DEFAULTS: dict[int, Any] = {
    P.CACHE_ATOMICITY_MODE: CacheAtomicityMode.ATOMIC, P.BACKUPS_NUMBER: 0,
    P.CACHE_MODE: CacheMode.PARTITIONED, P.COPY_ON_READ: True, P.DATA_REGION_NAME: None,
    P.EAGER_TTL: True, P.STATISTICS_ENABLED: False, P.GROUP_NAME: None,
    P.DEFAULT_LOCK_TIMEOUT: 0, P.MAX_CONCURRENT_ASYNC_OPERATIONS: 500,
    P.MAX_QUERY_ITERATORS: 1024, P.NAME: None, P.IS_ONHEAP_CACHE_ENABLED: False,
    P.PARTITION_LOSS_POLICY: PartitionLossPolicy.IGNORE, P.QUERY_DETAIL_METRIC_SIZE: 0,
    P.QUERY_PARALLELISM: 1, P.READ_FROM_BACKUP: True, P.REBALANCE_BATCH_SIZE: 524288,
    P.REBALANCE_BATCHES_PREFETCH_COUNT: 3, P.REBALANCE_DELAY: 0,
    P.REBALANCE_MODE: RebalanceMode.ASYNC, P.REBALANCE_ORDER: 0, P.REBALANCE_THROTTLE: 0,
    P.REBALANCE_TIMEOUT: 10000, P.SQL_ESCAPE_ALL: False, P.SQL_INDEX_INLINE_MAX_SIZE: -1,
    P.SQL_SCHEMA: None, P.WRITE_SYNCHRONIZATION_MODE: WriteSynchronizationMode.PRIMARY_SYNC,
    P.CACHE_KEY_CONFIGURATION: [], P.QUERY_ENTITIES: [], P.EXPIRY_POLICY: None,
}  # fmt: skip


def property_codec(code: int) -> PropertyCodec:
    """The layout of property ``code``; ProtocolError for an unknown code."""
    codec = _CODECS.get(code)
    if codec is None:
        raise ProtocolError(f"unknown cache property code {code}")
    return codec
