"""The one Python <-> Ignite type mapping.

Every component that needs to know which Ignite type a Python value becomes
(the wire codec in ``protocol`` and the key hash in ``affinity``) asks
:func:`resolve`, so the bytes on the wire and the partition a key is routed to
can never disagree.

Default mapping (pyignite 0.6.1's, plus the rows marked *):

=============================  ==========================================
Python                         Ignite
=============================  ==========================================
``None``                       NULL
``bool``                       BOOL
``int``                        LONG
``float``                      DOUBLE
``str``                        STRING
``bytes``/``bytearray``        BYTE_ARRAY
``uuid.UUID``                  UUID
``datetime.datetime``          DATE (ms; a naive datetime is local time)
``datetime.date``              DATE (local midnight)
``datetime.timedelta``         TIME (ms)
``datetime.time``              TIME (ms since midnight) *
``decimal.Decimal``            DECIMAL (scale = -exponent, not normalized)
``EnumValue``                  ENUM
``(kind, list)`` tuple         COLLECTION of that kind (``IgniteCollection``)
``(kind, dict)`` tuple         MAP of that kind (``IgniteMap``)
``dict``                       MAP (HASH_MAP) *
``set``/``frozenset``          COLLECTION (HASH_SET) *
``list``/``tuple``             typed array if homogeneous, else OBJECT_ARRAY *
complex objects                COMPLEX_OBJECT (anything with ``ignite_type_code``)
=============================  ==========================================

A hint overrides the default: pass it explicitly or as a ``(value, hint)``
tuple. A hint is an :class:`IgniteType` or a type-hint class: pyignite's
(``pyignite.datatypes.IntObject``...) or ours (``ignite_router.datatypes``),
recognised by its ``type_code`` so pyignite is never imported.

Values read back as pyignite reads them: collections, maps and object arrays
as ``(kind or type id, items)`` tuples (:class:`IgniteCollection`,
:class:`IgniteMap`, ``ObjectArray``: named tuples that equal pyignite's plain
ones), enums as ``(type id, ordinal)``, dates as naive local datetimes.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from enum import IntEnum
from typing import Any, NamedTuple

__all__ = [
    "CollectionKind",
    "EnumValue",
    "IgniteCollection",
    "IgniteMap",
    "IgniteType",
    "MapKind",
    "TypeHint",
    "hint_type",
    "infer_type",
    "resolve",
    "split_hint",
    "tagged_collection",
    "tagged_map",
]


class IgniteType(IntEnum):
    """Ignite binary type codes (the byte that starts every typed value)."""

    BYTE = 1
    SHORT = 2
    INT = 3
    LONG = 4
    FLOAT = 5
    DOUBLE = 6
    CHAR = 7
    BOOL = 8
    STRING = 9
    UUID = 10
    DATE = 11
    BYTE_ARRAY = 12
    SHORT_ARRAY = 13
    INT_ARRAY = 14
    LONG_ARRAY = 15
    FLOAT_ARRAY = 16
    DOUBLE_ARRAY = 17
    CHAR_ARRAY = 18
    BOOL_ARRAY = 19
    STRING_ARRAY = 20
    UUID_ARRAY = 21
    DATE_ARRAY = 22
    OBJECT_ARRAY = 23
    COLLECTION = 24
    MAP = 25
    WRAPPED_DATA = 27
    ENUM = 28
    ENUM_ARRAY = 29
    DECIMAL = 30
    DECIMAL_ARRAY = 31
    TIMESTAMP = 33
    TIMESTAMP_ARRAY = 34
    TIME = 36
    TIME_ARRAY = 37
    BINARY_ENUM = 38
    NULL = 101
    HANDLE = 102
    COMPLEX_OBJECT = 103


TypeHint = IgniteType


class CollectionKind(IntEnum):
    """Collection kind byte of a COLLECTION value."""

    USER_SET = -1
    USER_COL = 0
    ARR_LIST = 1
    LINKED_LIST = 2
    HASH_SET = 3
    LINKED_HASH_SET = 4
    SINGLETON_LIST = 5


class MapKind(IntEnum):
    """Map kind byte of a MAP value."""

    HASH_MAP = 1
    LINKED_HASH_MAP = 2


class EnumValue(NamedTuple):
    """An Ignite (binary) enum: the enum's type id and the constant's ordinal.

    A tuple: it equals pyignite's ``(type_id, ordinal)``.
    """

    type_id: int
    ordinal: int


class IgniteCollection(NamedTuple):
    """A COLLECTION value: the Java collection kind and the items.

    A tuple: it equals pyignite's ``(kind, items)`` and is written the same.
    """

    kind: CollectionKind
    items: Any


class IgniteMap(NamedTuple):
    """A MAP value: the Java map kind and the entries (a dict).

    A tuple: it equals pyignite's ``(kind, dict)`` and is written the same.
    """

    kind: MapKind
    items: dict[Any, Any]


# -- hints ---------------------------------------------------------------------------------

# Hint classes without a type code that pyignite still accepts in (value, hint) tuples.
_NAMED_HINTS: dict[str, IgniteType | None] = {"AnyDataObject": None, "Null": IgniteType.NULL}
_HINT_CLASSES: dict[type, IgniteType | None] = {}


def _class_hint(hint: type) -> IgniteType | None:
    code = getattr(hint, "type_code", None)
    if code is None:
        if hint.__name__ not in _NAMED_HINTS:
            raise TypeError(f"{hint.__name__} is not an Ignite type hint (it has no type_code)")
        return _NAMED_HINTS[hint.__name__]
    if isinstance(code, bytes | bytearray):  # pyignite: one little-endian byte
        code = int.from_bytes(code, "little")
    try:
        return IgniteType(code)
    except ValueError:
        raise TypeError(f"{hint.__name__} names an unknown Ignite type code {code!r}") from None


def hint_type(hint: Any) -> IgniteType | None:
    """The Ignite type a hint names; None means "infer from the value".

    A hint is an :class:`IgniteType`, a type code (int), or a type-hint class
    with a ``type_code`` (an int, or pyignite's one byte): pyignite's
    ``IntObject``, ``String``, ``CollectionObject``... and the same-named
    classes of ``ignite_router.datatypes``. pyignite's ``AnyDataObject``
    means infer. TypeError for anything else.
    """
    if hint is None or type(hint) is IgniteType:
        return hint
    if isinstance(hint, type):
        try:
            return _HINT_CLASSES[hint]
        except KeyError:
            found = _HINT_CLASSES[hint] = _class_hint(hint)
            return found
    if isinstance(hint, int) and not isinstance(hint, bool):
        try:
            return IgniteType(hint)
        except ValueError:
            raise TypeError(f"unknown Ignite type code {hint}") from None
    raise TypeError(f"{hint!r} is not an Ignite type hint")


def _is_hint(candidate: Any) -> bool:
    if type(candidate) is IgniteType:
        return True
    if not isinstance(candidate, type):
        return False
    if candidate in _HINT_CLASSES:
        return True
    return getattr(candidate, "type_code", None) is not None or candidate.__name__ in _NAMED_HINTS


def split_hint(value: Any) -> tuple[Any, IgniteType | None]:
    """``(value, hint)`` for a hinted tuple (hint normalized), ``(value, None)`` otherwise."""
    if type(value) is tuple and len(value) == 2 and _is_hint(value[1]):
        return value[0], hint_type(value[1])
    return value, None


# -- pyignite's (kind, items) tuples -------------------------------------------------------

_COLLECTION_KINDS = frozenset(int(kind) for kind in CollectionKind)
_MAP_KINDS = frozenset(int(kind) for kind in MapKind)
_ITEMS = (list, tuple, set, frozenset)


def _is_kind(candidate: Any, kinds: frozenset[int]) -> bool:
    return isinstance(candidate, int) and not isinstance(candidate, bool) and candidate in kinds


def tagged_collection(value: Any) -> IgniteCollection | None:
    """pyignite's ``(kind, items)`` collection tuple as an :class:`IgniteCollection`, else None."""
    if type(value) is IgniteCollection:
        return value
    if (
        type(value) is tuple
        and len(value) == 2
        and _is_kind(value[0], _COLLECTION_KINDS)
        and isinstance(value[1], _ITEMS)
    ):
        return IgniteCollection(CollectionKind(value[0]), value[1])
    return None


def tagged_map(value: Any) -> IgniteMap | None:
    """pyignite's ``(kind, dict)`` map tuple as an :class:`IgniteMap`, else None."""
    if type(value) is IgniteMap:
        return value
    if (
        type(value) is tuple
        and len(value) == 2
        and _is_kind(value[0], _MAP_KINDS)
        and isinstance(value[1], dict)
    ):
        return IgniteMap(MapKind(value[0]), value[1])
    return None


_SCALAR_TYPES: dict[type, IgniteType] = {
    type(None): IgniteType.NULL,
    bool: IgniteType.BOOL,
    int: IgniteType.LONG,
    float: IgniteType.DOUBLE,
    str: IgniteType.STRING,
    bytes: IgniteType.BYTE_ARRAY,
    bytearray: IgniteType.BYTE_ARRAY,
    uuid.UUID: IgniteType.UUID,
    datetime.datetime: IgniteType.DATE,
    datetime.date: IgniteType.DATE,
    datetime.timedelta: IgniteType.TIME,
    datetime.time: IgniteType.TIME,
    decimal.Decimal: IgniteType.DECIMAL,
    EnumValue: IgniteType.ENUM,
    IgniteCollection: IgniteType.COLLECTION,
    IgniteMap: IgniteType.MAP,
    dict: IgniteType.MAP,
    set: IgniteType.COLLECTION,
    frozenset: IgniteType.COLLECTION,
}

# Element type -> array type for homogeneous lists/tuples (pyignite's table).
_ARRAY_TYPES: dict[type, IgniteType] = {
    int: IgniteType.LONG_ARRAY,
    float: IgniteType.DOUBLE_ARRAY,
    str: IgniteType.STRING_ARRAY,
    bool: IgniteType.BOOL_ARRAY,
    uuid.UUID: IgniteType.UUID_ARRAY,
    datetime.datetime: IgniteType.DATE_ARRAY,
    datetime.date: IgniteType.DATE_ARRAY,
    datetime.timedelta: IgniteType.TIME_ARRAY,
    decimal.Decimal: IgniteType.DECIMAL_ARRAY,
}

# Element types whose arrays may hold nulls (object arrays on the Java side).
_NULLABLE_ELEMENTS = frozenset(
    {str, uuid.UUID, datetime.datetime, datetime.date, datetime.timedelta, decimal.Decimal}
)


def _infer_sequence(value: list[Any] | tuple[Any, ...]) -> IgniteType:
    element_types = {type(item) for item in value}
    nullable = type(None) in element_types
    element_types.discard(type(None))
    if len(element_types) == 1:
        (element,) = element_types
        array = _ARRAY_TYPES.get(element)
        if array is not None and (not nullable or element in _NULLABLE_ELEMENTS):
            return array
    return IgniteType.OBJECT_ARRAY


def infer_type(value: Any) -> IgniteType:
    """Return the Ignite type a Python value becomes when no hint is given."""
    found = _SCALAR_TYPES.get(type(value))
    if found is not None:
        return found
    if type(value) is tuple and len(value) == 2:
        if tagged_map(value) is not None:
            return IgniteType.MAP
        if tagged_collection(value) is not None:
            return IgniteType.COLLECTION
    code = getattr(value, "ignite_type_code", None)
    if code is not None:
        return IgniteType(code)
    if isinstance(value, list | tuple):
        return _infer_sequence(value)
    # Subclasses (IntEnum, datetime subclasses, ...) map as their base type.
    for base in type(value).__mro__[1:]:
        found = _SCALAR_TYPES.get(base)
        if found is not None:
            return found
    raise TypeError(f"cannot map Python type {type(value).__name__} to an Ignite type")


def _as_enum(value: Any) -> Any:
    if len(value) == 2 and all(isinstance(part, int) for part in value):
        return EnumValue(*value)
    return value


# Ignite type -> how a plain tuple in pyignite's shape becomes our value for it.
_FROM_TUPLE = {
    IgniteType.COLLECTION: lambda value: tagged_collection(value) or value,
    IgniteType.MAP: lambda value: tagged_map(value) or value,
    IgniteType.ENUM: _as_enum,
    IgniteType.BINARY_ENUM: _as_enum,
}


def resolve(value: Any, hint: Any = None) -> tuple[Any, IgniteType]:
    """Split a value (or a ``(value, hint)`` tuple) into the value and its Ignite type.

    An explicit ``hint`` (anything :func:`hint_type` accepts) wins over a hint
    carried in a tuple; with neither the default mapping applies. ``None`` is
    always NULL. pyignite's tuple shapes come back as our values:
    ``(kind, items)`` as an :class:`IgniteCollection`, ``(kind, dict)`` as an
    :class:`IgniteMap`, an enum's ``(type_id, ordinal)`` as an :class:`EnumValue`.
    """
    if hint is None:
        value, hint = split_hint(value)
    else:
        hint = hint_type(hint)
    if value is None:
        return None, IgniteType.NULL
    code = infer_type(value) if hint is None else hint
    if type(value) is tuple:
        convert = _FROM_TUPLE.get(code)
        if convert is not None:
            value = convert(value)
    return value, code
