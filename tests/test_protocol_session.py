"""Transactions, heartbeats and endpoint discovery messages."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from pyignite import Client
from pyignite.connection.protocol_context import ProtocolContext as PyProtocolContext
from pyignite.datatypes import Bool, Byte, Int, Long, String
from pyignite.queries import Query
from pyignite.stream import BinaryStream

from protocol.messages.session import (
    NodeEndpoints,
    TopologyEndpoints,
    decode_endpoints,
    decode_tx_end,
    decode_tx_start,
    encode_endpoints,
    encode_endpoints_request,
    encode_tx_end,
    encode_tx_start,
)
from protocol.opcodes import OpCode


def pyignite_bytes(op: int, following: list, params: dict) -> bytes:
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    with BinaryStream(client) as stream:
        Query(op, following, query_id=3).from_python(stream, params)
        return stream.getvalue()


@given(
    st.integers(0, 1),
    st.integers(0, 2),
    st.integers(0, 2**40),
    st.text(st.characters(exclude_characters="\x00")) | st.none(),
)
def test_tx_start_matches_pyignite(concurrency, isolation, timeout, label) -> None:
    ours = bytearray()
    encode_tx_start(ours, 3, concurrency, isolation, timeout, label)
    theirs = pyignite_bytes(
        OpCode.TX_START,
        [("concurrency", Byte), ("isolation", Byte), ("timeout", Long), ("label", String)],
        {"concurrency": concurrency, "isolation": isolation, "timeout": timeout, "label": label},
    )
    assert bytes(ours) == theirs
    assert decode_tx_start(memoryview(bytes(ours))[4:], 10) == (
        concurrency,
        isolation,
        timeout,
        label,
    )


def test_tx_end_matches_pyignite() -> None:
    ours = bytearray()
    encode_tx_end(ours, 3, 42, True)
    theirs = pyignite_bytes(
        OpCode.TX_END, [("tx_id", Int), ("committed", Bool)], {"tx_id": 42, "committed": True}
    )
    assert bytes(ours) == theirs
    assert decode_tx_end(memoryview(bytes(ours))[4:], 10) == (42, True)


def test_endpoint_discovery_uses_raw_uuids_and_round_trips() -> None:
    request = bytearray()
    encode_endpoints_request(request, 1)
    assert request[-16:] == b"\xff" * 16  # -1, -1: first time, latest
    node = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
    answer = TopologyEndpoints(
        7, (NodeEndpoints(node, 10800, ("127.0.0.1", "host-a")),), (uuid.uuid4(),)
    )
    body = bytearray()
    encode_endpoints(body, answer)
    assert body[12:28] == (0x0011223344556677).to_bytes(8, "little") + (
        0x8899AABBCCDDEEFF
    ).to_bytes(8, "little")
    assert decode_endpoints(memoryview(bytes(body)), 0) == answer
