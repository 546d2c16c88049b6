"""The one Python <-> Ignite type mapping.

Every component that needs to know which Ignite type a Python value becomes
(the wire codec in ``protocol`` and the key hash in ``affinity``) asks
:func:`resolve`, so the bytes on the wire and the partition a key is routed to
can never disagree.

Default mapping (compatible with pyignite's defaults unless noted):

=======================  ==========================================
Python                   Ignite
=======================  ==========================================
``None``                 NULL
``bool``                 BOOL
``int``                  LONG
``float``                DOUBLE
``str``                  STRING
``bytes``/``bytearray``  BYTE_ARRAY
``uuid.UUID``            UUID
``datetime.datetime``    DATE (ms; naive datetimes are taken as UTC)
``datetime.date``        DATE (midnight UTC)
``datetime.timedelta``   TIME (ms)
``datetime.time``        TIME (ms since midnight)
``decimal.Decimal``      DECIMAL (scale = -exponent, not normalized)
``EnumValue``            ENUM
``IgniteCollection``     COLLECTION
``dict`` / ``IgniteMap`` MAP
``set``/``frozenset``    COLLECTION (HASH_SET)
``list``/``tuple``       homogeneous typed array, else OBJECT_ARRAY
complex objects          COMPLEX_OBJECT (anything with ``ignite_type_code``)
=======================  ==========================================

A hint (an :class:`IgniteType`) overrides the default: pass it explicitly or
as a ``(value, hint)`` tuple.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = [
    "CollectionKind",
    "EnumValue",
    "IgniteCollection",
    "IgniteMap",
    "IgniteType",
    "MapKind",
    "TypeHint",
    "infer_type",
    "resolve",
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


@dataclass(frozen=True, slots=True)
class EnumValue:
    """An Ignite (binary) enum: the enum's type id and the constant's ordinal."""

    type_id: int
    ordinal: int


@dataclass(slots=True)
class IgniteCollection:
    """A COLLECTION value with an explicit Java collection kind."""

    kind: CollectionKind
    items: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class IgniteMap:
    """A MAP value with an explicit Java map kind."""

    kind: MapKind
    items: dict[Any, Any] = field(default_factory=dict)


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
    if isinstance(value, list | tuple):
        return _infer_sequence(value)
    if getattr(value, "ignite_type_code", None) is not None:
        return IgniteType(value.ignite_type_code)
    # Subclasses (IntEnum, datetime subclasses, ...) map as their base type.
    for base in type(value).__mro__[1:]:
        found = _SCALAR_TYPES.get(base)
        if found is not None:
            return found
    raise TypeError(f"cannot map Python type {type(value).__name__} to an Ignite type")


def resolve(value: Any, hint: IgniteType | None = None) -> tuple[Any, IgniteType]:
    """Split a value (or a ``(value, hint)`` tuple) into the value and its Ignite type.

    An explicit ``hint`` wins over a hint carried in a tuple; with neither the
    default mapping applies. ``None`` is always NULL.
    """
    if (
        hint is None
        and type(value) is tuple
        and len(value) == 2
        and isinstance(value[1], IgniteType)
    ):
        value, hint = value
    if value is None:
        return None, IgniteType.NULL
    if hint is None:
        return value, infer_type(value)
    return value, IgniteType(hint)
