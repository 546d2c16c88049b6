"""Garbage, truncated and bit-flipped messages: only ProtocolError, never a hang or a crash."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affinity import cache_id
from protocol.context import LATEST, ProtocolContext, ProtocolVersion
from protocol.errors import ProtocolError
from protocol.framing import FrameDecoder
from protocol.handshake import (
    HandshakeRequest,
    decode_handshake_request,
    decode_handshake_response,
    encode_handshake_request,
    encode_handshake_success,
)
from protocol.header import begin_response, decode_response_header, finish_frame
from protocol.messages.cache_config import (
    CacheProperty,
    decode_cache_configuration,
    decode_configuration_request,
    encode_cache_configuration,
    encode_configuration_request,
)
from protocol.messages.cache_keys import (
    BODY_SHAPES,
    CacheTarget,
    decode_cache_request,
    decode_pairs,
    encode_cache_request,
)
from protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_response,
    encode_partitions_response,
)
from protocol.messages.queries import ScanPage, decode_scan_page, encode_scan_page
from protocol.opcodes import OpCode

CONTEXT = ProtocolContext(LATEST, frozenset({2}))


def _samples() -> dict[str, tuple[bytes, object]]:
    """A valid payload of each message kind and the decoder to attack it with."""
    samples = {}
    buf = bytearray()
    encode_cache_request(buf, CONTEXT, OpCode.CACHE_PUT_ALL, 1, CacheTarget(5), {1: "a", "b": 2})
    samples["put_all"] = (bytes(buf[4:]), lambda v: decode_cache_request(CONTEXT, 1004, v, 10))
    samples["handshake_request"] = (
        encode_handshake_request(HandshakeRequest(LATEST, frozenset({0, 2}), "u", "p"))[4:],
        decode_handshake_request,
    )
    samples["handshake_response"] = (
        encode_handshake_success(CONTEXT, uuid.uuid4())[4:],
        lambda v: decode_handshake_response(v, LATEST),
    )
    header = bytearray()
    begin_response(header, CONTEXT, 1, (3, 1))
    finish_frame(header, 0)
    samples["header"] = (bytes(header[4:]), lambda v: decode_response_header(CONTEXT, v))
    body = bytearray()
    encode_partitions_response(
        body,
        PartitionsResponse(
            (3, 0),
            (
                PartitionGroup(True, {1: {2: 3}}, {uuid.uuid4(): (0, 1, 2)}),
                PartitionGroup(False, {9: {}}),
            ),
        ),
    )
    samples["partitions"] = (bytes(body), lambda v: decode_partitions_response(v, 0))
    body = bytearray()
    encode_configuration_request(
        body, CONTEXT, 1053, 1, {CacheProperty.NAME: "x", CacheProperty.BACKUPS_NUMBER: 1}
    )
    samples["configuration"] = (
        bytes(body[4:]),
        lambda v: decode_configuration_request(CONTEXT, v, 10),
    )
    body = bytearray()
    encode_cache_configuration(body, CONTEXT, {CacheProperty.NAME: "x"})
    samples["full_configuration"] = (
        bytes(body),
        lambda v: decode_cache_configuration(CONTEXT, v, 0),
    )
    body = bytearray()
    encode_scan_page(body, ScanPage([(b"\x04" + bytes(8), b"\x09\x01\x00\x00\x00a")], True, 5))
    samples["scan_page"] = (bytes(body), lambda v: decode_scan_page(v, 0, True))
    samples["get_all_answer"] = (
        b"\x01\x00\x00\x00\x03\x01\x00\x00\x00\x65",
        lambda v: decode_pairs(v, 0),
    )
    return samples


SAMPLES = _samples()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_decode(name: str) -> None:
    payload, decode = SAMPLES[name]
    decode(memoryview(payload))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_truncations_raise_nothing_but_protocol_errors(name: str) -> None:
    payload, decode = SAMPLES[name]
    for end in range(len(payload)):
        try:
            decode(memoryview(payload[:end]))
        except ProtocolError:
            continue
        # A prefix may itself be valid (e.g. a shorter handshake); that is fine too.


@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_bit_flips_and_overwrites_raise_only_protocol_errors(name: str, data) -> None:
    payload, decode = SAMPLES[name]
    mutated = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(mutated) - 1))
        if data.draw(st.booleans()):
            mutated[index] ^= 1 << data.draw(st.integers(0, 7))
        else:
            mutated[index] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ProtocolError):
        decode(memoryview(bytes(mutated)))


@given(st.sampled_from(sorted(SAMPLES)), st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(name: str, garbage: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        SAMPLES[name][1](memoryview(garbage))


@given(st.sampled_from(sorted(BODY_SHAPES)), st.binary(max_size=120))
def test_server_decoder_on_garbage_bodies(op: int, garbage: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_cache_request(CONTEXT, op, memoryview(garbage), 0)


def test_huge_declared_counts_fail_fast() -> None:
    body = b"\xff\xff\xff\x7f"  # 2**31 - 1 elements, no bytes behind them
    with pytest.raises(ProtocolError):
        decode_pairs(memoryview(body), 0)
    prefix = cache_id("x").to_bytes(4, "little", signed=True) + b"\x00"
    with pytest.raises(ProtocolError):
        decode_cache_request(CONTEXT, OpCode.CACHE_GET_ALL, memoryview(prefix + body), 0)


def test_old_versions_reject_newer_prefix_flags() -> None:
    body = (5).to_bytes(4, "little") + b"\x04" + bytes(24) + b"\x65"
    with pytest.raises(ProtocolError):
        decode_cache_request(ProtocolContext(ProtocolVersion(1, 5, 0)), 1000, memoryview(body), 0)


# -- frames --------------------------------------------------------------------------------


@given(st.lists(st.binary(min_size=1, max_size=50), max_size=10), st.data())
def test_frames_split_correctly_whatever_the_chunking(payloads, data) -> None:
    stream = b"".join(len(p).to_bytes(4, "little") + p for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    decoder = FrameDecoder()
    frames = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        frames.extend(decoder.feed(stream[previous:cut]))
        previous = cut
    assert frames == payloads
    assert decoder.pending == 0


def test_frames_fed_one_byte_at_a_time() -> None:
    stream = b"".join(len(p).to_bytes(4, "little") + p for p in (b"a", b"bc" * 100, b"d"))
    decoder = FrameDecoder()
    frames = [frame for i in range(len(stream)) for frame in decoder.feed(stream[i : i + 1])]
    assert frames == [b"a", b"bc" * 100, b"d"]


@pytest.mark.parametrize("length", [-1, 0, 2**31 - 1, 65 * 1024 * 1024])
def test_bad_frame_lengths_are_refused_before_allocating(length: int) -> None:
    decoder = FrameDecoder()
    with pytest.raises(ProtocolError):
        list(decoder.feed(length.to_bytes(4, "little", signed=True)))


def test_max_frame_size_is_configurable() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    assert list(decoder.feed(b"\x0a\x00\x00\x00" + bytes(10))) == [bytes(10)]
    with pytest.raises(ProtocolError):
        list(decoder.feed(b"\x0b\x00\x00\x00"))
