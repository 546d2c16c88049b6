"""Key-value cache operations 1000-1021 (``ClientCacheDataRequest``), client and server side.

Every request starts with the cache prefix (cache id, flags, optional expiry
policy from 1.6.0, optional transaction id from 1.5.0). The body shape per
operation is one table, :data:`BODY_SHAPES`, shared by the encoder and the
server-side decoder; the answer shape is :data:`RESPONSE_SHAPES`.

Values in requests may be Python values, ``(value, IgniteType)`` tuples or
:class:`RawValue`. On the server side values stay raw typed bytes: the
decoder hands out ``bytes`` slices and the response encoders write ``bytes``
(and ``RawValue``) verbatim.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ignite_router.protocol.context import V1_5, V1_6, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.scalars import decode_bool, decode_empty, decode_long
from ignite_router.protocol.opcodes import CacheFlag, OpCode
from ignite_router.protocol.values import read_value, skip_value, write_value
from ignite_router.protocol.wire import BOOL, I32, I64, count, finish, take

__all__ = [
    "BODY_SHAPES",
    "KEY_ROUTED_OPS",
    "RESPONSE_SHAPES",
    "CacheRequest",
    "CacheTarget",
    "ExpiryPolicy",
    "decode_bool",
    "decode_cache_request",
    "decode_cache_response",
    "decode_long",
    "decode_pairs",
    "decode_value",
    "encode_cache_request",
    "encode_cache_response",
    "encode_pairs",
    "read_cache_prefix",
    "write_cache_prefix",
    "write_server_value",
]

_PREFIX = struct.Struct("<ib")
_EXPIRY = struct.Struct("<qqq")
_KEEP_BINARY = int(CacheFlag.KEEP_BINARY)
_TRANSACTIONAL = int(CacheFlag.TRANSACTIONAL)
_WITH_EXPIRY = int(CacheFlag.WITH_EXPIRY_POLICY)

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
    OpCode.CACHE_GET_CONFIGURATION: (),  # answer: protocol.messages.cache_config
}

# Success body: "value" one typed value (null if absent), "bool", "long" (i64),
# "pairs" i32 n + n (key, value), "none" empty.
RESPONSE_SHAPES: dict[int, str] = {
    OpCode.CACHE_GET: "value",
    OpCode.CACHE_PUT: "none",
    OpCode.CACHE_PUT_IF_ABSENT: "bool",
    OpCode.CACHE_GET_ALL: "pairs",
    OpCode.CACHE_PUT_ALL: "none",
    OpCode.CACHE_GET_AND_PUT: "value",
    OpCode.CACHE_GET_AND_REPLACE: "value",
    OpCode.CACHE_GET_AND_REMOVE: "value",
    OpCode.CACHE_GET_AND_PUT_IF_ABSENT: "value",
    OpCode.CACHE_REPLACE: "bool",
    OpCode.CACHE_REPLACE_IF_EQUALS: "bool",
    OpCode.CACHE_CONTAINS_KEY: "bool",
    OpCode.CACHE_CONTAINS_KEYS: "bool",
    OpCode.CACHE_CLEAR: "none",
    OpCode.CACHE_CLEAR_KEY: "none",
    OpCode.CACHE_CLEAR_KEYS: "none",
    OpCode.CACHE_REMOVE_KEY: "bool",
    OpCode.CACHE_REMOVE_IF_EQUALS: "bool",
    OpCode.CACHE_REMOVE_KEYS: "none",
    OpCode.CACHE_REMOVE_ALL: "none",
    OpCode.CACHE_GET_SIZE: "long",
    OpCode.CACHE_LOCAL_PEEK: "value",
}

# Single-key operations a partition-aware client routes to the key's primary. A local
# peek reads the storage of the node it is sent to, so it is never rerouted.
KEY_ROUTED_OPS = frozenset(
    op
    for op, shape in BODY_SHAPES.items()
    if shape[:1] == ("key",) and op in RESPONSE_SHAPES and op != OpCode.CACHE_LOCAL_PEEK
)


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """TTLs in ms for create, update and access (-2 unchanged, -1 eternal)."""

    create: int = -2
    update: int = -2
    access: int = -2


@dataclass(frozen=True, slots=True)
class CacheTarget:
    """The cache-request prefix: which cache, and how (flags, expiry, transaction).

    ``flags`` only contributes KEEP_BINARY; the expiry and transaction bits
    follow from ``expiry`` and ``tx_id``.
    """

    cache_id: int
    flags: int = 0
    expiry: ExpiryPolicy | None = None
    tx_id: int | None = None


@dataclass(slots=True)
class CacheRequest:
    """Server side: a decoded cache request. Values are raw typed bytes."""

    op_code: int
    target: CacheTarget
    key: bytes | None = None
    value: bytes | None = None
    expected: bytes | None = None
    keys: list[bytes] = field(default_factory=list)
    pairs: list[tuple[bytes, bytes]] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)


# -- prefix ---------------------------------------------------------------------------------


def write_cache_prefix(buf: bytearray, context: ProtocolContext, target: CacheTarget) -> None:
    """Cache id, flags, [expiry create/update/access], [tx id] (``ClientCacheRequest``)."""
    expiry = target.expiry
    tx_id = target.tx_id
    flags = target.flags & _KEEP_BINARY
    if expiry is not None:
        if context.version < V1_6:
            raise ValueError(f"expiry policies need protocol 1.6.0, have {context.version}")
        flags |= _WITH_EXPIRY
    if tx_id is not None:
        if context.version < V1_5:
            raise ValueError(f"transactions need protocol 1.5.0, have {context.version}")
        flags |= _TRANSACTIONAL
    buf += _PREFIX.pack(target.cache_id, flags)
    if expiry is not None:
        buf += _EXPIRY.pack(expiry.create, expiry.update, expiry.access)
    if tx_id is not None:
        buf += I32.pack(tx_id)


def read_cache_prefix(
    view: memoryview, pos: int, context: ProtocolContext
) -> tuple[CacheTarget, int]:
    """Server side: the prefix at ``pos``."""
    (cache_id, flags), pos = take(_PREFIX, view, pos)
    expiry = tx_id = None
    if flags & _WITH_EXPIRY:
        if context.version < V1_6:
            raise ProtocolError("expiry policy flag before protocol 1.6.0")
        fields, pos = take(_EXPIRY, view, pos)
        expiry = ExpiryPolicy(*fields)
    if flags & _TRANSACTIONAL:
        if context.version < V1_5:
            raise ProtocolError("transactional flag before protocol 1.5.0")
        (tx_id,), pos = take(I32, view, pos)
    return CacheTarget(cache_id, flags & _KEEP_BINARY, expiry, tx_id), pos


# -- requests, client side ------------------------------------------------------------------


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
    iterable of keys for "keys", of (key, value) pairs (or a mapping) for
    "pairs", of peek modes for "modes". On error nothing is appended.
    """
    shape = BODY_SHAPES[op_code]
    if len(args) != len(shape):
        raise TypeError(f"{OpCode(op_code).name} takes {len(shape)} arguments, got {len(args)}")
    start = begin_request(buf, op_code, request_id)
    try:
        write_cache_prefix(buf, context, target)
        for part, arg in zip(shape, args, strict=True):
            if part == "keys":
                _write_values(buf, arg)
            elif part == "pairs":
                encode_pairs(buf, arg)
            elif part == "modes":
                modes = bytes(arg)
                buf += I32.pack(len(modes))
                buf += modes
            else:
                write_value(buf, arg)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def _write_values(buf: bytearray, values: Iterable[Any]) -> None:
    values = values if isinstance(values, list | tuple) else list(values)
    buf += I32.pack(len(values))
    for value in values:
        write_value(buf, value)


