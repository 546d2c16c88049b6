"""Request and response headers (``ClientRequest``, ``ClientResponse``), client and server side.

Requests: ``i32 len, i16 op code, i64 request id``. Responses before 1.4.0:
``i32 len, i64 request id, i32 status [, String message]``; from 1.4.0:
``i32 len, i64 request id, i16 flags`` then, per flag, the topology version
(i64 major, i32 minor), the notification op code (i16), and on error the
status (i32) and message (String).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ProtocolError, ServerError
from ignite_router.protocol.framing import LENGTH
from ignite_router.protocol.opcodes import ResponseFlag
from ignite_router.protocol.values import read_string, write_string
from ignite_router.protocol.wire import I16, I32, I64, finish, take

__all__ = [
    "REQUEST_HEADER_SIZE",
    "RequestHeader",
    "ResponseHeader",
    "begin_request",
    "begin_response",
    "decode_empty",
    "decode_request_header",
    "decode_response_header",
    "encode_error_response",
    "encode_response_header",
    "finish_frame",
    "patch_request_id",
]

T = TypeVar("T")

_REQUEST = struct.Struct("<ihq")  # length placeholder, op code, request id
_REQUEST_HEAD = struct.Struct("<hq")
_REQUEST_ID_OFFSET = 6  # from the frame start: i32 length, i16 op code
_LEGACY_RESPONSE = struct.Struct("<iqi")  # length, request id, status
_FLAGS_RESPONSE = struct.Struct("<iqh")  # length, request id, flags
_TOPOLOGY = struct.Struct("<qi")
_PLAIN_HEAD = struct.Struct("<qh")  # request id, flags
_ERROR = int(ResponseFlag.ERROR)
_TOPOLOGY_CHANGED = int(ResponseFlag.AFFINITY_TOPOLOGY_CHANGED)
_NOTIFICATION = int(ResponseFlag.NOTIFICATION)
_KNOWN_FLAGS = _ERROR | _TOPOLOGY_CHANGED | _NOTIFICATION
REQUEST_HEADER_SIZE = _REQUEST.size


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """A decoded request header; the body starts at ``body_offset`` of the payload."""

    op_code: int
    request_id: int
    body_offset: int


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    """A decoded response header; the body starts at ``body_offset`` of the payload.

    ``topology_version`` is ``(major, minor)`` when the server flagged an
    affinity topology change (the first response of every connection does),
    ``notification_op`` the op code of a server push (its ``request_id`` is
    then a resource id).
    """

    request_id: int
    status: int = 0
    message: str | None = None
    topology_version: tuple[int, int] | None = None
    notification_op: int | None = None
    body_offset: int = 0

    @property
    def ok(self) -> bool:
        return self.status == 0

    def raise_for_status(self) -> None:
        """Raise :class:`ServerError` if the server reported an error."""
        if self.status:
            raise ServerError(self.status, self.message)

    def decode_body(
        self, payload: memoryview, decoder: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """``decoder(payload, body_offset, ...)``, or ServerError for an error status."""
        if self.status:
            raise ServerError(self.status, self.message)
        return decoder(payload, self.body_offset, *args, **kwargs)


# -- requests ---------------------------------------------------------------------------


def begin_request(buf: bytearray, op_code: int, request_id: int) -> int:
    """Append a request header with a length placeholder; returns the frame start."""
    start = len(buf)
    buf += _REQUEST.pack(0, op_code, request_id)
    return start


def finish_frame(buf: bytearray, start: int) -> None:
    """Patch the length prefix of the frame that begins at ``start``."""
    LENGTH.pack_into(buf, start, len(buf) - start - 4)


def patch_request_id(buf: bytearray, request_id: int, start: int = 0) -> None:
    """Give an encoded request frame (at ``start``) a new request id, e.g. to resend it."""
    I64.pack_into(buf, start + _REQUEST_ID_OFFSET, request_id)


def request_op_code(buf: bytes | bytearray, start: int = 0) -> int:
    """The op code of an encoded request frame (at ``start``)."""
    return int(I16.unpack_from(buf, start + 4)[0])


def decode_request_header(payload: memoryview) -> RequestHeader:
    """Server side: op code and request id of a request payload (after the length)."""
    (op_code, request_id), pos = take(_REQUEST_HEAD, payload, 0)
    return RequestHeader(op_code & 0xFFFF, request_id, pos)


# -- responses, server side ---------------------------------------------------------------


def encode_response_header(
    buf: bytearray,
    context: ProtocolContext,
    request_id: int,
    topology_version: tuple[int, int] | None = None,
    error: ServerError | tuple[int, str | None] | None = None,
) -> int:
    """Append a response header; returns the frame start for :func:`finish_frame`.

    With ``error`` (a ServerError or ``(status, message)``) the header is the
    whole message: call ``finish_frame`` without writing a body. Protocols
    before 1.4.0 have no topology field; ``topology_version`` is ignored there.
    """
    start = len(buf)
    status, message = 0, None
    if error is not None:
        status, message = (error.status, error.message) if isinstance(error, ServerError) else error
        if not status:
            raise ValueError("an error response needs a non-zero status")
    if not context.flags_header:
        buf += _LEGACY_RESPONSE.pack(0, request_id, status)
    else:
        flags = (_ERROR if status else 0) | (_TOPOLOGY_CHANGED if topology_version else 0)
        buf += _FLAGS_RESPONSE.pack(0, request_id, flags)
        if topology_version is not None:
            buf += _TOPOLOGY.pack(*topology_version)
        if status:
            buf += I32.pack(status)
    if status:
        write_string(buf, message)
    return start


def begin_response(
    buf: bytearray,
    context: ProtocolContext,
    request_id: int,
    topology_version: tuple[int, int] | None = None,
) -> int:
    """Server side: append a success header; returns the frame start."""
    return encode_response_header(buf, context, request_id, topology_version)


def encode_error_response(
    buf: bytearray,
    context: ProtocolContext,
    request_id: int,
    status: int,
    message: str | None,
    topology_version: tuple[int, int] | None = None,
) -> None:
    """Server side: a complete error response frame."""
    start = encode_response_header(buf, context, request_id, topology_version, (status, message))
    finish_frame(buf, start)


# -- responses, client side ---------------------------------------------------------------


def decode_response_header(
    context: ProtocolContext, payload: memoryview, strict: bool = True
) -> ResponseHeader:
    """Client side: parse the header of a response payload (after the length prefix).

    Never raises ServerError: an error status is in the header, so a caller
    can still observe its topology version; ``raise_for_status`` or
    ``decode_body`` raise it. With ``strict=False`` unknown flag bits and
    bytes after an error message are ignored, as the Java client does, so a
    newer server cannot break an older client.
    """
    if len(payload) >= _PLAIN_HEAD.size and context.flags_header:
        request_id, flags = _PLAIN_HEAD.unpack_from(payload, 0)
        if not flags:  # the common answer: no error, no news
            return ResponseHeader(request_id, body_offset=_PLAIN_HEAD.size)
    (request_id,), pos = take(I64, payload, 0)
    if not context.flags_header:
        (status,), pos = take(I32, payload, pos)
        message = None
        if status:
            message, pos = read_string(payload, pos)
            finish(payload, pos, "an error response")
        return ResponseHeader(request_id, status, message, body_offset=pos)
    (flags,), pos = take(I16, payload, pos)
    if strict and flags & ~_KNOWN_FLAGS:
        raise ProtocolError(f"unknown response flags 0x{flags & 0xFFFF:04x}")
    topology = None
    notification = None
    status = 0
    message = None
    if flags & _TOPOLOGY_CHANGED:
        topology, pos = take(_TOPOLOGY, payload, pos)
    if flags & _NOTIFICATION:
        (notification,), pos = take(I16, payload, pos)
        notification &= 0xFFFF
    if flags & _ERROR:
        (status,), pos = take(I32, payload, pos)
        message, pos = read_string(payload, pos)
        if status == 0:
            raise ProtocolError("error flag set with status 0")
        if strict:
            finish(payload, pos, "an error response")
    return ResponseHeader(request_id, status, message, topology, notification, pos)


def decode_empty(view: memoryview, pos: int) -> None:
    """Body of operations that answer nothing (PUT, CLEAR, TX_END, ...)."""
    finish(view, pos, "an empty response body")
