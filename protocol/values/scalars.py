"""Encoders and decoders of the single-value types (``BinaryWriterExImpl``, ``BinaryUtils``).

Encoders ``write_<type>(buf, value)`` validate the Python value (TypeError for
a wrong type, ValueError for a value out of the type's range) *before* they
append anything, so a failed write leaves ``buf`` untouched. Decoders
``read_<type>(view, pos)`` take the position of the type code and return
``(value, end)``; a truncated payload surfaces as ``struct.error`` (mapped to
ProtocolError by the reader) and every other malformation as ProtocolError.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from ignite_router.affinity import temporal as _temporal
from ignite_router.affinity.types import EnumValue
from ignite_router.affinity.types import IgniteType as T
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values._wire import (
    CODE_F32,
    CODE_F64,
    CODE_I8,
    CODE_I16,
    CODE_I32,
    CODE_I32_I32,
    CODE_I64,
    CODE_I64_I32,
    CODE_U16,
    CODE_UUID,
    F32,
    F64,
    I8,
    I16,
    I32,
    I32_I32,
    I64,
    I64_I32,
    INT32_MAX,
    INT32_MIN,
    MASK64,
    U16,
    U64_U64,
)

BYTE, SHORT, INT, LONG = int(T.BYTE), int(T.SHORT), int(T.INT), int(T.LONG)
FLOAT, DOUBLE, CHAR, BOOL = int(T.FLOAT), int(T.DOUBLE), int(T.CHAR), int(T.BOOL)
STRING, UUID, DATE, TIMESTAMP, TIME = (
    int(T.STRING),
    int(T.UUID),
    int(T.DATE),
    int(T.TIMESTAMP),
    int(T.TIME),
)
DECIMAL, ENUM, BINARY_ENUM, NULL = int(T.DECIMAL), int(T.ENUM), int(T.BINARY_ENUM), int(T.NULL)

_INT_RANGES = {
    BYTE: (-(1 << 7), (1 << 7) - 1, CODE_I8.pack, "BYTE"),
    SHORT: (-(1 << 15), (1 << 15) - 1, CODE_I16.pack, "SHORT"),
    INT: (INT32_MIN, INT32_MAX, CODE_I32.pack, "INT"),
    LONG: (-(1 << 63), (1 << 63) - 1, CODE_I64.pack, "LONG"),
}
# Decimal <-> int conversion is quadratic in the digit count; like Python's own
# int/str digit limit, refuse magnitudes that would make decoding a denial of service.
MAX_DECIMAL_BYTES = 4096
_TRUE = bytes((BOOL, 1))
_FALSE = bytes((BOOL, 0))
# Enough precision and exponent range that no Decimal operation rounds.
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_new_object = object.__new__
_set_attribute = object.__setattr__
_UUID = uuid.UUID
_UUID_SAFETY = uuid.SafeUUID.unknown


_EXPECTED = {
    "BYTE": "an int",
    "SHORT": "an int",
    "INT": "an int",
    "LONG": "an int",
    "FLOAT": "a float or int",
    "DOUBLE": "a float or int",
    "CHAR": "a 1-character str",
    "BOOL": "a bool",
    "STRING": "a str",
    "UUID": "a uuid.UUID",
    "DATE": "a datetime or date",
    "TIMESTAMP": "a datetime or date",
    "TIME": "a timedelta or time",
    "DECIMAL": "a decimal.Decimal or int",
    "ENUM": "an EnumValue",
    "BINARY_ENUM": "an EnumValue",
}


def type_error(expected: str, value: Any) -> TypeError:
    return TypeError(f"{expected} needs {_EXPECTED[expected]}, got {type(value).__name__}")


# ---------------------------------------------------------------- encoders


def _integer_writer(code: int):
    low, high, pack, name = _INT_RANGES[code]

    def write(buf: bytearray, value: Any) -> None:
        if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
            raise type_error(name, value)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for {name} [{low}, {high}]")
        buf += pack(code, value)

    return write


write_byte = _integer_writer(BYTE)
write_short = _integer_writer(SHORT)
write_int = _integer_writer(INT)
write_long = _integer_writer(LONG)


def _as_float(value: Any, name: str) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise type_error(name, value)
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{value} is out of range for {name}") from None


def write_float(buf: bytearray, value: Any) -> None:
    try:
        buf += CODE_F32.pack(FLOAT, _as_float(value, "FLOAT"))
    except OverflowError:
        raise ValueError(f"{value} is out of range for FLOAT (float32)") from None


def write_double(buf: bytearray, value: Any) -> None:
    buf += CODE_F64.pack(DOUBLE, _as_float(value, "DOUBLE"))


def char_unit(value: Any) -> int:
    """The UTF-16 code unit of a 1-character str (Java ``char``)."""
    if not isinstance(value, str):
        raise type_error("CHAR", value)
    if len(value) != 1 or ord(value) > 0xFFFF:
        raise ValueError(f"CHAR needs one UTF-16 code unit, got {value!r}")
    return ord(value)


def write_char(buf: bytearray, value: Any) -> None:
    buf += CODE_U16.pack(CHAR, char_unit(value))


def write_bool(buf: bytearray, value: Any) -> None:
    if type(value) is not bool:
        raise type_error("BOOL", value)
    buf += _TRUE if value else _FALSE


def utf8(value: Any) -> bytes:
    if not isinstance(value, str):
        raise type_error("STRING", value)
    try:
        return value.encode()
    except UnicodeEncodeError:
        raise ValueError(
            "string contains a lone surrogate, which UTF-8 (and the server) cannot carry"
        ) from None


def write_string(buf: bytearray, value: Any) -> None:
    data = utf8(value)
    buf += CODE_I32.pack(STRING, len(data))
    buf += data


def write_uuid(buf: bytearray, value: Any) -> None:
    if not isinstance(value, uuid.UUID):
        raise type_error("UUID", value)
    number = value.int
    buf += CODE_UUID.pack(UUID, number >> 64, number & MASK64)


def write_date(buf: bytearray, value: Any) -> None:
    if not isinstance(value, datetime.date):
        raise type_error("DATE", value)
    buf += CODE_I64.pack(DATE, _temporal.date_epoch_ms(value))


def write_timestamp(buf: bytearray, value: Any) -> None:
    if type(value) is tuple and len(value) == 2:
        buf += CODE_I64_I32.pack(TIMESTAMP, *_timestamp_parts(*value))
        return
    if not isinstance(value, datetime.date):
        raise type_error("TIMESTAMP", value)
    micros = _temporal.date_epoch_us(value)
    # ms (floored) + nanoseconds of that millisecond, as Java's getTime()/getNanos().
    buf += CODE_I64_I32.pack(TIMESTAMP, micros // 1000, micros % 1000 * 1000)


def _timestamp_parts(moment: Any, nanos: Any) -> tuple[int, int]:
    """pyignite's ``(datetime, nanos)``: the datetime's ms, and nanos within that ms."""
    if not isinstance(moment, datetime.date) or type(nanos) is not int:
        raise TypeError(
            f"TIMESTAMP needs a datetime or a (datetime, nanoseconds) tuple, got "
            f"({type(moment).__name__}, {type(nanos).__name__})"
        )
    if not 0 <= nanos < 1_000_000:
        raise ValueError(f"TIMESTAMP nanoseconds within the millisecond: 0..999999, got {nanos}")
    return _temporal.date_epoch_ms(moment), nanos


def write_time(buf: bytearray, value: Any) -> None:
    if not isinstance(value, datetime.timedelta | datetime.time):
        raise type_error("TIME", value)
    buf += CODE_I64.pack(TIME, _temporal.time_ms(value))


def decimal_parts(value: Any) -> tuple[int, int]:
    """(scale, unscaled) of a Decimal as Java's ``BigDecimal`` sees it, not normalized."""
    if isinstance(value, int) and not isinstance(value, bool):
        return 0, value
    if not isinstance(value, decimal.Decimal):
        raise type_error("DECIMAL", value)
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"DECIMAL cannot carry {value} (no NaN or infinity in BigDecimal)")
    scale = -exponent
    if not INT32_MIN <= scale <= INT32_MAX:
        raise ValueError(f"DECIMAL scale {scale} does not fit in an int32")
    return scale, int(_EXACT.scaleb(value, scale))


