"""Java ``hashCode()`` of the object an Ignite server deserialises from a key.

The server partitions a key by the ``hashCode()`` of the Java object it reads
(``ClientCacheDataRequest``): boxed primitives, ``String``, ``UUID``, ``java.util.Date``,
``java.sql.Timestamp``/``Time``, ``BigDecimal``, binary enums, collections,
and for binary objects the hash stored in the object header. The Ignite type
of a Python value comes from :func:`affinity.types.resolve`, the mapping the
codec also writes with, so the hash is always the hash of what is sent.
"""

from __future__ import annotations

import datetime
import decimal
import struct
import uuid
from collections.abc import Callable
from typing import Any

from ignite_router.affinity import temporal
from ignite_router.affinity.ids import string_hash, to_int32
from ignite_router.affinity.javaobjects import (
    JavaClass,
    JavaObject,
    list_object,
    map_object,
    set_object,
)
from ignite_router.affinity.types import (
    CollectionKind,
    EnumValue,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    resolve,
)

__all__ = [
    "bool_hash",
    "decimal_hash",
    "double_hash",
    "enum_hash",
    "float_hash",
    "java_hash",
    "java_object",
    "long_hash",
    "uuid_hash",
]

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_LONG_MAX = (1 << 63) - 1
_LONG_MIN = -(1 << 63)
_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1
_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")
_FLOAT_NAN_BITS = 0x7FC00000
_DOUBLE_NAN_BITS = 0x7FF8000000000000
_SET_KINDS = frozenset(
    {CollectionKind.USER_SET, CollectionKind.HASH_SET, CollectionKind.LINKED_HASH_SET}
)
_RANGES = {
    IgniteType.BYTE: (-(1 << 7), (1 << 7) - 1),
    IgniteType.SHORT: (-(1 << 15), (1 << 15) - 1),
    IgniteType.INT: (-(1 << 31), (1 << 31) - 1),
    IgniteType.LONG: (-(1 << 63), (1 << 63) - 1),
}


def _integer(value: Any, code: IgniteType) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{code.name} key needs an int, got {type(value).__name__}")
    low, high = _RANGES[code]
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range for {code.name} [{low}, {high}]")
    return value


def long_hash(value: int) -> int:
    """``Long.hashCode``: ``(int)(v ^ (v >>> 32))``."""
    bits = value & _MASK64
    return to_int32(bits ^ (bits >> 32))


def _as_float(value: Any, code: IgniteType) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{code.name} key needs a float, got {type(value).__name__}")
    return float(value)


def float_hash(value: float) -> int:
    """``Float.hashCode``: ``floatToIntBits`` (one canonical NaN)."""
    if value != value:
        return _FLOAT_NAN_BITS
    try:
        bits = _U32.unpack(_F32.pack(value))[0]
    except OverflowError:
        raise ValueError(f"{value} is out of range for FLOAT (float32)") from None
    return to_int32(bits)


def double_hash(value: float) -> int:
    """``Double.hashCode``: long rule on ``doubleToLongBits`` (one canonical NaN)."""
    bits = _DOUBLE_NAN_BITS if value != value else _U64.unpack(_F64.pack(value))[0]
    return to_int32(bits ^ (bits >> 32))


def bool_hash(value: bool) -> int:
    """``Boolean.hashCode``: 1231 for true, 1237 for false."""
    return 1231 if value else 1237


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"BOOL key needs a bool, got {type(value).__name__}")
    return value


def _char_hash(value: Any) -> int:
    if not isinstance(value, str) or len(value) != 1 or ord(value) > 0xFFFF:
        raise ValueError(f"CHAR key needs one UTF-16 code unit, got {value!r}")
    return ord(value)


def _string_hash(value: Any) -> int:
    if not isinstance(value, str):
        raise TypeError(f"STRING key needs a str, got {type(value).__name__}")
    return string_hash(value)


