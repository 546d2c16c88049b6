"""The nodes a client knows: endpoints, identities, liveness and reconnection times."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sortedcontainers import SortedList

from ignite_router.core.metrics import NodeMetrics

__all__ = ["Endpoint", "Node", "NodeRegistry"]

Endpoint = tuple[str, int]


class Node:
    """One server node as the client sees it.

    ``endpoint`` is fixed; ``node_id`` is the UUID of the last successful
    handshake (a restarted node keeps its endpoint and gets a new id).
    ``connection`` belongs to the shell that drives the core.
    """

    __slots__ = (
        "connection",
        "endpoint",
        "heartbeat_every",
        "last_error",
        "last_sent",
        "metrics",
        "next_attempt",
        "node_id",
        "reported_version",
        "schedule",
        "up",
    )

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.node_id: uuid.UUID | None = None
        self.up = False
        self.connection: Any = None
        self.last_error: BaseException | None = None
        self.next_attempt = 0.0  # when a reconnection may be tried (the shell's clock)
        self.schedule: Iterator[float] | None = None
        self.reported_version: tuple[int, int] | None = None
        self.metrics = NodeMetrics()
        self.last_sent = 0.0  # when a request was last written (the shell's clock)
        self.heartbeat_every: float | None = None  # seconds, once the idle timeout is known

    def __repr__(self) -> str:
        state = "up" if self.up else "down"
        return f"Node({self.endpoint[0]}:{self.endpoint[1]}, {self.node_id}, {state})"


class NodeRegistry:
    """Known nodes by endpoint and by node id, round-robin order, reconnection schedule.

    Nodes that are down wait in a list ordered by due time (``SortedList``),
    so finding the reconnections due now costs O(log n), not a scan.
    """

    def __init__(self, reconnect: Callable[[], Iterator[float]]) -> None:
        self._reconnect = reconnect
        self.nodes: list[Node] = []
        self.by_endpoint: dict[Endpoint, Node] = {}
        self.by_id: dict[uuid.UUID, Node] = {}
        self._due: SortedList = SortedList(key=lambda node: node.next_attempt)
        self._turn = 0

    def add(self, endpoint: Endpoint) -> Node:
        """The node at ``endpoint``, created (down, due for a connection now) if new."""
        node = self.by_endpoint.get(endpoint)
        if node is None:
            node = Node(endpoint)
            self.nodes.append(node)
            self.by_endpoint[endpoint] = node
            self._due.add(node)
        return node

    def mark_up(self, node: Node, node_id: uuid.UUID | None) -> bool:
        """A handshake succeeded; returns True if the node came back with a new id."""
        if node in self._due:
            self._due.remove(node)
        changed = node.node_id is not None and node.node_id != node_id
        if node.node_id is not None and self.by_id.get(node.node_id) is node:
            del self.by_id[node.node_id]
        node.node_id = node_id
        if node_id is not None:
            self.by_id[node_id] = node
        node.up = True
        node.heartbeat_every = None
        node.last_error = None
        node.schedule = None
        return changed

    def mark_down(self, node: Node, error: BaseException, now: float) -> bool:
        """The node failed; schedules its next reconnection. True if it was up."""
        was_up = node.up
        node.up = False
        node.last_error = error
        if node.schedule is None:
            node.schedule = self._reconnect()
        if node in self._due:
            self._due.remove(node)
        node.next_attempt = now + next(node.schedule)
        self._due.add(node)
        return was_up

    def due(self, now: float) -> list[Node]:
        """Down nodes whose reconnection time has come."""
        index = self._due.bisect_key_right(now)
        return list(self._due.islice(0, index))

    def next_due_time(self) -> float | None:
        """When the earliest reconnection is due (None if every node is up)."""
        return self._due[0].next_attempt if self._due else None

    def plan(self, first: Node | None) -> Iterator[Node]:
        """``first`` (if up), then the other nodes, each at most once, round-robin.

        Liveness is read at each step: a node that came back while an earlier
        attempt was waiting is offered too. Live nodes come first; when none is
        left, the nodes that are down are offered, so an operation can bring a
        connection back before it gives up.
        """
        nodes = self.nodes
        tried: set[Node] = set()
        if first is not None and first.up:
            tried.add(first)
            yield first
        count = len(nodes)
        start = self._turn
        self._turn = (start + 1) % max(count, 1)
        while True:
            rotation = [nodes[(start + step) % count] for step in range(count)]
            candidates = [node for node in rotation if node not in tried]
            node = next((node for node in candidates if node.up), None)
            if node is None:
                node = next(iter(candidates), None)
            if node is None:
                return
            tried.add(node)
            yield node
