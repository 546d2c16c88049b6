"""pyignite 0.6.1 as an independent reference for the message tests.

:class:`Loopback` stands in for a pyignite ``Connection``: pyignite's own API
functions (``pyignite.api.*``) write their request into it and parse whatever
the test answers. So one call checks both directions against pyignite: the
request bytes it wrote (compared with ours) and its parse of our server-side
answer (compared with the expected value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from pyignite import Client
from pyignite.connection.bitmask_feature import BitmaskFeature
from pyignite.connection.protocol_context import ProtocolContext as PyProtocolContext
from pyignite.queries.cache_info import CacheInfo

from ignite_router.affinity import cache_id
from ignite_router.protocol.context import ProtocolContext, ProtocolVersion, encode_features
from ignite_router.protocol.header import (
    decode_request_header,
    encode_response_header,
    finish_frame,
)

MY_CACHE = cache_id("my cache")
# pyignite speaks 1.2.0-1.7.0 and offers feature bit 2 only.
PYIGNITE_VERSIONS = [ProtocolVersion(1, minor, 0) for minor in range(2, 8)]
PYIGNITE_FEATURES = frozenset({2})


def context_for(version: ProtocolVersion) -> ProtocolContext:
    features = PYIGNITE_FEATURES if version >= (1, 7, 0) else frozenset()
    return ProtocolContext(version, features)


class Loopback:
    """A pyignite connection that records requests and answers with ``respond(request)``."""

    def __init__(self, context: ProtocolContext) -> None:
        self.context = context
        features = None
        if context.has_features:
            features = BitmaskFeature.from_array(encode_features(context.features) or b"\x00")
        self.protocol_context = PyProtocolContext(tuple(context.version), features)
        self.client = Client()
        self.client.protocol_context = self.protocol_context
        self.host, self.port, self.uuid = "127.0.0.1", 10800, None
        self.requests: list[bytes] = []
        self.respond: Callable[[bytes], bytes] = lambda request: b""

    def request(self, data: bytes | bytearray, flags: Any = None) -> bytearray:
        self.requests.append(bytes(data))
        return bytearray(self.respond(bytes(data)))

    def cache_info(self, cache: int = MY_CACHE, expiry: Any = None) -> CacheInfo:
        return CacheInfo(
            cache_id=cache, expiry_policy=expiry, protocol_context=self.protocol_context
        )


def answer(
    context: ProtocolContext,
    request: bytes,
    write_body: Callable[[bytearray], None] | None = None,
    topology: tuple[int, int] | None = None,
    error: tuple[int, str] | None = None,
) -> bytes:
    """Our server's answer to ``request`` (a whole frame): header + ``write_body``."""
    header = decode_request_header(memoryview(request)[4:])
    out = bytearray()
    start = encode_response_header(out, context, header.request_id, topology, error)
    if error is None and write_body is not None:
        write_body(out)
    finish_frame(out, start)
    return bytes(out)


def request_id_of(request: bytes) -> int:
    return decode_request_header(memoryview(request)[4:]).request_id


# pyignite truncates strings at NUL (a ctypes artefact), so its strategies avoid it.
TEXT = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=16)
KEYS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    TEXT,
    st.uuids(),
    st.booleans(),
)
VALUES = st.one_of(
    KEYS,
    st.floats(allow_nan=False),
    st.binary(max_size=16),
    st.none(),
)
