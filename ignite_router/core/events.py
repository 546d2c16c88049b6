"""Listeners: what the client tells an application about connections, queries and topology.

Subclass :class:`ClientListener`, override what you need, pass instances as
``event_listeners``. Callbacks run in the thread (or event loop) that
noticed the event; an exception from a listener is logged and swallowed.
Events are also logged under the ``ignite_router`` logger. Credentials
never appear in an event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

__all__ = ["ClientListener", "EventDispatcher"]

log = logging.getLogger("ignite_router")

Endpoint = tuple[str, int]


class ClientListener:
    """No-op callbacks (names follow pyignite's listeners where they exist)."""

    def on_handshake_start(self, endpoint: Endpoint) -> None: ...
    def on_handshake_success(self, endpoint: Endpoint, node_id: uuid.UUID | None) -> None: ...
    def on_handshake_fail(self, endpoint: Endpoint, error: BaseException) -> None: ...
    def on_connection_lost(
        self, endpoint: Endpoint, node_id: uuid.UUID | None, error: BaseException
    ) -> None: ...
    def on_connection_closed(self, endpoint: Endpoint, node_id: uuid.UUID | None) -> None: ...
    def on_query_start(self, operation: str, endpoint: Endpoint) -> None: ...
    def on_query_success(self, operation: str, endpoint: Endpoint) -> None: ...
    def on_query_fail(self, operation: str, endpoint: Endpoint, error: BaseException) -> None: ...
    def on_topology_changed(self, old: tuple[int, int] | None, new: tuple[int, int]) -> None: ...
    def on_map_refreshed(self, version: tuple[int, int], cache_ids: Sequence[int]) -> None: ...
    def on_failover(
        self, operation: str, failed: Endpoint, error: BaseException, attempt: int
    ) -> None: ...
    def on_retry(self, operation: str, endpoint: Endpoint, attempt: int) -> None: ...


_LEVELS = {
    "on_handshake_fail": logging.WARNING,
    "on_connection_lost": logging.WARNING,
    "on_failover": logging.INFO,
    "on_topology_changed": logging.INFO,
    "on_map_refreshed": logging.DEBUG,
    "on_handshake_success": logging.DEBUG,
    "on_connection_closed": logging.DEBUG,
    "on_retry": logging.DEBUG,
}


class EventDispatcher:
    """Calls every listener's method for an event and logs the notable ones.

    Query events are frequent: callers check :attr:`wants_queries` first.
    """

    def __init__(self, listeners: Sequence[ClientListener] = ()) -> None:
        self.listeners = tuple(listeners)
        self.wants_queries = bool(self.listeners)

    def emit(self, event: str, *args: Any) -> None:
        level = _LEVELS.get(event)
        if level is not None and log.isEnabledFor(level):
            log.log(level, "%s %s", event[3:], " ".join(map(str, args)))
        for listener in self.listeners:
            try:
                getattr(listener, event)(*args)
            except Exception:
                log.exception("event listener %r failed on %s", listener, event)
