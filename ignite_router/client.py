"""``Client``: the blocking shell around the core (sockets and threads).

One TCP connection per node. Any number of threads may share a ``Client``:
a request is written under its connection's send lock, and its answer is
matched by request id. Whichever waiting thread holds the connection's read
turn reads and hands every answer to the thread waiting for it, so requests
to one node from many threads stay in flight together and nodes never wait
for each other. The core's decisions (pure, microseconds) run under one lock;
no I/O happens under it. A background thread reopens connections to nodes
that went down, on the reconnection schedule.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from ignite_router.core.engine import (
    NOT_ROUTINE,
    Attempt,
    Outcome,
    Pause,
    ReadBatch,
    Request,
    Step,
    parallel,
)
from ignite_router.core.nodes import Node
from ignite_router.errors import (
    AuthenticationError,
    ConnectionLostError,
    FailureClass,
    HandshakeError,
    IgniteError,
    NoNodeAvailableError,
    ProtocolError,
    RequestTimeoutError,
)
from ignite_router.protocol.connection import Answer, ClientConnection, Handshaken
from ignite_router.protocol.header import patch_request_id
from ignite_router.protocol.wire import I64
from ignite_router.sync_api import SyncClientApi

__all__ = ["Client"]

# Reads go into one buffer per connection: a fresh 256 KiB bytes object per recv() would
# cost an mmap/munmap pair each time.
_RECV_SIZE = 1 << 18
_REQUEST_ID_OFFSET = 6  # i32 length, i16 op code, then the i64 request id
_GRACE = 0.05  # seconds an answer awaited after another one may still take
# A connection unused for this long is checked for a close that waits unread before a request
# goes out on it: nobody reads an idle blocking socket, so a node's FIN or RST stays unseen,
# and a write sent into it would count as lost with the node instead of never delivered.
# A busy connection (requests microseconds apart) is never checked: the check is a syscall.
_IDLE_PROBE = 0.001
# A hedged read waits for the backup's answer this long (s) at a time, then glances at the
# primary's for _HEDGE_GLANCE: the primary's answer is seen at most this late.
_HEDGE_CHECK = 0.001
_HEDGE_GLANCE = 0.0001
_NOT_DELIVERED = FailureClass.NOT_DELIVERED
_PEER_GONE = FailureClass.PEER_GONE


class _Slot:
    """Where an answer (or the connection's failure) is left for the waiting thread."""

    __slots__ = ("outcome",)

    def __init__(self) -> None:
        self.outcome: Outcome | None = None


class _HedgedRead:
    """One read on its way in :meth:`Client._hedge`."""

    __slots__ = (
        "backup",
        "delay",
        "first",
        "hedged_at",
        "other",
        "outcome",
        "primary",
        "request",
        "second",
        "slot",
        "started",
    )

    def __init__(self, request: Request, primary: Node, backup: Node, delay: float | None):
        self.request = request
        self.primary = primary
        self.backup = backup
        self.delay = delay
        self.first: SyncConnection | None = None
        self.second: SyncConnection | None = None
        self.slot: _Slot | None = None  # the primary's answer
        self.other: _Slot | None = None  # the backup's answer, once hedged
        self.outcome: Outcome | None = None  # the primary could not be asked
        self.started = self.hedged_at = 0.0


class SyncConnection:
    """One node's socket: handshake, send, and the read turn shared by waiting threads.

    A thread that waits for an answer takes the read turn if it is free and
    reads until its own answer is in, leaving every other answer in its
    slot. Threads that find the turn taken wait on a condition until their
    answer is in or the turn is free. A lone thread only ever touches two
    plain locks (C-level), never the condition.
    """

    def __init__(self, client: Client, node: Node) -> None:
        self.client = client
        self.node = node
        self.sock: socket.socket | None = None
        self.protocol = ClientConnection(client.core.handshake)
        self.error: ConnectionLostError | None = None
        self._pending: dict[int, _Slot] = {}
        self._state = threading.Lock()  # pending requests and the error
        self._send_lock = threading.Lock()
        self._read_turn = threading.Lock()
        self._turn = threading.Condition(threading.Lock())  # wakes waiting followers
        self._followers = 0
        self._buffer = memoryview(bytearray(_RECV_SIZE))
        # A hedging client's reads wake every timer tick (SO_RCVTIMEO), so that a wait
        # bounded by a hedge delay needs no select (see _recv_until).
        self._ticking = client.core.hedging
        # A TLS socket's timeout is Python's (a plain socket's is the kernel's: None here).
        self._socket_timeout: float | None = None

    @property
    def in_flight(self) -> int:
        """Requests sent on this connection and not answered yet."""
        return len(self._pending)

    @property
    def alive(self) -> bool:
        return self.error is None and self.sock is not None

    def open(self) -> Handshaken:
        """Connect and handshake within the handshake timeout."""
        client = self.client
        host, port = self.node.endpoint
        deadline = time.monotonic() + client.handshake_timeout
        try:
            sock = socket.create_connection((host, port), timeout=client.handshake_timeout)
        except OSError as error:
            raise ConnectionLostError(
                f"cannot connect: {error}", self.node.endpoint, _NOT_DELIVERED
            ) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if client.ssl_context is not None:
                sock = client.ssl_context.wrap_socket(sock, server_hostname=host)
                # Python's TLS read retries a read the kernel timed out (SO_RCVTIMEO) for
                # as long as no record is complete: only its own timeout ends it.
                self._ticking = False
                self._socket_timeout = client.timeout
            sock.sendall(self.protocol.handshake_frame())
            result = None
            while result is None:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                size = sock.recv_into(self._buffer)
                if not size:
                    raise ConnectionLostError(
                        "closed during the handshake", self.node.endpoint, _NOT_DELIVERED
                    )
                for event in self.protocol.receive(self._buffer[:size]):
                    if isinstance(event, Handshaken):
                        result = event
                    elif isinstance(event, bytes):
                        sock.sendall(event)
            if self._socket_timeout is None:
                _kernel_timeouts(sock, client.timeout, self._ticking)
            else:
                sock.settimeout(self._socket_timeout)
        except (HandshakeError, ConnectionLostError):
            _shut(sock)
            raise
        except TimeoutError:
            _shut(sock)
            raise RequestTimeoutError(
                "no handshake answer in time", self.node.endpoint, _NOT_DELIVERED
            ) from None
        except ssl.SSLError as error:
            _shut(sock)
            raise ConnectionLostError(
                f"TLS handshake failed: {error}", self.node.endpoint, _NOT_DELIVERED
            ) from None
        except (OSError, ProtocolError) as error:
            _shut(sock)
            raise ConnectionLostError(
                f"handshake failed: {error}", self.node.endpoint, _NOT_DELIVERED
            ) from None
        self.sock = sock
        return result

    def submit(self, frame: bytes | bytearray) -> _Slot:
        """Send a request; its answer will be left in the returned slot."""
        (request_id,) = I64.unpack_from(frame, _REQUEST_ID_OFFSET)
        slot = _Slot()
        with self._state:
            if self.error is not None:
                raise ConnectionLostError(
                    f"connection already lost ({self.error})", self.node.endpoint, _NOT_DELIVERED
                )
            self._pending[request_id] = slot
        self.node.last_sent = time.monotonic()
        try:
            with self._send_lock:
                self.sock.sendall(frame)  # type: ignore[union-attr]
        except OSError as error:
            # Requests written before were delivered; this one never arrived whole, and a
            # server executes only whole frames.
            self.fail(
                ConnectionLostError(f"send failed: {error}", self.node.endpoint, _fate(error))
            )
            slot.outcome = ConnectionLostError(
                f"send failed: {error}", self.node.endpoint, _NOT_DELIVERED
            )
        return slot

    def probe(self) -> bool:
        """Whether an idle connection is still open; a close waiting unread ends it now.

        Only a connection with no request in flight and no reader is looked at
        (anything else has a reader that will see the close).
        """
        if self._pending or not self._read_turn.acquire(blocking=False):
            return True
        try:
            sock = self.sock
            if sock is None:
                return True
            try:
                if not select.select([sock], [], [], 0)[0]:
                    return True
                sock.setblocking(False)  # the kernel timeouts (SO_RCVTIMEO) stay as they are
                try:
                    size = sock.recv_into(self._buffer)
                finally:
                    sock.settimeout(self._socket_timeout)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return True
            except (OSError, ValueError):  # reset, or closed by another thread meanwhile
                size = 0
            if size:
                # A request may have been sent since the check above: its answer is
                # left in its slot, as the reading thread would.
                try:
                    self._deliver(self.protocol.receive(self._buffer[:size]))
                except ProtocolError as error:
                    self.fail(ConnectionLostError(f"malformed answer: {error}", self.node.endpoint))
                    return False
                return True
        finally:
            self._read_turn.release()
            self._wake_followers()  # a thread that found the turn taken may read now
        self.fail(ConnectionLostError("closed by the server while idle", self.node.endpoint))
        return False

    def wait(self, slot: _Slot, deadline: float | None) -> Outcome:
        """The answer for ``slot`` (or the error that ended the connection)."""
        read_turn = self._read_turn
        while slot.outcome is None:
            if read_turn.acquire(blocking=False):
                try:
                    self._read(slot, deadline)
                finally:
                    read_turn.release()
                    self._wake_followers()
                break
            turn = self._turn
            with turn:
                self._followers += 1
                try:
                    while slot.outcome is None and read_turn.locked():
                        remaining = None if deadline is None else deadline - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            break
                        turn.wait(remaining)
                finally:
                    self._followers -= 1
            if slot.outcome is None and deadline is not None and time.monotonic() >= deadline:
                return self._timed_out()  # the reading thread never got our answer
        return slot.outcome  # type: ignore[return-value]

    def wait_until(self, slot: _Slot, until: float, precise: bool = True) -> bool:
        """Wait for ``slot``'s answer until ``until`` (monotonic); whether it is in.

        Unlike :meth:`wait`, running out of time is not a timeout: the
        connection stays up and the answer may still come (a hedged read).
        Not ``precise``: ``until`` may pass by up to a kernel timer tick, for
        less CPU (see :meth:`_recv_until`). A ``precise`` wait reads what has
        arrived at least once, even when ``until`` has passed (a glance).
        """
        read_turn = self._read_turn
        looked = not precise
        while slot.outcome is None:
            remaining = until - time.monotonic()
            if remaining <= 0 and looked:
                return False
            looked = True
            if read_turn.acquire(blocking=False):
                try:
                    self._read(slot, None, until, precise)
                finally:
                    read_turn.release()
                    self._wake_followers()
                continue
            if remaining <= 0:
                return False
            with self._turn:
                self._followers += 1
                try:
                    if slot.outcome is None and read_turn.locked():
                        self._turn.wait(remaining)
                finally:
                    self._followers -= 1
        return True

    def _recv_until(self, until: float, precise: bool) -> int | None:
        """``recv_into`` that gives up at ``until`` (monotonic): the bytes read, or None
        (``until`` passed, or a timer tick did: the caller looks at the time again).

        ``precise``: ``select`` first, which wakes within microseconds of ``until``
        but costs about 10 µs of CPU per read more than a plain blocking read.
        Otherwise, on a connection whose kernel receive timeout is one timer
        tick (a client with a hedge policy), a plain blocking read: nearly free,
        but ``until`` may pass by up to a tick (1 ms at CONFIG_HZ=1000, 4 ms at 250).
        """
        sock = self.sock
        if sock is None:
            return 0  # the read loop reports the closed connection
        if not precise and self._ticking:
            try:
                return sock.recv_into(self._buffer)
            except (BlockingIOError, ssl.SSLWantReadError, TimeoutError):  # a tick, no answer
                return None
        remaining = max(until - time.monotonic(), 0.0)  # 0: a look at what has arrived
        pending = isinstance(sock, ssl.SSLSocket) and sock.pending()
        if not pending and not select.select([sock], [], [], remaining)[0]:
            return None
        return sock.recv_into(self._buffer)

    def _wake_followers(self) -> None:
        if self._followers:
            with self._turn:
                self._turn.notify_all()

    def _timed_out(self) -> RequestTimeoutError:
        error = RequestTimeoutError("no answer in time", self.node.endpoint)
        self.fail(error)
        return error

    def _read(
        self,
        slot: _Slot,
        deadline: float | None,
        until: float | None = None,
        precise: bool = True,
    ) -> None:
        """Read until ``slot`` is answered; the connection times out at ``deadline``;
        ``until``: stop reading then (``precise``ly or not), the connection intact."""
        sock = self.sock
        receive = self.protocol.receive
        buffer = self._buffer
        while slot.outcome is None:
            try:
                if until is None:
                    size = sock.recv_into(buffer)  # type: ignore[union-attr]
                else:
                    received = self._recv_until(until, precise)
                    if received is None:
                        return
                    size = received
            except (BlockingIOError, ssl.SSLWantReadError, TimeoutError):  # a timeout expired
                if deadline is not None and time.monotonic() >= deadline:
                    self._timed_out()
                    return
                continue
            except OSError as error:
                self.fail(
                    ConnectionLostError(
                        f"connection lost: {error}", self.node.endpoint, _fate(error)
                    )
                )
                return
            if not size:
                self.fail(
                    ConnectionLostError(
                        "connection closed by the server", self.node.endpoint, _PEER_GONE
                    )
                )
                return
            try:
                events = receive(buffer[:size])
            except ProtocolError as error:
                self.fail(ConnectionLostError(f"malformed answer: {error}", self.node.endpoint))
                return
            self._deliver(events)
            if len(events) > 1 or slot.outcome is None:
                self._wake_followers()  # answers for others came in
            if slot.outcome is None and deadline is not None and time.monotonic() >= deadline:
                self._timed_out()  # answers for others keep coming, ours does not
                return

    def _deliver(self, events: list[Answer | Handshaken | bytes]) -> None:
        """Leave each answer in its request's slot (an answer nobody waits for is dropped)."""
        pending = self._pending
        for event in events:
            if isinstance(event, Answer):
                waiting = pending.pop(event.header.request_id, None)
                if waiting is not None:
                    waiting.outcome = event

    def fail(self, error: ConnectionLostError) -> None:
        """End the connection: every waiting request gets ``error``; the node goes down."""
        with self._state:
            if self.error is not None:
                return
            self.error = error
            for slot in list(self._pending.values()):  # readers pop without the lock
                slot.outcome = error
            self._pending.clear()
        self._wake_followers()
        self._close_socket()
        self.client.connection_lost(self, error)

    def close(self) -> None:
        with self._state:
            if self.error is None:
                self.error = ConnectionLostError(
                    "the client closed the connection", self.node.endpoint
                )
            for slot in list(self._pending.values()):  # readers pop without the lock
                slot.outcome = self.error
            self._pending.clear()
        self._wake_followers()
        self._close_socket()

    def _close_socket(self) -> None:
        if self.sock is not None:
            _shut(self.sock)


class Client(SyncClientApi):
    """A partition-aware Ignite thin client with blocking calls; safe to share between threads.

    The arguments (all keyword-only) are documented on ``ClientBase.__init__``
    and in docs/guide.md; the API is ``SyncClientApi``'s.
    """

    def _setup_shell(self) -> None:
        self._lock = threading.RLock()
        self._connect_locks: dict[tuple[str, int], threading.Lock] = {}
        self._wake = threading.Event()
        self._closed = False
        self._maintainer: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------

    def connect(self, nodes: str | Sequence[Any] | None = None, port: int | None = None) -> Client:
        """Connect to every given node (at least one must answer); returns the client."""
        endpoints = self._prepare(nodes, port)
        self._closed = False
        with self._lock:
            targets = [self.core.registry.add(endpoint) for endpoint in endpoints]
        errors: dict[tuple[str, int], BaseException] = {}
        for node in targets:
            outcome = self._connection(node)
            if isinstance(outcome, AuthenticationError):
                self.close()
                raise outcome
            if isinstance(outcome, BaseException):
                errors[node.endpoint] = outcome
        if len(errors) == len(targets):
            self.close()
            raise NoNodeAvailableError("connect", errors)
        if self._maintainer is None:
            self._maintainer = threading.Thread(
                target=self._maintain, name="ignite-router-reconnect", daemon=True
            )
            self._maintainer.start()
        return self

    def close(self) -> None:
        """Close every connection and stop the reconnection thread."""
        self._closed = True
        self._wake.set()
        for node in list(self.core.registry.nodes):
            connection = node.connection
            if connection is not None:
                connection.close()
                self.core.events.connection_closed(node.endpoint, node.node_id)
            node.connection = None
            node.up = False
        if self._maintainer is not None and self._maintainer is not threading.current_thread():
            self._maintainer.join(timeout=5)
        self._maintainer = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- driving the core -----------------------------------------------------------------

    def run(self, step: Step | Request | ReadBatch) -> Any:
        """Drive a step to its end; a lone key request may take the fast path."""
        if isinstance(step, Request):
            return self._run_request(step)
        if isinstance(step, ReadBatch):
            step = self.core.batch_step(step)
        lock = self._lock
        try:
            with lock:
                attempts = next(step)
            while True:
                if isinstance(attempts, Pause):
                    time.sleep(attempts)
                    outcomes: list[Outcome] = []
                else:
                    outcomes = self._exchange(attempts)
                with lock:
                    attempts = step.send(outcomes)
        except StopIteration as stop:
            return stop.value
        finally:
            step.close()

    def _run_request(self, request: Request, node: Node | None = None) -> Any:
        """One key request: straight to its primary when the core says it is routine
        (or to ``node``, a backup owner the core chose).

        Only a plain answer is decoded here; anything else (a failure, an error
        status, a new topology version, an unknown schema) is handed to the
        core's ``execute`` as the first attempt of the ordinary path.
        """
        core = self.core
        node = core.fast_node(request) if node is None else core.fast_to(request, node)
        if node is None:
            return self.run(core.execute(request))
        connection = node.connection
        if (
            connection is None
            or not connection.alive
            or time.monotonic() - node.last_sent > _IDLE_PROBE
        ):
            return self.run(core.execute(request))
        try:
            slot = connection.submit(request.frame)
        except ConnectionLostError as error:
            outcome: Outcome = error
        else:
            timeout = self.timeout
            outcome = connection.wait(
                slot, None if timeout is None else time.monotonic() + timeout
            )
        return self._settle(request, node, outcome)

    def _settle(self, request: Request, node: Node, outcome: Outcome, plain: bool = True) -> Any:
        """The result of a request the shell sent to ``node`` itself: a plain answer (when
        ``plain`` may be one) is decoded here, outside the lock; anything else goes to the
        core's ``execute`` as the first attempt."""
        core = self.core
        result = core.fast_answer(request, outcome) if plain else NOT_ROUTINE
        if result is NOT_ROUTINE:
            return self.run(core.execute(request, first=(node, outcome)))
        with self._lock:
            core.fast_counted(node, request)
        return result

    def _refresh_owners(self) -> None:
        """Read the server nodes again first when the owner lists are behind the topology."""
        if self.core.replicas_outdated():
            self.run(self.core.load_replicas())

    def run_hedged(self, step: Step | Request | ReadBatch) -> Any:
        """``run``; a read of a hedged (or replica-reading) view may go to a backup owner."""
        if isinstance(step, Request):
            return self._run_hedged(step)
        if isinstance(step, ReadBatch):
            return step.merge(self._run_hedged_many(step.requests))
        return self.run(step)

    def _run_hedged(self, request: Request) -> Any:
        """One read of a hedged view. Without a hedge plan, the ordinary fast path; with
        one, the fast path with the wait bounded by the hedge delay: only a read the
        primary has not answered by then takes the machinery of :meth:`_hedge`."""
        core = self.core
        self._refresh_owners()
        with self._lock:
            plan = core.hedge_plan(request)
            precise = plan is not None and core.replicas.suspect(plan[0])
        if plan is None:
            return self._run_request(request)
        primary, backup, delay = plan
        if delay == 0:  # the primary is known slow: the backup alone is asked
            return self._run_request(request, backup)
        connection = primary.connection
        if (
            not delay
            or connection is None
            or not connection.alive
            or time.monotonic() - primary.last_sent > _IDLE_PROBE
        ):
            return self._hedge([(request, plan)])[0]
        started = time.monotonic()
        try:
            slot = connection.submit(request.frame)
        except ConnectionLostError as error:
            return self.run(core.execute(request, first=(primary, error)))
        # For a primary above suspicion, a wait that costs no more than a plain read: its
        # hedge may go out up to a kernel timer tick after the delay.
        if not connection.wait_until(slot, started + delay, precise):  # late: hedge it
            read = _HedgedRead(request, primary, backup, delay)
            read.first, read.slot, read.started = connection, slot, started
            return self._finish([read])[0]
        outcome = slot.outcome
        assert outcome is not None  # wait_until said it is in
        if isinstance(outcome, Answer):
            with self._lock:
                core.hedge_answered(primary, primary, time.monotonic() - started)
        return self._settle(request, primary, outcome)

    def _run_hedged_many(self, requests: list[Request]) -> list[Any]:
        """The results of several reads of a hedged view, in order: those with a hedge
        plan are hedged together, the others run in parallel after them."""
        core = self.core
        self._refresh_owners()
        with self._lock:
            plans = [core.hedge_plan(request) for request in requests]
        # Without a plan, or for a primary known slow (the core pointed those at a backup
        # owner), the ordinary parallel run.
        hedged = [plan is not None and plan[2] != 0 for plan in plans]
        planned = [(r, plan) for r, plan, h in zip(requests, plans, hedged, strict=True) if h]
        results = iter(self._hedge(planned) if planned else [])  # type: ignore[arg-type]
        others = [core.execute(r) for r, h in zip(requests, hedged, strict=True) if not h]
        rest = iter(self.run(parallel(others)) if others else [])
        return [next(results) if h else next(rest) for h in hedged]

    def _hedge(self, planned: list[tuple[Request, tuple[Node, Node, float | None]]]) -> list[Any]:
        """Hedged reads, together: each goes to its primary, then :meth:`_finish`."""
        reads: list[_HedgedRead] = []
        for request, (primary, backup, delay) in planned:
            read = _HedgedRead(request, primary, backup, delay)
            first = self._connection(primary)
            if isinstance(first, BaseException):
                read.outcome = first
            else:
                read.first, read.started = first, time.monotonic()
                try:
                    read.slot = first.submit(request.frame)
                except ConnectionLostError as error:
                    read.outcome = error
            reads.append(read)
        return self._finish(reads)

    def _finish(self, reads: list[_HedgedRead]) -> list[Any]:
        """Reads sent to their primaries: those not answered within their hedge delay also
        go to their backup owner (new request id, the budget permitting). Each first
        answer goes to the core's ``execute`` as the first attempt (a plain answer of the
        primary is decoded as on the fast path); the other is dropped by request id."""
        core = self.core
        for read in reads:  # each waits until its own delay runs out (at least a glance)
            if read.first is not None and read.slot is not None and read.delay:
                until = read.started + read.delay
                read.first.wait_until(read.slot, max(until, time.monotonic() + _HEDGE_GLANCE))
        for read in reads:
            if read.slot is None or read.delay is None or read.slot.outcome is not None:
                continue
            with self._lock:
                permitted = core.hedge_permit()
            second = self._connection(read.backup) if permitted else None
            if isinstance(second, SyncConnection):
                frame = bytearray(read.request.frame)
                patch_request_id(frame, core.next_request_id())
                try:
                    read.hedged_at = time.monotonic()
                    read.other = second.submit(frame)
                except ConnectionLostError:
                    continue
                read.second = second
                read.request.hedged = True
        results = []
        for read in reads:
            request, primary, node = read.request, read.primary, read.primary
            outcome = read.outcome
            if outcome is None:
                deadline = None if self.timeout is None else read.started + self.timeout
                sent_to, slot = read.first, read.slot
                assert sent_to is not None and slot is not None
                if read.second is not None and read.other is not None:
                    waits = [(primary, sent_to, slot), (read.backup, read.second, read.other)]
                    node, outcome = self._first_answer(waits, deadline)
                else:
                    outcome = sent_to.wait(slot, deadline)
                if isinstance(outcome, Answer):
                    sent = read.hedged_at if node is read.backup else read.started
                    with self._lock:
                        core.hedge_answered(primary, node, time.monotonic() - sent)
            # an answer of the backup goes to execute (it counts it, and tells the events)
            results.append(self._settle(request, node, outcome, plain=node is primary))
        return results

    def _first_answer(
        self, waits: list[tuple[Node, SyncConnection, _Slot]], deadline: float | None
    ) -> tuple[Node, Outcome]:
        """The first answer of a hedged read: the backup's (``waits[1]``), awaited in turns
        of ``_HEDGE_CHECK`` with a glance at the primary's (``waits[0]``) between them
        (a look without waiting once the backup's is in: when both are, the primary's is
        taken, which tells that it is fast again); the primary's failure when both
        failed. The other answer is dropped by request id when it comes; neither
        connection is failed for it."""
        (primary, first, slot), (backup, second, other) = waits
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return primary, first.wait(slot, deadline)  # a timeout, as for any request
            until = now + _HEDGE_CHECK
            if other.outcome is None:
                second.wait_until(other, until if deadline is None else min(until, deadline))
            if slot.outcome is None:
                glance = 0.0 if other.outcome is not None else _HEDGE_GLANCE
                first.wait_until(slot, time.monotonic() + glance)
            if isinstance(slot.outcome, Answer):
                return primary, slot.outcome
            if isinstance(other.outcome, Answer):
                return backup, other.outcome
            if other.outcome is not None:  # the backup failed: the primary's outcome it is
                return primary, first.wait(slot, deadline)

    def _exchange(self, attempts: list[Attempt]) -> list[Outcome]:
        if len(attempts) == 1:  # the common case, without the bookkeeping of a batch
            node, frame = attempts[0]
            connection = node.connection
            if (
                connection is None
                or not connection.alive
                or (time.monotonic() - node.last_sent > _IDLE_PROBE and not connection.probe())
            ):
                connection = self._connection(node)
                if isinstance(connection, BaseException):
                    return [connection]
            try:
                slot = connection.submit(frame)
            except ConnectionLostError as error:
                return [error]
            timeout = self.timeout
            return [connection.wait(slot, None if timeout is None else time.monotonic() + timeout)]
        sent: list[Any] = []
        for node, frame in attempts:
            connection = self._connection(node)
            if isinstance(connection, BaseException):
                sent.append(connection)
                continue
            try:
                sent.append((connection, connection.submit(frame)))
            except ConnectionLostError as error:
                sent.append(error)
        if self.timeout is None:
            return [
                item if isinstance(item, BaseException) else item[0].wait(item[1], None)
                for item in sent
            ]
        deadline = time.monotonic() + self.timeout
        grace = min(self.timeout, _GRACE)
        return [
            item
            if isinstance(item, BaseException)
            # Answers awaited after another one get a short grace: theirs may be unread.
            else item[0].wait(item[1], max(deadline, time.monotonic() + grace))
            for item in sent
        ]

    def _connection(self, node: Node) -> SyncConnection | BaseException:
        """The node's live connection, opened now if needed (else the error).

        An idle connection is first checked for a close the server sent meanwhile.
        """
        connection = node.connection
        if (
            connection is not None
            and connection.alive
            and (time.monotonic() - node.last_sent <= _IDLE_PROBE or connection.probe())
        ):
            return connection
        if self._closed:
            return ConnectionLostError("the client is closed", node.endpoint)
        lock = self._connect_locks.setdefault(node.endpoint, threading.Lock())
        with lock:
            connection = node.connection
            if connection is not None and connection.alive:
                return connection
            connection = SyncConnection(self, node)
            self.core.events.handshake_start(node.endpoint)
            try:
                handshaken = connection.open()
            except (ConnectionLostError, HandshakeError) as error:
                with self._lock:
                    self.core.connection_failed(node, error, handshake=True)
                self._wake.set()
                return error
            with self._lock:
                node.connection = connection
                self.core.connected(node, handshaken)
            return connection

    def connection_lost(self, connection: SyncConnection, error: ConnectionLostError) -> None:
        """A connection failed (called once per connection, from the thread that saw it)."""
        node = connection.node
        with self._lock:
            if node.connection is connection:
                self.core.connection_failed(node, error, handshake=False)
        self._wake.set()

    def _maintain(self) -> None:
        """Reopen connections to down nodes when their reconnection is due."""
        registry = self.core.registry
        while not self._closed:
            with self._lock:
                now = time.monotonic()
                due = registry.due(now)
                next_time = registry.next_due_time()
            for node in due:
                if self._closed:
                    return
                self._connection(node)
            with self._lock:
                beats = self.core.heartbeats_due(time.monotonic())
            for node in beats:
                with contextlib.suppress(IgniteError):  # a failure is handled as any other
                    self.run(self.core.heartbeat(node))
            with self._lock:
                next_time = registry.next_due_time()
            wait = 1.0 if next_time is None else min(max(next_time - time.monotonic(), 0.0), 1.0)
            if self.core.heartbeat_interval is not None:
                wait = min(wait, self.core.heartbeat_interval / 4)
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()


def _fate(error: OSError) -> FailureClass:
    """What a socket error says of the requests already written on the connection.

    A reset or broken pipe means the server closed its socket: the node is
    gone or closing. Anything else (a send timeout on a full buffer, a TCP
    retransmission timeout) may be a node that is alive but paused or cut
    off, which may still execute what it received.
    """
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return _PEER_GONE
    return FailureClass.OUTCOME_UNKNOWN


def _shut(sock: socket.socket) -> None:
    """Close a socket so that the server sees the FIN now.

    ``close()`` alone sends nothing while another thread is blocked in
    ``recv()`` on the socket (the kernel keeps it open until that call
    returns); ``shutdown`` sends the FIN at once and wakes that thread.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _kernel_timeouts(sock: socket.socket, timeout: float | None, ticking: bool) -> None:
    """Blocking mode with the timeout in the kernel (SO_RCVTIMEO/SO_SNDTIMEO).

    A Python-level socket timeout costs a poll() before every send and recv;
    a kernel timeout makes a quiet recv fail with EAGAIN instead, at no cost.
    ``ticking``: a receive timeout of one timer tick (the kernel rounds 1 µs up
    to it); the read loop checks the request's deadline at each.
    """
    sock.settimeout(None)
    if ticking:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(0.000001))
    if timeout is None:
        return
    value = _timeval(timeout)
    if not ticking:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def _timeval(seconds: float) -> bytes:
    """A ``struct timeval`` of ``seconds``; a positive time never rounds to 0 (no limit)."""
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)
    if seconds > 0 and not whole and not micros:
        micros = 1
    return struct.pack("ll", whole, micros)