def encode_pairs(buf: bytearray, pairs: Iterable[tuple[Any, Any]] | Mapping[Any, Any]) -> None:
    """i32 n + n (key, value) typed pairs; ``pairs`` may be a mapping."""
    items = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
    buf += I32.pack(len(items))
    for key, value in items:
        write_value(buf, key)
        write_value(buf, value)


# -- requests, server side ------------------------------------------------------------------


def _raw(view: memoryview, pos: int) -> tuple[bytes, int]:
    end = skip_value(view, pos)
    return bytes(view[pos:end]), end


def decode_cache_request(
    context: ProtocolContext, op_code: int, view: memoryview, pos: int
) -> CacheRequest:
    """Server side: decode the body of a cache operation, keeping values as raw bytes."""
    shape = BODY_SHAPES.get(op_code)
    if shape is None:
        raise ProtocolError(f"op code {op_code} is not a cache key-value operation")
    target, pos = read_cache_prefix(view, pos, context)
    request = CacheRequest(op_code, target)
    for part in shape:
        if part == "keys":
            n, pos = count(view, pos, 1)
            keys = request.keys
            for _ in range(n):
                raw, pos = _raw(view, pos)
                keys.append(raw)
        elif part == "pairs":
            n, pos = count(view, pos, 2)
            pairs = request.pairs
            for _ in range(n):
                key, pos = _raw(view, pos)
                value, pos = _raw(view, pos)
                pairs.append((key, value))
        elif part == "modes":
            n, pos = count(view, pos, 1)
            request.modes = list(view[pos : pos + n])
            pos += n
        else:
            raw, pos = _raw(view, pos)
            setattr(request, part, raw)
    finish(view, pos, OpCode(op_code).name)
    return request


