"""The frame splitter: any chunking, bad lengths refused before allocating."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, frame

PAYLOADS = st.lists(st.binary(min_size=1, max_size=60), max_size=12)


def _stream(payloads: list[bytes]) -> bytes:
    return b"".join(frame(p) for p in payloads)


@given(PAYLOADS, st.data())
def test_frames_split_correctly_whatever_the_chunking(payloads, data) -> None:
    stream = _stream(payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=25)))
    decoder = FrameDecoder()
    frames = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        frames.extend(decoder.feed(stream[previous:cut]))
        previous = cut
    assert frames == payloads
    assert decoder.pending == 0


@given(PAYLOADS)
def test_one_byte_at_a_time(payloads) -> None:
    stream = _stream(payloads)
    decoder = FrameDecoder()
    frames = [f for i in range(len(stream)) for f in decoder.feed(memoryview(stream)[i : i + 1])]
    assert frames == payloads


@given(PAYLOADS, st.integers(1, 5))
def test_data_is_buffered_even_if_the_iterator_is_not_consumed(payloads, lazy_feeds) -> None:
    stream = _stream(payloads)
    decoder = FrameDecoder()
    step = max(1, len(stream) // lazy_feeds)
    chunks = [stream[i : i + step] for i in range(0, len(stream), step)]
    for chunk in chunks[:-1]:
        decoder.feed(chunk)  # iterators dropped
    assert list(decoder.feed(chunks[-1] if chunks else b"")) == payloads


def test_pending_counts_an_incomplete_frame() -> None:
    decoder = FrameDecoder()
    assert list(decoder.feed(frame(b"abc") + b"\x05\x00\x00\x00ab")) == [b"abc"]
    assert decoder.pending == 6
    assert list(decoder.feed(b"cde")) == [b"abcde"]
    assert decoder.pending == 0


@pytest.mark.parametrize("length", [-1, -(2**31), 0, 2**31 - 1, DEFAULT_MAX_FRAME_SIZE + 1])
def test_bad_lengths_are_refused_before_allocating(length: int) -> None:
    decoder = FrameDecoder()
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError):
            list(decoder.feed(frame(b"ok") + length.to_bytes(4, "little", signed=True)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    with pytest.raises(ProtocolError):  # a broken stream stays broken
        list(decoder.feed(frame(b"more")))


def test_frames_before_a_bad_length_are_still_delivered() -> None:
    decoder = FrameDecoder()
    frames = []
    with pytest.raises(ProtocolError):
        for payload in decoder.feed(frame(b"first") + b"\x00\x00\x00\x00"):
            frames.append(payload)
    assert frames == [b"first"]


def test_max_frame_size_is_configurable() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    assert list(decoder.feed(frame(bytes(10)))) == [bytes(10)]
    with pytest.raises(ProtocolError):
        list(decoder.feed(b"\x0b\x00\x00\x00"))
    with pytest.raises(ValueError):
        FrameDecoder(max_frame_size=0)


def test_a_large_frame_in_small_chunks_stays_linear() -> None:
    # 4 MiB in 4 KiB chunks: quadratic copying would move ~2 GiB; this must not.
    payload = bytes(range(256)) * (4 * 4096)
    stream = frame(payload)
    decoder = FrameDecoder()
    tracemalloc.start()
    try:
        out = [f for i in range(0, len(stream), 4096) for f in decoder.feed(stream[i : i + 4096])]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out == [payload]
    assert peak < 4 * len(payload)
