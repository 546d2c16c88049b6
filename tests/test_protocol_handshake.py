"""Handshake: pyignite's bytes, both directions, every version, and negotiation."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite import Client
from pyignite.connection.handshake import HandshakeRequest as PyHandshakeRequest
from pyignite.connection.handshake import HandshakeResponse as PyHandshakeResponse
from pyignite.stream import BinaryStream

from ignite_router.protocol.context import (
    LATEST,
    MAX_FEATURE_BYTES,
    SUPPORTED_VERSIONS,
    ProtocolContext,
    ProtocolVersion,
    decode_features,
    encode_features,
)
from ignite_router.protocol.errors import (
    AuthenticationError,
    HandshakeError,
    ProtocolError,
    StatusCode,
)
from ignite_router.protocol.handshake import (
    NO_VERSION,
    HandshakeFailure,
    HandshakeRequest,
    HandshakeSuccess,
    accept_handshake,
    client_context,
    decode_handshake_request,
    decode_handshake_response,
    encode_handshake_failure,
    encode_handshake_request,
    encode_handshake_success,
    next_handshake_version,
)
from tests.protocol_harness import PYIGNITE_VERSIONS, Loopback, context_for

NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
FEATURES = st.frozensets(st.integers(0, 40).filter(lambda bit: bit != 13), max_size=8)


def _pyignite_request(version: ProtocolVersion, user: str | None, password: str | None) -> bytes:
    request = PyHandshakeRequest(Loopback(context_for(version)).protocol_context, user, password)
    with BinaryStream(Client()) as stream:
        request.from_python(stream)
        return stream.getvalue()


def _pyignite_response(version: ProtocolVersion, frame: bytes) -> PyHandshakeResponse:
    conn = Loopback(context_for(version))
    with BinaryStream(conn.client, frame) as stream:
        return PyHandshakeResponse.parse(stream, conn.protocol_context)


def test_verified_dumps() -> None:
    # pyignite 0.6.1's HandshakeRequest output.
    assert encode_handshake_request(HandshakeRequest(LATEST, frozenset({2}))).hex() == (
        "0e00000001010007000000020c0100000004"
    )
    assert encode_handshake_request(
        HandshakeRequest(LATEST, frozenset({2}), "ignite", "ignite")
    ) == bytes.fromhex("2400000001010007000000020c0100000004") + 2 * (b"\x09\x06\x00\x00\x00ignite")
    assert encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 4, 0))).hex() == (
        "080000000101000400000002"
    )
    node = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
    assert encode_handshake_success(ProtocolContext(LATEST, frozenset({2})), node) == (
        bytes.fromhex("18000000010c01000000040a7766554433221100ffeeddccbbaa9988")
    )
    failure = encode_handshake_failure(
        ProtocolVersion(1, 8, 0), LATEST, "Unsupported version: 1.8.0", 1
    )
    assert failure == bytes.fromhex("2a00000000010007000000091a000000") + (
        b"Unsupported version: 1.8.0" + b"\x01\x00\x00\x00"
    )


@given(st.sampled_from(PYIGNITE_VERSIONS), st.none() | st.tuples(NAMES, NAMES))
def test_requests_match_pyignite(version, credentials) -> None:
    user, password = credentials or (None, None)
    features = frozenset({2}) if version >= (1, 7, 0) else frozenset()
    ours = encode_handshake_request(HandshakeRequest(version, features, user, password))
    theirs = _pyignite_request(version, user, password)
    assert int.from_bytes(ours[:4], "little") == len(ours) - 4  # always the true length
    assert ours[4:] == theirs[4:]
    if credentials is None or (user.isascii() and password.isascii()):
        assert ours == theirs
    else:
        # pyignite counts characters, not UTF-8 bytes: its
        # length prefix is short and a server would misread the stream. We follow
        # the server.
        declared = int.from_bytes(theirs[:4], "little")
        assert declared == len(theirs) - 4 - (
            len(user.encode()) - len(user) + len(password.encode()) - len(password)
        )
    request = decode_handshake_request(ours[4:])
    assert (request.version, request.features, request.username, request.password) == (
        version,
        features,
        user,
        password,
    )


@given(
    st.sampled_from(SUPPORTED_VERSIONS),
    FEATURES,
    st.none() | st.tuples(NAMES, NAMES),
    st.none() | st.dictionaries(NAMES, NAMES, max_size=3),
)
def test_requests_round_trip(version, features, credentials, attributes) -> None:
    if version < (1, 1, 0):
        credentials = None
    if version < (1, 7, 0):
        features = frozenset()
    if 0 not in features:
        attributes = None
    user, password = credentials or (None, None)
    sent = HandshakeRequest(version, features, user, password, attributes)
    assert decode_handshake_request(encode_handshake_request(sent)[4:]) == sent


@given(st.sampled_from(SUPPORTED_VERSIONS), FEATURES, st.uuids())
def test_success_round_trips(version, features, node_id) -> None:
    context = ProtocolContext(version, features if version >= (1, 7, 0) else frozenset())
    answer = decode_handshake_response(encode_handshake_success(context, node_id)[4:], version)
    assert answer == HandshakeSuccess(context.features, node_id if version >= (1, 4, 0) else None)


@given(
    st.sampled_from(SUPPORTED_VERSIONS),
    st.sampled_from([*SUPPORTED_VERSIONS, NO_VERSION]),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.integers(-(2**31), 2**31 - 1),
)
def test_failure_round_trips(requested, server_version, message, status) -> None:
    frame = encode_handshake_failure(requested, server_version, message, status)
    answer = decode_handshake_response(frame[4:], requested)
    expected_status = status if requested >= (1, 1, 0) else None
    assert answer == HandshakeFailure(server_version, message, expected_status)


@given(st.sampled_from(PYIGNITE_VERSIONS), st.uuids())
def test_pyignite_parses_our_success(version, node_id) -> None:
    context = context_for(version)
    parsed = _pyignite_response(version, encode_handshake_success(context, node_id))
    assert parsed.op_code == 1
    if version >= (1, 4, 0):
        assert parsed.node_uuid == node_id
    if version >= (1, 7, 0):
        assert parsed.features == b"\x04"


@given(
    st.sampled_from(PYIGNITE_VERSIONS),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
)
def test_pyignite_parses_our_failure(version, message) -> None:
    frame = encode_handshake_failure(version, LATEST, message, StatusCode.FAILED)
    parsed = _pyignite_response(version, frame)
    assert parsed.op_code == 0
    assert (parsed.version_major, parsed.version_minor, parsed.version_patch) == LATEST
    assert (parsed.message, parsed.client_status) == (message, 1)


def test_the_server_decides() -> None:
    features = frozenset({0, 2, 3, 11})
    accepted = accept_handshake(HandshakeRequest(LATEST, frozenset({2, 5, 11})), features)
    assert accepted == ProtocolContext(LATEST, frozenset({2, 11}))
    old = accept_handshake(HandshakeRequest(ProtocolVersion(1, 4, 0)), features)
    assert old == ProtocolContext(ProtocolVersion(1, 4, 0))
    refused = accept_handshake(HandshakeRequest(ProtocolVersion(1, 8, 0)), features)
    assert refused == HandshakeFailure(LATEST, "Unsupported version: 1.8.0", StatusCode.FAILED)
    bad_client = accept_handshake(HandshakeRequest(LATEST, client_type=1), features)
    assert bad_client.server_version == NO_VERSION
    credentials = ("ignite", "secret")
    anonymous = accept_handshake(HandshakeRequest(LATEST), features, credentials)
    wrong = accept_handshake(
        HandshakeRequest(LATEST, username="ignite", password="x"), features, credentials
    )
    for failure in (anonymous, wrong):
        assert (failure.server_version, failure.status) == (NO_VERSION, StatusCode.AUTH_FAILED)
    right = HandshakeRequest(LATEST, frozenset({2}), "ignite", "secret")
    assert accept_handshake(right, features, credentials) == ProtocolContext(LATEST, {2})
    assert client_context(right, HandshakeSuccess(frozenset({2}))) == ProtocolContext(
        LATEST, frozenset({2})
    )


def test_negotiation_never_loops() -> None:
    proposed = LATEST
    retry = HandshakeFailure(ProtocolVersion(1, 4, 0), "Unsupported version: 1.7.0", 1)
    assert next_handshake_version(proposed, retry) == (1, 4, 0)
    # Same version back (e.g. thin client disabled): pyignite would retry forever.
    with pytest.raises(HandshakeError):
        next_handshake_version(proposed, HandshakeFailure(proposed, "disabled", 1))
    with pytest.raises(HandshakeError):  # a version we do not speak
        next_handshake_version(proposed, HandshakeFailure(ProtocolVersion(2, 0, 0), "?", 1))
    with pytest.raises(HandshakeError):  # upwards would ping-pong
        next_handshake_version(ProtocolVersion(1, 4, 0), HandshakeFailure(LATEST, "?", 1))
    with pytest.raises(HandshakeError):  # credentials cannot be sent to 1.0.0
        next_handshake_version(
            proposed, HandshakeFailure(ProtocolVersion(1, 0, 0), "?", 1), credentials=True
        )
    with pytest.raises(AuthenticationError):
        next_handshake_version(proposed, HandshakeFailure(NO_VERSION, "no", 2000))


@given(st.sampled_from(SUPPORTED_VERSIONS), st.sampled_from([*SUPPORTED_VERSIONS, NO_VERSION]))
def test_negotiation_terminates_from_anywhere(proposed, answered) -> None:
    seen = set()
    version = proposed
    while True:
        assert version not in seen
        seen.add(version)
        try:
            version = next_handshake_version(version, HandshakeFailure(answered, "", 1))
        except HandshakeError:
            break


def test_invalid_requests_are_python_errors() -> None:
    with pytest.raises(ValueError):  # never negotiate ALL_AFFINITY_MAPPINGS
        encode_handshake_request(HandshakeRequest(LATEST, frozenset({13})))
    with pytest.raises(ValueError):
        encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 8, 0)))
    with pytest.raises(ValueError):
        encode_handshake_request(HandshakeRequest(LATEST, username="u"))
    with pytest.raises(ValueError):
        encode_handshake_request(
            HandshakeRequest(ProtocolVersion(1, 0, 0), username="u", password="p")
        )


def test_malformed_answers_are_protocol_errors() -> None:
    for payload in (b"", b"\x02", b"\x01\x0c\x01\x00\x00\x00\x04", b"\x01\x65\x65"):
        with pytest.raises(ProtocolError):
            decode_handshake_response(payload, LATEST)
    with pytest.raises(ProtocolError):  # trailing bytes
        decode_handshake_response(b"\x01extra", ProtocolVersion(1, 0, 0))
    with pytest.raises(ProtocolError):
        decode_handshake_request(b"\x02\x01\x00\x07\x00\x00\x00\x02")


@given(st.binary(max_size=MAX_FEATURE_BYTES))
def test_feature_masks_read_like_java_bitsets(mask) -> None:
    # Reference: the mask as one little-endian integer (Java BitSet.valueOf(byte[])).
    number = int.from_bytes(mask, "little")
    expected = {bit for bit in range(8 * len(mask)) if number >> bit & 1}
    assert decode_features(mask) == expected
    assert decode_features(encode_features(expected)) == expected


def test_oversized_feature_masks_are_refused() -> None:
    # A megabyte of set bits must fail at once, not decode into 8 million features.
    huge = b"\x0c" + (10**6).to_bytes(4, "little") + b"\xff" * 10**6
    head = b"\x01\x01\x00\x07\x00\x00\x00\x02"  # handshake code, 1.7.0, thin client
    with pytest.raises(ProtocolError):
        decode_handshake_request(head + huge)
    with pytest.raises(ProtocolError):
        decode_handshake_response(b"\x01" + huge, LATEST)
    with pytest.raises(ValueError):
        encode_features({8 * MAX_FEATURE_BYTES})


def test_bytes_after_a_handshake_request_are_ignored_as_the_server_does() -> None:
    sent = HandshakeRequest(LATEST, frozenset({2}), "ignite", "secret")
    payload = encode_handshake_request(sent)[4:] + b"\x01\x02\x03"
    assert decode_handshake_request(payload) == sent
