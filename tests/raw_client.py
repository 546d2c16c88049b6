"""A minimal blocking client built only from ``protocol`` encoders/decoders, for tests."""

from __future__ import annotations

import socket
from itertools import count

from ignite_router.protocol.context import LATEST, ProtocolContext, ProtocolVersion
from ignite_router.protocol.framing import FrameDecoder
from ignite_router.protocol.handshake import (
    HandshakeRequest,
    HandshakeSuccess,
    decode_handshake_response,
    encode_handshake_request,
)
from ignite_router.protocol.header import (
    ResponseHeader,
    begin_request,
    decode_response_header,
    finish_frame,
)


class RawClient:
    """One socket, one request at a time; returns (header, payload) of each response."""

    def __init__(
        self,
        endpoint: tuple[str, int],
        version: ProtocolVersion = LATEST,
        features: frozenset[int] = frozenset({2}),
        timeout: float = 10.0,
    ) -> None:
        self.sock = socket.create_connection(endpoint, timeout=timeout)
        self.frames = FrameDecoder()
        self._pending: list[bytes] = []
        self._ids = count(1)
        self.sock.sendall(encode_handshake_request(HandshakeRequest(version, features)))
        answer = decode_handshake_response(self.receive(), version)
        assert isinstance(answer, HandshakeSuccess), answer
        self.handshake = answer
        self.context = ProtocolContext(version, answer.features)

    def next_id(self) -> int:
        return next(self._ids)

    def receive(self) -> bytes:
        while not self._pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self._pending.extend(self.frames.feed(data))
        return self._pending.pop(0)

    def send(self, frame: bytes | bytearray) -> tuple[ResponseHeader, memoryview]:
        self.sock.sendall(frame)
        payload = memoryview(self.receive())
        return decode_response_header(self.context, payload), payload

    def call(self, op_code: int, body: bytes = b"") -> tuple[ResponseHeader, memoryview]:
        buf = bytearray()
        start = begin_request(buf, op_code, self.next_id())
        buf += body
        finish_frame(buf, start)
        return self.send(buf)

    def close(self) -> None:
        self.sock.close()