def write_decimal(buf: bytearray, value: Any) -> None:
    scale, unscaled = decimal_parts(value)
    magnitude = -unscaled if unscaled < 0 else unscaled
    # BigInteger.toByteArray of |unscaled|: big-endian, room for a sign bit (``doWriteDecimal``).
    size = magnitude.bit_length() // 8 + 1
    if size > MAX_DECIMAL_BYTES:
        raise ValueError(f"DECIMAL magnitude of {size} bytes exceeds {MAX_DECIMAL_BYTES}")
    buf += CODE_I32_I32.pack(DECIMAL, scale, size)
    start = len(buf)
    buf += magnitude.to_bytes(size, "big")
    if unscaled < 0:
        buf[start] |= 0x80


def enum_writer(code: int):
    name = "ENUM" if code == ENUM else "BINARY_ENUM"

    def write(buf: bytearray, value: Any) -> None:
        if type(value) is tuple and len(value) == 2 and all(type(part) is int for part in value):
            value = EnumValue(*value)  # pyignite's (type_id, ordinal)
        elif not isinstance(value, EnumValue):
            raise type_error(name, value)
        if value.type_id == 0:
            raise ValueError(f"{name} type id 0 means 'unregistered class'; use the type's id")
        try:
            buf += CODE_I32_I32.pack(code, value.type_id, value.ordinal)
        except Exception:
            raise ValueError(f"{name} type id and ordinal must be int32: {value}") from None

    return write


write_enum = enum_writer(ENUM)
write_binary_enum = enum_writer(BINARY_ENUM)


