"""Request and response headers for every protocol version; pyignite parses ours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite.datatypes import Long, String
from pyignite.queries.response import Response
from pyignite.stream import READ_BACKWARD, BinaryStream

from ignite_router.protocol.context import (
    LATEST,
    SUPPORTED_VERSIONS,
    ProtocolContext,
    ProtocolVersion,
)
from ignite_router.protocol.errors import ProtocolError, ServerError
from ignite_router.protocol.header import (
    begin_request,
    decode_request_header,
    decode_response_header,
    encode_error_response,
    encode_response_header,
    finish_frame,
    patch_request_id,
)
from ignite_router.protocol.wire import I64
from tests.protocol_harness import PYIGNITE_VERSIONS, Loopback, context_for

I64S = st.integers(-(2**63), 2**63 - 1)
TOPOLOGY = st.none() | st.tuples(I64S, st.integers(-(2**31), 2**31 - 1))
MESSAGE = (
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40) | st.none()
)  # pyignite cuts at NUL


@given(st.integers(0, 9999), I64S, st.binary(max_size=30))
def test_request_header_round_trips_and_ids_can_be_patched(op, request_id, body) -> None:
    buf = bytearray()
    start = begin_request(buf, op, request_id)
    buf += body
    finish_frame(buf, start)
    assert int.from_bytes(buf[:4], "little") == len(buf) - 4
    header = decode_request_header(memoryview(bytes(buf))[4:])
    assert (header.op_code, header.request_id, header.body_offset) == (op, request_id, 10)
    patch_request_id(buf, 42)
    assert decode_request_header(memoryview(bytes(buf))[4:]).request_id == 42
    assert buf[14:] == body


@given(st.sampled_from(SUPPORTED_VERSIONS), I64S, TOPOLOGY, st.binary(max_size=20))
def test_success_headers_round_trip(version, request_id, topology, body) -> None:
    context = ProtocolContext(version)
    out = bytearray()
    start = encode_response_header(out, context, request_id, topology)
    out += body
    finish_frame(out, start)
    header = decode_response_header(context, memoryview(bytes(out))[4:])
    assert header.request_id == request_id and header.ok
    assert header.topology_version == (topology if context.flags_header else None)
    assert bytes(out[4 + header.body_offset :]) == body


@given(
    st.sampled_from(SUPPORTED_VERSIONS),
    I64S,
    TOPOLOGY,
    st.integers(1, 2**31 - 1) | st.integers(-(2**31), -1),
    MESSAGE,
)
def test_error_headers_round_trip(version, request_id, topology, status, message) -> None:
    context = ProtocolContext(version)
    out = bytearray()
    encode_error_response(out, context, request_id, status, message, topology)
    header = decode_response_header(context, memoryview(bytes(out))[4:])
    assert (header.request_id, header.status, header.message) == (request_id, status, message)
    with pytest.raises(ServerError) as caught:
        header.raise_for_status()
    assert caught.value.status == status


@given(st.sampled_from(PYIGNITE_VERSIONS), I64S, TOPOLOGY, I64S)
def test_pyignite_parses_our_success_headers(version, request_id, topology, value) -> None:
    context = context_for(version)
    out = bytearray()
    start = encode_response_header(out, context, request_id, topology)
    out += I64.pack(value)
    finish_frame(out, start)
    parsed = _pyignite_parse(context, bytes(out), [("value", Long)])
    assert parsed.query_id == request_id and parsed.value == value
    if context.flags_header:
        assert (topology is not None) == bool(parsed.flags & 2)
        if topology is not None:
            assert (parsed.affinity_version, parsed.affinity_minor) == topology


@given(st.sampled_from(PYIGNITE_VERSIONS), I64S, TOPOLOGY, st.integers(1, 2**31 - 1), MESSAGE)
def test_pyignite_parses_our_error_headers(version, request_id, topology, status, message) -> None:
    context = context_for(version)
    out = bytearray()
    encode_error_response(out, context, request_id, status, message, topology)
    parsed = _pyignite_parse(context, bytes(out), [("value", Long)])
    assert parsed.status_code == status
    assert String.to_python(parsed.error_message) == message


def _pyignite_parse(context: ProtocolContext, frame: bytes, following: list):
    conn = Loopback(context)
    response = Response(protocol_context=conn.protocol_context, following=following)
    with BinaryStream(conn.client, frame) as stream:
        return stream.read_ctype(response.parse(stream), direction=READ_BACKWARD)


def test_verified_response_dumps() -> None:
    # Parsed by pyignite 0.6.1.
    context = ProtocolContext(LATEST)
    out = bytearray()
    start = encode_response_header(out, context, 7, (12, 3))
    out += bytes.fromhex("040500000000000000")
    finish_frame(out, start)
    assert out.hex() == "1f000000070000000000000002000c0000000000000003000000040500000000000000"
    out.clear()
    encode_error_response(out, context, 8, 1000, "Cache does not exist [cacheId= 2012078094]")
    assert (
        bytes(out)
        == bytes.fromhex("3d00000008000000000000000100e8030000092a000000")
        + b"Cache does not exist [cacheId= 2012078094]"
    )


def test_notifications_and_unknown_flags() -> None:
    context = ProtocolContext(LATEST)
    push = (5).to_bytes(8, "little") + b"\x04\x00" + (2007).to_bytes(2, "little") + b"data"
    header = decode_response_header(context, memoryview(push))
    assert (header.request_id, header.notification_op, header.body_offset) == (5, 2007, 12)
    with pytest.raises(ProtocolError):
        decode_response_header(context, memoryview(bytes(8) + b"\x08\x00"))
    with pytest.raises(ProtocolError):  # error flag with status 0
        decode_response_header(context, memoryview(bytes(8) + b"\x01\x00" + bytes(4) + b"\x65"))


def test_error_status_zero_is_refused_on_encode() -> None:
    with pytest.raises(ValueError):
        encode_response_header(bytearray(), ProtocolContext(LATEST), 1, error=(0, "x"))


def test_legacy_header_has_no_topology() -> None:
    context = ProtocolContext(ProtocolVersion(1, 3, 0))
    out = bytearray()
    finish_frame(out, encode_response_header(out, context, 1, (5, 5)))
    assert len(out) == 4 + 8 + 4
