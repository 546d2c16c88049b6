"""pyignite 0.6.1's ``pyignite.monitoring`` names: listener base classes and event objects.

``from pyignite.monitoring import QueryEventListener`` becomes
``from ignite_router.monitoring import QueryEventListener``; pyignite's own
classes work too (callbacks are found by name). The events are described in
:mod:`ignite_router.core.events`.
"""

from ignite_router.core.events import (
    AuthenticationFailedEvent,
    ClientListener,
    ConnectionClosedEvent,
    ConnectionEventListener,
    ConnectionLostEvent,
    FailoverEvent,
    HandshakeFailedEvent,
    HandshakeStartEvent,
    HandshakeSuccessEvent,
    MapRefreshedEvent,
    QueryEventListener,
    QueryFailEvent,
    QueryStartEvent,
    QuerySuccessEvent,
    RetryEvent,
    TopologyChangedEvent,
    TopologyEventListener,
)

__all__ = [
    "AuthenticationFailedEvent",
    "ClientListener",
    "ConnectionClosedEvent",
    "ConnectionEventListener",
    "ConnectionLostEvent",
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
