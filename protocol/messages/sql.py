"""SQL queries, client and server side.

SQL fields queries (2004) and their pages (2005); the deprecated SQL query
(2002) whose pages (2002 answer, 2003) have the scan-page layout
(``protocol.messages.queries.decode_scan_page``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.context import ProtocolContext
from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.messages.cache_keys import CacheTarget, _read_prefix, _write_prefix
from protocol.opcodes import OpCode
from protocol.values import read_string, read_value, write_string, write_value
from protocol.wire import BOOL, I32, I64, count, take

__all__ = [
    "SqlFieldsPage",
    "SqlFieldsQuery",
    "SqlQuery",
    "decode_sql_fields_page",
    "decode_sql_fields_request",
    "decode_sql_request",
    "encode_sql_fields_page",
    "encode_sql_fields_request",
    "encode_sql_request",
]

_PAGING = struct.Struct("<ii")  # page size, max rows
_FLAGS = struct.Struct("<b??????")  # statement type + six booleans
_TAIL = struct.Struct("<q?")  # timeout ms, include field names
_SQL_TAIL = struct.Struct("<???iq")  # distributed joins, local, replicated only, page size, timeout


@dataclass(frozen=True, slots=True)
class SqlFieldsQuery:
    target: CacheTarget
    query: str
    args: Sequence[Any] = ()
    schema: str | None = None
    page_size: int = 1024
    max_rows: int = -1
    statement_type: int = 0  # 0 any, 1 select, 2 update
    distributed_joins: bool = False
    local: bool = False
    replicated_only: bool = False
    enforce_join_order: bool = False
    collocated: bool = False
    lazy: bool = False
    timeout_ms: int = 0
    include_field_names: bool = False


@dataclass(frozen=True, slots=True)
class SqlFieldsPage:
    """Rows of a result page; the first page also has the cursor id and field names."""

    rows: list[list[Any]]
    more: bool
    cursor_id: int | None = None
    field_names: list[str] = field(default_factory=list)


def encode_sql_fields_request(
    buf: bytearray, context: ProtocolContext, request_id: int, query: SqlFieldsQuery
) -> None:
    start = begin_request(buf, OpCode.QUERY_SQL_FIELDS, request_id)
    _write_prefix(buf, context, query.target)
    write_string(buf, query.schema)
    buf += _PAGING.pack(query.page_size, query.max_rows)
    write_string(buf, query.query)
    buf += I32.pack(len(query.args))
    for arg in query.args:
        write_value(buf, arg)
    buf += _FLAGS.pack(
        query.statement_type,
        query.distributed_joins,
        query.local,
        query.replicated_only,
        query.enforce_join_order,
        query.collocated,
        query.lazy,
    )
    buf += _TAIL.pack(query.timeout_ms, query.include_field_names)
    finish_frame(buf, start)


def decode_sql_fields_request(
    context: ProtocolContext, view: memoryview, pos: int
) -> SqlFieldsQuery:
    """Server side."""
    target, pos = _read_prefix(view, pos, context)
    schema, pos = read_string(view, pos)
    (page_size, max_rows), pos = take(_PAGING, view, pos)
    text, pos = read_string(view, pos)
    if text is None:
        raise ProtocolError("SQL query text is null")
    n, pos = count(view, pos, 1)
    args = []
    for _ in range(n):
        arg, pos = read_value(view, pos)
        args.append(arg)
    flags, pos = take(_FLAGS, view, pos)
    (timeout, names), pos = take(_TAIL, view, pos)
    return SqlFieldsQuery(
        target, text, tuple(args), schema, page_size, max_rows, *flags, timeout, names
    )


def encode_sql_fields_page(buf: bytearray, page: SqlFieldsPage, field_count: int) -> None:
    """Server side: [cursor id, field count, names] (first page) + rows + more."""
    if page.cursor_id is not None:
        buf += I64.pack(page.cursor_id) + I32.pack(field_count)
        for name in page.field_names:
            write_string(buf, name)
    buf += I32.pack(len(page.rows))
    for row in page.rows:
        if len(row) != field_count:
            raise ValueError(f"row of {len(row)} values, expected {field_count}")
        for value in row:
            write_value(buf, value)
    buf += BOOL.pack(page.more)


def decode_sql_fields_page(
    view: memoryview, pos: int, *, first: bool, field_count: int = 0, field_names: bool = False
) -> tuple[SqlFieldsPage, int]:
    """Client side: a result page; returns the page and the field count (known after page 1)."""
    cursor_id = None
    names: list[str] = []
    if first:
        (cursor_id,), pos = take(I64, view, pos)
        field_count, pos = count(view, pos, 0)
        if field_names:
            for _ in range(field_count):
                name, pos = read_string(view, pos)
                names.append(name or "")
    rows_count, pos = count(view, pos, max(field_count, 1))
    rows = []
    for _ in range(rows_count):
        row = []
        for _ in range(field_count):
            value, pos = read_value(view, pos)
            row.append(value)
        rows.append(row)
    (more,), pos = take(BOOL, view, pos)
    return SqlFieldsPage(rows, more, cursor_id, names), field_count


@dataclass(frozen=True, slots=True)
class SqlQuery:
    """The deprecated SQL query (2002): whole entries of ``table`` matching ``query``."""

    target: CacheTarget
    table: str
    query: str
    args: Sequence[Any] = ()
    distributed_joins: bool = False
    local: bool = False
    replicated_only: bool = False
    page_size: int = 1024
    timeout_ms: int = 0


def encode_sql_request(
    buf: bytearray, context: ProtocolContext, request_id: int, query: SqlQuery
) -> None:
    start = begin_request(buf, OpCode.QUERY_SQL, request_id)
    _write_prefix(buf, context, query.target)
    write_string(buf, query.table)
    write_string(buf, query.query)
    buf += I32.pack(len(query.args))
    for arg in query.args:
        write_value(buf, arg)
    buf += _SQL_TAIL.pack(
        query.distributed_joins,
        query.local,
        query.replicated_only,
        query.page_size,
        query.timeout_ms,
    )
    finish_frame(buf, start)


def decode_sql_request(context: ProtocolContext, view: memoryview, pos: int) -> SqlQuery:
    """Server side."""
    target, pos = _read_prefix(view, pos, context)
    table, pos = read_string(view, pos)
    text, pos = read_string(view, pos)
    if table is None or text is None:
        raise ProtocolError("SQL query needs a table name and a query text")
    n, pos = count(view, pos, 1)
    args = []
    for _ in range(n):
        arg, pos = read_value(view, pos)
        args.append(arg)
    tail, pos = take(_SQL_TAIL, view, pos)
    return SqlQuery(target, table, text, tuple(args), *tail)
