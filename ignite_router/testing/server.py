"""One node's network side: a listening socket, its connections, and its fault switches.

The switches say how the node's process behaves; the connections
(``ignite_router.testing.connection``) follow them:

- ``latency`` delays every answer, ``request_latency`` every request (it is
  applied that long after it was read, multi-key writes spread their keys
  over it);
- ``hung``: the node accepts and reads but processes nothing; what it holds
  is dropped when a client leaves, served when healed;
- ``paused`` (a stop-the-world pause): the node neither reads nor processes
  nor writes; bytes pile up in the kernel, and everything is processed in
  order on resume, also for clients that left meanwhile;
- ``blackholed``: the node reads and drops every request, never answers and
  never closes, and still accepts connections.

A node that is hung, paused or blackholed cannot act for other nodes either:
operations forwarded to it, or replicated to it, wait (``Interconnect``).
"""

from __future__ import annotations

import asyncio
import errno
import random
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ignite_router.testing.connection import AUTH_FAILURE_DELAY, SERVER_FEATURES, ServerConnection
from ignite_router.testing.connection import log as _log
from ignite_router.testing.refusals import NODE_STOPPING

if TYPE_CHECKING:
    from ignite_router.testing.state import ClusterModel

__all__ = [
    "AUTH_FAILURE_DELAY",
    "NODE_STOPPING",
    "SERVER_FEATURES",
    "NodeServer",
    "ServerConnection",
    "ServerOptions",
]

_NODE_PORTS = (20000, 32000)  # below Linux's default ephemeral range (32768-60999)
INBOX_SIZE = 256 * 1024  # what one read of a connection takes at most (asyncio's own limit)
_PORT_TRIES = 64
_RANDOM_PORTS = random.Random()


@dataclass(frozen=True)
class ServerOptions:
    """How every node of a cluster treats its connections (see ``LocalCluster``)."""

    host: str = "127.0.0.1"
    credentials: tuple[str, str] | None = None
    handshake_timeout: float = 10.0
    idle_timeout: float = 0.0
    max_connections: int = 1024
    reorder: bool = False
    seed: int = 0
    ssl_context: ssl.SSLContext | None = None


class NodeServer:
    """Listens on one node's port; owns its connections and fault-injection switches."""

    def __init__(self, model: ClusterModel, index: int, options: ServerOptions) -> None:
        self.model = model
        self.index = index
        self.options = options
        self.running = False
        self.latency = 0.0  # seconds every answer waits
        self.request_latency = 0.0  # seconds every request waits before it is applied
        self.hung = False
        self.paused = False
        self.blackholed = False
        self.exchanging = False  # a topology change is in progress: cache requests wait
        self.refusing = False  # ...or, for key operations, are refused (exchange_refusals)
        self.connections: dict[ServerConnection, None] = {}  # in accept order
        self.accepted = 0
        # Every connection reads into this one buffer: a read is taken out of it
        # before the loop does anything else (BufferedProtocol).
        self.inbox = memoryview(bytearray(INBOX_SIZE))
        self._server: asyncio.Server | None = None

    def can_act(self) -> bool:
        """The node's process is up and works (not hung, paused or blackholed)."""
        return self.running and not (self.hung or self.paused or self.blackholed)

    async def start(self, port: int) -> int:
        """Listen on ``port`` (0 = a free one below the ephemeral range); returns the port.

        A port the kernel hands out for ``bind(0)`` is an ephemeral one: while
        its node is down, any outgoing connection on the machine may take it
        as its source port, and the node could not come back on it. Ports
        below the ephemeral range are only ever taken by an explicit bind.
        """
        self._reset_switches()
        if port:
            bound = await self._listen(port)
        else:
            bound = await self._listen_anywhere()
        self.running = True
        return bound

    async def _listen_anywhere(self) -> int:
        for _ in range(_PORT_TRIES):
            try:
                return await self._listen(_RANDOM_PORTS.randrange(*_NODE_PORTS))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
        return await self._listen(0)

    async def _listen(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        tls = self.options.ssl_context
        self._server = await loop.create_server(
            lambda: ServerConnection(self),
            self.options.host,
            port,
            reuse_address=True,
            ssl=tls,
            ssl_handshake_timeout=(self.options.handshake_timeout or None) if tls else None,
        )
        return self._server.sockets[0].getsockname()[1]

    async def stop(self, abrupt: bool) -> None:
        """Stop listening and drop every connection.

        Abrupt: connections are reset and nothing more is answered or applied.
        Graceful: requests received but not answered yet get the server's
        "node is stopping" error (and are not applied), then the connection is
        closed (FIN).
        """
        self.running = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            if abrupt:
                connection.stop_work()
            else:
                connection.refuse_in_flight(NODE_STOPPING)
            connection.drop(abrupt)
        self.connections.clear()
        self._reset_switches()

    def _reset_switches(self) -> None:
        self.hung = self.paused = self.blackholed = False
        self.latency = self.request_latency = 0.0
        self.exchanging = self.refusing = False

    # -- faults ------------------------------------------------------------------------

    def set_latency(self, seconds: float, answers: bool, requests: bool) -> None:
        if answers:
            self.latency = seconds
        if requests:
            self.request_latency = seconds
            for connection in list(self.connections):
                connection.pump()  # frames due earlier now

    def hang(self) -> None:
        """Accept and read, but process and answer nothing until healed."""
        self.hung = True

    def pause(self) -> None:
        """Stop reading, processing and writing; connections stay open."""
        self.paused = True
        for connection in list(self.connections):
            connection.regulate_reading()

    def resume(self) -> None:
        """Process, in order, what arrived while paused (also for clients that left)."""
        if not self.paused:
            return
        self.paused = False
        self._wake()

    def blackhole(self) -> None:
        """Read and drop everything, answer nothing, close nothing."""
        self.blackholed = True
        for connection in list(self.connections):
            connection.discard_work()

    def heal(self) -> None:
        """End a hang (held requests are served now), a blackhole, a pause and latencies."""
        self.hung = self.paused = self.blackholed = False
        self.latency = self.request_latency = 0.0
        self._wake()

    def _wake(self) -> None:
        for connection in list(self.connections):
            connection.healed()
        if self.running:
            self.model.links.node_able(self.index)

    def end_exchange(self) -> None:
        """The topology change is done: serve the cache requests it held."""
        self.exchanging = self.refusing = False
        for connection in list(self.connections):
            connection.release_held()

    def admit(self, connection: ServerConnection) -> bool:
        """Take a new connection unless the node is full.

        A full node makes room by closing its oldest connection that has not
        finished its handshake, so idle sockets cannot lock clients out; if every
        connection has, the new one is refused.
        """
        if len(self.connections) >= self.options.max_connections:
            idle = next((c for c in self.connections if c.session.context is None), None)
            if idle is None:
                return False
            _log.warning("node %d: connection limit reached, closing one that never shook hands",
                         self.index)  # fmt: skip
            idle.drop(abrupt=False)
            self.connections.pop(idle, None)
        self.connections[connection] = None
        self.accepted += 1
        return True
