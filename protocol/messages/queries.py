"""Scan queries (2000/2001), cursor pages and resource close (0), client and server side.

A scan answers with a page: [i64 cursor id, first page only] + i32 n +
n (key, value) + bool more. The deprecated SQL query (2002/2003) answers
with the same page layout. Requests for a further page (2001, 2003, 2005)
and RESOURCE_CLOSE (0) carry a single i64 resource id.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    read_cache_prefix,
    write_cache_prefix,
    write_server_value,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import read_value, skip_value, write_value
from ignite_router.protocol.wire import BOOL, I8, I32, I64, count, finish, take

__all__ = [
    "RESOURCE_OPS",
    "ScanPage",
    "ScanRequest",
    "decode_resource_id",
    "decode_scan_page",
    "decode_scan_request",
    "encode_resource_request",
    "encode_scan_page",
    "encode_scan_request",
]

_SCAN_TAIL = struct.Struct("<ii?")  # page size, partition (-1 = all), local
RESOURCE_OPS = frozenset(
    {
        OpCode.RESOURCE_CLOSE,
        OpCode.QUERY_SCAN_CURSOR_GET_PAGE,
        OpCode.QUERY_SQL_CURSOR_GET_PAGE,
        OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE,
    }
)


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """A scan of one cache, or of one partition of it (``partition`` >= 0).

    ``filter`` is a raw typed object naming a server-side Java filter (rarely
    usable from Python) with its ``filter_platform`` (0 Java, 1 .NET, 2 C++).
    """

    target: CacheTarget
    page_size: int = 1024
    partition: int = -1
    local: bool = False
    filter: bytes | None = None
    filter_platform: int = 0


@dataclass(frozen=True, slots=True)
class ScanPage:
    """One page of a scan: the cursor id (first page only), rows, and whether more follow.

    Server side, row keys and values may be raw typed ``bytes``.
    """

    rows: list[tuple[Any, Any]] = field(default_factory=list)
    more: bool = False
    cursor_id: int | None = None


def encode_scan_request(
    buf: bytearray, context: ProtocolContext, request_id: int, request: ScanRequest
) -> None:
    """2000: prefix, filter object (null) [+ i8 platform], i32 page size, i32 partition,
    bool local."""
    start = begin_request(buf, OpCode.QUERY_SCAN, request_id)
    try:
        write_cache_prefix(buf, context, request.target)
        if request.filter is None:
            write_value(buf, None)
        else:
            buf += request.filter
            buf += I8.pack(request.filter_platform)
        buf += _SCAN_TAIL.pack(request.page_size, request.partition, request.local)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def decode_scan_request(context: ProtocolContext, view: memoryview, pos: int) -> ScanRequest:
    """Server side."""
    target, pos = read_cache_prefix(view, pos, context)
    end = skip_value(view, pos)
    scan_filter = None
    platform = 0
    if view[pos] != 0x65:
        scan_filter = bytes(view[pos:end])
        (platform,), end = take(I8, view, end)
    (page_size, partition, local), pos = take(_SCAN_TAIL, view, end)
    finish(view, pos, "the scan query")
    if page_size <= 0:
        raise ProtocolError(f"scan page size must be positive, got {page_size}")
    return ScanRequest(target, page_size, partition, local, scan_filter, platform)


def encode_resource_request(
    buf: bytearray, op_code: int, request_id: int, resource_id: int
) -> None:
    """Requests whose body is one resource id: cursor pages (2001, 2003, 2005) and close (0)."""
    if op_code not in RESOURCE_OPS:
        raise ValueError(f"op code {op_code} does not take a resource id")
    start = begin_request(buf, op_code, request_id)
    buf += I64.pack(resource_id)
    finish_frame(buf, start)


def decode_resource_id(view: memoryview, pos: int) -> int:
    """Server side: the resource id of a cursor-page or close request."""
    (resource_id,), pos = take(I64, view, pos)
    finish(view, pos, "the resource id")
    return resource_id


def encode_scan_page(buf: bytearray, page: ScanPage) -> None:
    """Server side: [i64 cursor id (first page)] + i32 n + n (key, value) + bool more.

    ``bytes`` keys and values are written verbatim (raw typed values).
    """
    if page.cursor_id is not None:
        buf += I64.pack(page.cursor_id)
    buf += I32.pack(len(page.rows))
    for key, value in page.rows:
        write_server_value(buf, key)
        write_server_value(buf, value)
    buf += BOOL.pack(page.more)


def decode_scan_page(view: memoryview, pos: int, first: bool, registry: Any = None) -> ScanPage:
    """Client side: a scan (or SQL query) answer; ``first``: it starts with the cursor id."""
    cursor_id = None
    if first:
        (cursor_id,), pos = take(I64, view, pos)
    n, pos = count(view, pos, 2)
    rows = []
    for _ in range(n):
        key, pos = read_value(view, pos, registry)
        value, pos = read_value(view, pos, registry)
        rows.append((key, value))
    (more,), pos = take(BOOL, view, pos)
    finish(view, pos, "the result page")
    return ScanPage(rows, more, cursor_id)
