"""Python values -> typed values (``BinaryWriterExImpl``), appended to a reusable ``bytearray``.

The Ignite type of a value comes from ``affinity.types.resolve`` (the one
mapping shared with the key hash); a ``(value, hint)`` tuple or an explicit
hint overrides it, at any nesting level.
"""

from __future__ import annotations

import datetime
import decimal
import struct
import uuid
from array import array
from collections.abc import Callable
from typing import Any

from ignite_router.affinity.types import (
    CollectionKind,
    EnumValue,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    MapKind,
    hint_type,
    infer_type,
    resolve,
    split_hint,
    tagged_collection,
    tagged_map,
)
from ignite_router.protocol.values import scalars
from ignite_router.protocol.values._wire import CODE_I32, CODE_I32_I8, I32, LITTLE_ENDIAN_HOST
from ignite_router.protocol.values.complex import ComplexObject
from ignite_router.protocol.values.object_array import DEFAULT_COMPONENT_TYPE_ID, tagged_array
from ignite_router.protocol.values.object_writer import write_object
from ignite_router.protocol.values.raw import RawValue

MAX_DEPTH = 64

T = IgniteType
_NULL_BYTE = bytes((T.NULL,))
_COLLECTION_KINDS = frozenset(int(kind) for kind in CollectionKind)
_MAP_KINDS = frozenset(int(kind) for kind in MapKind)

LeafWriter = Callable[[bytearray, Any], None]
NestedWriter = Callable[[bytearray, Any, int], None]


def write_value(buf: bytearray, value: Any, hint: Any = None) -> None:
    """Append ``value`` as a typed Ignite value; ``hint`` as ``affinity.types.hint_type`` takes.

    TypeError: the Python type does not fit the (hinted) Ignite type.
    ValueError: the value is out of the type's range, or nested deeper than
    64 levels (cyclic structures end up here). On error ``buf`` is restored.
    """
    if hint is None:
        fast = _FAST.get(type(value))
        if fast is not None:
            fast(buf, value)
            return
    start = len(buf)
    try:
        write_nested(buf, value, hint, 0)
    except BaseException:
        del buf[start:]
        raise


def write_nested(buf: bytearray, value: Any, hint: Any, depth: int) -> None:
    """Write one value at nesting ``depth`` (elements, entries and fields come here)."""
    if hint is not None and type(hint) is not IgniteType:
        hint = hint_type(hint)
    if hint is None:
        kind = type(value)
        fast = _FAST.get(kind)
        if fast is not None:
            fast(buf, value)
            return
        nested = _FAST_NESTED.get(kind)
        if nested is not None:
            if depth >= MAX_DEPTH:
                raise _too_deep()
            nested(buf, value, depth + 1)
            return
        value, hint = split_hint(value)
    code: IgniteType
    if type(value) is RawValue:
        if hint is None or hint == value.type_code:
            buf += value.data
            return
        if hint != T.WRAPPED_DATA:
            raise ValueError(f"RawValue holds type code {value.type_code}, hint says {hint!r}")
        code = hint
    elif hint is None or value is None:
        value, code = resolve(value, hint)
    else:
        code = hint  # what resolve would return, without the enum conversion cost
    leaf = _LEAF.get(code)
    if leaf is not None:
        leaf(buf, value)
        return
    nested = _NESTED.get(code)
    if nested is None:
        raise ValueError(f"values of type {_type_name(code)} cannot be written")
    if depth >= MAX_DEPTH:
        raise _too_deep()
    nested(buf, value, depth + 1)


def _too_deep() -> ValueError:
    return ValueError(f"value nested deeper than {MAX_DEPTH} levels (or cyclic)")


def _type_name(code: Any) -> str:
    try:
        return IgniteType(code).name
    except ValueError:
        return repr(code)


def _sequence(value: Any, name: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} needs a list or tuple, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------- leaf writers


def _write_null(buf: bytearray, value: Any) -> None:
    if value is not None:
        raise TypeError(f"NULL hint needs None, got {type(value).__name__}")
    buf += _NULL_BYTE


def _write_byte_array(buf: bytearray, value: Any) -> None:
    if isinstance(value, bytes | bytearray):
        data = value
    elif isinstance(value, memoryview):
        data = value.tobytes()
    else:
        items = _sequence(value, "BYTE_ARRAY")
        if not all(type(x) is int and -128 <= x <= 255 for x in items):
            raise ValueError("BYTE_ARRAY elements must be ints in [-128, 255]")
        data = bytes(x & 0xFF for x in items)
    buf += CODE_I32.pack(T.BYTE_ARRAY, len(data))
    buf += data


