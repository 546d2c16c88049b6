"""Handshake messages (``ClientListenerNioListener``), both sides, and version negotiation."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from ignite_router.affinity.types import IgniteMap
from ignite_router.protocol.context import (
    LATEST,
    SUPPORTED_VERSIONS,
    V1_1,
    V1_4,
    V1_7,
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
from ignite_router.protocol.framing import LENGTH
from ignite_router.protocol.opcodes import Feature
from ignite_router.protocol.values import (
    read_string,
    read_uuid,
    read_value,
    write_string,
    write_uuid,
    write_value,
)
from ignite_router.protocol.wire import I32, expect

__all__ = [
    "CLIENT_TYPE_THIN",
    "NO_VERSION",
    "HandshakeFailure",
    "HandshakeRequest",
    "HandshakeSuccess",
    "accept_handshake",
    "check_answer_start",
    "client_context",
    "decode_handshake_request",
    "decode_handshake_response",
    "encode_handshake_failure",
    "encode_handshake_request",
    "encode_handshake_success",
    "next_handshake_version",
]

HANDSHAKE_CODE = 1
CLIENT_TYPE_THIN = 2
NO_VERSION = ProtocolVersion(0, 0, 0)  # what a server reports on authentication failures
_VERSION = struct.Struct("<hhh")
_HEAD = struct.Struct("<bhhhb")  # handshake code, major, minor, patch, client type
# An answer (Ignite's ClientListenerNioListener.onHandshake) is a success (code, features, node
# id: tens of bytes) or a failure (code, server version, error message, status): a longer
# length prefix means another protocol answered.
# 'HTTP' reads as 1347703880, a TLS record header as 66325 or more.
MAX_HANDSHAKE_ANSWER = 64 * 1024
ANSWER_PREVIEW = 64  # first bytes of a foreign answer kept to show what it was


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """What a client proposes. Bit 13 (``ALL_AFFINITY_MAPPINGS``) is refused by the encoder."""

    version: ProtocolVersion = LATEST
    features: frozenset[int] = frozenset()
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or reprs
    user_attributes: Mapping[str, str] | None = None
    client_type: int = CLIENT_TYPE_THIN


@dataclass(frozen=True, slots=True)
class HandshakeSuccess:
    """Features = the intersection the server agreed to (1.7.0+); node id from 1.4.0."""

    features: frozenset[int] = frozenset()
    node_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class HandshakeFailure:
    """``status`` is None when the client asked for 1.0.0 (no status on the wire)."""

    server_version: ProtocolVersion
    message: str
    status: int | None = None


def _frame(payload: bytearray) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def encode_handshake_request(request: HandshakeRequest) -> bytes:
    """The complete handshake frame (length prefix included).

    Credentials are counted in UTF-8 bytes, as the server reads them
    (pyignite 0.6.1's ``HandshakeRequest`` counts characters).
    """
    version = request.version
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported protocol version {version}")
    if Feature.ALL_AFFINITY_MAPPINGS in request.features:
        raise ValueError("feature 13 (ALL_AFFINITY_MAPPINGS) must never be negotiated")
    if (request.username is None) != (request.password is None):
        raise ValueError("give both a username and a password, or neither")
    if request.username is not None and version < V1_1:
        raise ValueError(f"credentials need protocol 1.1.0, asked for {version}")
    payload = bytearray(_HEAD.pack(HANDSHAKE_CODE, *version, request.client_type))
    if version >= V1_7:
        write_value(payload, encode_features(request.features))
        if Feature.USER_ATTRIBUTES in request.features:
            attributes = request.user_attributes
            write_value(payload, None if attributes is None else dict(attributes))
    if request.username is not None:
        write_string(payload, request.username)
        write_string(payload, request.password)
    return _frame(payload)


def decode_handshake_request(payload: bytes | memoryview) -> HandshakeRequest:
    """Server side: parse a handshake payload (after the length prefix)."""
    view = memoryview(payload)
    expect(view, 0, _HEAD.size)
    code, major, minor, patch, client_type = _HEAD.unpack_from(view, 0)
    if code != HANDSHAKE_CODE:
        raise ProtocolError(f"expected a handshake (code 1), got code {code}")
    version = ProtocolVersion(major, minor, patch)
    pos = _HEAD.size
    features: frozenset[int] = frozenset()
    attributes = None
    username = password = None
    if version >= V1_7:
        raw, pos = read_value(view, pos)
        if raw is not None and not isinstance(raw, bytes):
            raise ProtocolError("handshake features must be a byte array")
        features = decode_features(raw or b"")
        if Feature.USER_ATTRIBUTES in features:
            attributes, pos = read_value(view, pos)
            if isinstance(attributes, IgniteMap):  # a map reads as (kind, dict)
                attributes = attributes.items
            if attributes is not None and not isinstance(attributes, dict):
                raise ProtocolError("handshake user attributes must be a map")
    # Credentials are read if bytes remain (``ClientConnectionContext.initializeFromHandshake``).
    if version >= V1_1 and pos < len(view):
        username, pos = read_string(view, pos)
        password, pos = read_string(view, pos)
    # Bytes after the last field Ignite reads are ignored, as ClientListenerNioListener does.
    return HandshakeRequest(version, features, username, password, attributes, client_type)


def accept_handshake(
    request: HandshakeRequest,
    server_features: frozenset[int],
    credentials: tuple[str, str] | None = None,
) -> ProtocolContext | HandshakeFailure:
    """Server side: the context to serve, or the failure to answer (``ClientListenerNioListener``).

    Bad client type -> version 0.0.0; unsupported version -> the latest one
    and "Unsupported version: x.y.z"; wrong or missing credentials (when the
    server has some) -> 0.0.0 and status 2000.
    """
    if request.client_type != CLIENT_TYPE_THIN:
        return HandshakeFailure(
            NO_VERSION, f"Unsupported client type: {request.client_type}", StatusCode.FAILED
        )
    if request.version not in SUPPORTED_VERSIONS:
        return HandshakeFailure(
            LATEST, f"Unsupported version: {request.version}", StatusCode.FAILED
        )
    if credentials is not None:
        if request.username is None:
            message = "Unauthenticated sessions are prohibited."
            return HandshakeFailure(NO_VERSION, message, StatusCode.AUTH_FAILED)
        if (request.username, request.password) != credentials:
            message = f"The user name or password is incorrect [userName={request.username}]"
            return HandshakeFailure(NO_VERSION, message, StatusCode.AUTH_FAILED)
    features = request.features & server_features if request.version >= V1_7 else frozenset()
    return ProtocolContext(request.version, frozenset(features))


def encode_handshake_success(context: ProtocolContext, node_id: uuid.UUID) -> bytes:
    """Server side: success for the negotiated context (features = the intersection)."""
    payload = bytearray(b"\x01")
    if context.version >= V1_7:
        write_value(payload, encode_features(context.features))
    if context.version >= V1_4:
        write_uuid(payload, node_id)
    return _frame(payload)


def encode_handshake_failure(
    requested: ProtocolVersion, server_version: ProtocolVersion, message: str, status: int
) -> bytes:
    """Server side: failure; the status is only sent to clients that asked for >= 1.1.0."""
    payload = bytearray(b"\x00")
    payload += _VERSION.pack(*server_version)
    write_string(payload, message)
    if requested >= V1_1:
        payload += I32.pack(status)
    return _frame(payload)


def decode_handshake_response(
    payload: bytes | memoryview, requested: ProtocolVersion
) -> HandshakeSuccess | HandshakeFailure:
    """Client side: parse the server's answer to a handshake sent with ``requested``."""
    view = memoryview(payload)
    expect(view, 0, 1)
    if view[0] == 1:
        pos = 1
        features: frozenset[int] = frozenset()
        node_id = None
        if requested >= V1_7:
            raw, pos = read_value(view, pos)
            if not isinstance(raw, bytes):
                raise ProtocolError("handshake features must be a byte array")
            features = decode_features(raw)
        if requested >= V1_4:
            node_id, pos = read_uuid(view, pos)
            if node_id is None:
                raise ProtocolError("handshake success without a node id")
        if pos != len(view):
            raise ProtocolError(f"{len(view) - pos} unexpected bytes after the handshake answer")
        return HandshakeSuccess(features, node_id)
    if view[0] != 0:
        raise ProtocolError(f"handshake answer starts with {view[0]}, expected 0 or 1")
    expect(view, 1, _VERSION.size)
    server_version = ProtocolVersion(*_VERSION.unpack_from(view, 1))
    message, pos = read_string(view, 1 + _VERSION.size)
    status = None
    if requested >= V1_1 and pos < len(view):
        expect(view, pos, 4)
        (status,) = I32.unpack_from(view, pos)
        pos += 4
    if pos != len(view):
        raise ProtocolError(f"{len(view) - pos} unexpected bytes after the handshake failure")
    return HandshakeFailure(server_version, message or "", status)


def check_answer_start(head: bytes | bytearray) -> None:
    """Raise ``ProtocolError`` when the first bytes received (at least the 4-byte length
    prefix) cannot start a handshake answer: the port speaks another protocol."""
    (length,) = LENGTH.unpack_from(head)
    if not 0 < length <= MAX_HANDSHAKE_ANSWER:
        raise ProtocolError(f"not an Ignite thin-client port (it answered {_preview(head)})")


def _preview(head: bytes | bytearray) -> str:
    """The first line when it is printable ASCII ('HTTP/1.1 400 Bad Request'), else hex."""
    line = bytes(head[:ANSWER_PREVIEW]).split(b"\n", 1)[0].rstrip(b"\r")
    if all(32 <= byte < 127 for byte in line):
        return repr(line.decode("ascii"))
    return "0x" + bytes(head[:16]).hex()


def client_context(request: HandshakeRequest, success: HandshakeSuccess) -> ProtocolContext:
    """Client side: the context a successful handshake settled."""
    features = success.features if request.version >= V1_7 else frozenset()
    return ProtocolContext(request.version, features)


def next_handshake_version(
    proposed: ProtocolVersion, failure: HandshakeFailure, *, credentials: bool = False
) -> ProtocolVersion:
    """The version to retry with after ``failure``, or raise: never a retry loop.

    Stops on an authentication failure (AuthenticationError), and with
    HandshakeError when the server answers with the version just proposed
    (e.g. thin clients disabled), with one we do not speak, with a newer one
    (which could ping-pong), or with one below 1.1.0 while credentials must
    be sent (``TcpClientChannel.handshake``; pyignite loops forever on the second case).
    """
    server = failure.server_version
    if failure.status == StatusCode.AUTH_FAILED:
        raise AuthenticationError(failure.message, _triple(server), failure.status)
    if (
        server == proposed
        or server not in SUPPORTED_VERSIONS
        or server > proposed
        or (credentials and server < V1_1)
    ):
        raise HandshakeError(failure.message, _triple(server), failure.status)
    return server


def _triple(version: ProtocolVersion) -> tuple[int, int, int]:
    return (version.major, version.minor, version.patch)