def uuid_hash(value: uuid.UUID) -> int:
    """``UUID.hashCode``: fold of ``msb ^ lsb``."""
    number = value.int
    folded = (number >> 64) ^ (number & _MASK64)
    return to_int32((folded >> 32) ^ folded)


def _uuid_key(value: Any) -> int:
    if not isinstance(value, uuid.UUID):
        raise TypeError(f"UUID key needs a uuid.UUID, got {type(value).__name__}")
    return uuid_hash(value)


def _date_hash(value: Any) -> int:
    # Date and Timestamp hash getTime() only (``Timestamp.hashCode`` is ``Date``'s).
    if not isinstance(value, datetime.date):
        raise TypeError(f"DATE/TIMESTAMP key needs a date or datetime, got {type(value).__name__}")
    return long_hash(temporal.date_epoch_ms(value))


def _time_hash(value: Any) -> int:
    if not isinstance(value, datetime.timedelta | datetime.time):
        raise TypeError(f"TIME key needs a timedelta or time, got {type(value).__name__}")
    return long_hash(temporal.time_ms(value))


def _decimal_parts(value: Any) -> tuple[int, int]:
    """(unscaled, scale) of the ``BigDecimal`` the codec writes: not normalized."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, 0
    if not isinstance(value, decimal.Decimal):
        raise TypeError(f"DECIMAL key needs a decimal.Decimal, got {type(value).__name__}")
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"DECIMAL key cannot be {value} (BigDecimal has no NaN/infinity)")
    scale = -exponent
    if not _INT_MIN <= scale <= _INT_MAX:
        raise ValueError(f"DECIMAL scale {scale} does not fit in an int32")
    # Via Decimal, not str: exact for any length, and not subject to Python's
    # int/str conversion limit (4300 digits), which the codec does not have either.
    unscaled = int(decimal.Decimal((sign, digits, 0)))
    return unscaled, scale


def decimal_hash(value: decimal.Decimal | int) -> int:
    """``BigDecimal.hashCode`` of the value as written: scale = -exponent, not normalized."""
    unscaled, scale = _decimal_parts(value)
    magnitude = abs(unscaled)
    if magnitude <= _LONG_MAX:
        # Compact form: the hash of the long intCompact (Java keeps |v| and a sign).
        folded = to_int32(31 * to_int32(magnitude >> 32) + (magnitude & _MASK32))
        signum = (unscaled > 0) - (unscaled < 0)
        return to_int32(31 * to_int32(signum * folded) + scale)
    # BigInteger.hashCode: 31-fold over big-endian 32-bit words of |v|, times signum.
    words = magnitude.to_bytes((magnitude.bit_length() + 31) // 32 * 4, "big")
    big = 0
    for (word,) in struct.iter_unpack(">I", words):
        big = (31 * big + word) & _MASK32
    if unscaled < 0:
        big = -big
    return to_int32(31 * to_int32(big) + scale)


def enum_hash(value: EnumValue) -> int:
    """Binary enum hash: ``31 * typeId + ordinal``."""
    return to_int32(31 * value.type_id + value.ordinal)


def _enum_key(value: Any) -> int:
    if not isinstance(value, EnumValue):
        raise TypeError(f"ENUM key needs an EnumValue, got {type(value).__name__}")
    return enum_hash(value)


def _collection_parts(value: Any) -> tuple[CollectionKind, Any]:
    if isinstance(value, IgniteCollection):
        return value.kind, value.items
    if isinstance(value, set | frozenset):
        return CollectionKind.HASH_SET, value
    if isinstance(value, list | tuple):
        return CollectionKind.ARR_LIST, value
    raise TypeError(f"COLLECTION key needs a collection, got {type(value).__name__}")


def _map_items(value: Any) -> dict:
    items = value.items if isinstance(value, IgniteMap) else value
    if not isinstance(items, dict):
        raise TypeError(f"MAP key needs a dict, got {type(value).__name__}")
    return items


def _double_bits(value: Any) -> int:
    number = _as_float(value, IgniteType.DOUBLE)
    return _DOUBLE_NAN_BITS if number != number else _U64.unpack(_F64.pack(number))[0]


def _timestamp_state(value: Any) -> tuple[int, int]:
    micros = temporal.date_epoch_us(value)
    return micros // 1000, micros % 1000 * 1000


# Ignite type -> (Java class, what its equals() compares), for collection elements.
_STATES: dict[IgniteType, tuple[JavaClass, Callable[[Any, int], Any]]] = {
    IgniteType.BYTE: (JavaClass.BYTE, lambda v, h: v),
    IgniteType.SHORT: (JavaClass.SHORT, lambda v, h: v),
    IgniteType.INT: (JavaClass.INTEGER, lambda v, h: v),
    IgniteType.LONG: (JavaClass.LONG, lambda v, h: v),
    IgniteType.FLOAT: (JavaClass.FLOAT, lambda v, h: h),  # floatToIntBits
    IgniteType.DOUBLE: (JavaClass.DOUBLE, lambda v, h: _double_bits(v)),
    IgniteType.CHAR: (JavaClass.CHARACTER, lambda v, h: v),
    IgniteType.BOOL: (JavaClass.BOOLEAN, lambda v, h: v),
    IgniteType.STRING: (JavaClass.STRING, lambda v, h: v),
    IgniteType.UUID: (JavaClass.UUID, lambda v, h: v),
    IgniteType.DATE: (JavaClass.DATE, lambda v, h: temporal.date_epoch_ms(v)),
    IgniteType.TIMESTAMP: (JavaClass.TIMESTAMP, lambda v, h: _timestamp_state(v)),
    IgniteType.TIME: (JavaClass.TIME, lambda v, h: temporal.time_ms(v)),
    IgniteType.DECIMAL: (JavaClass.BIG_DECIMAL, lambda v, h: _decimal_parts(v)),
    IgniteType.ENUM: (JavaClass.BINARY_ENUM, lambda v, h: (v.type_id, v.ordinal)),
    IgniteType.BINARY_ENUM: (JavaClass.BINARY_ENUM, lambda v, h: (v.type_id, v.ordinal)),
    IgniteType.COMPLEX_OBJECT: (
        JavaClass.BINARY_OBJECT,
        lambda v, h: (getattr(v, "type_id", None), h, v),
    ),
    IgniteType.WRAPPED_DATA: (
        JavaClass.BINARY_OBJECT,
        lambda v, h: (getattr(v, "type_id", None), h, v),
    ),
}


def java_object(value: Any, hint: IgniteType | None = None) -> JavaObject | None:
    """The model of the Java object the server deserialises ``value`` into (None for null)."""
    value, code = resolve(value, hint)
    if code is IgniteType.NULL:
        return None
    if code is IgniteType.COLLECTION:
        kind, items = _collection_parts(value)
        elements = [java_object(item) for item in items]
        return set_object(elements) if kind in _SET_KINDS else list_object(elements)
    if code is IgniteType.MAP:
        return map_object(
            (java_object(key), java_object(item)) for key, item in _map_items(value).items()
        )
    hasher = _HASHERS.get(code)
    if hasher is None:
        raise TypeError(f"values of Ignite type {code.name} cannot be hashed as keys")
    hash_code = hasher(value)
    java_class, state = _STATES[code]
    return JavaObject(java_class, state(value, hash_code), hash_code)


def _collection_hash(value: Any) -> int:
    kind, items = _collection_parts(value)
    elements = [java_object(item) for item in items]
    return (set_object(elements) if kind in _SET_KINDS else list_object(elements)).hash


def _map_hash(value: Any) -> int:
    items = _map_items(value)
    return map_object((java_object(key), java_object(item)) for key, item in items.items()).hash


def _complex_hash(value: Any) -> int:
    stored = getattr(value, "hash_code", None)
    if stored is None:
        raise TypeError(
            "the hash of a complex object is known once it is serialised: "
            "encode the key first (its header carries the hash)"
        )
    return stored


def _array_key(value: Any) -> int:
    raise TypeError(
        "arrays cannot be keys: Java arrays hash by identity, so the server's partition "
        "for an array key is not reproducible"
    )


def _null_key(value: Any) -> int:
    raise ValueError("a key cannot be null")


_HASHERS: dict[IgniteType, Callable[[Any], int]] = {
    IgniteType.BYTE: lambda v: _integer(v, IgniteType.BYTE),
    IgniteType.SHORT: lambda v: _integer(v, IgniteType.SHORT),
    IgniteType.INT: lambda v: _integer(v, IgniteType.INT),
    IgniteType.LONG: lambda v: long_hash(_integer(v, IgniteType.LONG)),
    IgniteType.FLOAT: lambda v: float_hash(_as_float(v, IgniteType.FLOAT)),
    IgniteType.DOUBLE: lambda v: double_hash(_as_float(v, IgniteType.DOUBLE)),
    IgniteType.CHAR: _char_hash,
    IgniteType.BOOL: lambda v: bool_hash(_boolean(v)),
    IgniteType.STRING: _string_hash,
    IgniteType.UUID: _uuid_key,
    IgniteType.DATE: _date_hash,
    IgniteType.TIMESTAMP: _date_hash,
    IgniteType.TIME: _time_hash,
    IgniteType.DECIMAL: decimal_hash,
    IgniteType.ENUM: _enum_key,
    IgniteType.BINARY_ENUM: _enum_key,
    IgniteType.COLLECTION: _collection_hash,
    IgniteType.MAP: _map_hash,
    IgniteType.COMPLEX_OBJECT: _complex_hash,
    IgniteType.WRAPPED_DATA: _complex_hash,
    IgniteType.NULL: _null_key,
}
for _array in (
    IgniteType.BYTE_ARRAY,
    IgniteType.SHORT_ARRAY,
    IgniteType.INT_ARRAY,
    IgniteType.LONG_ARRAY,
    IgniteType.FLOAT_ARRAY,
    IgniteType.DOUBLE_ARRAY,
    IgniteType.CHAR_ARRAY,
    IgniteType.BOOL_ARRAY,
    IgniteType.STRING_ARRAY,
    IgniteType.UUID_ARRAY,
    IgniteType.DATE_ARRAY,
    IgniteType.OBJECT_ARRAY,
    IgniteType.ENUM_ARRAY,
    IgniteType.DECIMAL_ARRAY,
    IgniteType.TIMESTAMP_ARRAY,
    IgniteType.TIME_ARRAY,
):
    _HASHERS[_array] = _array_key


def _python_int_hash(value: int) -> int:
    """Hash of a Python int key (a Java Long): the hot path of int-keyed caches."""
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"{value} is out of range for LONG [{_LONG_MIN}, {_LONG_MAX}]")
    bits = value & _MASK64
    folded = (bits ^ (bits >> 32)) & _MASK32
    return folded - 0x100000000 if folded & 0x80000000 else folded


# Fast path for unhinted values of the most common key types.
_DEFAULT_HASHERS: dict[type, Callable[[Any], int]] = {
    int: _python_int_hash,
    str: string_hash,
    uuid.UUID: uuid_hash,
    float: double_hash,
    bool: bool_hash,
}


def java_hash(value: Any, hint: IgniteType | None = None) -> int:
    """The Java ``hashCode()`` of ``value`` as the server deserialises it.

    ``value`` may be a ``(value, hint)`` tuple. ``ValueError`` for values the
    type cannot hold (out of range, null, NaN decimals); ``TypeError`` for
    values that cannot be keys (arrays, unserialised complex objects).
    """
    if hint is None:
        fast = _DEFAULT_HASHERS.get(type(value))
        if fast is not None:
            return fast(value)
    value, code = resolve(value, hint)
    hasher = _HASHERS.get(code)
    if hasher is None:
        raise TypeError(f"values of Ignite type {code.name} cannot be hashed as keys")
    return hasher(value)
