"""Sans-I/O codec for the Apache Ignite thin-client binary protocol (1.0.0-1.7.0).

Bytes in, messages out: frames, handshake, headers, every operation in both
directions (``protocol.messages``), and the binary type system
(``protocol.values``). Nothing here does I/O or keeps global state: the
negotiated :class:`ProtocolContext` is passed to whatever depends on it.
See docs/protocol.md.
"""

from ignite_router.protocol.context import (
    LATEST,
    SUPPORTED_VERSIONS,
    ProtocolContext,
    ProtocolVersion,
)
from ignite_router.protocol.errors import (
    AuthenticationError,
    HandshakeError,
    IgniteError,
    ProtocolError,
    ServerError,
    StatusCode,
)
from ignite_router.protocol.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, frame
from ignite_router.protocol.handshake import (
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
from ignite_router.protocol.header import (
    RequestHeader,
    ResponseHeader,
    begin_request,
    decode_request_header,
    decode_response_header,
    encode_error_response,
    encode_response_header,
    finish_frame,
    patch_request_id,
)
from ignite_router.protocol.messages.cache_keys import (
    KEY_ROUTED_OPS,
    CacheRequest,
    CacheTarget,
    ExpiryPolicy,
    decode_cache_request,
    decode_cache_response,
    encode_cache_request,
    encode_cache_response,
)
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_request,
    decode_partitions_response,
    encode_partitions_request,
    encode_partitions_response,
)
from ignite_router.protocol.opcodes import CacheFlag, Feature, OpCode, PeekMode, ResponseFlag
from ignite_router.protocol.values import (
    BinaryType,
    BinaryTypeRegistry,
    ComplexObject,
    RawValue,
    read_string,
    read_uuid,
    read_value,
    skip_value,
    write_string,
    write_uuid,
    write_value,
)

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "KEY_ROUTED_OPS",
    "LATEST",
    "SUPPORTED_VERSIONS",
    "AuthenticationError",
    "BinaryType",
    "BinaryTypeRegistry",
    "CacheFlag",
    "CacheProperty",
    "CacheRequest",
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
    "PartitionGroup",
    "PartitionsResponse",
    "PeekMode",
    "ProtocolContext",
    "ProtocolError",
    "ProtocolVersion",
    "RawValue",
    "RequestHeader",
    "ResponseFlag",
    "ResponseHeader",
    "ServerError",
    "StatusCode",
    "accept_handshake",
    "begin_request",
    "client_context",
    "decode_cache_request",
    "decode_cache_response",
    "decode_handshake_request",
    "decode_handshake_response",
    "decode_partitions_request",
    "decode_partitions_response",
    "decode_request_header",
    "decode_response_header",
    "encode_cache_request",
    "encode_cache_response",
    "encode_error_response",
    "encode_handshake_failure",
    "encode_handshake_request",
    "encode_handshake_success",
    "encode_partitions_request",
    "encode_partitions_response",
    "encode_response_header",
    "finish_frame",
    "frame",
    "next_handshake_version",
    "patch_request_id",
    "read_string",
    "read_uuid",
    "read_value",
    "skip_value",
    "write_string",
    "write_uuid",
    "write_value",
]
