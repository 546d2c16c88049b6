"""Cache management 1050-1056: names, create / get-or-create, configuration, destroy.

Property codes, value layouts and defaults live in
:mod:`protocol.messages.cache_properties`. OP_CACHE_GET_CONFIGURATION (1055)
is requested with the cache prefix (``encode_cache_request`` with no
arguments) and answered by the full configuration in a fixed order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

from ignite_router.protocol.context import V1_6, ProtocolContext
from ignite_router.protocol.errors import ParameterError, ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_properties import (
    CONFIGURATION_ORDER,
    DEFAULTS,
    CacheMode,
    CacheProperty,
    property_codec,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import read_string, write_string
from ignite_router.protocol.wire import I16, I32, count, finish, take

__all__ = [
    "CacheMode",
    "CacheProperty",
    "decode_cache_configuration",
    "decode_cache_names",
    "decode_configuration_request",
    "decode_destroy_request",
    "decode_name_request",
    "encode_cache_configuration",
    "encode_cache_names",
    "encode_configuration_request",
    "encode_destroy_request",
    "encode_get_names_request",
    "encode_name_request",
]

_NAME_OPS = (OpCode.CACHE_CREATE_WITH_NAME, OpCode.CACHE_GET_OR_CREATE_WITH_NAME)
_CONFIG_OPS = (
    OpCode.CACHE_CREATE_WITH_CONFIGURATION,
    OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION,
)


def encode_get_names_request(buf: bytearray, request_id: int) -> None:
    """1050 CACHE_GET_NAMES: an empty body."""
    finish_frame(buf, begin_request(buf, OpCode.CACHE_GET_NAMES, request_id))


def encode_cache_names(buf: bytearray, names: Iterable[str]) -> None:
    """Server side: the 1050 answer body (i32 n + n Strings)."""
    names = list(names)
    buf += I32.pack(len(names))
    for name in names:
        write_string(buf, name)


def decode_cache_names(view: memoryview, pos: int) -> list[str]:
    """Client side: the 1050 answer body."""
    n, pos = count(view, pos, 1)
    names = []
    for _ in range(n):
        name, pos = read_string(view, pos)
        if name is None:
            raise ProtocolError("null cache name in a CACHE_GET_NAMES answer")
        names.append(name)
    finish(view, pos, "the cache names")
    return names


def encode_name_request(buf: bytearray, op_code: int, request_id: int, name: str) -> None:
    """1051 CREATE_WITH_NAME / 1052 GET_OR_CREATE_WITH_NAME (answer: empty)."""
    if op_code not in _NAME_OPS:
        raise ValueError(f"op code {op_code} does not take a cache name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a cache name must be a non-empty str, got {name!r}")
    start = begin_request(buf, op_code, request_id)
    write_string(buf, name)
    finish_frame(buf, start)


def decode_name_request(view: memoryview, pos: int) -> str:
    """Server side: the cache name of a 1051/1052 request."""
    name, pos = read_string(view, pos)
    if not name:
        raise ProtocolError("a cache needs a non-empty name")
    finish(view, pos, "the cache name")
    return name


def encode_destroy_request(buf: bytearray, request_id: int, cache_id: int) -> None:
    """1056 CACHE_DESTROY: the cache id alone, no flags (answer: empty)."""
    start = begin_request(buf, OpCode.CACHE_DESTROY, request_id)
    buf += I32.pack(cache_id)
    finish_frame(buf, start)


def decode_destroy_request(view: memoryview, pos: int) -> int:
    """Server side: the cache id of a 1056 request."""
    (cache_id,), pos = take(I32, view, pos)
    finish(view, pos, "the cache id")
    return cache_id


def encode_configuration_request(
    buf: bytearray,
    context: ProtocolContext,
    op_code: int,
    request_id: int,
    properties: Mapping[int, Any],
) -> None:
    """1053 CREATE / 1054 GET_OR_CREATE with a configuration (answer: empty).

    Body: i32 length of what follows, i16 property count, then per property
    i16 code + value. On error nothing is appended.
    """
    if op_code not in _CONFIG_OPS:
        raise ValueError(f"op code {op_code} does not take a configuration")
    if not properties.get(CacheProperty.NAME):
        raise ParameterError("a cache configuration needs a non-empty NAME")
    if CacheProperty.EXPIRY_POLICY in properties and context.version < V1_6:
        raise ValueError(f"expiry policies need protocol 1.6.0, have {context.version}")
    start = begin_request(buf, op_code, request_id)
    length_at = len(buf)
    try:
        buf += I32.pack(0) + I16.pack(len(properties))
        for code, value in properties.items():
            buf += I16.pack(code)
            try:
                property_codec(code).write(buf, value, context)
            except struct.error as error:
                raise ParameterError(f"bad value for {CacheProperty(code).name}: {error}") from None
    except ProtocolError as error:
        del buf[start:]
        raise ParameterError(str(error)) from None
    except BaseException:
        del buf[start:]
        raise
    I32.pack_into(buf, length_at, len(buf) - length_at - 4)
    finish_frame(buf, start)


def decode_configuration_request(
    context: ProtocolContext, view: memoryview, pos: int
) -> dict[int, Any]:
    """Server side: the properties of a 1053/1054 request."""
    # The length is read and ignored, as the server does: pyignite 0.6.1 sends a
    # wrong one (its header size subtracted from a length not yet computed: -18).
    _, pos = take(I32, view, pos)
    (n,), pos = take(I16, view, pos)
    if n < 0:
        raise ProtocolError(f"negative property count {n}")
    properties: dict[int, Any] = {}
    for _ in range(n):
        (code,), pos = take(I16, view, pos)
        if code == CacheProperty.EXPIRY_POLICY and context.version < V1_6:
            raise ProtocolError("expiry policy property before protocol 1.6.0")
        properties[code], pos = property_codec(code).read(view, pos, context)
    finish(view, pos, "the cache configuration")
    if not properties.get(CacheProperty.NAME):
        raise ProtocolError("a cache configuration needs a name")
    return properties


def _full_order(context: ProtocolContext) -> tuple[int, ...]:
    if context.version >= V1_6:
        return (*CONFIGURATION_ORDER, CacheProperty.EXPIRY_POLICY)
    return CONFIGURATION_ORDER


def encode_cache_configuration(
    buf: bytearray, context: ProtocolContext, properties: Mapping[int, Any]
) -> None:
    """Server side: the 1055 answer body, every property in the fixed order.

    Properties missing from ``properties`` are reported with Ignite's defaults.
    """
    length_at = len(buf)
    buf += I32.pack(0)
    for code in _full_order(context):
        value = properties.get(code, DEFAULTS[code])
        property_codec(code).write(buf, value, context)
    I32.pack_into(buf, length_at, len(buf) - length_at - 4)


def decode_cache_configuration(
    context: ProtocolContext, view: memoryview, pos: int
) -> dict[int, Any]:
    """Client side: the 1055 answer body as property code -> value."""
    (length,), pos = take(I32, view, pos)
    end = pos + length
    if length < 0 or end != len(view):
        raise ProtocolError(f"configuration length {length} disagrees with the message")
    properties = {}
    for code in _full_order(context):
        properties[code], pos = property_codec(code).read(view, pos, context)
    finish(view, pos, "the cache configuration")
    return properties
