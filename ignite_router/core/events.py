"""Events: what the client tells an application about connections, queries and topology.

A listener is any object with some of the callbacks below; each callback gets
one event object. The names, the callbacks and the event attributes are
pyignite 0.6.1's (``pyignite.monitoring``), so pyignite listeners, subclasses
of its ``ConnectionEventListener`` / ``QueryEventListener`` included, work
unchanged; callbacks are found by name. Our events add what routing knows:
a query event's ``node_id``, ``partition``, ``to_primary``, ``attempt`` and,
when it failed, the exception and its ``failure`` class; and the events
pyignite does not have: topology changes, map refreshes, failovers, retries.

Callbacks run in the thread (or event loop) that noticed the event; an
exception from a listener is logged and swallowed. Events are also logged
under the ``ignite_router`` logger. Credentials never appear in an event.
"""

from __future__ import annotations

import logging
import struct
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ignite_router.protocol.errors import AuthenticationError
from ignite_router.protocol.opcodes import OpCode

if TYPE_CHECKING:
    from ignite_router.core.nodes import Node
    from ignite_router.core.topology import TopologyTracker
    from ignite_router.errors import FailureClass
    from ignite_router.protocol.context import ProtocolContext

__all__ = [
    "AuthenticationFailedEvent",
    "ClientListener",
    "ConnectionClosedEvent",
    "ConnectionEventListener",
    "ConnectionLostEvent",
    "EventDispatcher",
    "FailoverEvent",
    "HandshakeFailedEvent",
    "HandshakeStartEvent",
    "HandshakeSuccessEvent",
    "MapRefreshedEvent",
    "QueryEventListener",
    "QueryFailEvent",
    "QueryStartEvent",
    "QuerySuccessEvent",
    "RetryEvent",
    "TopologyChangedEvent",
    "TopologyEventListener",
]

log = logging.getLogger("ignite_router")

Endpoint = tuple[str, int]


def _uuid_text(node_id: uuid.UUID | None) -> str:
    return str(node_id) if node_id else ""


def _error_text(error: BaseException | None) -> str:
    return repr(error) if error else ""


