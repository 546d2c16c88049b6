"""Cache management 1050-1056: names, create / get-or-create, configuration, destroy.

A configuration is a ``dict`` of property code -> value (the codes of
:class:`CacheProperty`, as pyignite's ``PROP_*`` constants). Requests
1053/1054 carry the properties given; the 1055 answer carries every property
in a fixed order (fact sheet §3.3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import IntEnum
from typing import Any

from protocol.context import V1_2, V1_6, ProtocolContext
from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.messages.cache_keys import ExpiryPolicy
from protocol.opcodes import OpCode
from protocol.values import read_string, read_value, write_string, write_value
from protocol.wire import BOOL, I8, I16, I32, I64, count, take

__all__ = [
    "CacheMode",
    "CacheProperty",
    "decode_cache_configuration",
    "decode_cache_names",
    "decode_configuration_request",
    "encode_cache_configuration",
    "encode_cache_names",
    "encode_configuration_request",
    "encode_destroy_request",
    "encode_name_request",
]


class CacheMode(IntEnum):
    LOCAL = 0
    REPLICATED = 1
    PARTITIONED = 2


class CacheProperty(IntEnum):
    """Cache configuration property codes."""

    NAME = 0
    CACHE_MODE = 1
    CACHE_ATOMICITY_MODE = 2
    BACKUPS_NUMBER = 3
    WRITE_SYNCHRONIZATION_MODE = 4
    COPY_ON_READ = 5
    READ_FROM_BACKUP = 6
    DATA_REGION_NAME = 100
    IS_ONHEAP_CACHE_ENABLED = 101
    QUERY_ENTITIES = 200
    QUERY_PARALLELISM = 201
    QUERY_DETAIL_METRIC_SIZE = 202
    SQL_SCHEMA = 203
    SQL_INDEX_INLINE_MAX_SIZE = 204
    SQL_ESCAPE_ALL = 205
    MAX_QUERY_ITERATORS = 206
    REBALANCE_MODE = 300
    REBALANCE_DELAY = 301
    REBALANCE_TIMEOUT = 302
    REBALANCE_BATCH_SIZE = 303
    REBALANCE_BATCHES_PREFETCH_COUNT = 304
    REBALANCE_ORDER = 305
    REBALANCE_THROTTLE = 306
    GROUP_NAME = 400
    CACHE_KEY_CONFIGURATION = 401
    DEFAULT_LOCK_TIMEOUT = 402
    MAX_CONCURRENT_ASYNC_OPERATIONS = 403
    PARTITION_LOSS_POLICY = 404
    EAGER_TTL = 405
    STATISTICS_ENABLED = 406
    EXPIRY_POLICY = 407


P = CacheProperty
Reader = Callable[[memoryview, int, ProtocolContext], tuple[Any, int]]
Writer = Callable[[bytearray, Any, ProtocolContext], None]


def _scalar(shape) -> tuple[Writer, Reader]:
    def write(buf: bytearray, value: Any, context: ProtocolContext) -> None:
        buf += shape.pack(value)

    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        (value,), pos = take(shape, view, pos)
        return value, pos

    return write, read


def _write_string(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    write_string(buf, value)


def _read_string(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    return read_string(view, pos)


def _write_array(item: Callable[[bytearray, Any, ProtocolContext], None]) -> Writer:
    def write(buf: bytearray, values: Any, context: ProtocolContext) -> None:
        values = list(values or ())
        buf += I32.pack(len(values))
        for value in values:
            item(buf, value, context)

    return write


def _read_array(item: Reader, min_size: int) -> Reader:
    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        n, pos = count(view, pos, min_size)
        values = []
        for _ in range(n):
            value, pos = item(view, pos, context)
            values.append(value)
        return values, pos

    return read


def _write_fields(*fields: tuple[str, Writer]) -> Writer:
    def write(buf: bytearray, value: Mapping[str, Any], context: ProtocolContext) -> None:
        for name, writer in fields:
            writer(buf, value.get(name), context)

    return write


def _read_fields(*fields: tuple[str, Reader]) -> Reader:
    def read(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
        result = {}
        for name, reader in fields:
            result[name], pos = reader(view, pos, context)
        return result, pos

    return read


_INT = _scalar(I32)
_LONG = _scalar(I64)
_BOOL = _scalar(BOOL)
_BYTE = _scalar(I8)
_STRING = (_write_string, _read_string)


def _precision_writer(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    if context.version >= V1_2:
        buf += I32.pack(-1 if value is None else value)


def _precision_reader(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    if context.version < V1_2:
        return -1, pos
    (value,), pos = take(I32, view, pos)
    return value, pos


def _any_writer(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    write_value(buf, value)


def _any_reader(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    return read_value(view, pos)


def _struct(*fields: tuple[str, tuple[Writer, Reader]]) -> tuple[Writer, Reader]:
    return (
        _write_fields(*((name, pair[0]) for name, pair in fields)),
        _read_fields(*((name, pair[1]) for name, pair in fields)),
    )


def _bool_default(name: str) -> tuple[str, tuple[Writer, Reader]]:
    write, read = _BOOL
    return name, (lambda buf, value, ctx: write(buf, bool(value), ctx), read)


_QUERY_FIELD = _struct(
    ("name", _STRING),
    ("type_name", _STRING),
    _bool_default("is_key_field"),
    _bool_default("is_notnull_constraint_field"),
    ("default_value", (_any_writer, _any_reader)),
    ("precision", (_precision_writer, _precision_reader)),
    ("scale", (_precision_writer, _precision_reader)),
)
_ALIAS = _struct(("field_name", _STRING), ("alias", _STRING))
_INDEX_FIELD = _struct(("name", _STRING), _bool_default("is_descending"))
_INDEX = _struct(
    ("index_name", _STRING),
    ("index_type", (lambda buf, v, ctx: buf.extend(I8.pack(v or 0)), _BYTE[1])),
    ("inline_size", (lambda buf, v, ctx: buf.extend(I32.pack(-1 if v is None else v)), _INT[1])),
    ("fields", (_write_array(_INDEX_FIELD[0]), _read_array(_INDEX_FIELD[1], 6))),
)
_QUERY_ENTITY = _struct(
    ("key_type_name", _STRING),
    ("value_type_name", _STRING),
    ("table_name", _STRING),
    ("key_field_name", _STRING),
    ("value_field_name", _STRING),
    ("query_fields", (_write_array(_QUERY_FIELD[0]), _read_array(_QUERY_FIELD[1], 5))),
    ("field_name_aliases", (_write_array(_ALIAS[0]), _read_array(_ALIAS[1], 2))),
    ("query_indexes", (_write_array(_INDEX[0]), _read_array(_INDEX[1], 10))),
)
_QUERY_ENTITIES = (_write_array(_QUERY_ENTITY[0]), _read_array(_QUERY_ENTITY[1], 8))
_KEY_CONFIG = _struct(("type_name", _STRING), ("affinity_key_field_name", _STRING))
_KEY_CONFIGS = (_write_array(_KEY_CONFIG[0]), _read_array(_KEY_CONFIG[1], 2))


def _write_expiry(buf: bytearray, value: Any, context: ProtocolContext) -> None:
    if value is None:
        buf += b"\x00"
        return
    buf += b"\x01"
    buf += I64.pack(value.create) + I64.pack(value.update) + I64.pack(value.access)


def _read_expiry(view: memoryview, pos: int, context: ProtocolContext) -> tuple[Any, int]:
    (present,), pos = take(BOOL, view, pos)
    if not present:
        return None, pos
    values = []
    for _ in range(3):
        (value,), pos = take(I64, view, pos)
        values.append(value)
    return ExpiryPolicy(*values), pos


_CODECS: dict[int, tuple[Writer, Reader]] = {
    P.NAME: _STRING,
    P.CACHE_MODE: _INT,
    P.CACHE_ATOMICITY_MODE: _INT,
    P.BACKUPS_NUMBER: _INT,
    P.WRITE_SYNCHRONIZATION_MODE: _INT,
    P.COPY_ON_READ: _BOOL,
    P.READ_FROM_BACKUP: _BOOL,
    P.DATA_REGION_NAME: _STRING,
    P.IS_ONHEAP_CACHE_ENABLED: _BOOL,
    P.QUERY_ENTITIES: _QUERY_ENTITIES,
    P.QUERY_PARALLELISM: _INT,
    P.QUERY_DETAIL_METRIC_SIZE: _INT,
    P.SQL_SCHEMA: _STRING,
    P.SQL_INDEX_INLINE_MAX_SIZE: _INT,
    P.SQL_ESCAPE_ALL: _BOOL,
    P.MAX_QUERY_ITERATORS: _INT,
    P.REBALANCE_MODE: _INT,
    P.REBALANCE_DELAY: _LONG,
    P.REBALANCE_TIMEOUT: _LONG,
    P.REBALANCE_BATCH_SIZE: _INT,
    P.REBALANCE_BATCHES_PREFETCH_COUNT: _LONG,
    P.REBALANCE_ORDER: _INT,
    P.REBALANCE_THROTTLE: _LONG,
    P.GROUP_NAME: _STRING,
    P.CACHE_KEY_CONFIGURATION: _KEY_CONFIGS,
    P.DEFAULT_LOCK_TIMEOUT: _LONG,
    P.MAX_CONCURRENT_ASYNC_OPERATIONS: _INT,
    P.PARTITION_LOSS_POLICY: _INT,
    P.EAGER_TTL: _BOOL,
    P.STATISTICS_ENABLED: _BOOL,
    P.EXPIRY_POLICY: (_write_expiry, _read_expiry),
}

# Order of the full configuration in the OP_CACHE_GET_CONFIGURATION answer.
_FULL_ORDER = (
    P.CACHE_ATOMICITY_MODE, P.BACKUPS_NUMBER, P.CACHE_MODE, P.COPY_ON_READ,
    P.DATA_REGION_NAME, P.EAGER_TTL, P.STATISTICS_ENABLED, P.GROUP_NAME,
    P.DEFAULT_LOCK_TIMEOUT, P.MAX_CONCURRENT_ASYNC_OPERATIONS, P.MAX_QUERY_ITERATORS,
    P.NAME, P.IS_ONHEAP_CACHE_ENABLED, P.PARTITION_LOSS_POLICY, P.QUERY_DETAIL_METRIC_SIZE,
    P.QUERY_PARALLELISM, P.READ_FROM_BACKUP, P.REBALANCE_BATCH_SIZE,
    P.REBALANCE_BATCHES_PREFETCH_COUNT, P.REBALANCE_DELAY, P.REBALANCE_MODE,
    P.REBALANCE_ORDER, P.REBALANCE_THROTTLE, P.REBALANCE_TIMEOUT, P.SQL_ESCAPE_ALL,
    P.SQL_INDEX_INLINE_MAX_SIZE, P.SQL_SCHEMA, P.WRITE_SYNCHRONIZATION_MODE,
    P.CACHE_KEY_CONFIGURATION, P.QUERY_ENTITIES,
)  # fmt: skip

# Server defaults reported for properties a cache was created without.
DEFAULTS: dict[int, Any] = {
    P.CACHE_ATOMICITY_MODE: 1, P.BACKUPS_NUMBER: 0, P.CACHE_MODE: CacheMode.PARTITIONED,
    P.COPY_ON_READ: True, P.DATA_REGION_NAME: None, P.EAGER_TTL: True,
    P.STATISTICS_ENABLED: False, P.GROUP_NAME: None, P.DEFAULT_LOCK_TIMEOUT: 0,
    P.MAX_CONCURRENT_ASYNC_OPERATIONS: 500, P.MAX_QUERY_ITERATORS: 1024, P.NAME: None,
    P.IS_ONHEAP_CACHE_ENABLED: False, P.PARTITION_LOSS_POLICY: 4,
    P.QUERY_DETAIL_METRIC_SIZE: 0, P.QUERY_PARALLELISM: 1, P.READ_FROM_BACKUP: True,
    P.REBALANCE_BATCH_SIZE: 524288, P.REBALANCE_BATCHES_PREFETCH_COUNT: 3,
    P.REBALANCE_DELAY: 0, P.REBALANCE_MODE: 1, P.REBALANCE_ORDER: 0,
    P.REBALANCE_THROTTLE: 0, P.REBALANCE_TIMEOUT: 10000, P.SQL_ESCAPE_ALL: False,
    P.SQL_INDEX_INLINE_MAX_SIZE: -1, P.SQL_SCHEMA: None, P.WRITE_SYNCHRONIZATION_MODE: 2,
    P.CACHE_KEY_CONFIGURATION: [], P.QUERY_ENTITIES: [], P.EXPIRY_POLICY: None,
}  # fmt: skip


def _codec(code: int) -> tuple[Writer, Reader]:
    codec = _CODECS.get(code)
    if codec is None:
        raise ProtocolError(f"unknown cache property code {code}")
    return codec


def encode_name_request(buf: bytearray, op_code: int, request_id: int, name: str) -> None:
    """1051 CREATE_WITH_NAME / 1052 GET_OR_CREATE_WITH_NAME."""
    start = begin_request(buf, op_code, request_id)
    write_string(buf, name)
    finish_frame(buf, start)


def encode_destroy_request(buf: bytearray, request_id: int, cache_id: int) -> None:
    start = begin_request(buf, OpCode.CACHE_DESTROY, request_id)
    buf += I32.pack(cache_id)
    finish_frame(buf, start)


def encode_configuration_request(
    buf: bytearray,
    context: ProtocolContext,
    op_code: int,
    request_id: int,
    properties: Mapping[int, Any],
) -> None:
    """1053 CREATE / 1054 GET_OR_CREATE with a configuration (property code -> value)."""
    if P.EXPIRY_POLICY in properties and context.version < V1_6:
        raise ValueError(f"expiry policies need protocol 1.6.0, have {context.version}")
    start = begin_request(buf, op_code, request_id)
    length_at = len(buf)
    buf += I32.pack(0) + I16.pack(len(properties))
    for code, value in properties.items():
        buf += I16.pack(code)
        _codec(code)[0](buf, value, context)
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
    properties: dict[int, Any] = {}
    for _ in range(n):
        (code,), pos = take(I16, view, pos)
        properties[code], pos = _codec(code)[1](view, pos, context)
    if pos != len(view):
        raise ProtocolError("unexpected bytes after the cache configuration")
    if not properties.get(P.NAME):
        raise ProtocolError("a cache configuration needs a name")
    return properties


def _full_order(context: ProtocolContext) -> tuple[int, ...]:
    return (*_FULL_ORDER, P.EXPIRY_POLICY) if context.version >= V1_6 else _FULL_ORDER


def encode_cache_configuration(
    buf: bytearray, context: ProtocolContext, properties: Mapping[int, Any]
) -> None:
    """Server side: the 1055 answer body, every property in the fixed order."""
    length_at = len(buf)
    buf += I32.pack(0)
    for code in _full_order(context):
        value = properties.get(code, DEFAULTS[code])
        _CODECS[code][0](buf, value, context)
    I32.pack_into(buf, length_at, len(buf) - length_at - 4)


def decode_cache_configuration(
    context: ProtocolContext, view: memoryview, pos: int
) -> dict[int, Any]:
    """Client side: the 1055 answer body as property code -> value."""
    (length,), pos = take(I32, view, pos)
    end = pos + length
    if length < 0 or end > len(view):
        raise ProtocolError(f"configuration length {length} does not fit the message")
    properties = {}
    for code in _full_order(context):
        properties[code], pos = _CODECS[code][1](view, pos, context)
    if pos != end:
        raise ProtocolError("configuration length disagrees with its content")
    return properties


def encode_cache_names(buf: bytearray, names: Iterable[str]) -> None:
    """Server side: the 1050 answer body."""
    names = list(names)
    buf += I32.pack(len(names))
    for name in names:
        write_string(buf, name)


def decode_cache_names(view: memoryview, pos: int) -> list[str]:
    n, pos = count(view, pos, 1)
    names = []
    for _ in range(n):
        name, pos = read_string(view, pos)
        names.append(name)
    return names
