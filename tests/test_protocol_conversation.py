"""A whole client/server conversation through the sans-I/O API, bytes passed by hand."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ignite_router.affinity import cache_id
from ignite_router.protocol import (
    LATEST,
    CacheTarget,
    FrameDecoder,
    HandshakeError,
    HandshakeFailure,
    HandshakeRequest,
    OpCode,
    ProtocolVersion,
    ServerError,
    accept_handshake,
    client_context,
    decode_cache_request,
    decode_cache_response,
    decode_handshake_request,
    decode_handshake_response,
    decode_request_header,
    decode_response_header,
    encode_cache_request,
    encode_cache_response,
    encode_handshake_failure,
    encode_handshake_request,
    encode_handshake_success,
    encode_response_header,
    finish_frame,
    next_handshake_version,
)

NODE = uuid.uuid4()
SERVER_FEATURES = frozenset({0, 2, 3, 11})


class Server:
    """A one-cache server made of the codec's server-side half."""

    def __init__(self) -> None:
        self.frames = FrameDecoder()
        self.context = None
        self.store: dict[bytes, bytes] = {}
        self.topology_sent = False

    def receive(self, data: bytes) -> bytes:
        out = bytearray()
        for payload in self.frames.feed(data):
            if self.context is None:
                request = decode_handshake_request(payload)
                decision = accept_handshake(request, SERVER_FEATURES)
                if isinstance(decision, HandshakeFailure):
                    out += encode_handshake_failure(
                        request.version,
                        decision.server_version,
                        decision.message,
                        decision.status,
                    )
                else:
                    self.context = decision
                    out += encode_handshake_success(decision, NODE)
                continue
            self.answer(memoryview(payload), out)
        return bytes(out)

    def answer(self, payload: memoryview, out: bytearray) -> None:
        header = decode_request_header(payload)
        request = decode_cache_request(self.context, header.op_code, payload, header.body_offset)
        topology = None if self.topology_sent else (1, 0)  # the first answer carries it
        self.topology_sent = True
        if request.target.cache_id != cache_id("people"):
            error = (1000, f"Cache does not exist [cacheId= {request.target.cache_id}]")
            finish_frame(
                out, encode_response_header(out, self.context, header.request_id, topology, error)
            )
            return
        start = encode_response_header(out, self.context, header.request_id, topology)
        if header.op_code == OpCode.CACHE_PUT:
            self.store[request.key] = request.value
            encode_cache_response(out, header.op_code)
        else:
            encode_cache_response(out, header.op_code, self.store.get(request.key))
        finish_frame(out, start)


@given(st.integers(-(2**63), 2**63 - 1), st.text(max_size=20), st.integers(1, 40))
def test_handshake_then_pipelined_requests(key, value, chunk) -> None:
    server = Server()
    request = HandshakeRequest(LATEST, frozenset({2, 11}))
    reply = server.receive(encode_handshake_request(request))
    frames = FrameDecoder()
    (payload,) = frames.feed(reply)
    context = client_context(request, decode_handshake_response(payload, LATEST))
    assert context == server.context and context.features == {2, 11}

    people = CacheTarget(cache_id("people"))
    buf = bytearray()
    encode_cache_request(buf, context, OpCode.CACHE_PUT, 1, people, key, value)
    encode_cache_request(buf, context, OpCode.CACHE_GET, 2, people, key)
    encode_cache_request(buf, context, OpCode.CACHE_GET, 3, CacheTarget(cache_id("nope")), key)
    # The bytes travel in arbitrary chunks in both directions.
    answers = b"".join(server.receive(bytes(buf[i : i + chunk])) for i in range(0, len(buf), chunk))
    results = {}
    ops = {1: OpCode.CACHE_PUT, 2: OpCode.CACHE_GET, 3: OpCode.CACHE_GET}
    topologies = []
    for i in range(0, len(answers), chunk):
        for payload in frames.feed(answers[i : i + chunk]):
            view = memoryview(payload)
            header = decode_response_header(context, view)
            topologies.append(header.topology_version)
            op = ops[header.request_id]
            try:
                results[header.request_id] = header.decode_body(
                    view, lambda v, p, op=op: decode_cache_response(op, v, p)
                )
            except ServerError as error:
                results[header.request_id] = error.status
    assert results == {1: None, 2: value, 3: 1000}
    assert topologies == [(1, 0), None, None]


def test_a_refused_version_is_renegotiated_on_the_same_stream() -> None:
    server = Server()
    frames = FrameDecoder()
    proposed = ProtocolVersion(1, 8, 0)
    # Hand-made: our encoder refuses versions servers do not accept.
    hello = bytearray(encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 7, 0))))
    hello[7:9] = (8).to_bytes(2, "little")
    (payload,) = frames.feed(server.receive(bytes(hello)))
    failure = decode_handshake_response(payload, proposed)
    assert failure.message == "Unsupported version: 1.8.0"
    retry = next_handshake_version(proposed, failure)
    assert retry == LATEST
    (payload,) = frames.feed(server.receive(encode_handshake_request(HandshakeRequest(retry))))
    assert decode_handshake_response(payload, retry).node_id == NODE
    with pytest.raises(HandshakeError):  # the same version back: stop, do not loop
        next_handshake_version(retry, HandshakeFailure(retry, "disabled", 1))
