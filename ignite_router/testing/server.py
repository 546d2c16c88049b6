"""One node's network side: an asyncio server whose connections speak the thin protocol."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import TYPE_CHECKING

from ignite_router.testing.handlers import ConnectionState, handle_request
from protocol.context import LATEST, SUPPORTED_VERSIONS, ProtocolContext
from protocol.errors import ProtocolError, ServerError, StatusCode
from protocol.framing import FrameDecoder
from protocol.handshake import (
    decode_handshake_request,
    encode_handshake_failure,
    encode_handshake_success,
)
from protocol.header import begin_response, encode_error_response, finish_frame
from protocol.opcodes import Feature

if TYPE_CHECKING:
    from ignite_router.testing.state import ClusterModel

__all__ = ["SERVER_FEATURES", "NodeServer"]

log = logging.getLogger("ignite_router.testing")

# What a local node offers in the 1.7 feature bitmask (the intersection is negotiated).
SERVER_FEATURES = frozenset({Feature.CLUSTER_STATES, Feature.HEARTBEAT})
_LINGER_RESET = struct.pack("ii", 1, 0)
_REQUEST_HEAD = struct.Struct("<hq")


class NodeServer:
    """Listens on one node's port; owns its connections and fault-injection switches."""

    def __init__(self, model: ClusterModel, index: int, host: str) -> None:
        self.model = model
        self.index = index
        self.host = host
        self.latency = 0.0
        self.hung = False
        self.connections: set[NodeConnection] = set()
        self._server: asyncio.base_events.Server | None = None

    async def start(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: NodeConnection(self), self.host, port, reuse_address=True
        )
        return self._server.sockets[0].getsockname()[1]

    async def stop(self, abrupt: bool) -> None:
        """Stop listening and drop every connection (reset if ``abrupt``, else close)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for connection in list(self.connections):
            connection.drop(abrupt)
        self.connections.clear()


class NodeConnection(asyncio.Protocol):
    """One client connection: handshake, then request -> response."""

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        self.model = node.model
        self.state = ConnectionState(node.index)
        self.frames = FrameDecoder()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.node.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.node.connections.discard(self)

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

    def data_received(self, data: bytes) -> None:
        try:
            for frame in self.frames.feed(data):
                if self.state.context is None:
                    self._handshake(frame)
                else:
                    self._request(memoryview(frame))
        except ProtocolError as error:
            log.warning(
                "node %d: closing a connection that sent bad bytes: %s", self.node.index, error
            )
            self.drop(abrupt=False)

    def _send(self, data: bytes | bytearray) -> None:
        if self.node.hung or self.transport is None:
            return
        if self.node.latency > 0:
            asyncio.get_running_loop().call_later(self.node.latency, self._write, bytes(data))
        else:
            self.transport.write(data)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.node.hung:
            self.transport.write(data)

    def _handshake(self, frame: bytes) -> None:
        request = decode_handshake_request(frame)
        if request.version not in SUPPORTED_VERSIONS:
            message = f"Unsupported version: {'.'.join(map(str, request.version))}"
            self._send(
                encode_handshake_failure(request.version, LATEST, message, StatusCode.FAILED)
            )
            return
        context = ProtocolContext(request.version, request.features & SERVER_FEATURES)
        self.state.context = context
        self._send(encode_handshake_success(context, self.model.nodes[self.node.index].node_id))

    def _request(self, frame: memoryview) -> None:
        stats = self.model.nodes[self.node.index].stats
        stats["requests"] += 1
        if len(frame) < _REQUEST_HEAD.size:
            raise ProtocolError(f"request of {len(frame)} bytes has no header")
        op, request_id = _REQUEST_HEAD.unpack_from(frame, 0)
        op &= 0xFFFF
        context = self.state.context
        body = bytearray()
        try:
            handle_request(self.model, self.state, op, frame, _REQUEST_HEAD.size, body)
        except (ServerError, ProtocolError, LookupError) as error:
            if isinstance(error, ServerError):
                status, message = error.status, error.message
            else:
                status, message = StatusCode.FAILED, str(error)
                log.warning("node %d: op %d failed: %s", self.node.index, op, error)
            out = bytearray()
            encode_error_response(out, context, request_id, status, message, self._topology_flag())
        else:
            # The header is written after the operation, so it reports what it changed.
            out = bytearray()
            start = begin_response(out, context, request_id, self._topology_flag())
            out += body
            finish_frame(out, start)
        self._send(out)

    def _topology_flag(self) -> tuple[int, int] | None:
        """The version to report in this header, if it moved since the last one (§1.4)."""
        version = self.model.version
        if self.state.reported_version is None or version > self.state.reported_version:
            self.state.reported_version = version
            return version
        return None
