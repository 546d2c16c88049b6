"""Key-value cache operations 1000-1021 (fact sheet §3.2, §3.3), client and server side.

Every request starts with the cache prefix (cache id, flags, optional expiry
policy from 1.6.0, optional transaction id from 1.5.0); the body shape per
operation is one table, :data:`BODY_SHAPES`, shared by the encoders and the
server-side decoder.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.context import V1_5, V1_6, ProtocolContext
from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.opcodes import CacheFlag, OpCode
from protocol.values import read_value, skip_value, write_value
from protocol.wire import BOOL, I32, I64, count, take

__all__ = [
    "BODY_SHAPES",
    "KEY_ROUTED_OPS",
    "CacheRequest",
    "CacheTarget",
    "ExpiryPolicy",
    "decode_bool",
    "decode_cache_request",
    "decode_long",
    "decode_pairs",
    "decode_value",
    "encode_cache_request",
    "encode_pairs",
]

_PREFIX = struct.Struct("<ib")
_EXPIRY = struct.Struct("<qqq")

# Body after the prefix: "key"/"value"/"expected" are one typed value each,
# "keys" is i32 n + n values, "pairs" is i32 n + n (key, value), "modes" is
# i32 n + n peek-mode bytes.
BODY_SHAPES: dict[int, tuple[str, ...]] = {
    OpCode.CACHE_GET: ("key",),
    OpCode.CACHE_PUT: ("key", "value"),
    OpCode.CACHE_PUT_IF_ABSENT: ("key", "value"),
    OpCode.CACHE_GET_ALL: ("keys",),
    OpCode.CACHE_PUT_ALL: ("pairs",),
    OpCode.CACHE_GET_AND_PUT: ("key", "value"),
    OpCode.CACHE_GET_AND_REPLACE: ("key", "value"),
    OpCode.CACHE_GET_AND_REMOVE: ("key",),
    OpCode.CACHE_GET_AND_PUT_IF_ABSENT: ("key", "value"),
    OpCode.CACHE_REPLACE: ("key", "value"),
    OpCode.CACHE_REPLACE_IF_EQUALS: ("key", "expected", "value"),
    OpCode.CACHE_CONTAINS_KEY: ("key",),
    OpCode.CACHE_CONTAINS_KEYS: ("keys",),
    OpCode.CACHE_CLEAR: (),
    OpCode.CACHE_CLEAR_KEY: ("key",),
    OpCode.CACHE_CLEAR_KEYS: ("keys",),
    OpCode.CACHE_REMOVE_KEY: ("key",),
    OpCode.CACHE_REMOVE_IF_EQUALS: ("key", "expected"),
    OpCode.CACHE_REMOVE_KEYS: ("keys",),
    OpCode.CACHE_REMOVE_ALL: (),
    OpCode.CACHE_GET_SIZE: ("modes",),
    OpCode.CACHE_LOCAL_PEEK: ("key", "modes"),
    OpCode.CACHE_GET_CONFIGURATION: (),
}

# Single-key operations a partition-aware client routes to the key's primary.
KEY_ROUTED_OPS = frozenset(op for op, shape in BODY_SHAPES.items() if shape[:1] == ("key",))


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """TTLs in ms for create, update and access (-2 unchanged, -1 eternal)."""

    create: int = -2
    update: int = -2
    access: int = -2


@dataclass(frozen=True, slots=True)
class CacheTarget:
    """The cache-request prefix: which cache, and how (flags, expiry, transaction)."""

    cache_id: int
    flags: int = 0
    expiry: ExpiryPolicy | None = None
    tx_id: int | None = None


@dataclass(slots=True)
class CacheRequest:
    """Server side: a decoded cache request. Values are raw typed bytes (``bytes``)."""

    op_code: int
    target: CacheTarget
    key: bytes | None = None
    value: bytes | None = None
    expected: bytes | None = None
    keys: list[bytes] = field(default_factory=list)
    pairs: list[tuple[bytes, bytes]] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)


def _write_prefix(buf: bytearray, context: ProtocolContext, target: CacheTarget) -> None:
    flags = target.flags & CacheFlag.KEEP_BINARY
    if target.expiry is not None:
        if context.version < V1_6:
            raise ValueError(f"expiry policies need protocol 1.6.0, have {context.version}")
        flags |= CacheFlag.WITH_EXPIRY_POLICY
    if target.tx_id is not None:
        if context.version < V1_5:
            raise ValueError(f"transactions need protocol 1.5.0, have {context.version}")
        flags |= CacheFlag.TRANSACTIONAL
    buf += _PREFIX.pack(target.cache_id, flags)
    if target.expiry is not None:
        buf += _EXPIRY.pack(target.expiry.create, target.expiry.update, target.expiry.access)
    if target.tx_id is not None:
        buf += I32.pack(target.tx_id)


def encode_cache_request(
    buf: bytearray,
    context: ProtocolContext,
    op_code: int,
    request_id: int,
    target: CacheTarget,
    *args: Any,
) -> None:
    """Append a complete request frame for any operation of :data:`BODY_SHAPES`.

    ``args`` follow the shape: one value per "key"/"value"/"expected", an
    iterable of keys for "keys", of (key, value) pairs for "pairs", of peek
    modes for "modes". Values may be ``(value, hint)`` tuples or RawValues.
    """
    shape = BODY_SHAPES[op_code]
    if len(args) != len(shape):
        raise TypeError(f"{OpCode(op_code).name} takes {len(shape)} arguments, got {len(args)}")
    start = begin_request(buf, op_code, request_id)
    try:
        _write_prefix(buf, context, target)
        for part, arg in zip(shape, args, strict=True):
            if part == "keys":
                _write_values(buf, arg)
            elif part == "pairs":
                encode_pairs(buf, arg)
            elif part == "modes":
                modes = list(arg)
                buf += I32.pack(len(modes))
                buf += bytes(modes)
            else:
                write_value(buf, arg)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def _write_values(buf: bytearray, values: Iterable[Any]) -> None:
    values = values if isinstance(values, Sequence) else list(values)
    buf += I32.pack(len(values))
    for value in values:
        write_value(buf, value)


def encode_pairs(buf: bytearray, pairs: Iterable[tuple[Any, Any]]) -> None:
    """i32 n + n (key, value) typed pairs; ``pairs`` may be a dict."""
    items = list(pairs.items() if isinstance(pairs, dict) else pairs)
    buf += I32.pack(len(items))
    for key, value in items:
        write_value(buf, key)
        write_value(buf, value)


def _raw(view: memoryview, pos: int) -> tuple[bytes, int]:
    end = skip_value(view, pos)
    return bytes(view[pos:end]), end


def _read_prefix(view: memoryview, pos: int, context: ProtocolContext) -> tuple[CacheTarget, int]:
    (cache_id, flags), pos = take(_PREFIX, view, pos)
    expiry = tx_id = None
    if flags & CacheFlag.WITH_EXPIRY_POLICY:
        if context.version < V1_6:
            raise ProtocolError("expiry policy flag before protocol 1.6.0")
        fields, pos = take(_EXPIRY, view, pos)
        expiry = ExpiryPolicy(*fields)
    if flags & CacheFlag.TRANSACTIONAL:
        if context.version < V1_5:
            raise ProtocolError("transactional flag before protocol 1.5.0")
        (tx_id,), pos = take(I32, view, pos)
    return CacheTarget(cache_id, flags & 0xFF, expiry, tx_id), pos


def decode_cache_request(
    context: ProtocolContext, op_code: int, view: memoryview, pos: int
) -> CacheRequest:
    """Server side: decode the body of a cache operation, keeping values as raw bytes."""
    shape = BODY_SHAPES.get(op_code)
    if shape is None:
        raise ProtocolError(f"op code {op_code} is not a cache key-value operation")
    target, pos = _read_prefix(view, pos, context)
    request = CacheRequest(op_code, target)
    for part in shape:
        if part == "keys":
            n, pos = count(view, pos, 1)
            for _ in range(n):
                raw, pos = _raw(view, pos)
                request.keys.append(raw)
        elif part == "pairs":
            n, pos = count(view, pos, 2)
            for _ in range(n):
                key, pos = _raw(view, pos)
                value, pos = _raw(view, pos)
                request.pairs.append((key, value))
        elif part == "modes":
            n, pos = count(view, pos, 1)
            request.modes = list(view[pos : pos + n])
            pos += n
        else:
            raw, pos = _raw(view, pos)
            setattr(request, part, raw)
    if pos != len(view):
        raise ProtocolError(f"{len(view) - pos} unexpected bytes after {OpCode(op_code).name}")
    return request


# -- response bodies (client side decoders; servers write them with write_value/I64/BOOL)


def decode_value(view: memoryview, pos: int, registry: Any = None) -> Any:
    """Body of GET-like responses: one typed value (None if absent)."""
    return read_value(view, pos, registry)[0]


def decode_bool(view: memoryview, pos: int) -> bool:
    return take(BOOL, view, pos)[0][0]


def decode_long(view: memoryview, pos: int) -> int:
    return take(I64, view, pos)[0][0]


def decode_pairs(view: memoryview, pos: int, registry: Any = None) -> dict[Any, Any]:
    """Body of GET_ALL: i32 n + n (key, value) pairs."""
    n, pos = count(view, pos, 2)
    result = {}
    for _ in range(n):
        key, pos = read_value(view, pos, registry)
        value, pos = read_value(view, pos, registry)
        try:
            result[key] = value
        except TypeError:
            raise ProtocolError(
                f"unhashable key {type(key).__name__} in a GET_ALL answer"
            ) from None
    return result