def _number_array_writer(code: IgniteType, letter: str) -> LeafWriter:
    def write(buf: bytearray, value: Any) -> None:
        items = _sequence(value, code.name)
        try:
            data = array(letter, items)
        except OverflowError:
            raise ValueError(f"{code.name} element out of range") from None
        except TypeError as exc:
            raise TypeError(f"{code.name} elements: {exc}") from None
        if not LITTLE_ENDIAN_HOST:
            data.byteswap()
        buf += CODE_I32.pack(code, len(items))
        buf += data.tobytes()

    return write


def _write_float_array(buf: bytearray, value: Any) -> None:
    items = _sequence(value, "FLOAT_ARRAY")
    try:
        data = struct.pack(f"<{len(items)}f", *items)
    except OverflowError:
        raise ValueError("FLOAT_ARRAY element out of float32 range") from None
    except struct.error as exc:
        raise TypeError(f"FLOAT_ARRAY elements: {exc}") from None
    buf += CODE_I32.pack(T.FLOAT_ARRAY, len(items))
    buf += data


def _write_char_array(buf: bytearray, value: Any) -> None:
    units = array("H", [scalars.char_unit(item) for item in _sequence(value, "CHAR_ARRAY")])
    if not LITTLE_ENDIAN_HOST:
        units.byteswap()
    buf += CODE_I32.pack(T.CHAR_ARRAY, len(units))
    buf += units.tobytes()


def _write_bool_array(buf: bytearray, value: Any) -> None:
    items = _sequence(value, "BOOL_ARRAY")
    if not all(type(item) is bool for item in items):
        raise TypeError("BOOL_ARRAY elements must be bools")
    buf += CODE_I32.pack(T.BOOL_ARRAY, len(items))
    buf += bytes(items)


def _typed_array_writer(code: IgniteType, write_element: LeafWriter) -> LeafWriter:
    """Arrays of nullable typed elements (String[], UUID[], Date[], ...)."""

    def write(buf: bytearray, value: Any) -> None:
        items = _sequence(value, code.name)
        buf += CODE_I32.pack(code, len(items))
        for item in items:
            if item is None:
                buf += _NULL_BYTE
            else:
                write_element(buf, item)

    return write


def _array_header(buf: bytearray, value: Any, code: IgniteType) -> list[Any] | tuple[Any, ...]:
    """Code, component type id (+ class name if 0) of an Object[]/Enum[]; returns the items."""
    source: Any
    tagged = tagged_array(value)
    if tagged is not None:
        type_id, class_name, source = tagged.type_id, tagged.class_name, tagged.items
    else:
        type_id, class_name, source = DEFAULT_COMPONENT_TYPE_ID, None, value
    items = _sequence(source, code.name)
    try:
        buf += CODE_I32.pack(code, type_id)
    except struct.error:
        raise ValueError(f"{code.name} component type id must be an int32: {type_id}") from None
    if type_id == 0:
        scalars.write_string(buf, class_name)
    buf += I32.pack(len(items))
    return items


def _write_enum_array(buf: bytearray, value: Any) -> None:
    for item in _array_header(buf, value, T.ENUM_ARRAY):
        if item is None:
            buf += _NULL_BYTE
        else:
            scalars.write_enum(buf, item)


# ---------------------------------------------------------------- nested writers


def _write_object_array(buf: bytearray, value: Any, depth: int) -> None:
    for item in _array_header(buf, value, T.OBJECT_ARRAY):
        write_nested(buf, item, None, depth)


def _write_collection(buf: bytearray, value: Any, depth: int) -> None:
    items: Any
    tagged = tagged_collection(value)
    if tagged is not None:
        kind, items = int(tagged.kind), tagged.items
        if not isinstance(items, list | tuple | set | frozenset):
            raise TypeError(f"COLLECTION items must be a list, tuple or set, not {items!r}")
    elif isinstance(value, set | frozenset):
        kind, items = CollectionKind.HASH_SET, value
    elif isinstance(value, list | tuple):
        kind, items = CollectionKind.ARR_LIST, value
    else:
        raise TypeError(
            "COLLECTION needs an IgniteCollection, a (kind, items) tuple, a set, list or tuple, "
            f"got {type(value).__name__}"
        )
    if kind not in _COLLECTION_KINDS:
        raise ValueError(f"unknown collection kind {kind}")
    buf += CODE_I32_I8.pack(T.COLLECTION, len(items), kind)
    for item in items:
        write_nested(buf, item, None, depth)


