"""``LocalCluster``: N Ignite-protocol nodes on loopback, run by a background event loop."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ignite_router.testing.server import NodeServer
from ignite_router.testing.state import ClusterModel

__all__ = ["LocalCluster", "NodeInfo"]

T = TypeVar("T")
CALL_TIMEOUT = 60.0  # seconds an API call waits for the cluster's thread


@dataclass(frozen=True)
class NodeInfo:
    """A snapshot of one node as clients see it."""

    consistent_id: str
    node_id: uuid.UUID
    port: int
    alive: bool


class LocalCluster:
    """A multi-node cluster speaking the Ignite thin-client protocol on loopback.

    Placement, backups, rebalancing and affinity topology versions follow
    Ignite (see docs/testing.md); a key request that reaches a node which is
    not the key's primary is served and counted as ``forwarded``. The nodes
    run on an event loop in a background thread; every method may be called
    from any other thread (it waits until the loop has done the work).
    """

    def __init__(
        self,
        nodes: int = 3,
        partitions: int = 1024,
        backups: int = 0,
        consistent_ids: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        ids = list(consistent_ids) if consistent_ids else [f"node-{i}" for i in range(nodes)]
        if len(ids) != nodes or len(set(ids)) != nodes or not all(ids):
            raise ValueError("consistent_ids must be distinct and non-empty, one per node")
        if base_port is not None and not 0 < base_port <= 65536 - nodes:
            raise ValueError(f"base_port {base_port} leaves no room for {nodes} ports")
        if credentials is not None and len(credentials) != 2:
            raise ValueError("credentials must be a (username, password) pair")
        self.host = host
        self.credentials = tuple(credentials) if credentials is not None else None
        self._base_port = base_port
        ports = [base_port + i if base_port else 0 for i in range(nodes)]
        self._model = ClusterModel(ids, ports, partitions, backups)
        self._servers: list[NodeServer] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------

    def start(self) -> LocalCluster:
        """Start the event-loop thread and every node."""
        if self._loop is not None:
            raise RuntimeError("cluster already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="ignite-local-cluster", daemon=True)
        self._thread.start()
        ready.wait()
        try:
            for index in range(len(self._model.nodes)):
                self._run(self._start_node(index))
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every node and the event-loop thread (idempotent)."""
        loop = self._loop
        if loop is None:
            return

        async def stop_all() -> None:
            for server in self._servers:
                await server.stop(abrupt=False)
            for node in self._model.nodes:
                node.alive = False

        try:
            self._run(stop_all())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            loop.close()
            self._loop = None

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- observation ---------------------------------------------------------------

    @property
    def endpoints(self) -> list[tuple[str, int]]:
        """``(host, port)`` of every node, in node order (dead ones included)."""
        return self._call(lambda: [(self.host, node.port) for node in self._model.nodes])

    @property
    def nodes(self) -> list[NodeInfo]:
        return self._call(
            lambda: [
                NodeInfo(n.consistent_id, n.node_id, n.port, n.alive) for n in self._model.nodes
            ]
        )

    @property
    def topology_version(self) -> tuple[int, int]:
        """``(major, minor)``: major +1 per node join or leave, minor +1 per cache change."""
        return self._call(lambda: self._model.version)

    def stats(self) -> list[dict[str, int]]:
        """Per node: requests, key_requests, forwarded, connections, errors."""
        return self._call(lambda: [node.stats.as_dict() for node in self._model.nodes])

    def reset_stats(self) -> None:
        def reset() -> None:
            for node in self._model.nodes:
                node.stats.reset()

        self._call(reset)

    def call(self, function: Callable[[ClusterModel], T]) -> T:
        """Run ``function(model)`` on the cluster's thread (for tests that inspect state)."""
        return self._call(lambda: function(self._model))

    # -- topology changes ------------------------------------------------------------

    def kill_node(self, index: int) -> None:
        """Abrupt failure: connections reset (SO_LINGER 0), the node's copies lost."""
        self._run(self._stop_node(index, abrupt=True))

    def stop_node(self, index: int) -> None:
        """Graceful leave: connections closed cleanly; the node's copies leave with it."""
        self._run(self._stop_node(index, abrupt=False))

    def start_node(self, index: int) -> None:
        """Rejoin with the same consistent id and port and a new node id."""
        self._run(self._start_node(index))

    def add_node(self, consistent_id: str | None = None) -> int:
        """Start a new node; returns its index."""

        async def add() -> int:
            index = len(self._model.nodes)
            port = self._base_port + index if self._base_port else 0
            self._model.add_node(consistent_id or f"node-{index}", port)
            await self._start_node(index)
            return index

        return self._run(add())

    # -- faults ------------------------------------------------------------------------

    def set_latency(self, index: int, seconds: float) -> None:
        """Delay every response of node ``index`` by ``seconds``."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self._call(lambda: setattr(self._server(index), "latency", float(seconds)))

    def hang_node(self, index: int) -> None:
        """Node ``index`` keeps accepting and reading but answers nothing until healed."""
        self._call(lambda: setattr(self._server(index), "hung", True))

    def heal_node(self, index: int) -> None:
        """Undo :meth:`hang_node` (held requests are answered now) and :meth:`set_latency`."""
        self._call(lambda: self._server(index).heal())

    # -- internals ---------------------------------------------------------------------

    def _server(self, index: int) -> NodeServer:
        if not 0 <= index < len(self._servers):
            raise IndexError(f"no node {index}")
        return self._servers[index]

    async def _start_node(self, index: int) -> None:
        node = self._model.nodes[index]
        if node.alive:
            raise RuntimeError(f"node {index} is already running")
        while len(self._servers) <= index:
            server = NodeServer(self._model, len(self._servers), self.host, self.credentials)
            self._servers.append(server)
        node.port = await self._servers[index].start(node.port)
        self._model.join(index)

    async def _stop_node(self, index: int, abrupt: bool) -> None:
        node = self._model.nodes[index]
        if not node.alive:
            raise RuntimeError(f"node {index} is not running")
        self._model.leave(index)
        await self._servers[index].stop(abrupt)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None:
            coroutine.close()
            raise RuntimeError("cluster is not running (use start() or a with block)")
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("LocalCluster methods cannot be called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=CALL_TIMEOUT)

    def _call(self, function: Callable[[], T]) -> T:
        if self._loop is None:
            return function()  # not running: nothing else touches the model

        async def call() -> T:
            return function()

        return self._run(call())
