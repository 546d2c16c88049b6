"""A minimal hand-written client: what a get or put costs with nothing but a socket.

Per operation it packs the request with one ``struct`` call, ``sendall``\\s it,
``recv_into``\\s the answer into a buffer it keeps, unpacks the response header
and (for a get) decodes the string value. It routes by a dict from key to the
primary's connection, filled once before measuring. No retries, no timeouts,
no locks, long keys and string values only: the least a Python client can do
per request, the yardstick for the client CPU table.

The handshake (not measured) uses :mod:`ignite_router.protocol`, and every
connection checks, once, that its hand-packed frames are byte for byte what
``protocol``'s encoder writes.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable

from benchmarks.harness import BenchError
from ignite_router.affinity import cache_id
from ignite_router.protocol import HandshakeRequest
from ignite_router.protocol.connection import ClientConnection, Handshaken
from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.messages.cache_keys import CacheTarget, encode_cache_request
from ignite_router.protocol.opcodes import OpCode, ResponseFlag

__all__ = ["RawClient", "RawConnection"]

# Request: i32 length, i16 op code, i64 request id; body: i32 cache id, i8 flags, then
# the key (i8 type code LONG, i64) and for a put the value (i8 STRING, i32 length, UTF-8).
_GET = struct.Struct("<ihqibbq")
_PUT = struct.Struct("<ihqibbqbi")
# Response (1.4.0+): i32 length, i64 request id, i16 flags [, i64 + i32 topology version].
_RESPONSE = struct.Struct("<iqh")
_STRING = struct.Struct("<bi")
_LONG_CODE = 4
_STRING_CODE = 9
_NULL_CODE = 101
_TOPOLOGY_CHANGED = int(ResponseFlag.AFFINITY_TOPOLOGY_CHANGED)
_TOPOLOGY_SIZE = 12
_BUFFER_SIZE = 1 << 16
_GET_OP = int(OpCode.CACHE_GET)
_PUT_OP = int(OpCode.CACHE_PUT)


class RawConnection:
    """One handshaken socket to one node; ``get`` and ``put`` of long keys and str values."""

    def __init__(self, endpoint: tuple[str, int], cache: str) -> None:
        self.sock = socket.create_connection(endpoint, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = self._handshake()
        if not context.flags_header:
            raise BenchError(f"the raw client needs protocol 1.4.0+, got {context.version}")
        self.cache_id = cache_id(cache)
        self.request_id = 0
        self.view = memoryview(bytearray(_BUFFER_SIZE))
        self._check_frames(context)

    def _handshake(self) -> ProtocolContext:
        protocol = ClientConnection(HandshakeRequest())
        self.sock.sendall(protocol.handshake_frame())
        while True:
            data = self.sock.recv(_BUFFER_SIZE)
            if not data:
                raise BenchError("the cluster closed the raw connection during the handshake")
            for event in protocol.receive(data):
                if isinstance(event, Handshaken):
                    return event.context
                if isinstance(event, bytes):
                    self.sock.sendall(event)

    def _check_frames(self, context: ProtocolContext) -> None:
        target = CacheTarget(self.cache_id)
        expected = [bytearray(), bytearray()]
        encode_cache_request(expected[0], context, OpCode.CACHE_GET, 7, target, 42)
        encode_cache_request(expected[1], context, OpCode.CACHE_PUT, 7, target, 42, "vv")
        ours = [_get_frame(7, self.cache_id, 42), _put_frame(7, self.cache_id, 42, "vv")]
        if ours != [bytes(frame) for frame in expected]:
            raise BenchError("the raw client's frames differ from the protocol encoder's")

    def get(self, key: int) -> str | None:
        self.request_id += 1
        self.sock.sendall(_get_frame(self.request_id, self.cache_id, key))
        view = self.view
        pos = self._answer()
        if view[pos] == _NULL_CODE:
            return None
        code, length = _STRING.unpack_from(view, pos)
        if code != _STRING_CODE:
            raise BenchError(f"the raw client reads str values only, got type code {code}")
        start = pos + _STRING.size
        return str(view[start : start + length], "utf-8")

    def put(self, key: int, value: str) -> None:
        self.request_id += 1
        self.sock.sendall(_put_frame(self.request_id, self.cache_id, key, value))
        self._answer()

    def _answer(self) -> int:
        """Reads one response into the buffer; returns where its body starts."""
        view = self.view
        recv_into = self.sock.recv_into
        got = recv_into(view)
        while got < _RESPONSE.size or got < 4 + _RESPONSE.unpack_from(view)[0]:
            if got == len(view):
                raise BenchError("a response larger than the raw client's buffer")
            more = recv_into(view[got:])
            if not more:
                raise BenchError("the cluster closed the raw connection")
            got += more
        _, request_id, flags = _RESPONSE.unpack_from(view)
        if request_id != self.request_id or flags & ~_TOPOLOGY_CHANGED:
            raise BenchError(f"unexpected response: request id {request_id}, flags {flags:#x}")
        return _RESPONSE.size + (_TOPOLOGY_SIZE if flags & _TOPOLOGY_CHANGED else 0)

    def close(self) -> None:
        self.sock.close()


def _get_frame(request_id: int, cache: int, key: int) -> bytes:
    return _GET.pack(_GET.size - 4, _GET_OP, request_id, cache, 0, _LONG_CODE, key)


def _put_frame(request_id: int, cache: int, key: int, value: str) -> bytes:
    data = value.encode()
    head = _PUT.pack(
        _PUT.size - 4 + len(data),
        _PUT_OP,
        request_id,
        cache,
        0,
        _LONG_CODE,
        key,
        _STRING_CODE,
        len(data),
    )
    return head + data


class RawClient:
    """One :class:`RawConnection` per node; each key goes to its primary's connection."""

    def __init__(self, primaries: Iterable[tuple[int, tuple[str, int]]], cache: str) -> None:
        """``primaries``: (key, endpoint of its primary) for every key it will be asked for."""
        self.connections: dict[tuple[str, int], RawConnection] = {}
        self.by_key: dict[int, RawConnection] = {}
        try:
            for key, endpoint in primaries:
                connection = self.connections.get(endpoint)
                if connection is None:
                    connection = self.connections[endpoint] = RawConnection(endpoint, cache)
                self.by_key[key] = connection
        except BaseException:
            self.close()
            raise

    def get(self, key: int) -> str | None:
        return self.by_key[key].get(key)

    def put(self, key: int, value: str) -> None:
        self.by_key[key].put(key, value)

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
