"""Bounds-checked reads of untyped envelope fields (lengths, ids, flags, counts)."""

from __future__ import annotations

import struct

from protocol.errors import ProtocolError

__all__ = ["BOOL", "I8", "I16", "I32", "I64", "count", "expect", "take"]

I8 = struct.Struct("<b")
BOOL = struct.Struct("<?")
I16 = struct.Struct("<h")
I32 = struct.Struct("<i")
I64 = struct.Struct("<q")


def expect(view: memoryview, pos: int, size: int) -> None:
    """Raise ProtocolError unless ``size`` bytes are available at ``pos``."""
    if pos + size > len(view):
        raise ProtocolError(
            f"truncated message: need {size} bytes at offset {pos}, have {len(view) - pos}"
        )


def take(shape: struct.Struct, view: memoryview, pos: int) -> tuple[tuple, int]:
    """Unpack ``shape`` at ``pos``; returns (fields, position after them)."""
    if pos + shape.size > len(view):
        raise ProtocolError(
            f"truncated message: need {shape.size} bytes at offset {pos}, have {len(view) - pos}"
        )
    return shape.unpack_from(view, pos), pos + shape.size


def count(view: memoryview, pos: int, min_item_size: int) -> tuple[int, int]:
    """Read an i32 element count and check the remaining bytes can hold that many items."""
    (n,), pos = take(I32, view, pos)
    if n < 0 or n * min_item_size > len(view) - pos:
        raise ProtocolError(f"count {n} at offset {pos - 4} does not fit the message")
    return n, pos
