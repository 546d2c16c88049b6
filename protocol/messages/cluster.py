"""Cluster state (5000/5001) and binary type operations (3000-3003) envelopes."""

from __future__ import annotations

from enum import IntEnum

from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.opcodes import OpCode
from protocol.values import BinaryType, encode_binary_type, read_string, write_string
from protocol.wire import I8, I32, take

__all__ = [
    "ClusterState",
    "decode_cluster_state",
    "decode_type_name_request",
    "encode_binary_type_get",
    "encode_binary_type_put",
    "encode_cluster_state_request",
    "encode_type_name_request",
]


class ClusterState(IntEnum):
    INACTIVE = 0
    ACTIVE = 1
    ACTIVE_READ_ONLY = 2


def encode_cluster_state_request(
    buf: bytearray, request_id: int, state: ClusterState | None
) -> None:
    """5000 GET_STATE (state None) or 5001 CHANGE_STATE."""
    op = OpCode.CLUSTER_GET_STATE if state is None else OpCode.CLUSTER_CHANGE_STATE
    start = begin_request(buf, op, request_id)
    if state is not None:
        buf += I8.pack(state)
    finish_frame(buf, start)


def decode_cluster_state(view: memoryview, pos: int) -> ClusterState:
    (state,), end = take(I8, view, pos)
    if end != len(view):
        raise ProtocolError("unexpected bytes after the cluster state")
    try:
        return ClusterState(state)
    except ValueError:
        raise ProtocolError(f"unknown cluster state {state}") from None


def encode_type_name_request(
    buf: bytearray, request_id: int, type_id: int, name: str | None = None, platform: int = 0
) -> None:
    """3000 TYPE_NAME_GET (name None) or 3001 TYPE_NAME_PUT."""
    op = OpCode.BINARY_TYPE_NAME_GET if name is None else OpCode.BINARY_TYPE_NAME_PUT
    start = begin_request(buf, op, request_id)
    buf += I8.pack(platform) + I32.pack(type_id)
    if name is not None:
        write_string(buf, name)
    finish_frame(buf, start)


def decode_type_name_request(
    op_code: int, view: memoryview, pos: int
) -> tuple[int, int, str | None]:
    """Server side: (platform, type id, name or None)."""
    (platform,), pos = take(I8, view, pos)
    (type_id,), pos = take(I32, view, pos)
    name = None
    if op_code == OpCode.BINARY_TYPE_NAME_PUT:
        name, pos = read_string(view, pos)
    if pos != len(view):
        raise ProtocolError("unexpected bytes after the type name request")
    return platform, type_id, name


def encode_binary_type_get(buf: bytearray, request_id: int, type_id: int) -> None:
    start = begin_request(buf, OpCode.BINARY_TYPE_GET, request_id)
    buf += I32.pack(type_id)
    finish_frame(buf, start)


def encode_binary_type_put(buf: bytearray, request_id: int, binary_type: BinaryType) -> None:
    start = begin_request(buf, OpCode.BINARY_TYPE_PUT, request_id)
    encode_binary_type(buf, binary_type)
    finish_frame(buf, start)
