"""Answers matched by request id: a server that answers every burst in reverse order.

A real node answers in completion order (ClientRequestHandler). This server,
built from ``protocol``'s server-side encoders, reads whatever requests have
arrived and answers them last-first: GET of key k answers ``k * 10``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid

import pytest

from ignite_router import AioClient, Client
from ignite_router.protocol import ProtocolContext
from ignite_router.protocol.framing import FrameDecoder
from ignite_router.protocol.handshake import decode_handshake_request, encode_handshake_success
from ignite_router.protocol.header import begin_response, decode_request_header, finish_frame
from ignite_router.protocol.messages.cache_keys import decode_cache_request
from ignite_router.protocol.values import read_value, write_value


class ReversingServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = self.listener.getsockname()
        self.reversed_bursts = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        frames = FrameDecoder()
        context: ProtocolContext | None = None
        with conn:
            while True:
                try:
                    data = conn.recv(1 << 16)
                except OSError:
                    return
                if not data:
                    return
                out = []
                for payload in frames.feed(data):
                    if context is None:
                        request = decode_handshake_request(payload)
                        context = ProtocolContext(request.version, frozenset())
                        conn.sendall(encode_handshake_success(context, uuid.uuid4()))
                        continue
                    view = memoryview(payload)
                    header = decode_request_header(view)
                    op, offset = header.op_code, header.body_offset
                    key, _ = read_value(decode_cache_request(context, op, view, offset).key, 0)
                    buf = bytearray()
                    start = begin_response(buf, context, header.request_id, None)
                    write_value(buf, key * 10)
                    finish_frame(buf, start)
                    out.append(bytes(buf))
                if len(out) > 1:
                    self.reversed_bursts += 1
                if out:
                    conn.sendall(b"".join(reversed(out)))

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server():
    server = ReversingServer()
    yield server
    server.close()


def test_async_client_matches_reversed_answers(server: ReversingServer) -> None:
    async def run() -> list:
        client = AioClient(partition_aware=False, discovery=False)
        async with client.connect([server.endpoint]):
            cache = await client.get_cache("any")
            return await asyncio.gather(*(cache.get(key) for key in range(200)))

    assert asyncio.run(run()) == [key * 10 for key in range(200)]
    assert server.reversed_bursts > 0  # the order really was reversed


def test_threads_on_one_connection_match_reversed_answers(server: ReversingServer) -> None:
    client = Client(partition_aware=False, discovery=False)
    failures: list[BaseException] = []
    with client.connect([server.endpoint]):
        cache = client.get_cache("any")

        def worker(offset: int) -> None:
            try:
                for key in range(offset, offset + 300):
                    assert cache.get(key) == key * 10
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert server.reversed_bursts > 0