# ---------------------------------------------------------------- decoders


def read_byte(view: memoryview, pos: int) -> tuple[int, int]:
    return I8.unpack_from(view, pos + 1)[0], pos + 2


def read_short(view: memoryview, pos: int) -> tuple[int, int]:
    return I16.unpack_from(view, pos + 1)[0], pos + 3


def read_int(view: memoryview, pos: int) -> tuple[int, int]:
    return I32.unpack_from(view, pos + 1)[0], pos + 5


def read_long(view: memoryview, pos: int) -> tuple[int, int]:
    return I64.unpack_from(view, pos + 1)[0], pos + 9


def read_float(view: memoryview, pos: int) -> tuple[float, int]:
    return F32.unpack_from(view, pos + 1)[0], pos + 5


def read_double(view: memoryview, pos: int) -> tuple[float, int]:
    return F64.unpack_from(view, pos + 1)[0], pos + 9


def read_char(view: memoryview, pos: int) -> tuple[str, int]:
    return chr(U16.unpack_from(view, pos + 1)[0]), pos + 3


def read_bool(view: memoryview, pos: int) -> tuple[bool, int]:
    if pos + 1 >= len(view):
        raise ProtocolError(f"truncated BOOL at offset {pos}")
    return view[pos + 1] != 0, pos + 2


def read_null(view: memoryview, pos: int) -> tuple[None, int]:
    return None, pos + 1


def read_string(view: memoryview | bytes, pos: int) -> tuple[str, int]:
    (size,) = I32.unpack_from(view, pos + 1)
    start = pos + 5
    end = start + size
    if size < 0 or end > len(view):
        raise ProtocolError(
            f"STRING at offset {pos} declares {size} bytes, {len(view) - start} available"
        )
    try:
        return str(view[start:end], "utf-8"), end
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"STRING at offset {pos} is not valid UTF-8: {exc.reason}") from None


def make_uuid(number: int) -> uuid.UUID:
    """A ``uuid.UUID`` without the argument parsing of its constructor (hot path)."""
    value = _new_object(_UUID)
    _set_attribute(value, "int", number)
    _set_attribute(value, "is_safe", _UUID_SAFETY)
    return value


def read_uuid(view: memoryview | bytes, pos: int) -> tuple[uuid.UUID, int]:
    high, low = U64_U64.unpack_from(view, pos + 1)
    return make_uuid(high << 64 | low), pos + 17


def _datetime(micros: int, name: str, pos: int) -> datetime.datetime:
    try:
        return _temporal.datetime_from_epoch_us(micros)
    except (OverflowError, OSError, ValueError):
        raise ProtocolError(
            f"{name} at offset {pos} ({micros // 1000} ms) is outside Python's datetime range"
        ) from None


def read_date(view: memoryview, pos: int) -> tuple[datetime.datetime, int]:
    return _datetime(I64.unpack_from(view, pos + 1)[0] * 1000, "DATE", pos), pos + 9


def read_timestamp(view: memoryview, pos: int) -> tuple[datetime.datetime, int]:
    millis, nanos = I64_I32.unpack_from(view, pos + 1)
    # Sub-microsecond nanos are dropped: Python datetimes stop at microseconds.
    return _datetime(millis * 1000 + nanos // 1000, "TIMESTAMP", pos), pos + 13


def read_time(view: memoryview, pos: int) -> tuple[datetime.timedelta, int]:
    (millis,) = I64.unpack_from(view, pos + 1)
    try:
        return datetime.timedelta(milliseconds=millis), pos + 9
    except OverflowError:
        raise ProtocolError(f"TIME at offset {pos} ({millis} ms) is out of range") from None


def read_decimal(view: memoryview, pos: int) -> tuple[decimal.Decimal, int]:
    scale, size = I32_I32.unpack_from(view, pos + 1)
    start = pos + 9
    end = start + size
    if not 0 < size <= MAX_DECIMAL_BYTES or end > len(view):
        raise ProtocolError(
            f"DECIMAL at offset {pos} declares {size} magnitude bytes, {len(view) - start} "
            f"available (1 to {MAX_DECIMAL_BYTES} supported)"
        )
    magnitude = int.from_bytes(view[start:end], "big")
    sign_bit = 0x80 << (8 * (size - 1))
    if magnitude & sign_bit:
        magnitude = -(magnitude ^ sign_bit)
    return _EXACT.scaleb(decimal.Decimal(magnitude), -scale), end


def enum_reader(read_class_name):
    """Reader of ENUM/BINARY_ENUM; type id 0 is followed by a class name (``doReadEnumType``)."""

    def read(view: memoryview, pos: int) -> tuple[EnumValue, int]:
        (type_id,) = I32.unpack_from(view, pos + 1)
        cursor = pos + 5
        if type_id == 0:
            type_id, cursor = read_class_name(view, cursor)
        (ordinal,) = I32.unpack_from(view, cursor)
        return EnumValue(type_id, ordinal), cursor + 4

    return read
