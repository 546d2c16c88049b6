"""Fuzzing the decoder: malformed bytes give ProtocolError (or a value), never anything else.

Inputs: random bytes, every kind of valid encoding truncated, and valid
encodings with flipped bits or overwritten bytes. ``read_value`` and
``skip_value`` must either succeed, agreeing on where the value ends, or
raise ``ProtocolError``; a strict prefix of a valid encoding must always fail.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import BinaryTypeRegistry, read_value, skip_value
from tests.test_values_roundtrip import encode, registry_for, value_pairs


def _outcome(call, *args) -> tuple[str, Any]:
    try:
        return "ok", call(*args)
    except ProtocolError as exc:
        assert str(exc), "a ProtocolError must say what was wrong"
        return "error", None


def _check(data: bytes, pos: int = 0, registry: BinaryTypeRegistry | None = None) -> None:
    read = _outcome(read_value, memoryview(data), pos, registry)
    skipped = _outcome(skip_value, memoryview(data), pos)
    if read[0] == "ok" and skipped[0] == "ok":
        assert read[1][1] == skipped[1], "read_value and skip_value disagree on the end"
    if read[0] == "ok":
        assert pos < read[1][1] <= len(data)


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=300)
@given(
    st.sampled_from([0x17, 0x18, 0x19, 0x1B, 0x66, 0x67, 0x14, 0x1D, 0x1E, 0x09]),
    st.binary(max_size=64),
)
def test_random_payloads_behind_structured_type_codes(code: int, payload: bytes) -> None:
    _check(bytes([code]) + payload)


@settings(max_examples=200)
@given(value_pairs, st.data())
def test_truncated_encodings_always_fail(pair, data: st.DataObject) -> None:
    value = pair[0]
    encoded = encode(value)
    registry = registry_for(value)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    prefix = memoryview(encoded[:cut])
    for call, args in ((read_value, (prefix, 0, registry)), (skip_value, (prefix, 0))):
        outcome = _outcome(call, *args)
        assert outcome[0] == "error", f"{call.__name__} accepted a {cut}-byte prefix"


@settings(max_examples=300)
@given(value_pairs, st.data())
def test_bit_flips_and_overwrites(pair, data: st.DataObject) -> None:
    value = pair[0]
    encoded = bytearray(encode(value))
    registry = registry_for(value)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(encoded) - 1))
        if data.draw(st.booleans()):
            encoded[index] ^= 1 << data.draw(st.integers(0, 7))
        else:
            encoded[index] = data.draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x65, 0x66]))
    _check(bytes(encoded), 0, registry)
    _check(bytes(encoded), 0, None)


@settings(max_examples=200)
@given(value_pairs)
def test_skip_agrees_with_read_on_valid_encodings(pair) -> None:
    value = pair[0]
    encoded = encode(value) + b"\x65"
    _, end = read_value(encoded, 0, registry_for(value))
    assert skip_value(encoded, 0) == end == len(encoded) - 1
    assert read_value(encoded, end) == (None, len(encoded))
