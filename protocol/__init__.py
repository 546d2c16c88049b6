"""Sans-I/O codec for the Apache Ignite thin-client binary protocol (1.0.0-1.7.0).

Bytes in, messages out: frames, handshake, headers, every operation in both
directions, and the binary type system. See docs/protocol.md.
"""

from protocol.context import SUPPORTED_VERSIONS, ProtocolContext, ProtocolVersion
from protocol.errors import (
    AuthenticationError,
    HandshakeError,
    IgniteError,
    ProtocolError,
    ServerError,
    StatusCode,
)
from protocol.framing import FrameDecoder
from protocol.handshake import (
    HandshakeFailure,
    HandshakeRequest,
    HandshakeSuccess,
    decode_handshake_response,
    encode_handshake_request,
    next_handshake_version,
)
from protocol.header import ResponseHeader, decode_response_header
from protocol.messages.cache_keys import CacheTarget, ExpiryPolicy, encode_cache_request
from protocol.opcodes import CacheFlag, Feature, OpCode, PeekMode, ResponseFlag
from protocol.values import ComplexObject, RawValue, read_value, skip_value, write_value

__all__ = [
    "SUPPORTED_VERSIONS",
    "AuthenticationError",
    "CacheFlag",
    "CacheTarget",
    "ComplexObject",
    "ExpiryPolicy",
    "Feature",
    "FrameDecoder",
    "HandshakeError",
    "HandshakeFailure",
    "HandshakeRequest",
    "HandshakeSuccess",
    "IgniteError",
    "OpCode",
    "PeekMode",
    "ProtocolContext",
    "ProtocolError",
    "ProtocolVersion",
    "RawValue",
    "ResponseFlag",
    "ResponseHeader",
    "ServerError",
    "StatusCode",
    "decode_handshake_response",
    "decode_response_header",
    "encode_cache_request",
    "encode_handshake_request",
    "next_handshake_version",
    "read_value",
    "skip_value",
    "write_value",
]
