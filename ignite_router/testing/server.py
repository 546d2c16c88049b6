"""One node's network side: an asyncio server whose connections speak the thin protocol."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING

from ignite_router.testing.handlers import handle_request
from ignite_router.testing.session import Session
from protocol.context import SUPPORTED_VERSIONS, ProtocolVersion
from protocol.errors import ProtocolError, ServerError, StatusCode
from protocol.framing import FrameDecoder
from protocol.handshake import (
    HANDSHAKE_CODE,
    HandshakeFailure,
    HandshakeRequest,
    accept_handshake,
    decode_handshake_request,
    encode_handshake_failure,
    encode_handshake_success,
)
from protocol.header import begin_response, encode_error_response, finish_frame
from protocol.opcodes import Feature

if TYPE_CHECKING:
    from ignite_router.testing.state import ClusterModel

__all__ = ["SERVER_FEATURES", "NodeConnection", "NodeServer"]

log = logging.getLogger("ignite_router.testing")

# The 1.7 feature bits a local node offers (clients get the intersection): only
# what it implements. CLUSTER_STATES matters: pyignite gates ops 5000/5001 on it.
SERVER_FEATURES = frozenset(
    {
        Feature.USER_ATTRIBUTES,
        Feature.CLUSTER_STATES,
        Feature.CLUSTER_GROUP_GET_NODES_ENDPOINTS,
        Feature.CLUSTER_GROUPS,
        Feature.HEARTBEAT,
    }
)
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_REQUEST_HEAD = struct.Struct("<hq")  # op code, request id
_HANDSHAKE_HEAD = struct.Struct("<bhhhb")  # code, version, client type (fact sheet §2.1)
_EXPECTED_FAILURES = (ProtocolError, ValueError, TypeError, OverflowError)


class NodeServer:
    """Listens on one node's port; owns its connections and fault-injection switches."""

    def __init__(
        self,
        model: ClusterModel,
        index: int,
        host: str,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.model = model
        self.index = index
        self.host = host
        self.credentials = credentials
        self.latency = 0.0
        self.hung = False
        self.connections: set[NodeConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, port: int) -> int:
        """Listen on ``port`` (0 = any free one); returns the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: NodeConnection(self), self.host, port, reuse_address=True
        )
        return self._server.sockets[0].getsockname()[1]

    async def stop(self, abrupt: bool) -> None:
        """Stop listening and drop every connection (reset if ``abrupt``, else close)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.drop(abrupt)
        self.connections.clear()
        self.hung = False
        self.latency = 0.0

    def heal(self) -> None:
        """End a hang (held requests are served now) and remove added latency."""
        self.hung = False
        self.latency = 0.0
        for connection in list(self.connections):
            connection.resume()


class NodeConnection(asyncio.Protocol):
    """One client connection: handshake, then request -> response, in order."""

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        stats = node.model.nodes[node.index].stats
        self.session = Session(node.model, node.index, stats, node.host)
        self.frames = FrameDecoder()
        self.transport: asyncio.Transport | None = None
        self._held: list[bytes] = []  # received while the node hangs
        self._delayed: deque[tuple[float, bytes]] = deque()  # (due time, answers) under latency
        self._body = bytearray()

    # -- transport callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.node.connections.add(self)
        self.session.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.node.connections.discard(self)
        self.session.transactions.clear()  # open transactions roll back
        self.session.cursors.clear()
        self._held.clear()
        self._delayed.clear()

    def data_received(self, data: bytes) -> None:
        if self.node.hung:
            self._held.append(data)  # read, never answered until healed
            return
        out = bytearray()
        try:
            for frame in self.frames.feed(data):
                if self.session.context is None:
                    self._handshake(frame, out)
                else:
                    self._request(frame, out)
        except ProtocolError as error:
            log.warning(
                "node %d: closing a connection that sent bad bytes: %s", self.node.index, error
            )
            self._send(out)
            self.drop(abrupt=False)
            return
        self._send(out)

    # -- node control ------------------------------------------------------------------

    def resume(self) -> None:
        held, self._held = self._held, []
        for data in held:
            if self.transport is None or self.transport.is_closing():
                return
            self.data_received(data)

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

    # -- output ------------------------------------------------------------------------

    def _send(self, out: bytearray) -> None:
        """Write now, or after the node's latency; answers never overtake each other."""
        if not out or self.transport is None:
            return
        latency = self.node.latency
        if latency <= 0 and not self._delayed:
            self.transport.write(out)
            return
        loop = asyncio.get_running_loop()
        self._delayed.append((loop.time() + latency, bytes(out)))
        if len(self._delayed) == 1:
            loop.call_at(self._delayed[0][0], self._flush_delayed)

    def _flush_delayed(self) -> None:
        loop = asyncio.get_running_loop()
        delayed = self._delayed
        while delayed and delayed[0][0] <= loop.time():
            _, data = delayed.popleft()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(data)
        if delayed:
            loop.call_at(delayed[0][0], self._flush_delayed)

    # -- protocol ----------------------------------------------------------------------

    def _handshake(self, frame: bytes, out: bytearray) -> None:
        """Accept or refuse; a refused client may retry on the same socket (fact sheet §2.3)."""
        if len(frame) < _HANDSHAKE_HEAD.size:
            raise ProtocolError(f"handshake of {len(frame)} bytes")
        code, major, minor, patch, _ = _HANDSHAKE_HEAD.unpack_from(frame, 0)
        asked = ProtocolVersion(major, minor, patch)
        if code == HANDSHAKE_CODE and asked not in SUPPORTED_VERSIONS:
            request = HandshakeRequest(asked)  # refused unread: the layout depends on the version
        else:
            request = decode_handshake_request(frame)
        result = accept_handshake(request, SERVER_FEATURES, self.node.credentials)
        if isinstance(result, HandshakeFailure):
            out += encode_handshake_failure(
                request.version, result.server_version, result.message, result.status
            )
            return
        self.session.context = result
        out += encode_handshake_success(result, self.node.model.nodes[self.node.index].node_id)

    def _request(self, frame: bytes, out: bytearray) -> None:
        session = self.session
        session.stats.requests += 1
        if len(frame) < _REQUEST_HEAD.size:
            raise ProtocolError(f"request of {len(frame)} bytes has no header")
        op, request_id = _REQUEST_HEAD.unpack_from(frame, 0)
        op &= 0xFFFF
        body = self._body
        body.clear()
        try:
            handle_request(session, op, memoryview(frame), _REQUEST_HEAD.size, body)
        except ServerError as error:
            self._error(out, request_id, error.status, error.message)
        except _EXPECTED_FAILURES as error:
            log.warning("node %d: op %d failed: %s", self.node.index, op, error)
            self._error(out, request_id, StatusCode.FAILED, str(error))
        except Exception as error:
            log.exception("node %d: op %d failed unexpectedly", self.node.index, op)
            self._error(out, request_id, StatusCode.FAILED, f"{type(error).__name__}: {error}")
        else:
            # The header is written after the operation, so it reports what the op changed.
            start = begin_response(out, session.context, request_id, session.topology_to_report())
            out += body
            finish_frame(out, start)

    def _error(self, out: bytearray, request_id: int, status: int, message: str) -> None:
        self.session.stats.errors += 1
        topology = self.session.topology_to_report()
        encode_error_response(out, self.session.context, request_id, status, message, topology)
