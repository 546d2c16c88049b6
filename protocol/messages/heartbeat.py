"""Heartbeats (feature HEARTBEAT, bit 11): OP_HEARTBEAT (1) and OP_GET_IDLE_TIMEOUT (2).

Both requests have an empty body; a heartbeat is answered with an empty body,
the idle timeout request with the server's idle timeout in ms (i64, <= 0 =
disabled). A client sends heartbeats at min(configured, max(idle / 3, 500 ms)).
"""

from __future__ import annotations

from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.scalars import decode_long, encode_long
from ignite_router.protocol.opcodes import OpCode

__all__ = [
    "decode_idle_timeout",
    "encode_heartbeat",
    "encode_idle_timeout",
    "encode_idle_timeout_request",
]


def encode_heartbeat(buf: bytearray, request_id: int) -> None:
    """Op 1: an empty request answered by an empty body."""
    finish_frame(buf, begin_request(buf, OpCode.HEARTBEAT, request_id))


def encode_idle_timeout_request(buf: bytearray, request_id: int) -> None:
    """Op 2: ask for the server's idle timeout."""
    finish_frame(buf, begin_request(buf, OpCode.GET_IDLE_TIMEOUT, request_id))


def encode_idle_timeout(buf: bytearray, timeout_ms: int) -> None:
    """Server side: the op 2 answer body."""
    encode_long(buf, timeout_ms)


def decode_idle_timeout(view: memoryview, pos: int) -> int:
    """Client side: the op 2 answer body (ms)."""
    return decode_long(view, pos)
