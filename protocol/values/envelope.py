"""Typed String and UUID as they appear inside protocol bodies (``BinaryReaderExImpl.readString``).

Message encoders (handshake, headers, binary-type bodies) use these rather
than the general value codec: they accept only the one type (or null).
"""

from __future__ import annotations

import struct
import uuid

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import scalars

_STRING = scalars.STRING
_UUID = scalars.UUID
_NULL = scalars.NULL
_NULL_BYTE = bytes((_NULL,))


def write_string(buf: bytearray, text: str | None) -> None:
    """Append a typed String (``09`` + i32 length + UTF-8) or null (``65``)."""
    if text is None:
        buf += _NULL_BYTE
    else:
        scalars.write_string(buf, text)


def read_string(view: memoryview | bytes, pos: int) -> tuple[str | None, int]:
    """Read a typed String or null at ``pos``; anything else is a ProtocolError."""
    code = _code_at(view, pos, "String")
    if code == _NULL:
        return None, pos + 1
    if code != _STRING:
        raise ProtocolError(f"expected a String (09) or null (65) at offset {pos}, got {code:02x}")
    try:
        return scalars.read_string(view, pos)
    except struct.error:
        raise ProtocolError(f"truncated String at offset {pos}") from None


def write_uuid(buf: bytearray, value: uuid.UUID | None) -> None:
    """Append a typed UUID (``0a`` + msb LE + lsb LE) or null (``65``)."""
    if value is None:
        buf += _NULL_BYTE
    else:
        scalars.write_uuid(buf, value)


def read_uuid(view: memoryview | bytes, pos: int) -> tuple[uuid.UUID | None, int]:
    """Read a typed UUID or null at ``pos``."""
    code = _code_at(view, pos, "UUID")
    if code == _NULL:
        return None, pos + 1
    if code != _UUID:
        raise ProtocolError(f"expected a UUID (0a) or null (65) at offset {pos}, got {code:02x}")
    try:
        return scalars.read_uuid(view, pos)
    except struct.error:
        raise ProtocolError(f"truncated UUID at offset {pos}") from None


def _code_at(view: memoryview | bytes, pos: int, what: str) -> int:
    if not 0 <= pos < len(view):
        raise ProtocolError(f"expected a {what} at offset {pos}, but the data ends at {len(view)}")
    return view[pos]