def _write_map(buf: bytearray, value: Any, depth: int) -> None:
    kind: int
    tagged = tagged_map(value)
    if isinstance(value, dict):
        kind, items = MapKind.HASH_MAP, value
    elif tagged is not None:
        kind, items = int(tagged.kind), tagged.items
        if not isinstance(items, dict):
            raise TypeError(f"MAP entries must be a dict, not {items!r}")
    else:
        raise TypeError(
            f"MAP needs a dict, an IgniteMap or a (kind, dict) tuple, got {type(value).__name__}"
        )
    if kind not in _MAP_KINDS:
        raise ValueError(f"unknown map kind {kind}")
    buf += CODE_I32_I8.pack(T.MAP, len(items), kind)
    for key, item in items.items():
        write_nested(buf, key, None, depth)
        write_nested(buf, item, None, depth)


def _write_wrapped(buf: bytearray, value: Any, depth: int) -> None:
    """WRAPPED_DATA (``GridBinaryMarshaller.BINARY_OBJ``): the value in a byte array, root at 0."""
    start = len(buf)
    buf += CODE_I32.pack(T.WRAPPED_DATA, 0)
    write_nested(buf, value, None, depth)
    buf[start + 1 : start + 5] = I32.pack(len(buf) - start - 5)
    buf += I32.pack(0)


def _write_complex(buf: bytearray, value: Any, depth: int) -> None:
    write_object(buf, value, depth, write_nested)


_LEAF: dict[int, LeafWriter] = {
    T.NULL: _write_null,
    T.BYTE: scalars.write_byte,
    T.SHORT: scalars.write_short,
    T.INT: scalars.write_int,
    T.LONG: scalars.write_long,
    T.FLOAT: scalars.write_float,
    T.DOUBLE: scalars.write_double,
    T.CHAR: scalars.write_char,
    T.BOOL: scalars.write_bool,
    T.STRING: scalars.write_string,
    T.UUID: scalars.write_uuid,
    T.DATE: scalars.write_date,
    T.TIMESTAMP: scalars.write_timestamp,
    T.TIME: scalars.write_time,
    T.DECIMAL: scalars.write_decimal,
    T.ENUM: scalars.write_enum,
    T.BINARY_ENUM: scalars.write_binary_enum,
    T.BYTE_ARRAY: _write_byte_array,
    T.SHORT_ARRAY: _number_array_writer(T.SHORT_ARRAY, "h"),
    T.INT_ARRAY: _number_array_writer(T.INT_ARRAY, "i"),
    T.LONG_ARRAY: _number_array_writer(T.LONG_ARRAY, "q"),
    T.FLOAT_ARRAY: _write_float_array,
    T.DOUBLE_ARRAY: _number_array_writer(T.DOUBLE_ARRAY, "d"),
    T.CHAR_ARRAY: _write_char_array,
    T.BOOL_ARRAY: _write_bool_array,
    T.STRING_ARRAY: _typed_array_writer(T.STRING_ARRAY, scalars.write_string),
    T.UUID_ARRAY: _typed_array_writer(T.UUID_ARRAY, scalars.write_uuid),
    T.DATE_ARRAY: _typed_array_writer(T.DATE_ARRAY, scalars.write_date),
    T.TIMESTAMP_ARRAY: _typed_array_writer(T.TIMESTAMP_ARRAY, scalars.write_timestamp),
    T.TIME_ARRAY: _typed_array_writer(T.TIME_ARRAY, scalars.write_time),
    T.DECIMAL_ARRAY: _typed_array_writer(T.DECIMAL_ARRAY, scalars.write_decimal),
    T.ENUM_ARRAY: _write_enum_array,
}

_NESTED: dict[int, NestedWriter] = {
    T.OBJECT_ARRAY: _write_object_array,
    T.COLLECTION: _write_collection,
    T.MAP: _write_map,
    T.WRAPPED_DATA: _write_wrapped,
    T.COMPLEX_OBJECT: _write_complex,
}

# Exact Python type -> leaf writer for unhinted values, derived from the shared
# mapping (infer_type on a sample of each type), so it cannot drift from it.
_SAMPLES: tuple[Any, ...] = (
    None,
    True,
    0,
    0.0,
    "",
    b"",
    bytearray(),
    uuid.UUID(int=0),
    datetime.datetime(1970, 1, 1),
    datetime.date(1970, 1, 1),
    datetime.timedelta(),
    datetime.time(),
    decimal.Decimal(0),
    EnumValue(1, 0),
)
_FAST: dict[type, LeafWriter] = {type(sample): _LEAF[infer_type(sample)] for sample in _SAMPLES}
_NESTED_SAMPLES: tuple[Any, ...] = (
    {},
    set(),
    frozenset(),
    IgniteCollection(CollectionKind.ARR_LIST, []),
    IgniteMap(MapKind.HASH_MAP, {}),
    ComplexObject(type_id=1),
)
_FAST_NESTED: dict[type, NestedWriter] = {
    type(sample): _NESTED[infer_type(sample)] for sample in _NESTED_SAMPLES
}
