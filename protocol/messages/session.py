"""Connection-level operations: transactions (4000/4001), heartbeats (1/2), discovery (5102)."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field

from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.opcodes import OpCode
from protocol.values import read_string, write_string
from protocol.wire import I32, I64, count, take

__all__ = [
    "NodeEndpoints",
    "TopologyEndpoints",
    "decode_endpoints",
    "decode_idle_timeout",
    "decode_tx_end",
    "decode_tx_id",
    "decode_tx_start",
    "encode_endpoints",
    "encode_endpoints_request",
    "encode_heartbeat",
    "encode_idle_timeout_request",
    "encode_tx_end",
    "encode_tx_start",
]

_TX_START = struct.Struct("<bbq")  # concurrency, isolation, timeout ms
_TX_END = struct.Struct("<i?")
_RAW_UUID = struct.Struct("<qq")
_RANGE = struct.Struct("<qq")


def encode_tx_start(
    buf: bytearray,
    request_id: int,
    concurrency: int,
    isolation: int,
    timeout_ms: int,
    label: str | None,
) -> None:
    """4000: concurrency (0 optimistic, 1 pessimistic), isolation (0-2), timeout, label."""
    start = begin_request(buf, OpCode.TX_START, request_id)
    buf += _TX_START.pack(concurrency, isolation, timeout_ms)
    write_string(buf, label)
    finish_frame(buf, start)


def decode_tx_start(view: memoryview, pos: int) -> tuple[int, int, int, str | None]:
    """Server side: (concurrency, isolation, timeout ms, label)."""
    fields, pos = take(_TX_START, view, pos)
    label, _ = read_string(view, pos)
    return (*fields, label)


def decode_tx_id(view: memoryview, pos: int) -> int:
    return take(I32, view, pos)[0][0]


def encode_tx_end(buf: bytearray, request_id: int, tx_id: int, commit: bool) -> None:
    start = begin_request(buf, OpCode.TX_END, request_id)
    buf += _TX_END.pack(tx_id, commit)
    finish_frame(buf, start)


def decode_tx_end(view: memoryview, pos: int) -> tuple[int, bool]:
    """Server side: (tx id, commit)."""
    return take(_TX_END, view, pos)[0]


def encode_heartbeat(buf: bytearray, request_id: int) -> None:
    """Op 1 (feature HEARTBEAT): an empty request answered by an empty body."""
    finish_frame(buf, begin_request(buf, OpCode.HEARTBEAT, request_id))


def encode_idle_timeout_request(buf: bytearray, request_id: int) -> None:
    """Op 2 (feature HEARTBEAT): the server's idle timeout in ms."""
    finish_frame(buf, begin_request(buf, OpCode.GET_IDLE_TIMEOUT, request_id))


def decode_idle_timeout(view: memoryview, pos: int) -> int:
    return take(I64, view, pos)[0][0]


@dataclass(frozen=True, slots=True)
class NodeEndpoints:
    node_id: uuid.UUID
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopologyEndpoints:
    """5102 answer: nodes added and removed since the requested topology version."""

    version: int
    added: tuple[NodeEndpoints, ...] = ()
    removed: tuple[uuid.UUID, ...] = field(default_factory=tuple)


def encode_endpoints_request(
    buf: bytearray, request_id: int, since: int = -1, until: int = -1
) -> None:
    """5102 (feature CLUSTER_GROUP_GET_NODES_ENDPOINTS); -1 = first time / latest."""
    start = begin_request(buf, OpCode.CLUSTER_GROUP_GET_NODE_ENDPOINTS, request_id)
    buf += _RANGE.pack(since, until)
    finish_frame(buf, start)


def _raw_uuid(view: memoryview, pos: int) -> tuple[uuid.UUID, int]:
    # 5102 writes node ids as two raw longs, without the 0x0a type code (§9.4).
    (msb, lsb), pos = take(_RAW_UUID, view, pos)
    return uuid.UUID(int=((msb & (2**64 - 1)) << 64) | (lsb & (2**64 - 1))), pos


def _write_raw_uuid(buf: bytearray, node_id: uuid.UUID) -> None:
    value = node_id.int
    buf += struct.pack("<QQ", value >> 64, value & (2**64 - 1))


def encode_endpoints(buf: bytearray, answer: TopologyEndpoints) -> None:
    """Server side: the 5102 answer body."""
    buf += I64.pack(answer.version) + I32.pack(len(answer.added))
    for node in answer.added:
        _write_raw_uuid(buf, node.node_id)
        buf += I32.pack(node.port) + I32.pack(len(node.addresses))
        for address in node.addresses:
            write_string(buf, address)
    buf += I32.pack(len(answer.removed))
    for node_id in answer.removed:
        _write_raw_uuid(buf, node_id)


def decode_endpoints(view: memoryview, pos: int) -> TopologyEndpoints:
    (version,), pos = take(I64, view, pos)
    n_added, pos = count(view, pos, 24)
    added = []
    for _ in range(n_added):
        node_id, pos = _raw_uuid(view, pos)
        (port,), pos = take(I32, view, pos)
        n_addresses, pos = count(view, pos, 1)
        addresses = []
        for _ in range(n_addresses):
            address, pos = read_string(view, pos)
            if address is None:
                raise ProtocolError("null address in an endpoint list")
            addresses.append(address)
        added.append(NodeEndpoints(node_id, port, tuple(addresses)))
    n_removed, pos = count(view, pos, 16)
    removed = []
    for _ in range(n_removed):
        node_id, pos = _raw_uuid(view, pos)
        removed.append(node_id)
    return TopologyEndpoints(version, tuple(added), tuple(removed))
