"""Errors the client raises. Every one is an :class:`IgniteError`.

Server and codec errors come from ``protocol`` (``ServerError`` carries the
status code and message; ``ProtocolError`` means malformed bytes;
``HandshakeError``/``AuthenticationError`` a refused handshake). The client
adds the connection-level errors below.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from ignite_router.protocol.errors import (
    AuthenticationError,
    HandshakeError,
    IgniteError,
    ParameterError,
    ProtocolError,
    ReconnectError,
    ServerError,
    StatusCode,
)

__all__ = [
    "AuthenticationError",
    "CallTimeoutError",
    "ConnectionLostError",
    "FailureClass",
    "HandshakeError",
    "IgniteError",
    "NoNodeAvailableError",
    "OutcomeUnknownError",
    "ParameterError",
    "ProtocolError",
    "RequestTimeoutError",
    "ServerError",
    "StatusCode",
    "TransactionLostError",
]


class FailureClass(Enum):
    """What the client knows about the fate of a request whose attempt failed.

    ``NOT_DELIVERED``: no byte of it reached a server (the connection or
    handshake failed, or the connection was known dead before the write).
    ``REFUSED``: the server answered that it did not apply it.
    ``PEER_GONE``: it was written, then the server closed or reset the
    connection: the node is dead or stopping and cannot apply it later.
    ``OUTCOME_UNKNOWN``: it was written and no answer came (a timeout, a
    connection that went silent): it may be applied now, later, or never.
    """

    NOT_DELIVERED = "not delivered"
    REFUSED = "refused"
    PEER_GONE = "lost with the peer gone"
    OUTCOME_UNKNOWN = "outcome unknown"


class ConnectionLostError(IgniteError):
    """A connection to a node could not be made or broke; ``endpoint`` names the node.

    ``failure`` is the :class:`FailureClass` of a request that met this error.
    """

    failure = FailureClass.OUTCOME_UNKNOWN

    def __init__(
        self,
        message: str,
        endpoint: tuple[str, int] | None = None,
        failure: FailureClass | None = None,
    ) -> None:
        self.endpoint = endpoint
        if failure is not None:
            self.failure = failure
        where = f" ({endpoint[0]}:{endpoint[1]})" if endpoint else ""
        super().__init__(f"{message}{where}")


class RequestTimeoutError(ConnectionLostError):
    """No answer within the timeout; the connection was closed, as its state is unknown."""


class OutcomeUnknownError(ConnectionLostError):
    """A request reached a node, its answer never came, and it was not sent again.

    The operation may or may not have been applied. When ``may_still_land``
    is true (a timeout: the node may be slow, paused or cut off) it may even
    be applied later, after this error was raised. ``operation`` names it,
    ``endpoint`` the node, ``failure`` the :class:`FailureClass`
    of the failed attempt; ``__cause__`` is the connection error. What to do: read
    the key back, or use a conditional write (``replace_if_equals``,
    ``put_if_absent``) whose answer tells what happened.
    """

    def __init__(
        self, operation: str, endpoint: tuple[str, int] | None, failure: FailureClass
    ) -> None:
        self.operation = operation
        self.may_still_land = failure is FailureClass.OUTCOME_UNKNOWN
        later = ": it may still be applied later" if self.may_still_land else ""
        super().__init__(
            f"{operation} was not sent again (attempt {failure.value}{later})", endpoint, failure
        )


class CallTimeoutError(OutcomeUnknownError, TimeoutError):
    """The per-call ``timeout=`` of an ``AioCache`` write ran out (pyignite's argument).

    Also a ``TimeoutError``, as pyignite raises. The request may have reached a
    node: it was not sent again, and it may still be applied.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(operation, None, FailureClass.OUTCOME_UNKNOWN)


class TransactionLostError(ConnectionLostError):
    """The connection that carried a transaction broke: the transaction is gone."""


class NoNodeAvailableError(ConnectionLostError, ReconnectError):
    """Every node the operation could go to failed; ``errors`` maps endpoint -> error.

    ``maybe_applied`` is false when no attempt reached a node that could have
    applied it (every one was not delivered or refused): then nothing was applied.
    """

    def __init__(
        self,
        operation: str,
        errors: Mapping[tuple[str, int], BaseException],
        maybe_applied: bool = False,
    ) -> None:
        self.operation = operation
        self.errors = dict(errors)
        self.maybe_applied = maybe_applied
        detail = "; ".join(f"{host}:{port}: {error}" for (host, port), error in self.errors.items())
        super().__init__(f"no node could serve {operation}: {detail or 'no nodes known'}")
