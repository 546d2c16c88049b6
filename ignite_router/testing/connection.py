"""One client connection of a local node: handshake, then requests, as Ignite serves them.

A connection works through the frames it received in order, one request at
a time, but only while it may: not while its node is hung, paused or
blackholed, while its answers pile up unread (write backpressure), while a
refused login is answered late, while its node's request path is slow
(``request_latency``: a frame waits that long after it was read), or while
a big request is worked through step by step. Cache operations that arrive
during a topology change wait for the exchange to end, or are refused with
Ignite's error when the cluster refuses them. Requests that cannot be
parsed close the connection without an answer, as Ignite does
(``ClientListenerNioListener.onMessage``).

An operation that waits for another node (or for a slow request path) lets
the connection go on with the next request; its answer leaves when it is
done, so answers may leave out of order, as from Ignite's thread pool.
Everything a node has read is executed even if the client closes the
connection meanwhile (Ignite does not check before running a request); the
answers are dropped. Only a hung node drops what it holds when the client
leaves.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections import deque
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
from ignite_router.testing import kv
from ignite_router.testing.handlers import Handler, Steps, handle_request
from ignite_router.testing.interconnect import Delay, Until, Verdict, Wait, Waiter
from ignite_router.testing.session import Session

if TYPE_CHECKING:
    from ignite_router.testing.server import NodeServer

__all__ = ["AUTH_FAILURE_DELAY", "SERVER_FEATURES", "ServerConnection"]

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
ORPHAN_BATCH = 256  # requests of a closed connection run per turn of the loop
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_REQUEST_HEAD = struct.Struct("<hq")  # op code, request id
_HANDSHAKE_HEAD = struct.Struct("<bhhhb")  # code, version, client type
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


class _Op:
    """A request whose work is not done yet (see :meth:`ServerConnection._advance`)."""

    __slots__ = ("body", "done", "request_id", "steps", "timer", "waiter")

    def __init__(self, request_id: int, steps: Steps, body: bytearray) -> None:
        self.request_id = request_id
        self.steps = steps
        self.body = body
        self.done = False
        self.timer: asyncio.Handle | None = None
        self.waiter: tuple[int, Waiter] | None = None  # (the node it waits for, its place)


class ServerConnection(asyncio.BufferedProtocol):
    """One client connection of a node: handshake, then requests, as Ignite serves them.

    A buffered protocol: the transport reads into the node's buffer
    (:meth:`get_buffer`), which spares a 256 KiB allocation per read, the bulk
    of a small request's cost with ``asyncio.Protocol``.
    """

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        options = node.options
        stats = node.model.nodes[node.index].stats
        self.session = Session(
            node.model, node.index, stats, options.host, idle_timeout=options.idle_timeout
        )
        self.session.pace = lambda: node.request_latency
        self.frames = FrameDecoder(PRE_HANDSHAKE_MAX_FRAME)
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()  # connections are made on the cluster's loop
        self._queue: deque[tuple[bytes, float]] = deque()  # (frame, time read), not worked on
        self._queued = 0  # their bytes
        self._held: list[bytes] = []  # cache requests waiting for an exchange to end
        self._delayed: deque[tuple[float, bytes]] = deque()  # (due time, answers) under latency
        self._shuffled: list[bytes] = []  # answers waiting to leave in a shuffled order
        self._busy: _Op | None = None  # an operation working step by step, holding the queue
        self._parked: dict[_Op, None] = {}  # operations waiting elsewhere, in start order
        self._stalled: list[tuple[_Op, Verdict | None]] = []  # ready while the node cannot act
        self._body = bytearray()  # reused for every answer body
        self._answering_late = False  # a refused login is waiting for its answer
        self._write_paused = False
        self._read_paused = False
        self._pumping = False
        self._orphaned = False  # the client left; what was read still runs
        self._dead = False  # the node stopped: nothing more runs
        self._swallowing = False  # blackholed bytes no longer make frames
        self._timer: asyncio.TimerHandle | None = None  # handshake or idle timeout
        self._wakeup: asyncio.TimerHandle | None = None  # the next frame of a slow request path
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
        loop = self._loop
        self._last_active = loop.time()
        timeout = self.node.options.handshake_timeout
        if timeout > 0:
            self._timer = loop.call_later(timeout, self._handshake_expired)
        self.regulate_reading()  # a paused node does not read

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._delayed.clear()
        self._shuffled.clear()
        if self._dead or self.session.context is None:
            self.stop_work()
        else:
            if self.node.hung:  # a hang drops what it held when the client leaves
                self._queue.clear()
                self._queued = 0
                self._held.clear()
            self._orphaned = True
            self.pump()
        self._forget_if_done()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.node.inbox

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self.node.inbox[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        self._last_active = self._loop.time()
        if self.node.blackholed:
            self._swallow(data)
            return
        if self._gone():
            return
        if self._routine():
            self._serve_at_once(data)
            return
        try:
            self._split(data)
        except ProtocolError as error:
            self._bad_input(error)
            return
        self.pump()

    def _routine(self) -> bool:
        """Nothing waits and nothing slows this node: requests can be served as they come."""
        node = self.node
        return not (
            self._queue
            or self._busy is not None
            or self._held
            or self._stalled
            or self._write_paused
            or self._orphaned
            or self.session.context is None
            or node.hung
            or node.paused
            or node.exchanging
            or node.request_latency
        )

    def _serve_at_once(self, data: bytes) -> None:
        """The fast path: serve each complete frame now, without queueing it.

        The same request handling as :meth:`pump`, minus its bookkeeping; if a
        request starts work that holds the connection, or the answers pile up
        unread, the frames after it are queued as :meth:`pump` would have left
        them.
        """
        out = bytearray()
        frames = self.frames.feed(data)
        try:
            for frame in frames:
                self._request(frame, out)
                if len(out) >= WRITE_LOW_WATER:
                    self._send(out)
                    out = bytearray()
                if self._busy is not None or self._write_paused:
                    now = self._last_active
                    for rest in frames:
                        self._queue.append((rest, now))
                        self._queued += len(rest)
                    break
        except ProtocolError as error:
            self._send(out)
            self._bad_input(error)
            return
        self._send(out)
        if self._queue:
            self.regulate_reading()

    def pause_writing(self) -> None:
        self._write_paused = True
        self.regulate_reading()

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
            self._queue.extendleft((frame, 0.0) for frame in reversed(self._held))
            self._queued += sum(len(frame) for frame in self._held)
            self._held.clear()
        self.pump()

    def refuse_in_flight(self, message: str) -> None:
        """Answer every request received and not answered yet with an error (status 1).

        None of them is applied any further (a multi-key write that was half
        way keeps the keys it wrote).
        """
        if self._gone() or self.session.context is None:
            self.stop_work()
            return
        self._flush_delayed(everything=True)
        out = bytearray(b"".join(self._shuffled))
        self._shuffled.clear()
        request_ids = [op.request_id for op in self._ops()]
        for frame in [*self._held, *(frame for frame, _ in self._queue)]:
            if len(frame) >= _REQUEST_HEAD.size:
                request_ids.append(_REQUEST_HEAD.unpack_from(frame)[1])
        self.stop_work()
        for request_id in request_ids:
            self._error(out, request_id, StatusCode.FAILED, message, shuffle=False)
        if out:
            self.transport.write(out)  # type: ignore[union-attr]

    def stop_work(self) -> None:
        """Drop every request not answered yet, without applying it (the node stops)."""
        self._dead = True
        self.discard_work()

    def discard_work(self) -> None:
        """Drop what was read and not answered: nothing of it is applied or answered."""
        for op in self._ops():
            self._cancel(op)
        self._busy = None
        self._parked.clear()
        self._stalled.clear()
        self._queue.clear()
        self._queued = 0
        self._held.clear()
        self._delayed.clear()
        self._shuffled.clear()
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None

    def healed(self) -> None:
        """The node works again: a connection whose bytes were swallowed mid-frame is closed."""
        if self._swallowing:
            self.drop(abrupt=False)
            return
        self.regulate_reading()
        self._flush_delayed()
        self.pump()

    # -- working through the queue -------------------------------------------------------

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _gone(self) -> bool:
        """Nothing more runs here: the node stopped, or the client left and nothing is owed."""
        return self._dead or (self._closing() and not self._orphaned)

    def _split(self, data: bytes) -> None:
        """Queue the complete frames; before the handshake only one at a time.

        The handshake decides the frame limit for what follows it, so frames
        after the first stay in the decoder until the handshake is answered.
        """
        now = self._last_active
        for frame in self.frames.feed(data):
            self._queue.append((frame, now))
            self._queued += len(frame)
            if self.session.context is None:
                break

    def _swallow(self, data: bytes) -> None:
        """A blackholed node reads and drops every frame, keeping the framing for later."""
        if self._swallowing:
            return
        try:
            for _ in self.frames.feed(data):
                pass
        except ProtocolError:
            self._swallowing = True  # the stream cannot be followed any more

    def _may_work(self) -> bool:
        node = self.node
        return not (
            node.hung
            or node.paused
            or node.blackholed
            or self._busy is not None
            or self._answering_late
            or (self._write_paused and not self._orphaned)
            or self._gone()
        )

    def pump(self) -> None:
        """Work through queued frames while allowed; answers leave as they are ready."""
        if self._pumping:
            return  # the loop below goes on where it is
        self._pumping = True
        try:
            self._pump()
        finally:
            self._pumping = False
        self._forget_if_done()

    def _pump(self) -> None:
        if self._stalled and self.node.can_act():
            stalled, self._stalled = self._stalled, []
            for op, verdict in stalled:
                self._advance(op, verdict)
        out = bytearray()
        loop = self._loop
        budget = ORPHAN_BATCH if self._orphaned else -1
        try:
            while self._queue and self._may_work():
                frame, read_at = self._queue[0]
                if self.session.context is not None:
                    due = read_at + self.node.request_latency
                    if due > read_at and due > loop.time():
                        self._wake_at(due)
                        break
                    if budget == 0:
                        loop.call_soon(self.pump)
                        break
                    budget -= 1
                self._queue.popleft()
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
        self.regulate_reading()

    def _wake_at(self, due: float) -> None:
        if self._wakeup is None or self._wakeup.when() > due:
            if self._wakeup is not None:
                self._wakeup.cancel()
            self._wakeup = self._loop.call_at(due, self._woken)

    def _woken(self) -> None:
        self._wakeup = None
        self.pump()

    def _forget_if_done(self) -> None:
        """A connection the client closed leaves its node once nothing it read is left."""
        if not self._closing() or self._queue or self._held or self._busy is not None:
            return
        if self._parked or self._stalled:
            return
        self.node.connections.pop(self, None)
        self.session.transactions.clear()  # open transactions roll back
        self.session.cursors.clear()
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None

    def regulate_reading(self) -> None:
        if self._closing():
            return
        # Complete frames not worked through yet; a frame still arriving is not
        # counted (its size is capped by the frame limit), except before the
        # handshake, where whole frames may wait in the decoder.
        backlog = self._queued + sum(len(frame) for frame in self._held)
        if self.session.context is None:
            backlog += self.frames.pending
        limit = READ_BACKLOG if self.session.context is not None else 2 * PRE_HANDSHAKE_MAX_FRAME
        node = self.node
        stop = node.paused or (not node.blackholed and (self._write_paused or backlog > limit))
        if stop and not self._read_paused:
            self.transport.pause_reading()  # type: ignore[union-attr]
            self._read_paused = True
        elif not stop and self._read_paused:
            self.transport.resume_reading()  # type: ignore[union-attr]
            self._read_paused = False

    def _bad_input(self, error: ProtocolError) -> None:
        log.warning("node %d: closing a connection that sent bad bytes: %s", self.node.index, error)
        self.drop(abrupt=False)

    # -- operations that wait ----------------------------------------------------------

    def _ops(self) -> list[_Op]:
        ops = [self._busy] if self._busy is not None else []
        ops.extend(op for op in self._parked if op is not self._busy)
        ops.extend(op for op, _ in self._stalled if op is not self._busy and op not in self._parked)
        return ops

    def _start(self, request_id: int, steps: Steps, body: bytearray) -> None:
        """A request that did not finish at once: it holds the queue until it waits."""
        op = _Op(request_id, steps, body)
        self._body = bytearray()  # that one is the operation's until it is done
        self._busy = op
        self._advance(op, None)

    def _advance(self, op: _Op, verdict: Verdict | None) -> None:
        """Run ``op`` to its next wait, or to its answer."""
        if op.done:
            return
        op.timer = None
        op.waiter = None
        if not self.node.can_act():  # this very node is paused or hung: go on later
            self._stalled.append((op, verdict))
            return
        out = bytearray()
        try:
            wait = op.steps.send(verdict)
        except StopIteration:
            self._success(out, op.request_id, op.body)
        except ServerError as error:
            self._error(out, op.request_id, error.status, error.message)
        except ProtocolError as error:  # a big body that cannot be parsed: no answer
            op.done = True
            if self._busy is op:
                self._busy = None
            self._parked.pop(op, None)
            self._bad_input(error)
            return
        except Exception as error:
            log.exception("node %d: a request failed unexpectedly", self.node.index)
            self._error(out, op.request_id, StatusCode.FAILED, f"{type(error).__name__}: {error}")
        else:
            self._wait(op, wait)
            return
        self._finish(op, out)

    def _wait(self, op: _Op, wait: Wait) -> None:
        loop = self._loop
        if wait is None:  # work to go on with: let other connections run first
            op.timer = loop.call_soon(self._advance, op, None)
            return
        if self._busy is op:  # waiting elsewhere: the connection goes on meanwhile
            self._busy = None
            self._parked[op] = None
            loop.call_soon(self.pump)
        if isinstance(wait, Delay):
            op.timer = loop.call_later(wait.seconds, self._advance, op, None)
        elif isinstance(wait, Until):
            links = self.node.model.links
            waiter = links.park(wait.node, lambda verdict: self._advance(op, verdict))
            op.waiter = (wait.node, waiter)

    def _finish(self, op: _Op, out: bytearray) -> None:
        op.done = True
        held_queue = self._busy is op
        if held_queue:
            self._busy = None
        self._parked.pop(op, None)
        self._send(out)
        if held_queue:
            self.pump()
        else:
            self._forget_if_done()

    def _cancel(self, op: _Op) -> None:
        op.done = True
        if op.timer is not None:
            op.timer.cancel()
        if op.waiter is not None:
            node, waiter = op.waiter
            self.node.model.links.unpark(node, waiter)
        op.steps.close()

    # -- timeouts ------------------------------------------------------------------------

    def _frozen(self) -> bool:
        """A paused or blackholed node closes nothing on its own."""
        return self.node.paused or self.node.blackholed

    def _handshake_expired(self) -> None:
        self._timer = None
        if self.session.context is not None or self._closing():
            return
        timeout = self.node.options.handshake_timeout
        if self._frozen():
            self._timer = self._loop.call_later(timeout, self._handshake_expired)
            return
        log.warning("node %d: closing a connection that did not shake hands within %s s",
                    self.node.index, timeout)  # fmt: skip
        self.drop(abrupt=False)

    def _start_idle_timer(self) -> None:
        idle = self.node.options.idle_timeout
        if idle > 0:
            self._timer = self._loop.call_later(idle, self._idle_check)

    def _idle_check(self) -> None:
        self._timer = None
        if self._closing():
            return
        loop = self._loop
        idle = self.node.options.idle_timeout
        quiet = loop.time() - self._last_active
        busy = self._busy is not None or self._held or self._parked or self._stalled
        if quiet >= idle and not busy and not self._frozen():
            log.info("node %d: closing a connection idle for %.1f s", self.node.index, quiet)
            self.drop(abrupt=False)
            return
        self._timer = loop.call_later(max(idle - quiet, 0.01), self._idle_check)

    # -- output ------------------------------------------------------------------------

    def _send(self, out: bytearray) -> None:
        """Write now, or after the node's latency; answers never overtake each other."""
        if not out or self._closing() or self.node.blackholed:
            return
        loop = self._loop
        self._last_active = loop.time()
        latency = self.node.latency
        if self.node.paused:  # a paused node writes nothing: they leave when it resumes
            self._delayed.append((loop.time(), bytes(out)))
            return
        if latency <= 0 and not self._delayed:
            self.transport.write(out)  # type: ignore[union-attr]
            return
        self._delayed.append((loop.time() + latency, bytes(out)))
        if len(self._delayed) == 1:
            loop.call_at(self._delayed[0][0], self._flush_delayed)

    def _flush_delayed(self, everything: bool = False) -> None:
        if self.node.paused and not everything:
            return  # resume_node flushes
        loop = self._loop
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
            self._loop.call_soon(self._flush_shuffled)
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
        """Accept or refuse; a refused client may retry on the same socket (Ignite's behaviour)."""
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
            if self._closing() or self.node.blackholed:
                return
            self.transport.write(answer)  # type: ignore[union-attr]
            try:
                self._split(b"")
            except ProtocolError as error:
                self._bad_input(error)
                return
            self.pump()

        self._loop.call_later(AUTH_FAILURE_DELAY, answer_now)

    def _request(self, frame: bytes, out: bytearray) -> None:
        if len(frame) < _REQUEST_HEAD.size:
            raise ProtocolError(f"request of {len(frame)} bytes has no header")
        op, request_id = _REQUEST_HEAD.unpack_from(frame, 0)
        op &= 0xFFFF
        handler: Handler | None = None
        if self.node.exchanging and op in _EXCHANGE_HELD:
            if not (self.node.refusing and op in kv.KEY_OPS):
                self._held.append(frame)  # counted when it is served
                return
            handler = kv.refuse  # the topology changed under it: refused, not applied
        self.session.stats.requests += 1
        body = self._body
        body.clear()
        try:
            steps = self._handle(op, memoryview(frame), body, handler)
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
                self._start(request_id, steps, body)
                return
            self._success(out, request_id, body)

    def _handle(
        self, op: int, view: memoryview, body: bytearray, handler: Handler | None
    ) -> Steps | None:
        """Run the handler; bytes after a complete body are ignored, as Ignite ignores them."""
        while True:
            try:
                if handler is not None:
                    handler(self.session, op, view, _REQUEST_HEAD.size, body)
                    return None
                return handle_request(self.session, op, view, _REQUEST_HEAD.size, body)
            except TrailingBytesError as error:
                if error.end >= len(view):
                    raise
                view = view[: error.end]
                body.clear()

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
