"""Bounds-checked reads of untyped envelope fields (lengths, ids, flags, counts).

Every decoder reads through these, so truncated or inflated input becomes a
:class:`ProtocolError` before any ``struct.error`` or large allocation.
"""

from __future__ import annotations

import struct
import uuid

from ignite_router.protocol.errors import ProtocolError, TrailingBytesError

__all__ = [
    "BOOL",
    "I8",
    "I16",
    "I32",
    "I64",
    "count",
    "expect",
    "finish",
    "int32s",
    "read_raw_uuid",
    "take",
    "write_raw_uuid",
]

I8 = struct.Struct("<b")
BOOL = struct.Struct("<?")
I16 = struct.Struct("<h")
I32 = struct.Struct("<i")
I64 = struct.Struct("<q")
_RAW_UUID = struct.Struct("<QQ")
_MASK64 = (1 << 64) - 1


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
    """Read an i32 element count and check the remaining bytes can hold that many items.

    Items of ``min_item_size`` 0 (nothing on the wire) are still capped by the
    message size, so a count of 2**31 fails fast instead of looping.
    """
    (n,), pos = take(I32, view, pos)
    limit = (len(view) - pos) // min_item_size if min_item_size else len(view)
    if n < 0 or n > limit:
        raise ProtocolError(f"count {n} at offset {pos - 4} does not fit the message")
    return n, pos


def int32s(view: memoryview, pos: int) -> tuple[tuple[int, ...], int]:
    """An i32 count followed by that many i32 values."""
    n, pos = count(view, pos, 4)
    return struct.unpack_from(f"<{n}i", view, pos), pos + 4 * n


def finish(view: memoryview, pos: int, what: str) -> None:
    """Raise TrailingBytesError (a ProtocolError) if bytes remain after a complete ``what``."""
    if pos != len(view):
        raise TrailingBytesError(f"{len(view) - pos} unexpected bytes after {what}", pos)


def read_raw_uuid(view: memoryview, pos: int) -> tuple[uuid.UUID, int]:
    """A UUID as two raw i64 (msb, lsb) without ``0a``, as in 5100-5102 answers."""
    (msb, lsb), pos = take(_RAW_UUID, view, pos)
    return uuid.UUID(int=(msb << 64) | lsb), pos


def write_raw_uuid(buf: bytearray, value: uuid.UUID) -> None:
    number = value.int
    buf += _RAW_UUID.pack(number >> 64, number & _MASK64)
