"""Transactions (4000/4001, against pyignite 0.6.1) and heartbeats (1/2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite import api
from pyignite.api import tx_api

from ignite_router.protocol.context import LATEST, ProtocolContext, ProtocolVersion
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    decode_cache_request,
    encode_cache_request,
)
from ignite_router.protocol.messages.heartbeat import (
    decode_idle_timeout,
    encode_heartbeat,
    encode_idle_timeout,
    encode_idle_timeout_request,
)
from ignite_router.protocol.messages.scalars import decode_empty, encode_bool
from ignite_router.protocol.messages.tx import (
    TxStart,
    decode_tx_end,
    decode_tx_id,
    decode_tx_start,
    encode_tx_end,
    encode_tx_id,
    encode_tx_start,
)
from ignite_router.protocol.opcodes import OpCode
from tests.protocol_harness import MY_CACHE, TEXT, Loopback, answer, context_for, request_id_of

I32S = st.integers(-(2**31), 2**31 - 1)


@given(
    st.integers(0, 1),
    st.integers(0, 2),
    st.integers(0, 2**40),
    st.none() | TEXT,
    I32S.filter(bool),
    st.booleans(),
)
def test_a_transaction_agrees_with_pyignite(concurrency, isolation, timeout, label, tx_id, commit):
    # pyignite only tags requests with a tx id from 1.6.0 (it misreads the
    # server's 1.5.0); we follow the server, and compare at 1.7.0.
    context = context_for(LATEST)
    conn = Loopback(context)

    def respond(request: bytes) -> bytes:
        op = int.from_bytes(request[4:6], "little")
        if op == OpCode.TX_START:
            return answer(context, request, lambda out: encode_tx_id(out, tx_id))
        if op == OpCode.CACHE_PUT_IF_ABSENT:
            return answer(context, request, lambda out: encode_bool(out, True))
        return answer(context, request)

    conn.respond = respond
    assert tx_api.tx_start(conn, concurrency, isolation, timeout, label).value == tx_id
    api.cache_put_if_absent(conn, conn.cache_info(), 1, "x")
    tx_api.tx_end(tx_id, commit)
    start, put, end = conn.requests
    ours = bytearray()
    encode_tx_start(ours, request_id_of(start), concurrency, isolation, timeout, label, context)
    assert bytes(ours) == start
    assert decode_tx_start(memoryview(start)[4:], 10) == TxStart(
        concurrency, isolation, timeout, label
    )
    ours.clear()
    target = CacheTarget(MY_CACHE, tx_id=tx_id)
    encode_cache_request(
        ours, context, OpCode.CACHE_PUT_IF_ABSENT, request_id_of(put), target, 1, "x"
    )
    assert bytes(ours) == put
    decoded = decode_cache_request(context, OpCode.CACHE_PUT_IF_ABSENT, memoryview(put)[4:], 10)
    assert decoded.target.tx_id == tx_id
    ours.clear()
    encode_tx_end(ours, request_id_of(end), tx_id, commit, context)
    assert bytes(ours) == end
    assert decode_tx_end(memoryview(end)[4:], 10) == (tx_id, commit)
    reply = memoryview(respond(start))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_tx_id) == tx_id


def test_transactions_need_1_5() -> None:
    with pytest.raises(ValueError):
        encode_tx_start(bytearray(), 1, 0, 0, context=ProtocolContext(ProtocolVersion(1, 4, 0)))
    buf = bytearray()
    encode_tx_start(buf, 1, 0, 0, context=ProtocolContext(ProtocolVersion(1, 5, 0)))
    assert decode_tx_start(memoryview(bytes(buf))[4:], 10) == TxStart(0, 0, 0, None)


@given(st.integers(1, 2**62), st.integers(-1, 2**40))
def test_heartbeat_and_idle_timeout(request_id, idle_ms) -> None:
    context = ProtocolContext(LATEST, frozenset({11}))
    heartbeat = bytearray()
    encode_heartbeat(heartbeat, request_id)
    assert bytes(heartbeat) == (10).to_bytes(4, "little") + b"\x01\x00" + request_id.to_bytes(
        8, "little"
    )
    reply = memoryview(answer(context, bytes(heartbeat)))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_empty) is None
    ask = bytearray()
    encode_idle_timeout_request(ask, request_id)
    assert ask[4:6] == b"\x02\x00" and len(ask) == 14
    reply = memoryview(answer(context, bytes(ask), lambda out: encode_idle_timeout(out, idle_ms)))
    header = decode_response_header(context, reply[4:])
    assert header.decode_body(reply[4:], decode_idle_timeout) == idle_ms
