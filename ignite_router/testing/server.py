"""One node's network side: an asyncio server whose connections speak the thin protocol.

A connection works through the frames it received in order, one request at
a time, but only while it may: not while its node hangs, while its answers
pile up unread (write backpressure), while a refused login is answered late,
or while a big request is worked through step by step. Cache operations that
arrive during a topology change wait for the exchange to end. Requests that
cannot be parsed close the connection without an answer, as Ignite does
(``ClientListenerNioListener.onMessage``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import ssl
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ignite_router.protocol.context import LATEST, SUPPORTED_VERSIONS, ProtocolVersion
from ignite_router.protocol.errors import ProtocolError, ServerError, StatusCode, TrailingBytesError
from ignite_router.protocol.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder
from ignite_router.protocol.handshake import (
    CLIENT_TYPE_THIN,
    HANDSHAKE_CODE,
    NO_VERSION,
    HandshakeFailure,
    accept_handshake,
    decode_handshake_request,
    encode_handshake_failure,
    encode_handshake_success,
)
from ignite_router.protocol.header import begin_response, encode_error_response, finish_frame
from ignite_router.protocol.opcodes import Feature, OpCode
from ignite_router.testing.handlers import handle_request
from ignite_router.testing.session import Session

if TYPE_CHECKING:
    from ignite_router.testing.state import ClusterModel

__all__ = ["SERVER_FEATURES", "NodeServer", "ServerConnection", "ServerOptions"]

_NODE_PORTS = (20000, 32000)  # below Linux's default ephemeral range (32768-60999)
_PORT_TRIES = 64
_RANDOM_PORTS = random.Random()

log = logging.getLogger("ignite_router.testing")

# Every feature bit Ignite 2.x knows is granted when asked for (the handshake
# answers the intersection, ClientConnectionContext.initializeFromHandshake);
# TX_AWARE_QUERIES only when the server enables it, which it does not by default.
SERVER_FEATURES = frozenset(int(f) for f in Feature if f != Feature.TX_AWARE_QUERIES)
PRE_HANDSHAKE_MAX_FRAME = 8 * 1024  # a handshake is < 100 bytes; Ignite once capped it at 128
MAX_USER_ATTRIBUTES = 256  # entries in the handshake's user-attribute map
WRITE_HIGH_WATER = 1 << 20  # answered bytes not yet taken by the client: stop working above
WRITE_LOW_WATER = 1 << 18
READ_BACKLOG = 4 << 20  # received bytes not yet worked through: stop reading above
AUTH_FAILURE_DELAY = 0.25  # seconds a refused login waits for its answer
NODE_STOPPING = "Operation has been cancelled (node is stopping)."
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_REQUEST_HEAD = struct.Struct("<hq")  # op code, request id
_HANDSHAKE_HEAD = struct.Struct("<bhhhb")  # code, version, client type (fact sheet §2.1)
_SEMANTIC_FAILURES = (ValueError, TypeError, OverflowError)
# Requests the partition map exchange holds: data requests on caches (Ignite's
# cache gateway waits for the exchange future).
_EXCHANGE_HELD = frozenset(
    [*range(OpCode.CACHE_GET, OpCode.CACHE_INVOKE_ALL + 1), OpCode.QUERY_SCAN]
)
_DISABLED_CLIENT_TYPES = {
    0: "ODBC connection is not allowed, see ClientConnectorConfiguration.odbcEnabled.",
    1: "JDBC connection is not allowed, see ClientConnectorConfiguration.jdbcEnabled.",
}


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
        self.latency = 0.0
        self.hung = False
        self.exchanging = False  # a topology change is in progress: cache requests wait
        self.connections: dict[ServerConnection, None] = {}  # in accept order
        self.accepted = 0
        self._server: asyncio.Server | None = None

    async def start(self, port: int) -> int:
        """Listen on ``port`` (0 = a free one below the ephemeral range); returns the port.

        A port the kernel hands out for ``bind(0)`` is an ephemeral one: while
        its node is down, any outgoing connection on the machine may take it
        as its source port, and the node could not come back on it. Ports
        below the ephemeral range are only ever taken by an explicit bind.
        """
        if port:
            return await self._listen(port)
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

        Abrupt: connections are reset and nothing more is answered. Graceful:
        requests received but not answered yet get the server's "node is
        stopping" error first, then the connection is closed (FIN).
        """
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            if not abrupt:
                connection.refuse_in_flight(NODE_STOPPING)
            connection.drop(abrupt)
        self.connections.clear()
        self.hung = False
        self.latency = 0.0
        self.exchanging = False

    def heal(self) -> None:
        """End a hang (held requests are served now) and remove added latency."""
        self.hung = False
        self.latency = 0.0
        for connection in list(self.connections):
            connection.pump()

    def end_exchange(self) -> None:
        """The topology change is done: serve the cache requests it held."""
        self.exchanging = False
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
            log.warning("node %d: connection limit reached, closing one that never shook hands",
                        self.index)  # fmt: skip
            idle.drop(abrupt=False)
            self.connections.pop(idle, None)
        self.connections[connection] = None
        self.accepted += 1
        return True


