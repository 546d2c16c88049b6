"""Handshake messages (fact sheet §2), client and server side, and version negotiation."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from protocol.context import (
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
from protocol.errors import AuthenticationError, HandshakeError, ProtocolError, StatusCode
from protocol.framing import LENGTH
from protocol.opcodes import Feature
from protocol.values import (
    read_string,
    read_uuid,
    read_value,
    write_string,
    write_uuid,
    write_value,
)
from protocol.wire import expect

__all__ = [
    "CLIENT_TYPE_THIN",
    "HandshakeFailure",
    "HandshakeRequest",
    "HandshakeSuccess",
    "decode_handshake_request",
    "decode_handshake_response",
    "encode_handshake_failure",
    "encode_handshake_request",
    "encode_handshake_success",
    "next_handshake_version",
]

HANDSHAKE_CODE = 1
CLIENT_TYPE_THIN = 2
_VERSION = struct.Struct("<hhh")
_HEAD = struct.Struct("<bhhhb")
_I32 = struct.Struct("<i")


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    version: ProtocolVersion = LATEST
    features: frozenset[int] = frozenset()
    username: str | None = None
    password: str | None = None
    user_attributes: dict[str, str] | None = None
    client_type: int = CLIENT_TYPE_THIN


@dataclass(frozen=True, slots=True)
class HandshakeSuccess:
    features: frozenset[int] = frozenset()
    node_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class HandshakeFailure:
    server_version: ProtocolVersion
    message: str
    status: int | None = None


def _frame(payload: bytearray) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def encode_handshake_request(request: HandshakeRequest) -> bytes:
    """The complete handshake frame (length prefix included)."""
    version = request.version
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported protocol version {version}")
    if Feature.ALL_AFFINITY_MAPPINGS in request.features:
        raise ValueError("feature 13 (ALL_AFFINITY_MAPPINGS) must never be negotiated")
    payload = bytearray(_HEAD.pack(HANDSHAKE_CODE, *version, request.client_type))
    if version >= V1_7:
        write_value(payload, encode_features(request.features))
        if Feature.USER_ATTRIBUTES in request.features:
            write_value(payload, request.user_attributes)
    if version >= V1_1 and request.username is not None:
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
    if version >= V1_7 and pos < len(view):
        raw, pos = read_value(view, pos)
        if not isinstance(raw, bytes):
            raise ProtocolError("handshake features must be a byte array")
        features = decode_features(raw)
        if Feature.USER_ATTRIBUTES in features:
            attributes, pos = read_value(view, pos)
            if attributes is not None and not isinstance(attributes, dict):
                raise ProtocolError("handshake user attributes must be a map")
    if version >= V1_1 and pos < len(view):
        username, pos = read_string(view, pos)
        password, pos = read_string(view, pos)
    if pos != len(view):
        raise ProtocolError(f"{len(view) - pos} unexpected bytes after the handshake")
    return HandshakeRequest(version, features, username, password, attributes, client_type)


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
        payload += _I32.pack(status)
    return _frame(payload)


def decode_handshake_response(
    payload: bytes | memoryview, requested: ProtocolVersion
) -> HandshakeSuccess | HandshakeFailure:
    """Client side: parse the server's answer to a handshake sent with ``requested``."""
    view = memoryview(payload)
    expect(view, 0, 1)
    if view[0]:
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
        return HandshakeSuccess(features, node_id)
    expect(view, 1, _VERSION.size)
    server_version = ProtocolVersion(*_VERSION.unpack_from(view, 1))
    message, pos = read_string(view, 1 + _VERSION.size)
    status = None
    if pos + 4 <= len(view):
        (status,) = _I32.unpack_from(view, pos)
    return HandshakeFailure(server_version, message or "", status)


def next_handshake_version(proposed: ProtocolVersion, failure: HandshakeFailure) -> ProtocolVersion:
    """The version to retry with after ``failure``, or raise: never a retry loop.

    Authentication failures and servers that answer with the version just
    proposed (or one we do not speak) end the negotiation.
    """
    if failure.status == StatusCode.AUTH_FAILED:
        raise AuthenticationError(failure.message, tuple(failure.server_version), failure.status)
    server = failure.server_version
    if server == proposed or server not in SUPPORTED_VERSIONS or server > proposed:
        raise HandshakeError(failure.message, tuple(server), failure.status)
    return server
