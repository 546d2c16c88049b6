"""Errors raised by the wire codec and reported by servers.

pyignite 0.6.1's exception classes are here too, by its names and in its
hierarchy (``CacheError``, ``SQLError``, ``ParseError``, ``ParameterError``...),
and ours derive from the matching ones, so an ``except`` written for pyignite
catches what pyignite would have raised (``ignite_router.exceptions`` lists them).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "REFUSAL_MARKERS",
    "AuthenticationError",
    "BinaryTypeError",
    "CacheCreationError",
    "CacheError",
    "ClusterError",
    "HandshakeError",
    "IgniteError",
    "NotSupportedByClusterError",
    "NotSupportedError",
    "ParameterError",
    "ParseError",
    "ProtocolError",
    "ReconnectError",
    "SQLError",
    "ServerError",
    "StatusCode",
    "TrailingBytesError",
    "is_refusal",
]


class StatusCode(IntEnum):
    """Response status codes (``ClientStatus`` on the server)."""

    SUCCESS = 0
    FAILED = 1
    INVALID_OP_CODE = 2
    FUNCTIONALITY_DISABLED = 100
    CACHE_DOES_NOT_EXIST = 1000
    CACHE_EXISTS = 1001
    TOO_MANY_CURSORS = 1010
    RESOURCE_DOES_NOT_EXIST = 1011
    SECURITY_VIOLATION = 1012
    TX_LIMIT_EXCEEDED = 1020
    TX_NOT_FOUND = 1021
    TOO_MANY_COMPUTE_TASKS = 1030
    AUTH_FAILED = 2000


# -- pyignite's classes (pyignite.exceptions), by name and hierarchy --------------------------


class ParseError(Exception):
    """A message could not be built or parsed (pyignite's name)."""


class ReconnectError(Exception):
    """No node is left to connect to (pyignite's name)."""


class CacheError(Exception):
    """A server refused a cache operation (pyignite's name)."""


class BinaryTypeError(CacheError):
    """A server refused a binary type operation (pyignite's name)."""


class CacheCreationError(CacheError):
    """A server refused to create a cache (pyignite's name)."""


class SQLError(CacheError):
    """A server refused an SQL query (pyignite's name)."""


class ClusterError(Exception):
    """A server refused a cluster operation (pyignite's name)."""


class NotSupportedByClusterError(Exception):
    """The cluster's protocol version lacks the operation (pyignite's name)."""


class NotSupportedError(Exception):
    """The client does not support the operation (pyignite's name)."""


# -- ours -------------------------------------------------------------------------------------


class IgniteError(Exception):
    """Base class of every error this project raises."""


class ParameterError(IgniteError, ValueError, TypeError):
    """An argument the client cannot use (pyignite's name).

    Also a ``ValueError`` and a ``TypeError``, what such arguments raised before.
    """


class ProtocolError(IgniteError, ParseError):
    """Bytes that do not form a valid message (truncated, bad type code, bad length...)."""


class TrailingBytesError(ProtocolError):
    """A complete message followed by bytes nobody asked for; ``end`` is where it ended.

    A server may ignore such bytes (Ignite does) by decoding ``payload[:end]``.
    """

    def __init__(self, message: str, end: int) -> None:
        super().__init__(message)
        self.end = end


# Error messages of answers Ignite gives for a request it did not apply (status 1, the
# exception's message: ``ClientRequestHandler.handleException``):
# - a cache operation enters the cache through ``GridCacheGateway``, which refuses it once the
#   node is stopping (``NodeStoppingException``) before any entry is touched;
# - an update whose keys met a topology change fails those keys with
#   ``CachePartialUpdateCheckedException`` ("Failed to update keys (retry update if
#   possible).", ``GridNearAtomicAbstractUpdateFuture``);
# - a read that met one fails with the ``ClusterTopologyCheckedException`` of
#   ``GridPartitionedSingleGetFuture`` ("Failed to remap key to a new node ...").
REFUSAL_MARKERS = (
    "node is stopping",
    "failed to update keys (retry update if possible)",
    "failed to remap key to a new node",
)


def is_refusal(status: int, message: str | None) -> bool:
    """Whether an error answer says its request was not applied (safe to send elsewhere)."""
    if status != StatusCode.FAILED or not message:
        return False
    lowered = message.lower()
    return any(marker in lowered for marker in REFUSAL_MARKERS)


class ServerError(IgniteError, SQLError, BinaryTypeError, CacheCreationError, ClusterError):
    """The server answered a request with a non-zero status.

    It is each of pyignite's server-error classes (``CacheError`` and its
    subclasses, ``ClusterError``): an ``except`` that pyignite's refusal of the
    same operation would reach catches it.

    ``refused`` is true when the answer says the request was not applied
    (the node is stopping, or its keys met a topology change): such a request
    is safe to send to another node.
    """

    def __init__(self, status: int, message: str | None) -> None:
        self.status = status
        self.message = message or ""
        self.refused = is_refusal(status, message)
        try:
            name = StatusCode(status).name
        except ValueError:
            name = "UNKNOWN"
        super().__init__(f"server error {status} ({name}): {self.message}")


class HandshakeError(IgniteError):
    """The server refused the handshake."""

    def __init__(
        self,
        message: str | None,
        server_version: tuple[int, int, int] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or ""
        self.server_version = server_version
        self.status = status
        version = ".".join(map(str, server_version)) if server_version else "?"
        super().__init__(
            f"handshake refused (server version {version}, status {status}): {self.message}"
        )

    @property
    def expected_version(self) -> tuple[int, int, int] | None:
        """The version the server proposed (pyignite's name for ``server_version``)."""
        return self.server_version


class AuthenticationError(HandshakeError):
    """The server refused the credentials (status 2000)."""
