"""Request and response headers (fact sheet §1.2, §1.3), client and server side."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from protocol.context import ProtocolContext
from protocol.errors import ProtocolError, ServerError
from protocol.framing import LENGTH
from protocol.opcodes import ResponseFlag
from protocol.values import read_string, write_string
from protocol.wire import I16, I32, I64, take

__all__ = [
    "RequestHeader",
    "ResponseHeader",
    "begin_request",
    "begin_response",
    "decode_request_header",
    "decode_response_header",
    "encode_error_response",
    "finish_frame",
]

_REQUEST = struct.Struct("<iHq")  # length placeholder, op code, request id
_REQUEST_HEAD = struct.Struct("<hq")
_LEGACY_RESPONSE = struct.Struct("<iqi")  # length, request id, status
_FLAGS_RESPONSE = struct.Struct("<iqh")  # length, request id, flags
_TOPOLOGY = struct.Struct("<qi")
_ERROR = int(ResponseFlag.ERROR)
_TOPOLOGY_CHANGED = int(ResponseFlag.AFFINITY_TOPOLOGY_CHANGED)
_NOTIFICATION = int(ResponseFlag.NOTIFICATION)


@dataclass(frozen=True, slots=True)
class RequestHeader:
    op_code: int
    request_id: int
    body_offset: int


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    """A decoded response header; the body starts at ``body_offset`` of the payload."""

    request_id: int
    status: int = 0
    message: str | None = None
    topology_version: tuple[int, int] | None = None
    notification_op: int | None = None
    body_offset: int = 0

    def raise_for_status(self) -> None:
        """Raise :class:`ServerError` if the server reported an error."""
        if self.status:
            raise ServerError(self.status, self.message)


def begin_request(buf: bytearray, op_code: int, request_id: int) -> int:
    """Append a request header with a length placeholder; returns the frame start."""
    start = len(buf)
    buf += _REQUEST.pack(0, op_code, request_id)
    return start


def finish_frame(buf: bytearray, start: int) -> None:
    """Patch the length prefix of the frame that begins at ``start``."""
    LENGTH.pack_into(buf, start, len(buf) - start - 4)


def decode_request_header(payload: memoryview) -> RequestHeader:
    """Server side: op code and request id of a request payload."""
    (op_code, request_id), pos = take(_REQUEST_HEAD, payload, 0)
    return RequestHeader(op_code & 0xFFFF, request_id, pos)


def begin_response(
    buf: bytearray,
    context: ProtocolContext,
    request_id: int,
    topology_version: tuple[int, int] | None = None,
) -> int:
    """Server side: append a success header (with the topology flag when given)."""
    start = len(buf)
    if not context.flags_header:
        buf += _LEGACY_RESPONSE.pack(0, request_id, 0)
        return start
    if topology_version is None:
        buf += _FLAGS_RESPONSE.pack(0, request_id, 0)
    else:
        buf += _FLAGS_RESPONSE.pack(0, request_id, _TOPOLOGY_CHANGED)
        buf += _TOPOLOGY.pack(*topology_version)
    return start


def encode_error_response(
    buf: bytearray,
    context: ProtocolContext,
    request_id: int,
    status: int,
    message: str,
    topology_version: tuple[int, int] | None = None,
) -> None:
    """Server side: a complete error response frame."""
    start = len(buf)
    if context.flags_header:
        flags = _ERROR | (_TOPOLOGY_CHANGED if topology_version is not None else 0)
        buf += _FLAGS_RESPONSE.pack(0, request_id, flags)
        if topology_version is not None:
            buf += _TOPOLOGY.pack(*topology_version)
        buf += I32.pack(status)
    else:
        buf += _LEGACY_RESPONSE.pack(0, request_id, status)
    write_string(buf, message)
    finish_frame(buf, start)


def decode_response_header(context: ProtocolContext, payload: memoryview) -> ResponseHeader:
    """Client side: parse the header of a response payload (after the length prefix)."""
    if not context.flags_header:
        (request_id,), pos = take(I64, payload, 0)
        (status,), pos = take(I32, payload, pos)
        message = None
        if status:
            message, pos = read_string(payload, pos)
        return ResponseHeader(request_id, status, message, body_offset=pos)
    (request_id,), pos = take(I64, payload, 0)
    (flags,), pos = take(I16, payload, pos)
    if flags & ~(_ERROR | _TOPOLOGY_CHANGED | _NOTIFICATION):
        raise ProtocolError(f"unknown response flags 0x{flags & 0xFFFF:04x}")
    topology = None
    notification = None
    status = 0
    message = None
    if flags & _TOPOLOGY_CHANGED:
        topology, pos = take(_TOPOLOGY, payload, pos)
    if flags & _NOTIFICATION:
        (notification,), pos = take(I16, payload, pos)
    if flags & _ERROR:
        (status,), pos = take(I32, payload, pos)
        message, pos = read_string(payload, pos)
        if status == 0:
            raise ProtocolError("error flag set with status 0")
    return ResponseHeader(request_id, status, message, topology, notification, pos)
