"""Binary type operations 3000-3003: envelopes around the metadata bodies.

3000 TYPE_NAME_GET: i8 platform (0 Java, 1 .NET) + i32 type id -> String name.
3001 TYPE_NAME_PUT: i8 platform + i32 type id + String name -> bool (the docs
show an empty answer; the server writes a bool: ``ClientBinaryTypeNamePutRequest``).
3002 TYPE_GET: i32 type id -> bool exists + metadata body.
3003 TYPE_PUT: metadata body -> empty.
The metadata body itself is ``protocol.values.encode_binary_type`` /
``decode_binary_type``.
"""

from __future__ import annotations

import struct

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import (
    BinaryType,
    decode_binary_type,
    decode_binary_type_response,
    encode_binary_type,
    read_string,
    write_string,
)
from ignite_router.protocol.wire import I32, finish, take

__all__ = [
    "PLATFORM_DOTNET",
    "PLATFORM_JAVA",
    "decode_binary_type_answer",
    "decode_binary_type_get_request",
    "decode_binary_type_put_request",
    "decode_type_name",
    "decode_type_name_request",
    "encode_binary_type_get",
    "encode_binary_type_put",
    "encode_type_name",
    "encode_type_name_request",
]

PLATFORM_JAVA = 0
PLATFORM_DOTNET = 1
_PLATFORM_TYPE = struct.Struct("<bi")


def encode_type_name_request(
    buf: bytearray,
    request_id: int,
    type_id: int,
    name: str | None = None,
    platform: int = PLATFORM_JAVA,
) -> None:
    """3000 TYPE_NAME_GET (``name`` None) or 3001 TYPE_NAME_PUT (registers ``name``)."""
    op = OpCode.BINARY_TYPE_NAME_GET if name is None else OpCode.BINARY_TYPE_NAME_PUT
    start = begin_request(buf, op, request_id)
    try:
        buf += _PLATFORM_TYPE.pack(platform, type_id)
        if name is not None:
            write_string(buf, name)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def decode_type_name_request(
    op_code: int, view: memoryview, pos: int
) -> tuple[int, int, str | None]:
    """Server side: (platform, type id, name or None for 3000)."""
    (platform, type_id), pos = take(_PLATFORM_TYPE, view, pos)
    name = None
    if op_code == OpCode.BINARY_TYPE_NAME_PUT:
        name, pos = read_string(view, pos)
        if not name:
            raise ProtocolError("a type name registration needs a name")
    finish(view, pos, "the type name request")
    return platform, type_id, name


def encode_type_name(buf: bytearray, name: str | None) -> None:
    """Server side: the 3000 answer body (null if unknown)."""
    write_string(buf, name)


def decode_type_name(view: memoryview, pos: int) -> str | None:
    """Client side: the 3000 answer body."""
    name, pos = read_string(view, pos)
    finish(view, pos, "the type name")
    return name


def encode_binary_type_get(buf: bytearray, request_id: int, type_id: int) -> None:
    """3002: which type to describe."""
    start = begin_request(buf, OpCode.BINARY_TYPE_GET, request_id)
    buf += I32.pack(type_id)
    finish_frame(buf, start)


def decode_binary_type_get_request(view: memoryview, pos: int) -> int:
    """Server side: the type id of a 3002 request."""
    (type_id,), pos = take(I32, view, pos)
    finish(view, pos, "the type id")
    return type_id


def decode_binary_type_answer(view: memoryview, pos: int) -> BinaryType | None:
    """Client side: the 3002 answer (None if the server does not know the type).

    Servers write it with ``protocol.values.encode_binary_type_response``.
    """
    binary_type, pos = decode_binary_type_response(view, pos)
    finish(view, pos, "the binary type")
    return binary_type


def encode_binary_type_put(buf: bytearray, request_id: int, binary_type: BinaryType) -> None:
    """3003: register (or extend) a type's metadata."""
    start = begin_request(buf, OpCode.BINARY_TYPE_PUT, request_id)
    try:
        encode_binary_type(buf, binary_type)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def decode_binary_type_put_request(view: memoryview, pos: int) -> BinaryType:
    """Server side: the metadata of a 3003 request."""
    binary_type, pos = decode_binary_type(view, pos)
    finish(view, pos, "the binary type")
    return binary_type
