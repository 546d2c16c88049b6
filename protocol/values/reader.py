"""Typed Ignite values -> Python values, decoded from a ``memoryview`` (``BinaryUtils.unmarshal``).

Every malformation is a ``ProtocolError`` naming the offset: truncation,
negative or oversized counts (checked against the bytes left before any
allocation), unknown type codes, invalid UTF-8, nesting deeper than
``MAX_DEPTH``, handles that point forward or outside the value, and handle
chains that would expand the value without bound.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ignite_router.affinity.ids import type_id as type_id_of
from ignite_router.affinity.types import (
    CollectionKind,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    MapKind,
)
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import scalars
from ignite_router.protocol.values._wire import (
    I32,
    I32_I8,
    LITTLE_ENDIAN_HOST,
    PRIMITIVE_ARRAY_LAYOUT,
)
from ignite_router.protocol.values.envelope import read_string
from ignite_router.protocol.values.object_array import ObjectArray
from ignite_router.protocol.values.object_reader import NO_TARGET, read_object

if TYPE_CHECKING:
    from ignite_router.protocol.values.binary_type import BinaryTypeRegistry

MAX_DEPTH = 64

T = IgniteType
_NULL = int(T.NULL)
_COLLECTION_KINDS = {int(kind): kind for kind in CollectionKind}
# Readers accept kind 0 as a hash map (BinaryUtils.doReadMap's default branch).
_MAP_KINDS = {0: MapKind.HASH_MAP, **{int(kind): kind for kind in MapKind}}

LeafReader = Callable[[memoryview, int], tuple[Any, int]]


class _Context:
    """State of one top-level decode: registry, handle targets, expansion budget."""

    __slots__ = ("lowest_target", "memo", "registry", "replay_budget", "start")

    def __init__(self, registry: BinaryTypeRegistry | None, start: int, size: int) -> None:
        self.registry = registry
        self.start = start
        self.memo: dict[int, Any] = {}
        self.lowest_target = NO_TARGET
        # Handles re-read earlier values; all re-reading together may cover at
        # most a few times the input, so a handle bomb fails fast.
        self.replay_budget = 4 * size + 4096


def read_value(
    view: memoryview | bytes, pos: int, registry: BinaryTypeRegistry | None = None
) -> tuple[Any, int]:
    """Decode the typed value at ``pos``; returns ``(value, position after it)``.

    ``registry`` (a ``BinaryTypeRegistry``) names the fields of compact-footer
    complex objects. ``view`` should be a byte-format memoryview (bytes and
    bytearray are accepted too).
    """
    if type(view) is not memoryview:
        view = memoryview(view)
    if not 0 <= pos < len(view):
        raise ProtocolError(f"no value at offset {pos}: the data is {len(view)} bytes long")
    code = view[pos]
    leaf = _LEAF.get(code)
    if leaf is not None:
        try:
            return leaf(view, pos)
        except struct.error:
            raise _truncated(code, pos) from None
    if view.format != "B":
        view = view.cast("B")
    try:
        return read_nested(view, pos, _Context(registry, pos, len(view) - pos), 0)
    except ProtocolError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError, RecursionError) as exc:
        raise ProtocolError(f"malformed value at offset {pos}: {exc}") from None


def read_nested(view: memoryview, pos: int, ctx: _Context, depth: int) -> tuple[Any, int]:
    """Decode one value at nesting ``depth`` (elements, entries and fields come here)."""
    if pos >= len(view):
        raise ProtocolError(f"value expected at offset {pos}, the data ends at {len(view)}")
    code = view[pos]
    leaf = _LEAF.get(code)
    if leaf is not None:
        try:
            return leaf(view, pos)
        except struct.error:
            raise _truncated(code, pos) from None
    nested = _NESTED.get(code)
    if nested is None:
        raise _unknown(code, pos)
    if depth >= MAX_DEPTH:
        raise ProtocolError(f"values nested deeper than {MAX_DEPTH} levels at offset {pos}")
    try:
        return nested(view, pos, ctx, depth + 1)
    except struct.error:
        raise _truncated(code, pos) from None


def _truncated(code: int, pos: int) -> ProtocolError:
    return ProtocolError(f"truncated {T(code).name} value at offset {pos}")


def _unknown(code: int, pos: int) -> ProtocolError:
    try:
        return ProtocolError(f"type code {code} ({T(code).name}) at offset {pos} is not supported")
    except ValueError:
        return ProtocolError(f"unknown type code {code} at offset {pos}")


def _count(view: memoryview, at: int, count: int, min_size: int, code: int, pos: int) -> None:
    """Reject a count that the remaining bytes cannot hold (before allocating)."""
    if count < 0 or count * min_size > len(view) - at:
        raise ProtocolError(
            f"{T(code).name} at offset {pos} declares {count} elements, "
            f"only {len(view) - at} bytes remain"
        )


def read_class_name(view: memoryview, pos: int) -> tuple[str, int]:
    """The class-name String that follows a type id of 0 (unregistered type)."""
    name, end = read_string(view, pos)
    if name is None:
        raise ProtocolError(f"class name expected at offset {pos}, got null")
    return name, end


def _class_type_id(view: memoryview, pos: int) -> tuple[int, int]:
    name, end = read_class_name(view, pos)
    return type_id_of(name), end


# ---------------------------------------------------------------- leaf readers


def _read_byte_array(view: memoryview, pos: int) -> tuple[bytes, int]:
    (count,) = I32.unpack_from(view, pos + 1)
    start = pos + 5
    _count(view, start, count, 1, T.BYTE_ARRAY, pos)
    return bytes(view[start : start + count]), start + count


def _primitive_array_reader(code: int) -> LeafReader:
    width, letter = PRIMITIVE_ARRAY_LAYOUT[code]

    def read(view: memoryview, pos: int) -> tuple[list[Any], int]:
        (count,) = I32.unpack_from(view, pos + 1)
        start = pos + 5
        _count(view, start, count, width, code, pos)
        end = start + count * width
        if LITTLE_ENDIAN_HOST:
            items = view[start:end].cast(letter).tolist()  # type: ignore[call-overload]
        else:
            items = list(struct.unpack_from(f"<{count}{letter}", view, start))
        if code == T.CHAR_ARRAY:
            items = list(map(chr, items))
        elif code == T.BOOL_ARRAY:
            items = list(map(bool, items))
        return items, end

    return read


def _typed_array_reader(code: int, element_codes: tuple[int, ...], element: LeafReader):
    """String[], UUID[], ...: each element is of the element type or null (``BinaryUtils``)."""

    def read(view: memoryview, pos: int) -> tuple[list[Any], int]:
        (count,) = I32.unpack_from(view, pos + 1)
        return _typed_elements(view, pos + 5, count, code, pos, element_codes, element)

    return read


def _typed_elements(view, cursor, count, code, pos, element_codes, element):
    _count(view, cursor, count, 1, code, pos)
    items: list[Any] = []
    append = items.append
    size = len(view)
    for _ in range(count):
        if cursor >= size:
            raise ProtocolError(f"{T(code).name} at offset {pos} is truncated at {cursor}")
        found = view[cursor]
        if found == _NULL:
            append(None)
            cursor += 1
        elif found in element_codes:
            item, cursor = element(view, cursor)
            append(item)
        else:
            raise ProtocolError(
                f"{T(code).name} at offset {pos}: element at {cursor} has type code {found}"
            )
    return items, cursor


def _array_header(view: memoryview, pos: int) -> tuple[int, str | None, int, int]:
    """Component type id, class name (type id 0), count and cursor of Object[]/Enum[]."""
    (type_id,) = I32.unpack_from(view, pos + 1)
    cursor = pos + 5
    class_name = None
    if type_id == 0:
        class_name, cursor = read_class_name(view, cursor)
    (count,) = I32.unpack_from(view, cursor)
    return type_id, class_name, count, cursor + 4


def _read_enum_array(view: memoryview, pos: int) -> tuple[Any, int]:
    type_id, class_name, count, cursor = _array_header(view, pos)
    items, end = _typed_elements(
        view, cursor, count, T.ENUM_ARRAY, pos, (T.ENUM, T.BINARY_ENUM), _read_enum
    )
    return ObjectArray(type_id, items, class_name, T.ENUM_ARRAY), end


_read_enum = scalars.enum_reader(_class_type_id)

# ---------------------------------------------------------------- nested readers


def _read_object_array(view: memoryview, pos: int, ctx: _Context, depth: int):
    type_id, class_name, count, cursor = _array_header(view, pos)
    _count(view, cursor, count, 1, T.OBJECT_ARRAY, pos)
    items: list[Any] = []
    result = ObjectArray(type_id, items, class_name)
    ctx.memo[pos] = result
    return result, _read_items(view, cursor, count, items, ctx, depth)


def _read_items(
    view: memoryview, cursor: int, count: int, items: list[Any], ctx: _Context, depth: int
) -> int:
    """Read ``count`` nested values into ``items``; returns the position after them."""
    for _ in range(count):
        item, cursor = read_nested(view, cursor, ctx, depth)
        items.append(item)
    return cursor


def _read_collection(view: memoryview, pos: int, ctx: _Context, depth: int):
    count, kind = I32_I8.unpack_from(view, pos + 1)
    cursor = pos + 6
    collection_kind = _COLLECTION_KINDS.get(kind)
    if collection_kind is None:
        raise ProtocolError(f"COLLECTION at offset {pos} has unknown kind {kind}")
    _count(view, cursor, count, 1, T.COLLECTION, pos)
    items: list[Any] = []
    result = IgniteCollection(collection_kind, items)
    ctx.memo[pos] = result
    return result, _read_items(view, cursor, count, items, ctx, depth)


def _read_map(view: memoryview, pos: int, ctx: _Context, depth: int):
    count, kind = I32_I8.unpack_from(view, pos + 1)
    cursor = pos + 6
    entries: dict[Any, Any] = {}
    map_kind = _MAP_KINDS.get(kind)
    if map_kind is None:
        raise ProtocolError(f"MAP at offset {pos} has unknown kind {kind}")
    result = IgniteMap(map_kind, entries)
    _count(view, cursor, count, 2, T.MAP, pos)
    ctx.memo[pos] = result
    for _ in range(count):
        key_pos = cursor
        key, cursor = read_nested(view, cursor, ctx, depth)
        value, cursor = read_nested(view, cursor, ctx, depth)
        try:
            entries[key] = value
        except TypeError:
            raise ProtocolError(
                f"MAP at offset {pos}: the key at offset {key_pos} decodes to an unhashable "
                f"{type(key).__name__}, which a Python dict cannot hold"
            ) from None
    return result, cursor


def _read_wrapped(view: memoryview, pos: int, ctx: _Context, depth: int):
    (size,) = I32.unpack_from(view, pos + 1)
    start = pos + 5
    end = start + size
    if size <= 0 or end + 4 > len(view):
        raise ProtocolError(f"WRAPPED_DATA at offset {pos} declares {size} bytes, too few remain")
    (root,) = I32.unpack_from(view, end)
    if not 0 <= root < size:
        raise ProtocolError(f"WRAPPED_DATA at offset {pos}: root {root} outside {size} bytes")
    # The payload is its own byte array: handles inside it stay inside it.
    inner = _Context(ctx.registry, 0, size)
    value, _ = read_nested(view[start:end], root, inner, depth)
    return value, end + 4


def _read_handle(view: memoryview, pos: int, ctx: _Context, depth: int):
    (distance,) = I32.unpack_from(view, pos + 1)
    target = pos - distance
    if distance <= 0 or target < ctx.start:
        where = "forward" if distance <= 0 else "before the start of the value"
        raise ProtocolError(f"HANDLE at offset {pos} points {where} (distance {distance})")
    if target < ctx.lowest_target:
        ctx.lowest_target = target
    memo = ctx.memo
    if target in memo:
        return memo[target], pos + 5
    value, end = read_nested(view, target, ctx, depth)
    ctx.replay_budget -= end - target
    if ctx.replay_budget < 0:
        raise ProtocolError(f"handles at offset {pos} expand the value beyond its size bound")
    memo[target] = value
    return value, pos + 5


def _read_complex(view: memoryview, pos: int, ctx: _Context, depth: int):
    return read_object(view, pos, ctx, depth, read_nested)


_LEAF: dict[int, LeafReader] = {
    T.NULL: scalars.read_null,
    T.BYTE: scalars.read_byte,
    T.SHORT: scalars.read_short,
    T.INT: scalars.read_int,
    T.LONG: scalars.read_long,
    T.FLOAT: scalars.read_float,
    T.DOUBLE: scalars.read_double,
    T.CHAR: scalars.read_char,
    T.BOOL: scalars.read_bool,
    T.STRING: scalars.read_string,
    T.UUID: scalars.read_uuid,
    T.DATE: scalars.read_date,
    T.TIMESTAMP: scalars.read_timestamp,
    T.TIME: scalars.read_time,
    T.DECIMAL: scalars.read_decimal,
    T.ENUM: _read_enum,
    T.BINARY_ENUM: _read_enum,
    T.BYTE_ARRAY: _read_byte_array,
    **{code: _primitive_array_reader(code) for code in PRIMITIVE_ARRAY_LAYOUT},
    T.STRING_ARRAY: _typed_array_reader(T.STRING_ARRAY, (T.STRING,), scalars.read_string),
    T.UUID_ARRAY: _typed_array_reader(T.UUID_ARRAY, (T.UUID,), scalars.read_uuid),
    T.DATE_ARRAY: _typed_array_reader(T.DATE_ARRAY, (T.DATE,), scalars.read_date),
    T.TIMESTAMP_ARRAY: _typed_array_reader(
        T.TIMESTAMP_ARRAY, (T.TIMESTAMP,), scalars.read_timestamp
    ),
    T.TIME_ARRAY: _typed_array_reader(T.TIME_ARRAY, (T.TIME,), scalars.read_time),
    T.DECIMAL_ARRAY: _typed_array_reader(T.DECIMAL_ARRAY, (T.DECIMAL,), scalars.read_decimal),
    T.ENUM_ARRAY: _read_enum_array,
}

_NESTED: dict[int, Any] = {
    T.OBJECT_ARRAY: _read_object_array,
    T.COLLECTION: _read_collection,
    T.MAP: _read_map,
    T.WRAPPED_DATA: _read_wrapped,
    T.HANDLE: _read_handle,
    T.COMPLEX_OBJECT: _read_complex,
}
# Plain int keys: the lookup on the hot path is by the raw code byte.
_LEAF = {int(code): reader for code, reader in _LEAF.items()}
_NESTED = {int(code): reader for code, reader in _NESTED.items()}
