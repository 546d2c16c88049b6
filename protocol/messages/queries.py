"""Scan queries (2000/2001) and resource close (0), client and server side."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocol.context import ProtocolContext
from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.messages.cache_keys import CacheTarget, _read_prefix, _write_prefix
from protocol.opcodes import OpCode
from protocol.values import RawValue, read_value, write_value
from protocol.wire import BOOL, I32, I64, count, take

__all__ = [
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


@dataclass(frozen=True, slots=True)
class ScanRequest:
    target: CacheTarget
    page_size: int = 1024
    partition: int = -1
    local: bool = False


@dataclass(frozen=True, slots=True)
class ScanPage:
    """One page of a scan: the cursor id (first page only), rows, and whether more follow."""

    rows: list[tuple[Any, Any]]
    more: bool
    cursor_id: int | None = None


def encode_scan_request(
    buf: bytearray, context: ProtocolContext, request_id: int, request: ScanRequest
) -> None:
    start = begin_request(buf, OpCode.QUERY_SCAN, request_id)
    _write_prefix(buf, context, request.target)
    write_value(buf, None)  # no remote filter: Java filters cannot be sent from Python
    buf += _SCAN_TAIL.pack(request.page_size, request.partition, request.local)
    finish_frame(buf, start)


def decode_scan_request(context: ProtocolContext, view: memoryview, pos: int) -> ScanRequest:
    """Server side."""
    target, pos = _read_prefix(view, pos, context)
    scan_filter, pos = read_value(view, pos)
    if scan_filter is not None:
        raise ProtocolError("scan query filters are not supported")
    (page_size, partition, local), pos = take(_SCAN_TAIL, view, pos)
    if page_size <= 0:
        raise ProtocolError(f"scan page size must be positive, got {page_size}")
    return ScanRequest(target, page_size, partition, local)


def encode_resource_request(
    buf: bytearray, op_code: int, request_id: int, resource_id: int
) -> None:
    """Requests whose body is one resource id: cursor pages (2001, ...) and close (0)."""
    start = begin_request(buf, op_code, request_id)
    buf += I64.pack(resource_id)
    finish_frame(buf, start)


def decode_resource_id(view: memoryview, pos: int) -> int:
    """Server side: the resource id of a cursor-page or close request."""
    (resource_id,), end = take(I64, view, pos)
    if end != len(view):
        raise ProtocolError("unexpected bytes after the resource id")
    return resource_id


def encode_scan_page(buf: bytearray, page: ScanPage) -> None:
    """Server side: [i64 cursor id (first page)] + i32 n + n (key, value) + bool more.

    Rows may hold raw typed bytes (``bytes``) as stored by a server.
    """
    if page.cursor_id is not None:
        buf += I64.pack(page.cursor_id)
    buf += I32.pack(len(page.rows))
    for key, value in page.rows:
        write_value(buf, RawValue(key) if isinstance(key, bytes) else key)
        write_value(buf, RawValue(value) if isinstance(value, bytes) else value)
    buf += BOOL.pack(page.more)


def decode_scan_page(view: memoryview, pos: int, first: bool, registry: Any = None) -> ScanPage:
    """Client side: a scan answer (``first``: it starts with the cursor id)."""
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
    return ScanPage(rows, more, cursor_id)