# -- responses, server side -----------------------------------------------------------------


def write_server_value(buf: bytearray, value: Any) -> None:
    """A value as a server writes it: ``bytes``/memoryviews/RawValues verbatim (raw typed
    values), anything else through the codec. A server sends a byte array as
    ``(data, IgniteType.BYTE_ARRAY)``."""
    if isinstance(value, bytes | memoryview):
        buf += value
    else:
        write_value(buf, value)


def encode_cache_response(buf: bytearray, op_code: int, result: Any = None) -> None:
    """Server side: the success body of a cache operation (after the header).

    ``result`` per :data:`RESPONSE_SHAPES`: a value (None = null), a bool, an
    int, an iterable of (key, value) pairs or a mapping, or nothing.
    """
    kind = RESPONSE_SHAPES[op_code]
    if kind == "value":
        write_server_value(buf, result)
    elif kind == "bool":
        buf += BOOL.pack(bool(result))
    elif kind == "long":
        buf += I64.pack(result)
    elif kind == "pairs":
        items = list(result.items() if isinstance(result, Mapping) else result)
        buf += I32.pack(len(items))
        for key, value in items:
            write_server_value(buf, key)
            write_server_value(buf, value)
    elif result is not None:
        raise ValueError(f"{OpCode(op_code).name} answers with an empty body")


# -- responses, client side -----------------------------------------------------------------


def decode_value(view: memoryview, pos: int, registry: Any = None) -> Any:
    """Body of GET-like responses: one typed value (None if absent)."""
    value, pos = read_value(view, pos, registry)
    finish(view, pos, "a value answer")
    return value


def decode_pairs(view: memoryview, pos: int, registry: Any = None) -> dict[Any, Any]:
    """Body of GET_ALL: i32 n + n (key, value) pairs, as a dict."""
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
    finish(view, pos, "a GET_ALL answer")
    return result


def decode_cache_response(op_code: int, view: memoryview, pos: int, registry: Any = None) -> Any:
    """Client side: the success body of any operation of :data:`RESPONSE_SHAPES`."""
    kind = RESPONSE_SHAPES[op_code]
    if kind == "value":
        return decode_value(view, pos, registry)
    if kind == "bool":
        return decode_bool(view, pos)
    if kind == "long":
        return decode_long(view, pos)
    if kind == "pairs":
        return decode_pairs(view, pos, registry)
    return decode_empty(view, pos)
