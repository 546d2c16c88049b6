"""``AioClient``: the asyncio shell around the core.

One connection (an ``asyncio.Protocol``) per node; any number of requests
in flight on it, answers matched to futures by request id. Connections to
nodes that went down are reopened by a background task on the
reconnection schedule. Same API as ``Client``, every call awaitable.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

from ignite_router.aio_api import AioClientApi
from ignite_router.core.engine import (
    NOT_ROUTINE,
    Attempt,
    Outcome,
    Pause,
    ReadBatch,
    Request,
    Step,
)
from ignite_router.core.nodes import Node
from ignite_router.errors import (
    AuthenticationError,
    ConnectionLostError,
    FailureClass,
    HandshakeError,
    NoNodeAvailableError,
    ProtocolError,
    RequestTimeoutError,
)
from ignite_router.protocol.connection import Answer, ClientConnection, Handshaken
from ignite_router.protocol.header import patch_request_id
from ignite_router.protocol.wire import I64

__all__ = ["AioClient"]

_REQUEST_ID_OFFSET = 6


class AioConnection(asyncio.Protocol):
    """One node's connection: handshake, then futures resolved by request id.

    Futures resolve to an outcome value (the Answer, or the connection's
    error), never to an exception, so nothing is left unretrieved.
    """

    def __init__(self, client: AioClient, node: Node) -> None:
        self.client = client
        self.node = node
        self.protocol = ClientConnection(client.core.handshake)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.handshaken: asyncio.Future[Handshaken | BaseException] = self.loop.create_future()
        self.error: ConnectionLostError | None = None
        self._pending: dict[int, asyncio.Future[Outcome]] = {}
        self._deadlines: deque[tuple[float, asyncio.Future[Outcome]]] = deque()
        self._outgoing: list[bytes | bytearray] = []  # frames to write at the end of this turn
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def in_flight(self) -> int:
        """Requests sent on this connection and not answered yet."""
        return len(self._pending)

    @property
    def alive(self) -> bool:
        return self.error is None and self.transport is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport.write(self.protocol.handshake_frame())  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        try:
            events = self.protocol.receive(data)
        except (HandshakeError, ProtocolError) as error:
            if not self.handshaken.done():
                self.handshaken.set_result(error)
            self.fail(ConnectionLostError(f"malformed answer: {error}", self.node.endpoint))
            return
        pending = self._pending
        for event in events:
            if isinstance(event, Answer):
                future = pending.pop(event.header.request_id, None)
                if future is not None and not future.done():
                    future.set_result(event)
            elif isinstance(event, Handshaken):
                if not self.handshaken.done():  # cancelled when the handshake timed out
                    self.handshaken.set_result(event)
            else:
                self.transport.write(event)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc else " by the server"
        # A reset or a close by the server: the node is gone or closing. Any other error (a
        # TCP timeout) may hide a node that is alive and cut off.
        gone = exc is None or isinstance(
            exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError
        )
        fate = FailureClass.PEER_GONE if gone else FailureClass.OUTCOME_UNKNOWN
        self.fail(ConnectionLostError(f"connection closed{reason}", self.node.endpoint, fate))

    def submit(self, frame: bytes | bytearray) -> asyncio.Future[Outcome]:
        """Send a request; the future resolves to its answer or the connection's error."""
        (request_id,) = I64.unpack_from(frame, _REQUEST_ID_OFFSET)
        future: asyncio.Future[Outcome] = self.loop.create_future()
        if self.error is not None:
            future.set_result(
                ConnectionLostError(
                    f"connection already lost ({self.error})",
                    self.node.endpoint,
                    FailureClass.NOT_DELIVERED,
                )
            )
            return future
        self._pending[request_id] = future
        now = time.monotonic()
        self.node.last_sent = now
        timeout = self.client.timeout
        if timeout is not None:
            self._deadlines.append((now + timeout, future))
            if self._sweeper is None:
                self._sweeper = self.loop.call_later(timeout, self._sweep)
        # Requests made in one turn of the loop leave in one write: on loopback a send
        # costs the sender the receiver's TCP work too, so 256 sends cost far more than one.
        if not self._outgoing:
            self.loop.call_soon(self._flush)
        self._outgoing.append(frame)
        return future

    def _flush(self) -> None:
        outgoing = self._outgoing
        if outgoing and self.error is None:
            self.transport.write(b"".join(outgoing))  # type: ignore[union-attr]
        outgoing.clear()

    def _sweep(self) -> None:
        """Time out the connection if its oldest unanswered request is past its deadline.

        One timer per connection, not one per request: deadlines are kept in
        submission order, so only the oldest ones need a look.
        """
        self._sweeper = None
        deadlines = self._deadlines
        now = time.monotonic()
        while deadlines and deadlines[0][1].done():
            deadlines.popleft()
        if not deadlines:
            return
        due, _ = deadlines[0]
        if due <= now:
            self.fail(RequestTimeoutError("no answer in time", self.node.endpoint))
            return
        self._sweeper = self.loop.call_later(due - now, self._sweep)

    def fail(self, error: ConnectionLostError) -> None:
        """End the connection: pending requests get ``error``; the node goes down."""
        if self.error is not None:
            return
        self.error = error
        if not self.handshaken.done():
            self.handshaken.set_result(error)
        self._settle_pending(error)
        self._stop_sweeping()
        if self.transport is not None:
            self.transport.abort()
        self.client.connection_lost(self, error)

    def _settle_pending(self, error: ConnectionLostError) -> None:
        """Every request in flight gets ``error``; those still unwritten, a not-delivered one."""
        unsent = {I64.unpack_from(frame, _REQUEST_ID_OFFSET)[0] for frame in self._outgoing}
        self._outgoing.clear()
        never = error
        if unsent:
            never = ConnectionLostError(
                f"not sent: {error}", self.node.endpoint, FailureClass.NOT_DELIVERED
            )
        for request_id, future in self._pending.items():
            if not future.done():
                future.set_result(never if request_id in unsent else error)
        self._pending.clear()

    def _stop_sweeping(self) -> None:
        self._deadlines.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def close(self) -> None:
        self._stop_sweeping()
        if self.error is None:
            self.error = ConnectionLostError("the client closed the connection", self.node.endpoint)
            self._settle_pending(self.error)
        if self.transport is not None:
            self.transport.close()