class ServerConnection(asyncio.Protocol):
    """One client connection of a node: handshake, then requests, as Ignite serves them."""

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        options = node.options
        stats = node.model.nodes[node.index].stats
        self.session = Session(
            node.model, node.index, stats, options.host, idle_timeout=options.idle_timeout
        )
        self.frames = FrameDecoder(PRE_HANDSHAKE_MAX_FRAME)
        self.transport: asyncio.Transport | None = None
        self._queue: deque[bytes] = deque()  # frames received and not worked on yet
        self._queued = 0  # their bytes
        self._held: list[bytes] = []  # cache requests waiting for an exchange to end
        self._delayed: deque[tuple[float, bytes]] = deque()  # (due time, answers) under latency
        self._shuffled: list[bytes] = []  # answers waiting to leave in a shuffled order
        self._busy: tuple[int, Iterator[None], bytearray] | None = None  # a big request
        self._body = bytearray()  # reused for every answer body
        self._answering_late = False  # a refused login is waiting for its answer
        self._write_paused = False
        self._read_paused = False
        self._timer: asyncio.TimerHandle | None = None  # handshake or idle timeout
        self._last_active = 0.0
        self._rng = random.Random(f"{options.seed}:{node.index}:{node.accepted}")

    # -- transport callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.node.admit(self):
            log.warning("node %d: refusing a connection, %d is the limit",
                        self.node.index, self.node.options.max_connections)  # fmt: skip
            transport.close()
            return
        transport.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)  # type: ignore[attr-defined]
        self.session.stats.connections += 1
        loop = asyncio.get_running_loop()
        self._last_active = loop.time()
        timeout = self.node.options.handshake_timeout
        if timeout > 0:
            self._timer = loop.call_later(timeout, self._handshake_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self.node.connections.pop(self, None)
        if self._timer is not None:
            self._timer.cancel()
        self.session.transactions.clear()  # open transactions roll back
        self.session.cursors.clear()
        self._queue.clear()
        self._held.clear()
        self._delayed.clear()
        self._shuffled.clear()
        self._busy = None

    def data_received(self, data: bytes) -> None:
        self._last_active = asyncio.get_running_loop().time()
        if self._closing():
            return
        try:
            self._split(data)
        except ProtocolError as error:
            self._bad_input(error)
            return
        self.pump()

    def pause_writing(self) -> None:
        self._write_paused = True
        self._regulate_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self.pump()

    # -- node control ------------------------------------------------------------------

    def drop(self, abrupt: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if abrupt:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.transport.abort()
        else:
            self.transport.close()

    def release_held(self) -> None:
        """Put the requests an exchange held back in front of the queue, in order."""
        if self._held:
            self._queue.extendleft(reversed(self._held))
            self._queued += sum(len(frame) for frame in self._held)
            self._held.clear()
        self.pump()

    def refuse_in_flight(self, message: str) -> None:
        """Answer every request received and not answered yet with an error (status 1)."""
        if self._closing() or self.session.context is None:
            return
        self._flush_delayed(everything=True)
        out = bytearray(b"".join(self._shuffled))
        self._shuffled.clear()
        request_ids = [self._busy[0]] if self._busy is not None else []
        for frame in [*self._held, *self._queue]:
            if len(frame) >= _REQUEST_HEAD.size:
                request_ids.append(_REQUEST_HEAD.unpack_from(frame)[1])
        for request_id in request_ids:
            self._error(out, request_id, StatusCode.FAILED, message, shuffle=False)
        self._held.clear()
        self._queue.clear()
        self._busy = None
        if out:
            self.transport.write(out)  # type: ignore[union-attr]

    # -- working through the queue -------------------------------------------------------

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _split(self, data: bytes) -> None:
        """Queue the complete frames; before the handshake only one at a time.

        The handshake decides the frame limit for what follows it, so frames
        after the first stay in the decoder until the handshake is answered.
        """
        for frame in self.frames.feed(data):
            self._queue.append(frame)
            self._queued += len(frame)
            if self.session.context is None:
                break

    def _may_work(self) -> bool:
        return not (
            self.node.hung
            or self._busy is not None
            or self._answering_late
            or self._write_paused
            or self._closing()
        )

    def pump(self) -> None:
        """Work through queued frames while allowed; answers leave as they are ready."""
        out = bytearray()
        try:
            while self._queue and self._may_work():
                frame = self._queue.popleft()
                self._queued -= len(frame)
                if self.session.context is None:
                    self._handshake(frame, out)
                    if not self._answering_late:
                        self._split(b"")
                    continue
                self._request(frame, out)
                if len(out) >= WRITE_LOW_WATER:
                    self._send(out)
                    out = bytearray()
        except ProtocolError as error:
            self._send(out)
            self._bad_input(error)
            return
        self._send(out)
        self._regulate_reading()

    def _regulate_reading(self) -> None:
        if self._closing():
            return
        # Complete frames not worked through yet; a frame still arriving is not
        # counted (its size is capped by the frame limit), except before the
        # handshake, where whole frames may wait in the decoder.
        backlog = self._queued + sum(len(frame) for frame in self._held)
        if self.session.context is None:
            backlog += self.frames.pending
        limit = READ_BACKLOG if self.session.context is not None else 2 * PRE_HANDSHAKE_MAX_FRAME
        stop = self._write_paused or backlog > limit
        if stop and not self._read_paused:
            self.transport.pause_reading()  # type: ignore[union-attr]
            self._read_paused = True
        elif not stop and self._read_paused:
            self.transport.resume_reading()  # type: ignore[union-attr]
            self._read_paused = False

    def _bad_input(self, error: ProtocolError) -> None:
        log.warning("node %d: closing a connection that sent bad bytes: %s", self.node.index, error)
        self.drop(abrupt=False)

    # -- timeouts ------------------------------------------------------------------------

    def _handshake_expired(self) -> None:
        self._timer = None
        if self.session.context is None and not self._closing():
            log.warning("node %d: closing a connection that did not shake hands within %s s",
                        self.node.index, self.node.options.handshake_timeout)  # fmt: skip
            self.drop(abrupt=False)

    def _start_idle_timer(self) -> None:
        idle = self.node.options.idle_timeout
        if idle > 0:
            self._timer = asyncio.get_running_loop().call_later(idle, self._idle_check)

    def _idle_check(self) -> None:
        self._timer = None
        if self._closing():
            return
        loop = asyncio.get_running_loop()
        idle = self.node.options.idle_timeout
        quiet = loop.time() - self._last_active
        if quiet >= idle and self._busy is None and not self._held:
            log.info("node %d: closing a connection idle for %.1f s", self.node.index, quiet)
            self.drop(abrupt=False)
            return
        self._timer = loop.call_later(max(idle - quiet, 0.01), self._idle_check)

    # -- output ------------------------------------------------------------------------

    def _send(self, out: bytearray) -> None:
        """Write now, or after the node's latency; answers never overtake each other."""
        if not out or self._closing():
            return
        loop = asyncio.get_running_loop()
        self._last_active = loop.time()
        latency = self.node.latency
        if latency <= 0 and not self._delayed:
            self.transport.write(out)  # type: ignore[union-attr]
            return
        self._delayed.append((loop.time() + latency, bytes(out)))
        if len(self._delayed) == 1:
            loop.call_at(self._delayed[0][0], self._flush_delayed)

    def _flush_delayed(self, everything: bool = False) -> None:
        loop = asyncio.get_running_loop()
        delayed = self._delayed
        while delayed and (everything or delayed[0][0] <= loop.time()):
            _, data = delayed.popleft()
            if not self._closing():
                self.transport.write(data)  # type: ignore[union-attr]
        if delayed:
            loop.call_at(delayed[0][0], self._flush_delayed)

    def _answer(self, out: bytearray, start: int) -> None:
        """An answer is complete at ``out[start:]``; under ``reorder`` it waits to be shuffled."""
        if not self.node.options.reorder:
            return
        if not self._shuffled:
            asyncio.get_running_loop().call_soon(self._flush_shuffled)
        self._shuffled.append(bytes(out[start:]))
        del out[start:]

    def _flush_shuffled(self) -> None:
        """Answers leave in completion order, as from a thread pool: seeded, reproducible."""
        answers, self._shuffled = self._shuffled, []
        if len(answers) > 1:
            self._rng.shuffle(answers)
        self._send(bytearray(b"".join(answers)))

    # -- protocol ----------------------------------------------------------------------

    def _handshake(self, frame: bytes, out: bytearray) -> None:
        """Accept or refuse; a refused client may retry on the same socket (fact sheet §2.3)."""
        if len(frame) < _HANDSHAKE_HEAD.size:
            raise ProtocolError(f"handshake of {len(frame)} bytes")
        code, major, minor, patch, client_type = _HANDSHAKE_HEAD.unpack_from(frame, 0)
        if code != HANDSHAKE_CODE:  # Ignite closes the session
            raise ProtocolError(f"expected a handshake (code 1), got code {code}")
        asked = ProtocolVersion(major, minor, patch)
        if client_type != CLIENT_TYPE_THIN:  # checked before the version, with 0.0.0
            message = _DISABLED_CLIENT_TYPES.get(client_type, f"Unknown client type: {client_type}")
            out += encode_handshake_failure(asked, NO_VERSION, message, StatusCode.FAILED)
            return
        if asked not in SUPPORTED_VERSIONS:  # the rest of the layout depends on the version
            message = f"Unsupported version: {asked}"
            out += encode_handshake_failure(asked, LATEST, message, StatusCode.FAILED)
            return
        request = decode_handshake_request(frame)
        attributes = request.user_attributes
        if attributes is not None and len(attributes) > MAX_USER_ATTRIBUTES:
            raise ProtocolError(f"{len(attributes)} user attributes, {MAX_USER_ATTRIBUTES} at most")
        result = accept_handshake(request, SERVER_FEATURES, self.node.options.credentials)
        if isinstance(result, HandshakeFailure):
            if result.status == StatusCode.AUTH_FAILED:
                self._refuse_login(asked, result)
                return
            out += encode_handshake_failure(asked, result.server_version, result.message,
                                            result.status or StatusCode.FAILED)  # fmt: skip
            return
        self.session.context = result
        self.frames.max_frame_size = DEFAULT_MAX_FRAME_SIZE
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._start_idle_timer()
        out += encode_handshake_success(result, self.node.model.nodes[self.node.index].node_id)

    def _refuse_login(self, asked: ProtocolVersion, failure: HandshakeFailure) -> None:
        """Answer a refused login only after a delay, without echoing the user name."""
        message = failure.message
        if "userName" in message:
            message = "The user name or password is incorrect."
        answer = encode_handshake_failure(asked, NO_VERSION, message, StatusCode.AUTH_FAILED)
        self._answering_late = True

        def answer_now() -> None:
            self._answering_late = False
            if self._closing():
                return
            self.transport.write(answer)  # type: ignore[union-attr]
            try:
                self._split(b"")
            except ProtocolError as error:
                self._bad_input(error)
                return
            self.pump()

        asyncio.get_running_loop().call_later(AUTH_FAILURE_DELAY, answer_now)

    def _request(self, frame: bytes, out: bytearray) -> None:
        if len(frame) < _REQUEST_HEAD.size:
            raise ProtocolError(f"request of {len(frame)} bytes has no header")
        op, request_id = _REQUEST_HEAD.unpack_from(frame, 0)
        op &= 0xFFFF
        if self.node.exchanging and op in _EXCHANGE_HELD:
            self._held.append(frame)  # counted when it is served
            return
        self.session.stats.requests += 1
        body = self._body
        body.clear()
        try:
            steps = self._handle(op, memoryview(frame), body)
        except ServerError as error:
            self._error(out, request_id, error.status, error.message)
        except ProtocolError:
            raise  # the body cannot be parsed: Ignite closes the session, no answer
        except _SEMANTIC_FAILURES as error:
            log.warning("node %d: op %d failed: %s", self.node.index, op, error)
            self._error(out, request_id, StatusCode.FAILED, str(error))
        except Exception as error:
            log.exception("node %d: op %d failed unexpectedly", self.node.index, op)
            self._error(out, request_id, StatusCode.FAILED, f"{type(error).__name__}: {error}")
        else:
            if steps is not None:
                self._busy = (request_id, steps, body)
                self._body = bytearray()  # that one is the big request's until it is done
                asyncio.get_running_loop().call_soon(self._step)
                return
            self._success(out, request_id, body)

    def _handle(self, op: int, view: memoryview, body: bytearray) -> Iterator[None] | None:
        """Run the handler; bytes after a complete body are ignored, as Ignite ignores them."""
        while True:
            try:
                return handle_request(self.session, op, view, _REQUEST_HEAD.size, body)
            except TrailingBytesError as error:
                if error.end >= len(view):
                    raise
                view = view[: error.end]
                body.clear()

    def _step(self) -> None:
        """One step of a big request; other connections and nodes run in between."""
        busy = self._busy
        if busy is None or self._closing():
            return
        request_id, steps, body = busy
        out = bytearray()
        try:
            next(steps)
        except StopIteration:
            self._busy = None
            self._success(out, request_id, body)
        except ServerError as error:
            self._busy = None
            self._error(out, request_id, error.status, error.message)
        except ProtocolError as error:
            self._busy = None
            self._bad_input(error)
            return
        except Exception as error:
            self._busy = None
            log.exception("node %d: a request failed unexpectedly", self.node.index)
            self._error(out, request_id, StatusCode.FAILED, f"{type(error).__name__}: {error}")
        else:
            asyncio.get_running_loop().call_soon(self._step)
            return
        self._send(out)
        self.pump()

    def _success(self, out: bytearray, request_id: int, body: bytearray) -> None:
        # The header is written after the operation, so it reports what the op changed.
        session = self.session
        start = begin_response(out, session.negotiated, request_id, session.topology_to_report())
        out += body
        finish_frame(out, start)
        self._answer(out, start)

    def _error(
        self, out: bytearray, request_id: int, status: int, message: str, shuffle: bool = True
    ) -> None:
        self.session.stats.errors += 1
        topology = self.session.topology_to_report()
        start = len(out)
        encode_error_response(out, self.session.negotiated, request_id, status, message, topology)
        if shuffle:
            self._answer(out, start)
