"""Errors the client raises. Every one is an :class:`IgniteError`.

Server and codec errors come from ``protocol`` (``ServerError`` carries the
status code and message; ``ProtocolError`` means malformed bytes;
``HandshakeError``/``AuthenticationError`` a refused handshake). The client
adds the connection-level errors below.
"""

from __future__ import annotations

from collections.abc import Mapping

from ignite_router.protocol.errors import (
    AuthenticationError,
    HandshakeError,
    IgniteError,
    ProtocolError,
    ServerError,
    StatusCode,
)

__all__ = [
    "AuthenticationError",
    "ConnectionLostError",
    "HandshakeError",
    "IgniteError",
    "NoNodeAvailableError",
    "NotRetriedError",
    "ProtocolError",
    "RequestTimeoutError",
    "ServerError",
    "StatusCode",
    "TransactionLostError",
]


class ConnectionLostError(IgniteError):
    """A connection to a node could not be made or broke; ``endpoint`` names the node."""

    def __init__(self, message: str, endpoint: tuple[str, int] | None = None) -> None:
        self.endpoint = endpoint
        where = f" ({endpoint[0]}:{endpoint[1]})" if endpoint else ""
        super().__init__(f"{message}{where}")


class RequestTimeoutError(ConnectionLostError):
    """No answer within the timeout; the connection was closed, as its state is unknown."""


class NotRetriedError(ConnectionLostError):
    """The connection broke during an operation the retry policy does not repeat.

    The operation may or may not have been applied (e.g. ``get_and_put``);
    ``__cause__`` is the connection error.
    """


class TransactionLostError(ConnectionLostError):
    """The connection that carried a transaction broke: the transaction is gone."""


class NoNodeAvailableError(ConnectionLostError):
    """Every node the operation could go to failed; ``errors`` maps endpoint -> error."""

    def __init__(self, operation: str, errors: Mapping[tuple[str, int], BaseException]) -> None:
        self.operation = operation
        self.errors = dict(errors)
        detail = "; ".join(f"{host}:{port}: {error}" for (host, port), error in self.errors.items())
        super().__init__(f"no node could serve {operation}: {detail or 'no nodes known'}")
