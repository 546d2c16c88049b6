"""``ClientConnection``: the client side of one thin-protocol connection, without I/O.

In the style of h11: the caller moves bytes, this object keeps the state.
It produces the handshake frame, negotiates the version (re-sending on the
same socket, as the Java client does and the server allows: ``TcpClientChannel.handshake``,
``ClientListenerNioListener``), hands out request ids, and splits received bytes into
:class:`Answer` objects matched to requests by id (a server answers in
completion order, not request order: ``ClientRequestHandler``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import Enum

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder
from ignite_router.protocol.handshake import (
    ANSWER_PREVIEW,
    HandshakeFailure,
    HandshakeRequest,
    check_answer_start,
    client_context,
    decode_handshake_response,
    encode_handshake_request,
    next_handshake_version,
)
from ignite_router.protocol.header import ResponseHeader, decode_response_header

__all__ = ["Answer", "ClientConnection", "ConnectionState", "Handshaken"]


class ConnectionState(Enum):
    HANDSHAKING = "handshaking"
    READY = "ready"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Handshaken:
    """The handshake succeeded: the negotiated context and the server node's id."""

    context: ProtocolContext
    node_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Answer:
    """One response (or server notification): its parsed header and the whole payload."""

    header: ResponseHeader
    payload: memoryview


class ClientConnection:
    """Handshake state, request ids and response framing of one connection.

    ``receive(data)`` returns what the bytes completed: during the handshake
    a :class:`Handshaken`, or a ``bytes`` handshake frame to send again with
    the version the server offered; afterwards :class:`Answer` objects.
    Refused handshakes raise ``HandshakeError``/``AuthenticationError``;
    malformed bytes raise ``ProtocolError``; both leave the connection
    CLOSED.
    """

    __slots__ = ("_frames", "_head", "_next_id", "_request", "context", "node_id", "state")

    def __init__(
        self, request: HandshakeRequest, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    ) -> None:
        self._request = request
        self._frames = FrameDecoder(max_frame_size)
        self._head: bytearray | None = bytearray()  # first bytes, until their length is checked
        self._next_id = 0
        self.state = ConnectionState.HANDSHAKING
        self.context: ProtocolContext | None = None
        self.node_id: uuid.UUID | None = None

    def handshake_frame(self) -> bytes:
        """The frame that opens the conversation."""
        return encode_handshake_request(self._request)

    def next_request_id(self) -> int:
        """A new request id (1, 2, ... per connection, as the Java client numbers them)."""
        self._next_id += 1
        return self._next_id

    def receive(self, data: bytes | bytearray | memoryview) -> list[Answer | Handshaken | bytes]:
        """Feed received bytes; returns the events they completed, in arrival order."""
        if self.state is ConnectionState.CLOSED:
            raise ProtocolError("the connection is closed")
        if self.state is ConnectionState.READY and self._head is None:
            payload = self._frames.single(data)
            if payload is not None:  # one answer, the usual case: no buffering
                view = memoryview(payload)
                try:
                    header = decode_response_header(self.context, view, strict=False)  # type: ignore[arg-type]
                except BaseException:
                    self.state = ConnectionState.CLOSED
                    raise
                return [Answer(header, view)]
        events: list[Answer | Handshaken | bytes] = []
        try:
            head = self._head
            if head is not None:  # an HTTP or TLS answer is refused before framing reads it
                head += data[: ANSWER_PREVIEW - len(head)]
                if len(head) >= 4:
                    check_answer_start(head)
                    self._head = None
            for payload in self._frames.feed(data):
                if self.state is ConnectionState.READY:
                    view = memoryview(payload)
                    header = decode_response_header(self.context, view, strict=False)  # type: ignore[arg-type]
                    events.append(Answer(header, view))
                else:
                    events.append(self._handshake_answer(payload))
        except BaseException:
            self.state = ConnectionState.CLOSED
            raise
        return events

    def _handshake_answer(self, payload: bytes) -> Handshaken | bytes:
        if self.state is not ConnectionState.HANDSHAKING:
            raise ProtocolError("data after a failed handshake")
        request = self._request
        answer = decode_handshake_response(payload, request.version)
        if isinstance(answer, HandshakeFailure):
            version = next_handshake_version(
                request.version, answer, credentials=request.username is not None
            )
            self._request = replace(request, version=version)
            return self.handshake_frame()
        self.context = client_context(request, answer)
        self.node_id = answer.node_id
        self.state = ConnectionState.READY
        return Handshaken(self.context, answer.node_id)