class _Connecting:
    """What ``AioClient.connect`` returns: await it, or use it with ``async with``."""

    def __init__(self, client: AioClient, endpoints: list[tuple[str, int]]) -> None:
        self.client = client
        self.endpoints = endpoints

    def __await__(self) -> Generator[Any, None, AioClient]:
        return self.client._connect(self.endpoints).__await__()

    async def __aenter__(self) -> AioClient:
        return await self.client._connect(self.endpoints)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.close()


class AioClient(AioClientApi):
    """A partition-aware Ignite thin client for asyncio (the same arguments as ``Client``,
    documented on ``ClientBase.__init__``); the API is ``AioClientApi``'s."""

    def _setup_shell(self) -> None:
        self._closed = False
        self._wake: asyncio.Event | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._connecting: dict[tuple[str, int], asyncio.Future[Any]] = {}

    # -- life cycle -------------------------------------------------------------------------

    def connect(
        self, nodes: str | Sequence[Any] | None = None, port: int | None = None
    ) -> _Connecting:
        """Connect to every given node; ``await`` it or use ``async with``."""
        return _Connecting(self, self._prepare(nodes, port))

    async def _connect(self, endpoints: list[tuple[str, int]]) -> AioClient:
        self._closed = False
        self._wake = asyncio.Event()
        targets = [self.core.registry.add(endpoint) for endpoint in endpoints]
        outcomes = await asyncio.gather(*(self._connection(node) for node in targets))
        errors = {}
        for node, outcome in zip(targets, outcomes, strict=True):
            if isinstance(outcome, AuthenticationError):
                await self.close()
                raise outcome
            if isinstance(outcome, BaseException):
                errors[node.endpoint] = outcome
        if len(errors) == len(targets):
            await self.close()
            raise NoNodeAvailableError("connect", errors)
        if self._maintainer is None:
            self._maintainer = asyncio.get_running_loop().create_task(self._maintain())
        return self

    async def close(self) -> None:
        """Close every connection and stop the reconnection task."""
        self._closed = True
        maintainer, self._maintainer = self._maintainer, None
        if maintainer is not None:
            maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await maintainer
        for opening in list(self._connecting.values()):
            opening.cancel()
        for node in self.core.registry.nodes:
            if node.connection is not None:
                node.connection.close()
                self.core.events.connection_closed(node.endpoint, node.node_id)
            node.connection = None
            node.up = False

    async def __aenter__(self) -> AioClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- driving the core -------------------------------------------------------------------

    def run(self, step: Step | Request | ReadBatch) -> Any:
        """A coroutine that drives a step; a lone key request may take the fast path."""
        if isinstance(step, Request):
            return self._run_request(step)
        if isinstance(step, ReadBatch):
            step = self.core.batch_step(step)
        return self._drive(step)

    async def _run_request(self, request: Request, node: Node | None = None) -> Any:
        """One key request: straight to its primary when the core says it is routine
        (or to ``node``, a backup owner the core chose).

        Only a plain answer is decoded here; anything else goes to the core's
        ``execute`` as the first attempt of the ordinary path.
        """
        core = self.core
        node = core.fast_node(request) if node is None else core.fast_to(request, node)
        if node is None:
            return await self._drive(core.execute(request))
        connection = node.connection
        if connection is None or not connection.alive:
            return await self._drive(core.execute(request))
        future = connection.submit(request.frame)
        outcome = future.result() if future.done() else await future
        result = core.fast_answer(request, outcome)
        if result is NOT_ROUTINE:
            return await self._drive(core.execute(request, first=(node, outcome)))
        core.fast_counted(node, request)
        return result

    def run_hedged(self, step: Step | Request | ReadBatch) -> Any:
        """``run``; a read of a hedged (or replica-reading) view may go to a backup owner."""
        if isinstance(step, Request):
            return self._run_hedged(step)
        if isinstance(step, ReadBatch):
            return self._run_hedged_many(step)
        return self._drive(step)

    async def _run_hedged_many(self, batch: ReadBatch) -> Any:
        """Each request of ``batch`` as a hedged read, together; their results merged."""
        return batch.merge(await asyncio.gather(*map(self._run_hedged, batch.requests)))

    async def _run_hedged(self, request: Request) -> Any:
        """The read to its primary; after the core's hedge delay without an answer, to a
        backup owner too (new request id). The first answer goes to the core's
        ``execute`` as the first attempt; the other future resolves unwatched."""
        core = self.core
        if core.replicas_outdated():
            await self._drive(core.load_replicas())
        plan = core.hedge_plan(request)
        if plan is None:
            return await self._run_request(request)
        primary, backup, delay = plan
        if delay == 0:  # the primary is known slow: the backup alone is asked
            return await self._run_request(request, backup)
        first = await self._connection(primary)
        if isinstance(first, BaseException):
            return await self._drive(core.execute(request, first=(primary, first)))
        started = hedged_at = time.monotonic()
        node, future = primary, first.submit(request.frame)
        if delay is not None and not future.done():
            await asyncio.wait((future,), timeout=delay)
        if delay is not None and not future.done() and core.hedge_permit():
            second = await self._connection(backup)
            if not isinstance(second, BaseException):
                frame = bytearray(request.frame)
                patch_request_id(frame, core.next_request_id())
                request.hedged = True
                hedged_at = time.monotonic()
                node, future = await _first_answer(
                    [(primary, future), (backup, second.submit(frame))]
                )
        outcome = future.result() if future.done() else await future
        if isinstance(outcome, Answer):
            sent = hedged_at if node is backup else started
            core.hedge_answered(primary, node, time.monotonic() - sent)
        return await self._drive(core.execute(request, first=(node, outcome)))

    async def _drive(self, step: Step) -> Any:
        try:
            attempts = next(step)
            while True:
                if isinstance(attempts, Pause):
                    await asyncio.sleep(attempts)
                    attempts = step.send([])
                else:
                    attempts = step.send(await self._exchange(attempts))
        except StopIteration as stop:
            return stop.value
        finally:
            step.close()

    async def _exchange(self, attempts: list[Attempt]) -> list[Outcome]:
        sent: list[Any] = []
        for node, frame in attempts:
            connection = node.connection
            if connection is None or not connection.alive:
                connection = await self._connection(node)
                if isinstance(connection, BaseException):
                    sent.append(connection)
                    continue
            sent.append(connection.submit(frame))
        outcomes: list[Outcome] = []
        for item in sent:  # each connection times its own requests out (AioConnection._sweep)
            if isinstance(item, BaseException):
                outcomes.append(item)
            else:
                outcomes.append(item.result() if item.done() else await item)
        return outcomes

    async def _connection(self, node: Node) -> AioConnection | BaseException:
        """The node's live connection, opened now if needed (concurrent callers share one try)."""
        connection = node.connection
        if connection is not None and connection.alive:
            return connection
        if self._closed:
            return ConnectionLostError("the client is closed", node.endpoint)
        opening = self._connecting.get(node.endpoint)
        if opening is None:
            opening = asyncio.ensure_future(self._open(node))
            self._connecting[node.endpoint] = opening
            opening.add_done_callback(lambda _: self._connecting.pop(node.endpoint, None))
        return await asyncio.shield(opening)

    async def _open(self, node: Node) -> AioConnection | BaseException:
        host, port = node.endpoint
        loop = asyncio.get_running_loop()
        self.core.events.handshake_start(node.endpoint)
        connection: AioConnection | None = None
        try:
            async with asyncio.timeout(self.handshake_timeout):
                _, connection = await loop.create_connection(
                    lambda: AioConnection(self, node),
                    host,
                    port,
                    ssl=self.ssl_context,
                    server_hostname=host if self.ssl_context is not None else None,
                )
                result = await connection.handshaken
            if isinstance(result, BaseException):
                raise result
        except TimeoutError:
            error: BaseException = RequestTimeoutError(
                "no handshake answer in time", node.endpoint, FailureClass.NOT_DELIVERED
            )
        except ssl.SSLError as exc:
            error = ConnectionLostError(
                f"TLS handshake failed: {exc}", node.endpoint, FailureClass.NOT_DELIVERED
            )
        except OSError as exc:
            error = ConnectionLostError(
                f"cannot connect: {exc}", node.endpoint, FailureClass.NOT_DELIVERED
            )
        except ProtocolError as exc:  # not an Ignite answer: as the blocking client says it
            error = ConnectionLostError(
                f"handshake failed: {exc}", node.endpoint, FailureClass.NOT_DELIVERED
            )
        except HandshakeError as exc:
            error = exc
        except ConnectionLostError as exc:  # the connection's own error, before any request
            exc.failure = FailureClass.NOT_DELIVERED
            error = exc
        else:
            node.connection = connection
            self.core.connected(node, result)
            return connection
        if connection is not None:
            connection.error = connection.error or ConnectionLostError("handshake failed")
            if connection.transport is not None:
                connection.transport.abort()
        self.core.connection_failed(node, error, handshake=True)
        if self._wake is not None:
            self._wake.set()
        return error

    def connection_lost(self, connection: AioConnection, error: ConnectionLostError) -> None:
        node = connection.node
        if node.connection is connection:
            self.core.connection_failed(node, error, handshake=False)
            if self._wake is not None:
                self._wake.set()

    async def _maintain(self) -> None:
        """Reopen connections to down nodes when their reconnection is due."""
        registry = self.core.registry
        wake = self._wake
        assert wake is not None
        while not self._closed:
            due = registry.due(time.monotonic())
            if due:
                await asyncio.gather(*(self._connection(node) for node in due))
            beats = self.core.heartbeats_due(time.monotonic())
            if beats:
                await asyncio.gather(
                    *(self._drive(self.core.heartbeat(node)) for node in beats),
                    return_exceptions=True,  # a failure is handled as any other
                )
            next_time = registry.next_due_time()
            wait = 1.0 if next_time is None else min(max(next_time - time.monotonic(), 0), 1.0)
            if self.core.heartbeat_interval is not None:
                wait = min(wait, self.core.heartbeat_interval / 4)
            if wait > 0:
                wake.clear()
                try:
                    async with asyncio.timeout(wait):
                        await wake.wait()
                except TimeoutError:
                    pass


async def _first_answer(
    futures: list[tuple[Node, asyncio.Future[Outcome]]],
) -> tuple[Node, asyncio.Future[Outcome]]:
    """The first future to resolve to an answer (else the first one: the primary's)."""
    nodes = {future: node for node, future in futures}
    pending = set(nodes)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            if isinstance(future.result(), Answer):
                return nodes[future], future
    return futures[0]
