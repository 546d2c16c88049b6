"""``skip_value``: find where a typed value ends without building Python objects.

Structure is validated as the reader would (lengths, counts, element codes,
collection kinds, complex-object header and footer, handle direction, depth);
payload contents are not decoded: string bytes are not checked for UTF-8 and
the fields of a complex object are not visited (its header gives the length).
A server can therefore store and return values as raw bytes cheaply.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ignite_router.affinity.types import CollectionKind, IgniteType
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values._wire import I32, I32_I8, PRIMITIVE_ARRAY_LAYOUT
from ignite_router.protocol.values.object_layout import parse_layout
from ignite_router.protocol.values.reader import MAX_DEPTH
from ignite_router.protocol.values.scalars import MAX_DECIMAL_BYTES

T = IgniteType
_NULL = int(T.NULL)
_COLLECTION_KINDS = frozenset(int(kind) for kind in CollectionKind)
_MAP_KINDS = frozenset((0, 1, 2))

# Total size (type code included) of the fixed-size types.
_FIXED: dict[int, int] = {
    T.NULL: 1,
    T.BYTE: 2,
    T.SHORT: 3,
    T.INT: 5,
    T.LONG: 9,
    T.FLOAT: 5,
    T.DOUBLE: 9,
    T.CHAR: 3,
    T.BOOL: 2,
    T.UUID: 17,
    T.DATE: 9,
    T.TIMESTAMP: 13,
    T.TIME: 9,
}
_FIXED = {int(code): size for code, size in _FIXED.items()}

LeafSkipper = Callable[[memoryview, int], int]
NestedSkipper = Callable[[memoryview, int, int, int], int]


def skip_value(view: memoryview | bytes, pos: int) -> int:
    """End position of the typed value at ``pos`` (validated, payloads not decoded)."""
    if type(view) is not memoryview:
        view = memoryview(view)
    if not 0 <= pos < len(view):
        raise ProtocolError(f"no value at offset {pos}: the data is {len(view)} bytes long")
    if view.format != "B":
        view = view.cast("B")
    try:
        return skip_nested(view, pos, pos, 0)
    except ProtocolError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError, RecursionError) as exc:
        raise ProtocolError(f"malformed value at offset {pos}: {exc}") from None


def skip_nested(view: memoryview, pos: int, start: int, depth: int) -> int:
    """End of the value at ``pos``; ``start`` bounds handle targets."""
    if pos >= len(view):
        raise ProtocolError(f"value expected at offset {pos}, the data ends at {len(view)}")
    code = view[pos]
    size = _FIXED.get(code)
    if size is not None:
        end = pos + size
        if end > len(view):
            raise ProtocolError(f"truncated {T(code).name} value at offset {pos}")
        return end
    try:
        leaf = _LEAF.get(code)
        if leaf is not None:
            return leaf(view, pos)
        nested = _NESTED.get(code)
        if nested is None:
            raise ProtocolError(f"unknown or unsupported type code {code} at offset {pos}")
        if depth >= MAX_DEPTH:
            raise ProtocolError(f"values nested deeper than {MAX_DEPTH} levels at offset {pos}")
        return nested(view, pos, start, depth + 1)
    except struct.error:
        raise ProtocolError(f"truncated {T(code).name} value at offset {pos}") from None


def _bounded(view: memoryview, end: int, code: int, pos: int) -> int:
    if end > len(view):
        raise ProtocolError(f"{T(code).name} at offset {pos} runs past the end of the data")
    return end


def _counted(view: memoryview, at: int, count: int, min_size: int, code: int, pos: int) -> None:
    if count < 0 or count * min_size > len(view) - at:
        raise ProtocolError(
            f"{T(code).name} at offset {pos} declares {count} elements, "
            f"only {len(view) - at} bytes remain"
        )


def _skip_string(view: memoryview, pos: int) -> int:
    (size,) = I32.unpack_from(view, pos + 1)
    end = pos + 5 + size
    if size < 0 or end > len(view):
        raise ProtocolError(
            f"STRING at offset {pos} declares {size} bytes, {len(view) - pos - 5} available"
        )
    return end


def _skip_decimal(view: memoryview, pos: int) -> int:
    (size,) = I32.unpack_from(view, pos + 5)
    if not 0 < size <= MAX_DECIMAL_BYTES:
        raise ProtocolError(
            f"DECIMAL at offset {pos} declares {size} magnitude bytes "
            f"(1 to {MAX_DECIMAL_BYTES} supported)"
        )
    return _bounded(view, pos + 9 + size, T.DECIMAL, pos)


def _skip_class_name(view: memoryview, pos: int) -> int:
    if pos >= len(view) or view[pos] != T.STRING:
        raise ProtocolError(f"class name String expected at offset {pos}")
    return _skip_string(view, pos)


def _skip_enum(view: memoryview, pos: int) -> int:
    (type_id,) = I32.unpack_from(view, pos + 1)
    cursor = pos + 5
    if type_id == 0:
        cursor = _skip_class_name(view, cursor)
    return _bounded(view, cursor + 4, view[pos], pos)


def _primitive_array_skipper(code: int) -> LeafSkipper:
    width = 1 if code == T.BYTE_ARRAY else PRIMITIVE_ARRAY_LAYOUT[code][0]

    def skip(view: memoryview, pos: int) -> int:
        (count,) = I32.unpack_from(view, pos + 1)
        _counted(view, pos + 5, count, width, code, pos)
        return pos + 5 + count * width

    return skip


def _elements(view, cursor, count, code, pos, element_codes) -> int:
    _counted(view, cursor, count, 1, code, pos)
    for _ in range(count):
        if cursor >= len(view):
            raise ProtocolError(f"{T(code).name} at offset {pos} is truncated at {cursor}")
        found = view[cursor]
        if found != _NULL and found not in element_codes:
            raise ProtocolError(
                f"{T(code).name} at offset {pos}: element at {cursor} has type code {found}"
            )
        cursor = skip_nested(view, cursor, cursor, 0)
    return cursor


def _typed_array_skipper(code: int, element_codes: tuple[int, ...]) -> LeafSkipper:
    def skip(view: memoryview, pos: int) -> int:
        (count,) = I32.unpack_from(view, pos + 1)
        return _elements(view, pos + 5, count, code, pos, element_codes)

    return skip


def _array_start(view: memoryview, pos: int) -> tuple[int, int]:
    (type_id,) = I32.unpack_from(view, pos + 1)
    cursor = pos + 5
    if type_id == 0:
        cursor = _skip_class_name(view, cursor)
    (count,) = I32.unpack_from(view, cursor)
    return count, cursor + 4


def _skip_enum_array(view: memoryview, pos: int) -> int:
    count, cursor = _array_start(view, pos)
    return _elements(view, cursor, count, T.ENUM_ARRAY, pos, (T.ENUM, T.BINARY_ENUM))


def _skip_items(view, cursor, count, start, depth) -> int:
    for _ in range(count):
        cursor = skip_nested(view, cursor, start, depth)
    return cursor


def _skip_object_array(view: memoryview, pos: int, start: int, depth: int) -> int:
    count, cursor = _array_start(view, pos)
    _counted(view, cursor, count, 1, T.OBJECT_ARRAY, pos)
    return _skip_items(view, cursor, count, start, depth)


def _skip_collection(view: memoryview, pos: int, start: int, depth: int) -> int:
    count, kind = I32_I8.unpack_from(view, pos + 1)
    if kind not in _COLLECTION_KINDS:
        raise ProtocolError(f"COLLECTION at offset {pos} has unknown kind {kind}")
    _counted(view, pos + 6, count, 1, T.COLLECTION, pos)
    return _skip_items(view, pos + 6, count, start, depth)


def _skip_map(view: memoryview, pos: int, start: int, depth: int) -> int:
    count, kind = I32_I8.unpack_from(view, pos + 1)
    if kind not in _MAP_KINDS:
        raise ProtocolError(f"MAP at offset {pos} has unknown kind {kind}")
    _counted(view, pos + 6, count, 2, T.MAP, pos)
    return _skip_items(view, pos + 6, 2 * count, start, depth)


def _skip_wrapped(view: memoryview, pos: int, start: int, depth: int) -> int:
    (size,) = I32.unpack_from(view, pos + 1)
    payload = pos + 5
    end = payload + size
    if size <= 0 or end + 4 > len(view):
        raise ProtocolError(f"WRAPPED_DATA at offset {pos} declares {size} bytes, too few remain")
    (root,) = I32.unpack_from(view, end)
    if not 0 <= root < size:
        raise ProtocolError(f"WRAPPED_DATA at offset {pos}: root {root} outside {size} bytes")
    skip_nested(view[payload:end], root, 0, depth)
    return end + 4


def _skip_handle(view: memoryview, pos: int, start: int, depth: int) -> int:
    (distance,) = I32.unpack_from(view, pos + 1)
    if distance <= 0 or pos - distance < start:
        where = "forward" if distance <= 0 else "before the start of the value"
        raise ProtocolError(f"HANDLE at offset {pos} points {where} (distance {distance})")
    return pos + 5


def _skip_complex(view: memoryview, pos: int, start: int, depth: int) -> int:
    return parse_layout(view, pos).end


_LEAF: dict[int, LeafSkipper] = {
    T.STRING: _skip_string,
    T.DECIMAL: _skip_decimal,
    T.ENUM: _skip_enum,
    T.BINARY_ENUM: _skip_enum,
    T.BYTE_ARRAY: _primitive_array_skipper(T.BYTE_ARRAY),
    **{code: _primitive_array_skipper(code) for code in PRIMITIVE_ARRAY_LAYOUT},
    T.STRING_ARRAY: _typed_array_skipper(T.STRING_ARRAY, (T.STRING,)),
    T.UUID_ARRAY: _typed_array_skipper(T.UUID_ARRAY, (T.UUID,)),
    T.DATE_ARRAY: _typed_array_skipper(T.DATE_ARRAY, (T.DATE,)),
    T.TIMESTAMP_ARRAY: _typed_array_skipper(T.TIMESTAMP_ARRAY, (T.TIMESTAMP,)),
    T.TIME_ARRAY: _typed_array_skipper(T.TIME_ARRAY, (T.TIME,)),
    T.DECIMAL_ARRAY: _typed_array_skipper(T.DECIMAL_ARRAY, (T.DECIMAL,)),
    T.ENUM_ARRAY: _skip_enum_array,
}
_NESTED: dict[int, NestedSkipper] = {
    T.OBJECT_ARRAY: _skip_object_array,
    T.COLLECTION: _skip_collection,
    T.MAP: _skip_map,
    T.WRAPPED_DATA: _skip_wrapped,
    T.HANDLE: _skip_handle,
    T.COMPLEX_OBJECT: _skip_complex,
}
_LEAF = {int(code): skipper for code, skipper in _LEAF.items()}
_NESTED = {int(code): skipper for code, skipper in _NESTED.items()}
