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

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    read_cache_prefix,
    write_cache_prefix,
    write_server_value,
)
from ignite_router.protocol.opcodes import Feature, OpCode
from ignite_router.protocol.values import read_string, read_value, write_string, write_value
from ignite_router.protocol.wire import BOOL, I32, I64, count, finish, int32s, take

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
    # Sent only when feature QRY_PARTITIONS_BATCH_SIZE (7) was negotiated.
    partitions: tuple[int, ...] | None = None
    update_batch_size: int = 1


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
    try:
        _write_fields_query(buf, context, query)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def _write_fields_query(buf: bytearray, context: ProtocolContext, query: SqlFieldsQuery) -> None:
    write_cache_prefix(buf, context, query.target)
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
    if context.supports(Feature.QRY_PARTITIONS_BATCH_SIZE):
        parts = query.partitions
        if parts is None:
            buf += I32.pack(-1)
        else:
            buf += I32.pack(len(parts)) + struct.pack(f"<{len(parts)}i", *parts)
        buf += I32.pack(query.update_batch_size)


def decode_sql_fields_request(
    context: ProtocolContext, view: memoryview, pos: int
) -> SqlFieldsQuery:
    """Server side."""
    target, pos = read_cache_prefix(view, pos, context)
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
    partitions = None
    batch_size = 1
    if context.supports(Feature.QRY_PARTITIONS_BATCH_SIZE):
        (n_parts,), pos = take(I32, view, pos)
        if n_parts >= 0:
            partitions, pos = int32s(view, pos - 4)
        (batch_size,), pos = take(I32, view, pos)
    finish(view, pos, "the SQL fields query")
    return SqlFieldsQuery(  # type: ignore[call-arg]  # seven flags unpacked
        target, text, tuple(args), schema, page_size, max_rows, *flags, timeout, names,
        partitions, batch_size,
    )  # fmt: skip


def encode_sql_fields_page(buf: bytearray, page: SqlFieldsPage, field_count: int) -> None:
    """Server side: [cursor id, field count, names] (first page) + rows + more."""
    if page.rows and field_count <= 0:
        raise ValueError("rows need at least one field")
    if page.cursor_id is not None:
        if page.field_names and len(page.field_names) != field_count:
            raise ValueError(f"{len(page.field_names)} field names for {field_count} fields")
        buf += I64.pack(page.cursor_id) + I32.pack(field_count)
        for name in page.field_names:
            write_string(buf, name)
    buf += I32.pack(len(page.rows))
    for row in page.rows:
        if len(row) != field_count:
            raise ValueError(f"row of {len(row)} values, expected {field_count}")
        for value in row:
            write_server_value(buf, value)
    buf += BOOL.pack(page.more)


def decode_sql_fields_page(
    view: memoryview,
    pos: int,
    *,
    first: bool,
    field_count: int = 0,
    field_names: bool = False,
    registry: Any = None,
) -> tuple[SqlFieldsPage, int]:
    """Client side: a result page; returns the page and the field count.

    The first page (``first``) carries the cursor id, the field count and,
    if the query asked for them (``field_names``), the names; later pages
    need the ``field_count`` learnt from the first.
    """
    cursor_id = None
    names: list[str] = []
    if first:
        (cursor_id,), pos = take(I64, view, pos)
        field_count, pos = count(view, pos, 0)
        if field_names:
            for _ in range(field_count):
                name, pos = read_string(view, pos)
                if name is None:
                    raise ProtocolError("null field name in a result page")
                names.append(name)
    rows_count, pos = count(view, pos, max(field_count, 1))
    if rows_count and not field_count:
        # Rows of no values take no bytes, so nothing would bound their number.
        raise ProtocolError(f"{rows_count} rows without fields in a result page")
    rows = []
    for _ in range(rows_count):
        row = []
        for _ in range(field_count):
            value, pos = read_value(view, pos, registry)
            row.append(value)
        rows.append(row)
    (more,), pos = take(BOOL, view, pos)
    finish(view, pos, "the result page")
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
    try:
        _write_sql_query(buf, context, query)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def _write_sql_query(buf: bytearray, context: ProtocolContext, query: SqlQuery) -> None:
    write_cache_prefix(buf, context, query.target)
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


def decode_sql_request(context: ProtocolContext, view: memoryview, pos: int) -> SqlQuery:
    """Server side."""
    target, pos = read_cache_prefix(view, pos, context)
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
    finish(view, pos, "the SQL query")
    return SqlQuery(target, table, text, tuple(args), *tail)
