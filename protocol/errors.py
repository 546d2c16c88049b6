"""Errors raised by the wire codec and reported by servers."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "REFUSAL_MARKERS",
    "AuthenticationError",
    "HandshakeError",
    "IgniteError",
    "ProtocolError",
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


class IgniteError(Exception):
    """Base class of every error this project raises."""


class ProtocolError(IgniteError):
    """Bytes that do not form a valid message (truncated, bad type code, bad length...)."""


class TrailingBytesError(ProtocolError):
    """A complete message followed by bytes nobody asked for; ``end`` is where it ended.

    A server may ignore such bytes (Ignite does) by decoding ``payload[:end]``.
    """

    def __init__(self, message: str, end: int) -> None:
        super().__init__(message)
        self.end = end


# Error messages of answers Ignite gives for a request it did not apply. A cache operation
# enters the cache through ``GridCacheGateway``, which refuses it once the node is stopping
# (``NodeStoppingException``: "Operation has been cancelled (node is stopping)") before any
# entry is touched.
REFUSAL_MARKERS = ("node is stopping",)


def is_refusal(status: int, message: str | None) -> bool:
    """Whether an error answer says its request was not applied (safe to send elsewhere)."""
    if status != StatusCode.FAILED or not message:
        return False
    lowered = message.lower()
    return any(marker in lowered for marker in REFUSAL_MARKERS)


class ServerError(IgniteError):
    """The server answered a request with a non-zero status.

    ``refused`` is true when the answer says the request was not applied
    (the node is stopping): such a request is safe to send to another node.
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


class AuthenticationError(HandshakeError):
    """The server refused the credentials (status 2000)."""
