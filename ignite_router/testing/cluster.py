"""``LocalCluster``: N Ignite-protocol nodes on loopback, run by a background event loop."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ignite_router.protocol.messages.cache_properties import WriteSynchronizationMode
from ignite_router.testing.refusals import REFUSAL_MESSAGES
from ignite_router.testing.server import NodeServer, ServerOptions
from ignite_router.testing.state import ClusterModel

__all__ = ["REALISTIC", "LocalCluster", "NodeInfo"]

T = TypeVar("T")
CALL_TIMEOUT = 60.0  # seconds an API call waits for the cluster's thread
LATENCY_PATHS = ("answer", "request", "both")
REFUSAL_WINDOW = 0.1  # the exchange window exchange_refusals opens when exchange_delay is unset
# What realistic=True sets for the options left unset (None); docs/testing.md.
REALISTIC: dict[str, Any] = {
    "reorder": True,
    "late_affinity": True,
    "version_lag": 0.1,
    "exchange_delay": 0.1,
    "exchange_refusals": True,
    "failure_detection": 1.0,
    "write_mode": WriteSynchronizationMode.PRIMARY_SYNC,
}
_PLAIN: dict[str, Any] = {
    "reorder": False,
    "late_affinity": False,
    "version_lag": 0.0,
    "exchange_delay": 0.0,
    "exchange_refusals": False,
    "failure_detection": 0.0,
    "write_mode": WriteSynchronizationMode.FULL_SYNC,
}


@dataclass(frozen=True)
class NodeInfo:
    """A snapshot of one node as clients see it."""

    consistent_id: str
    node_id: uuid.UUID
    port: int
    alive: bool  # the node's process runs
    in_topology: bool = True  # a killed node stays in until failure detection


class LocalCluster:
    """A multi-node cluster speaking the Ignite thin-client protocol on loopback.

    Placement, backups, rebalancing and affinity topology versions follow
    Ignite (see docs/testing.md). Every owner of a partition keeps its own
    copy; a key request that reaches a node which is not the key's primary
    is forwarded to the primary (counted as ``forwarded``), unless it is a
    read the node serves from its own backup copy (readFromBackup). The
    nodes run on an event loop in a background thread; every method may be
    called from any other thread (it waits until the loop has done the work).

    The keyword-only options make the cluster as unkind as a real one where a
    partition-aware client can go wrong; their defaults keep it deterministic:

    - ``reorder``: answers on one connection leave in a shuffled order (seeded
      by ``seed``), as a node's thread pool completes them.
    - ``late_affinity``: a join (or leave) first publishes ``(N, 0)`` in which
      partitions whose new primary does not hold them yet keep their current
      primary, and new copies fill only ``rebalance_delay`` seconds later, when
      ``(N, 1)`` publishes the ideal assignment (see :meth:`wait_for_rebalance`).
    - ``version_lag``: seconds over which the nodes learn a new version one by
      one (the oldest node at once, the youngest after the whole lag).
    - ``exchange_delay``: seconds a topology change holds cache requests;
      ``exchange_refusals``: key operations arriving then are refused with
      Ignite's "retry" error instead, when the change moved partitions.
    - ``write_mode``: write synchronization of caches created without one
      (FULL_SYNC = 0, every copy before the answer; PRIMARY_SYNC = 2, Ignite's
      default, backups after ``replication_delay`` seconds).
    - ``failure_detection``: seconds a killed node stays in the topology;
      ``forward_timeout``: seconds an operation waits for another node.
    - ``realistic``: all of the above as a real cluster behaves (``REALISTIC``),
      for the options left unset.
    - ``handshake_timeout`` (Ignite's 10 s), ``idle_timeout`` (0 = none, Ignite's
      default), ``max_connections`` per node, ``ssl_context`` (server side TLS).
    """

    REFUSAL_MESSAGES = REFUSAL_MESSAGES

    def __init__(
        self,
        nodes: int = 3,
        partitions: int = 1024,
        backups: int = 0,
        consistent_ids: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        credentials: tuple[str, str] | None = None,
        *,
        reorder: bool | None = None,
        late_affinity: bool | None = None,
        rebalance_delay: float = 0.1,
        version_lag: float | None = None,
        exchange_delay: float | None = None,
        exchange_refusals: bool | None = None,
        write_mode: int | None = None,
        replication_delay: float = 0.0,
        failure_detection: float | None = None,
        forward_timeout: float = 10.0,
        realistic: bool = False,
        seed: int = 0,
        handshake_timeout: float = 10.0,
        idle_timeout: float = 0.0,
        max_connections: int = 1024,
        ssl_context: ssl.SSLContext | None = None,
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
        given = {
            "reorder": reorder,
            "late_affinity": late_affinity,
            "version_lag": version_lag,
            "exchange_delay": exchange_delay,
            "exchange_refusals": exchange_refusals,
            "failure_detection": failure_detection,
            "write_mode": write_mode,
        }
        base = REALISTIC if realistic else _PLAIN
        chosen: dict[str, Any] = {
            name: base[name] if value is None else value for name, value in given.items()
        }
        if chosen["exchange_refusals"] and not chosen["exchange_delay"]:
            if exchange_delay is not None:
                raise ValueError("exchange_refusals needs an exchange window: exchange_delay > 0")
            chosen["exchange_delay"] = REFUSAL_WINDOW
        for name, number in (
            ("rebalance_delay", rebalance_delay),
            ("version_lag", chosen["version_lag"]),
            ("exchange_delay", chosen["exchange_delay"]),
            ("replication_delay", replication_delay),
            ("failure_detection", chosen["failure_detection"]),
            ("handshake_timeout", handshake_timeout),
            ("idle_timeout", idle_timeout),
        ):
            if not number >= 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {number}")
        if not forward_timeout > 0:
            raise ValueError(f"forward_timeout must be > 0 seconds, got {forward_timeout}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError("ssl_context must be an ssl.SSLContext (server side)")
        if isinstance(chosen["write_mode"], bool) or chosen["write_mode"] not in (0, 1, 2):
            raise ValueError(f"write_mode must be 0, 1 or 2, got {write_mode!r}")
        mode = WriteSynchronizationMode(chosen["write_mode"])
        self.host = host
        self.credentials = tuple(credentials) if credentials is not None else None
        self.rebalance_delay = float(rebalance_delay)
        self.version_lag = float(chosen["version_lag"])
        self.exchange_delay = float(chosen["exchange_delay"])
        self.exchange_refusals = bool(chosen["exchange_refusals"])
        self.failure_detection = float(chosen["failure_detection"])
        self.replication_delay = float(replication_delay)
        self.forward_timeout = float(forward_timeout)
        self._options = ServerOptions(
            host=host,
            credentials=self.credentials,  # type: ignore[arg-type]
            handshake_timeout=float(handshake_timeout),
            idle_timeout=float(idle_timeout),
            max_connections=max_connections,
            reorder=bool(chosen["reorder"]),
            seed=seed,
            ssl_context=ssl_context,
        )
        self._base_port = base_port
        ports = [base_port + i if base_port else 0 for i in range(nodes)]
        self._model = ClusterModel(
            ids,
            ports,
            partitions,
            backups,
            late_affinity=bool(chosen["late_affinity"]),
            default_write_mode=mode,
        )
        self._model.on_version = self._version_changed
        self._servers: list[NodeServer] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._rebalance_timer: asyncio.TimerHandle | None = None
        self._exchange_timer: asyncio.TimerHandle | None = None
        self._detections: dict[int, asyncio.TimerHandle] = {}  # killed node -> its detection

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
        self._model.links.attach(loop, self._halted, self.replication_delay, self.forward_timeout)
        try:
            for index in range(len(self._model.nodes)):
                self._run(self._start_node(index))
            self.wait_for_rebalance(CALL_TIMEOUT)  # begin settled, whatever the options
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
            for timer in (self._rebalance_timer, self._exchange_timer, *self._detections.values()):
                if timer is not None:
                    timer.cancel()
            self._detections.clear()
            for server in self._servers:
                await server.stop(abrupt=False)
            for node in self._model.nodes:
                node.alive = False
            self._model.links.detach()
            # Work an interrupted start() left behind must not outlive the loop.
            leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in leftover:
                task.cancel()
            await asyncio.gather(*leftover, return_exceptions=True)

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
        """``(host, port)`` of every node, in node order (dead ones included).

        Before :meth:`start` the ports are only known if ``base_port`` was given.
        """
        if self._loop is None and any(node.port == 0 for node in self._model.nodes):
            raise RuntimeError(
                "the ports are picked when the cluster starts: call start() first "
                "(or give base_port to fix them in advance)"
            )
        return self._call(lambda: [(self.host, node.port) for node in self._model.nodes])

    @property
    def nodes(self) -> list[NodeInfo]:
        """Per node: ids, port, whether its process runs and whether it is in the topology."""
        return self._call(
            lambda: [
                NodeInfo(n.consistent_id, n.node_id, n.port, n.alive and not n.crashed, n.alive)
                for n in self._model.nodes
            ]
        )

    @property
    def topology_version(self) -> tuple[int, int]:
        """``(major, minor)``: major +1 per node join or leave, minor +1 per cache change.

        The cluster's newest version; with ``version_lag`` a node may still report
        an older one (:meth:`reported_versions`).
        """
        return self._call(lambda: self._model.version)

    def reported_versions(self) -> list[tuple[int, int] | None]:
        """Per node, the version it knows and reports (None for a dead node)."""
        return self._call(
            lambda: [
                node.seen if node.alive and not node.crashed else None for node in self._model.nodes
            ]
        )

    def wait_for_rebalance(self, timeout: float = 10.0) -> tuple[int, int]:
        """Wait until the topology has settled; returns the version it settled at.

        Settled: no late-affinity stage pending (``(N, 1)`` published, every
        copy filled), no killed node waiting for failure detection, every live
        node knows the newest version and no exchange holds requests.
        TimeoutError if that takes longer than ``timeout`` seconds.
        """

        def settled() -> tuple[int, int] | None:
            model = self._model
            if model.rebalancing or any(s.exchanging for s in self._servers):
                return None
            if any(node.crashed for node in model.nodes):
                return None
            if any(model.nodes[i].seen != model.version for i in model.alive_indices()):
                return None
            return model.version

        deadline = time.monotonic() + timeout
        while (version := self._call(settled)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the topology did not settle within {timeout} s")
            time.sleep(0.005)
        return version

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
        """Abrupt failure: connections reset (SO_LINGER 0), the node's copies lost.

        With ``failure_detection`` the node stays in the topology (same
        version, still named as primary) for that long; operations that need
        it wait, and are refused once the topology moves on.
        """
        self._check_index(index)
        self._run(self._kill(index))

    def stop_node(self, index: int) -> None:
        """Graceful leave: requests in flight get the server's "node is stopping" error
        (and are not applied), then connections are closed cleanly; the node's copies
        leave with it."""
        self._check_index(index)
        self._run(self._stop_node(index, abrupt=False))

    def start_node(self, index: int) -> None:
        """Rejoin with the same consistent id and port and a new node id.

        A killed node the cluster has not detected yet leaves the topology first.
        """
        self._check_index(index)
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

    def set_latency(self, index: int, seconds: float, where: str = "answer") -> None:
        """Slow node ``index`` down by ``seconds``.

        ``where="answer"``: every answer leaves that much later (the request is
        applied at once). ``"request"``: every request is applied that much
        after it was read, and answered right after (a multi-key write spreads
        its keys over the delay). ``"both"``: both. 0 removes it.
        """
        self._check_index(index)
        if where not in LATENCY_PATHS:
            raise ValueError(f"where must be one of {', '.join(LATENCY_PATHS)}, got {where!r}")
        if not seconds >= 0:
            raise ValueError("latency cannot be negative")
        answers, requests = where != "request", where != "answer"
        self._call(lambda: self._server(index).set_latency(float(seconds), answers, requests))

    def hang_node(self, index: int) -> None:
        """Node ``index`` keeps accepting and reading but answers nothing until healed.

        What it holds for a client is dropped when that client closes.
        """
        self._check_index(index)
        self._call(lambda: self._server(index).hang())

    def pause_node(self, index: int) -> None:
        """Freeze node ``index`` (a stop-the-world pause): it reads, processes and writes
        nothing; connections stay open and bytes pile up. Idempotent."""
        self._check_index(index)
        self._call(lambda: self._running_server(index).pause())

    def resume_node(self, index: int) -> None:
        """End a pause: what arrived meanwhile is processed in order, also the requests of
        clients that closed their connection since (their answers are dropped)."""
        self._check_index(index)
        self._call(lambda: self._server(index).resume())

    def blackhole_node(self, index: int) -> None:
        """Node ``index`` accepts connections and bytes but never answers, applies or
        closes anything, and stays in the topology, until healed. Idempotent."""
        self._check_index(index)
        self._call(lambda: self._running_server(index).blackhole())

    def heal_node(self, index: int) -> None:
        """Undo :meth:`hang_node` (held requests are answered now), :meth:`blackhole_node`
        (what it dropped stays dropped), :meth:`pause_node` and :meth:`set_latency`."""
        self._check_index(index)
        self._call(lambda: self._server(index).heal())

    # -- internals ---------------------------------------------------------------------

    def _check_index(self, index: int) -> None:
        """IndexError("no node N") for anything but the index of an existing node."""
        known = self._call(lambda: len(self._model.nodes))
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < known:
            raise IndexError(f"no node {index}")

    def _server(self, index: int) -> NodeServer:
        if not 0 <= index < len(self._servers):
            raise IndexError(f"no node {index}")
        return self._servers[index]

    def _running_server(self, index: int) -> NodeServer:
        server = self._server(index)
        if not server.running:
            raise RuntimeError(f"node {index} is not running")
        return server

    def _halted(self, index: int) -> bool:
        """Node ``index``'s process does not act (the Interconnect asks, on the loop)."""
        return index >= len(self._servers) or not self._servers[index].can_act()

    def _version_changed(self, initiator: int | None, ownership: bool) -> None:
        """On the loop, after every version change: who learns it when, exchanges, stages."""
        model = self._model
        loop = asyncio.get_running_loop()
        version = model.version
        alive = sorted(model.alive_indices(), key=lambda i: model.nodes[i].order)
        for position, index in enumerate(alive):
            # The oldest node (the coordinator) and the node that made the change
            # know it at once; the others learn it one by one over version_lag.
            delay = self.version_lag * position / max(len(alive) - 1, 1)
            if delay <= 0 or index == initiator:
                model.learn(index, version)
            else:
                loop.call_later(delay, model.learn, index, version)
        if self.exchange_delay > 0:
            refusing = ownership and self.exchange_refusals
            for server in self._servers:
                server.exchanging = True
                server.refusing = server.refusing or refusing
            if self._exchange_timer is not None:
                self._exchange_timer.cancel()
            self._exchange_timer = loop.call_later(self.exchange_delay, self._end_exchange)
        if model.rebalancing and version[1] == 0:  # a join or leave left copies to move later
            if self._rebalance_timer is not None:
                self._rebalance_timer.cancel()
            self._rebalance_timer = loop.call_later(self.rebalance_delay, self._finish_rebalance)

    def _end_exchange(self) -> None:
        self._exchange_timer = None
        for server in self._servers:
            server.end_exchange()

    def _finish_rebalance(self) -> None:
        self._rebalance_timer = None
        self._model.finish_rebalance()

    def _detect(self, index: int) -> None:
        """Failure detection: the killed node leaves the topology now."""
        self._detections.pop(index, None)
        if self._model.nodes[index].crashed:
            self._model.leave(index, graceful=False)

    async def _kill(self, index: int) -> None:
        node = self._model.nodes[index]
        if not node.alive or node.crashed:
            raise RuntimeError(f"node {index} is not running")
        if self.failure_detection <= 0:
            await self._stop_node(index, abrupt=True)
            return
        self._model.crash(index)
        await self._servers[index].stop(abrupt=True)
        loop = asyncio.get_running_loop()
        self._detections[index] = loop.call_later(self.failure_detection, self._detect, index)

    async def _start_node(self, index: int) -> None:
        node = self._model.nodes[index]
        if node.crashed:  # the old incarnation is detected now
            timer = self._detections.pop(index, None)
            if timer is not None:
                timer.cancel()
            self._model.leave(index, graceful=False)
        if node.alive:
            raise RuntimeError(f"node {index} is already running")
        while len(self._servers) <= index:
            self._servers.append(NodeServer(self._model, len(self._servers), self._options))
        node.port = await self._servers[index].start(node.port)
        self._model.join(index)

    async def _stop_node(self, index: int, abrupt: bool) -> None:
        node = self._model.nodes[index]
        if not node.alive or node.crashed:
            raise RuntimeError(f"node {index} is not running")
        self._model.leave(index, graceful=not abrupt)
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