# -- connection events ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _ConnectionEvent:
    host: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _HandshakeEvent(_ConnectionEvent):
    protocol_context: ProtocolContext | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeStartEvent(_HandshakeEvent):
    """A connection is being opened; ``protocol_context`` is the client's, if negotiated."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeSuccessEvent(_HandshakeEvent):
    """A handshake succeeded: ``node_uuid`` (str, pyignite's) and ``node_id`` (UUID)."""

    node_uuid: str = ""
    node_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeFailedEvent(_HandshakeEvent):
    """Connecting or the handshake failed: ``error_msg`` (pyignite's) and ``error``."""

    error_msg: str = ""
    error: BaseException | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationFailedEvent(HandshakeFailedEvent):
    """The server refused the credentials."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosedEvent(_ConnectionEvent):
    """The client closed a connection."""

    node_uuid: str = ""
    node_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLostEvent(ConnectionClosedEvent):
    """A connection broke: ``error_msg`` (pyignite's) and ``error``."""

    error_msg: str = ""
    error: BaseException | None = None


# -- query events --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _QueryEvent:
    """What every query event says about its request.

    pyignite's attributes: ``host``, ``port``, ``node_uuid`` (str),
    ``query_id`` (the request id), ``op_code``, ``op_name``
    (``"OP_CACHE_GET"``...). Ours: ``operation`` (our name: ``"get"``...),
    ``node_id`` (UUID), ``partition`` (the key's, when the request was routed
    by key or partition), ``to_primary`` (whether it went to that partition's
    primary; None when it was not routed), ``attempt`` (1 for the first node,
    2 after one failover...), ``started`` (the client's monotonic clock, s),
    ``hedged`` (the read was also sent to a backup owner; ``host``/``port`` name
    the node whose answer was taken).
    """

    host: str
    port: int
    node_uuid: str
    query_id: int
    op_code: int
    op_name: str
    operation: str
    node_id: uuid.UUID | None
    partition: int | None
    to_primary: bool | None
    attempt: int
    started: float
    hedged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryStartEvent(_QueryEvent):
    """A request was sent to ``host:port``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySuccessEvent(_QueryEvent):
    """The request was answered; ``duration`` in ms since it was sent."""

    duration: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryFailEvent(_QueryEvent):
    """The request failed: ``err_msg`` (pyignite's), ``error`` and its ``failure`` class.

    ``failure`` (a :class:`~ignite_router.errors.FailureClass`) says what is
    known of its fate; None for an error answer that is not a refusal.
    """

    duration: int
    err_msg: str
    error: BaseException
    failure: FailureClass | None


# -- our topology events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyChangedEvent:
    """A node reported a newer affinity topology version (``old`` may be None)."""

    old: tuple[int, int] | None
    new: tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class MapRefreshedEvent:
    """Partition maps of ``cache_ids`` were read at ``version``."""

    version: tuple[int, int]
    cache_ids: Sequence[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailoverEvent:
    """An attempt of ``operation`` on ``host:port`` failed (``failure`` says how)."""

    operation: str
    host: str
    port: int
    error: BaseException
    attempt: int
    failure: FailureClass | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryEvent:
    """``operation`` is sent again, to ``host:port``, as attempt number ``attempt``."""

    operation: str
    host: str
    port: int
    attempt: int


# -- listener base classes -----------------------------------------------------------------


class ConnectionEventListener:
    """No-op connection callbacks (pyignite's base class, by name)."""

    def on_handshake_start(self, event: HandshakeStartEvent) -> None: ...
    def on_handshake_success(self, event: HandshakeSuccessEvent) -> None: ...
    def on_handshake_fail(self, event: HandshakeFailedEvent) -> None: ...
    def on_authentication_fail(self, event: AuthenticationFailedEvent) -> None: ...
    def on_connection_closed(self, event: ConnectionClosedEvent) -> None: ...
    def on_connection_lost(self, event: ConnectionLostEvent) -> None: ...


class QueryEventListener:
    """No-op query callbacks (pyignite's base class, by name)."""

    def on_query_start(self, event: QueryStartEvent) -> None: ...
    def on_query_success(self, event: QuerySuccessEvent) -> None: ...
    def on_query_fail(self, event: QueryFailEvent) -> None: ...


class TopologyEventListener:
    """No-op callbacks for what pyignite does not report."""

    def on_topology_changed(self, event: TopologyChangedEvent) -> None: ...
    def on_map_refreshed(self, event: MapRefreshedEvent) -> None: ...
    def on_failover(self, event: FailoverEvent) -> None: ...
    def on_retry(self, event: RetryEvent) -> None: ...


class ClientListener(ConnectionEventListener, QueryEventListener, TopologyEventListener):
    """Every callback, each a no-op: override what you need."""


# -- dispatch ------------------------------------------------------------------------------

_CALLBACKS = (
    *(name for name in vars(ConnectionEventListener) if name.startswith("on_")),
    *(name for name in vars(QueryEventListener) if name.startswith("on_")),
    *(name for name in vars(TopologyEventListener) if name.startswith("on_")),
)
_QUERY_CALLBACKS = ("on_query_start", "on_query_success", "on_query_fail")
_NO_OPS = {
    name: function
    for base in (ConnectionEventListener, QueryEventListener, TopologyEventListener)
    for name, function in vars(base).items()
    if name.startswith("on_")
}
_LEVELS = {
    "on_handshake_fail": logging.WARNING,
    "on_authentication_fail": logging.WARNING,
    "on_connection_lost": logging.WARNING,
    "on_failover": logging.INFO,
    "on_topology_changed": logging.INFO,
    "on_map_refreshed": logging.DEBUG,
    "on_handshake_success": logging.DEBUG,
    "on_connection_closed": logging.DEBUG,
    "on_retry": logging.DEBUG,
}
# pyignite's op names where they differ from "OP_" + our OpCode name.
_PYIGNITE_OP_NAMES = {
    OpCode.BINARY_TYPE_NAME_GET: "OP_GET_BINARY_TYPE_NAME",
    OpCode.BINARY_TYPE_NAME_PUT: "OP_REGISTER_BINARY_TYPE_NAME",
    OpCode.BINARY_TYPE_GET: "OP_GET_BINARY_TYPE",
    OpCode.BINARY_TYPE_PUT: "OP_PUT_BINARY_TYPE",
}
_FRAME_HEAD = struct.Struct("<ihq")  # length, op code, request id


def op_name(op_code: int) -> str:
    """pyignite's name of an operation code (``"OP_CACHE_GET"``...)."""
    try:
        code = OpCode(op_code)
    except ValueError:
        return f"OP_{op_code}"
    return _PYIGNITE_OP_NAMES.get(code, f"OP_{code.name}")


def _callbacks(listeners: Sequence[Any], name: str) -> tuple[Callable[[Any], Any], ...]:
    """The bound ``name`` callbacks of the listeners that have one (no-op bases skipped).

    A listener built on pyignite's own base classes gets pyignite's event classes
    (with our attributes too), so its ``isinstance`` checks keep working.
    """
    found = []
    for listener in listeners:
        callback = getattr(listener, name, None)
        if callback is None or getattr(callback, "__func__", None) is _NO_OPS[name]:
            continue
        found.append(_for_pyignite_listener(listener, name, callback))
    return tuple(found)


# -- pyignite's own event classes, for listeners built on pyignite's base classes -----------
#
# A pyignite listener may check ``isinstance(event, pyignite.monitoring.QueryStartEvent)``.
# A listener deriving from a ``pyignite.monitoring`` class gets each connection and query
# event as pyignite's event of the same name, built from ours (our extra attributes set on
# it too). pyignite is never imported: its module is the one the listener's class comes from.

_PYIGNITE_MONITORING = "pyignite.monitoring"


def _for_pyignite_listener(
    listener: Any, name: str, callback: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """The listener's ``name`` callback, given pyignite's events if it expects them."""
    if name not in _PYIGNITE_CALLBACKS:
        return callback
    monitoring = next(
        (
            sys.modules.get(cls.__module__)
            for cls in type(listener).__mro__
            if cls.__module__ == _PYIGNITE_MONITORING
        ),
        None,
    )
    if monitoring is None:
        return callback

    def call(event: Any) -> Any:
        theirs = _AS_PYIGNITE[type(event).__name__](event, monitoring)
        if hasattr(event, "protocol_context"):  # pyignite's constructor would copy() it
            object.__setattr__(theirs, "protocol_context", event.protocol_context)
        return callback(theirs)

    return call


def _extras(event: Any, *pyignite_fields: str) -> dict[str, Any]:
    """Our attributes that pyignite's event class does not take as arguments."""
    return {
        name: getattr(event, name)
        for name in type(event).__dataclass_fields__
        if name not in pyignite_fields and name not in ("host", "port", "protocol_context")
    }


def _query_args(event: Any) -> tuple[Any, ...]:
    return event.host, event.port, event.node_id, event.query_id, event.op_code, event.op_name


_QUERY_FIELDS = ("node_uuid", "query_id", "op_code", "op_name")
# Our event class name -> pyignite's event of that name, built from ours.
_AS_PYIGNITE: dict[str, Callable[[Any, ModuleType], Any]] = {
    "HandshakeStartEvent": lambda e, m: m.HandshakeStartEvent(e.host, e.port, None, **_extras(e)),
    "HandshakeSuccessEvent": lambda e, m: m.HandshakeSuccessEvent(
        e.host, e.port, None, e.node_id, **_extras(e, "node_uuid")
    ),
    "HandshakeFailedEvent": lambda e, m: m.HandshakeFailedEvent(
        e.host, e.port, None, e.error, **_extras(e, "error_msg")
    ),
    "AuthenticationFailedEvent": lambda e, m: m.AuthenticationFailedEvent(
        e.host, e.port, None, e.error, **_extras(e, "error_msg")
    ),
    "ConnectionClosedEvent": lambda e, m: m.ConnectionClosedEvent(
        e.host, e.port, e.node_id, **_extras(e, "node_uuid")
    ),
    "ConnectionLostEvent": lambda e, m: m.ConnectionLostEvent(
        e.host, e.port, e.node_id, e.error, **_extras(e, "node_uuid", "error_msg")
    ),
    "QueryStartEvent": lambda e, m: m.QueryStartEvent(
        *_query_args(e), **_extras(e, *_QUERY_FIELDS)
    ),
    "QuerySuccessEvent": lambda e, m: m.QuerySuccessEvent(
        *_query_args(e), e.duration, **_extras(e, *_QUERY_FIELDS, "duration")
    ),
    "QueryFailEvent": lambda e, m: m.QueryFailEvent(
        *_query_args(e), e.duration, e.error, **_extras(e, *_QUERY_FIELDS, "duration", "err_msg")
    ),
}
_PYIGNITE_CALLBACKS = frozenset(
    {
        "on_handshake_start",
        "on_handshake_success",
        "on_handshake_fail",
        "on_authentication_fail",
        "on_connection_closed",
        "on_connection_lost",
        "on_query_start",
        "on_query_success",
        "on_query_fail",
    }
)


class EventDispatcher:
    """Builds event objects and hands them to the listeners that take them.

    Query events are frequent: callers check :attr:`wants_queries` first, so
    a client without query callbacks builds none. ``clock`` times queries (s),
    ``context`` is the negotiated protocol, ``tracker`` names a key's partition.
    """

    def __init__(
        self,
        listeners: Sequence[Any] = (),
        *,
        clock: Callable[[], float] = lambda: 0.0,
        context: Callable[[], ProtocolContext | None] = lambda: None,
        tracker: TopologyTracker | None = None,
    ) -> None:
        self.listeners = tuple(listeners)
        self._callbacks = {name: _callbacks(self.listeners, name) for name in _CALLBACKS}
        self.wants_queries = any(self._callbacks[name] for name in _QUERY_CALLBACKS)
        self._clock = clock
        self._context = context
        self._tracker = tracker

    def _emit(self, name: str, event: Any) -> None:
        level = _LEVELS.get(name)
        if level is not None and log.isEnabledFor(level):
            log.log(level, "%s %s", name[3:], _summary(event))
        for callback in self._callbacks[name]:
            try:
                callback(event)
            except Exception:
                log.exception("event listener %r failed on %s", callback, name)

    # -- connections

    def handshake_start(self, endpoint: Endpoint) -> None:
        if self._callbacks["on_handshake_start"]:
            host, port = endpoint
            self._emit(
                "on_handshake_start",
                HandshakeStartEvent(host=host, port=port, protocol_context=self._context()),
            )

    def handshake_success(self, endpoint: Endpoint, node_id: uuid.UUID | None) -> None:
        host, port = endpoint
        self._emit(
            "on_handshake_success",
            HandshakeSuccessEvent(
                host=host,
                port=port,
                protocol_context=self._context(),
                node_uuid=_uuid_text(node_id),
                node_id=node_id,
            ),
        )

    def handshake_failed(self, endpoint: Endpoint, error: BaseException) -> None:
        """A refused login goes to ``on_authentication_fail`` (as in pyignite), the rest
        to ``on_handshake_fail``."""
        host, port = endpoint
        kind = AuthenticationFailedEvent if isinstance(error, AuthenticationError) else None
        event = (kind or HandshakeFailedEvent)(
            host=host,
            port=port,
            protocol_context=self._context(),
            error_msg=_error_text(error),
            error=error,
        )
        self._emit("on_authentication_fail" if kind else "on_handshake_fail", event)

    def connection_lost(
        self, endpoint: Endpoint, node_id: uuid.UUID | None, error: BaseException
    ) -> None:
        host, port = endpoint
        self._emit(
            "on_connection_lost",
            ConnectionLostEvent(
                host=host,
                port=port,
                node_uuid=_uuid_text(node_id),
                node_id=node_id,
                error_msg=_error_text(error),
                error=error,
            ),
        )

    def connection_closed(self, endpoint: Endpoint, node_id: uuid.UUID | None) -> None:
        host, port = endpoint
        self._emit(
            "on_connection_closed",
            ConnectionClosedEvent(
                host=host, port=port, node_uuid=_uuid_text(node_id), node_id=node_id
            ),
        )

    # -- queries (callers check wants_queries first)

    def query_start(
        self, request: Any, node: Node, to_primary: bool | None, attempt: int
    ) -> QueryStartEvent:
        """Report ``request`` sent to ``node``; returns the event to finish it with."""
        _, op_code, request_id = _FRAME_HEAD.unpack_from(request.frame)
        host, port = node.endpoint
        event = QueryStartEvent(
            host=host,
            port=port,
            node_uuid=_uuid_text(node.node_id),
            query_id=request_id,
            op_code=op_code,
            op_name=op_name(op_code),
            operation=request.name,
            node_id=node.node_id,
            partition=self._partition(request),
            to_primary=to_primary,
            attempt=attempt,
            started=self._clock(),
            hedged=request.hedged,
        )
        self._emit("on_query_start", event)
        return event

    def query_success(self, started: QueryStartEvent) -> None:
        self._emit(
            "on_query_success", QuerySuccessEvent(**_fields(started), duration=self._ms(started))
        )

    def query_fail(
        self, started: QueryStartEvent, error: BaseException, failure: FailureClass | None
    ) -> None:
        self._emit(
            "on_query_fail",
            QueryFailEvent(
                **_fields(started),
                duration=self._ms(started),
                err_msg=_error_text(error),
                error=error,
                failure=failure,
            ),
        )

    def _ms(self, started: QueryStartEvent) -> int:
        return int((self._clock() - started.started) * 1000)

    def _partition(self, request: Any) -> int | None:
        if request.partition is not None:
            return int(request.partition)
        if request.key_hash is None or request.cache_id is None or self._tracker is None:
            return None
        cache_map = self._tracker.maps.get(request.cache_id)
        if cache_map is None or not cache_map.affinity.applicable:
            return None
        return int(cache_map.affinity.partition_of(request.key_hash))

    # -- topology, failover

    def topology_changed(self, old: tuple[int, int] | None, new: tuple[int, int]) -> None:
        self._emit("on_topology_changed", TopologyChangedEvent(old=old, new=new))

    def map_refreshed(self, version: tuple[int, int], cache_ids: Sequence[int]) -> None:
        self._emit("on_map_refreshed", MapRefreshedEvent(version=version, cache_ids=cache_ids))

    def failover(
        self,
        operation: str,
        endpoint: Endpoint,
        error: BaseException,
        attempt: int,
        failure: FailureClass | None,
    ) -> None:
        host, port = endpoint
        self._emit(
            "on_failover",
            FailoverEvent(
                operation=operation,
                host=host,
                port=port,
                error=error,
                attempt=attempt,
                failure=failure,
            ),
        )

    def retry(self, operation: str, endpoint: Endpoint, attempt: int) -> None:
        host, port = endpoint
        self._emit(
            "on_retry", RetryEvent(operation=operation, host=host, port=port, attempt=attempt)
        )


def _summary(event: Any) -> str:
    """An event for the log: its set attributes, the error once (as its message)."""
    fields = event.__dataclass_fields__
    skipped = {"protocol_context", "node_id", "started"}
    if "error_msg" in fields or "err_msg" in fields:
        skipped.add("error")
    parts = []
    for name in fields:
        value = getattr(event, name)
        if name not in skipped and value is not None and value != "":
            parts.append(f"{name}={value!r}" if name == "error" else f"{name}={value}")
    return " ".join(parts)


def _fields(event: QueryStartEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _QueryEvent.__dataclass_fields__}
