"""Scan, SQL and SQL fields queries, their pages and RESOURCE_CLOSE, against pyignite 0.6.1."""

from __future__ import annotations

import struct
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyignite import api

from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.cache_keys import CacheTarget
from ignite_router.protocol.messages.queries import (
    ScanPage,
    ScanRequest,
    decode_resource_id,
    decode_scan_page,
    decode_scan_request,
    encode_resource_request,
    encode_scan_page,
    encode_scan_request,
)
from ignite_router.protocol.messages.scalars import decode_empty
from ignite_router.protocol.messages.sql import (
    SqlFieldsPage,
    SqlFieldsQuery,
    SqlQuery,
    decode_sql_fields_page,
    decode_sql_fields_request,
    decode_sql_request,
    encode_sql_fields_page,
    encode_sql_fields_request,
    encode_sql_request,
)
from ignite_router.protocol.opcodes import Feature, OpCode
from ignite_router.protocol.values import write_value
from tests.protocol_harness import (
    KEYS,
    MY_CACHE,
    PYIGNITE_VERSIONS,
    TEXT,
    VALUES,
    Loopback,
    answer,
    context_for,
    request_id_of,
)

I32S = st.integers(-(2**31), 2**31 - 1)
I64S = st.integers(-(2**63), 2**63 - 1)
ROWS = st.lists(st.tuples(KEYS, VALUES), max_size=6, unique_by=lambda row: row[0])
ARGS = st.lists(VALUES, max_size=4)


def _raw(value: object) -> bytes:
    out = bytearray()
    write_value(out, value)
    return bytes(out)


def _raw_rows(rows: list) -> list:
    """Rows as a server holds them: raw typed bytes."""
    return [(_raw(key), _raw(value)) for key, value in rows]


def _raw_table(rows: list[list]) -> list[list]:
    return [[_raw(value) for value in row] for row in rows]


@given(
    st.sampled_from(PYIGNITE_VERSIONS),
    st.integers(1, 10_000),
    st.integers(-1, 1023),
    st.booleans(),
    ROWS,
    st.booleans(),
    I64S,
)
def test_scan_agrees_with_pyignite(version, page_size, partition, local, rows, more, cursor):
    context = context_for(version)
    page = ScanPage(_raw_rows(rows), more, cursor)
    conn = Loopback(context)
    conn.respond = lambda request: answer(context, request, lambda out: encode_scan_page(out, page))
    result = api.scan(conn, conn.cache_info(), page_size, partition, local)
    assert result.value == {"cursor": cursor, "data": dict(rows), "more": more}
    (theirs,) = conn.requests
    request = ScanRequest(CacheTarget(MY_CACHE), page_size, partition, local)
    ours = bytearray()
    encode_scan_request(ours, context, request_id_of(theirs), request)
    assert bytes(ours) == theirs
    assert decode_scan_request(context, memoryview(theirs)[4:], 10) == request
    reply = memoryview(conn.respond(theirs))[4:]
    decoded = decode_response_header(context, reply).decode_body(reply, decode_scan_page, True)
    assert decoded == ScanPage(rows, more, cursor)


@given(st.sampled_from(PYIGNITE_VERSIONS), I64S, ROWS, st.booleans())
def test_cursor_pages_and_close_agree_with_pyignite(version, cursor, rows, more) -> None:
    context = context_for(version)
    page = ScanPage(_raw_rows(rows), more)
    conn = Loopback(context)
    conn.respond = lambda request: answer(context, request, lambda out: encode_scan_page(out, page))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pyignite's own deprecation
        results = [
            api.scan_cursor_get_page(conn, cursor),
            api.sql_cursor_get_page(conn, cursor),
        ]
    for result in results:
        assert result.value == {"data": dict(rows), "more": more}
    conn.respond = lambda request: answer(context, request)
    assert api.resource_close(conn, cursor).status == 0
    ops = (
        OpCode.QUERY_SCAN_CURSOR_GET_PAGE,
        OpCode.QUERY_SQL_CURSOR_GET_PAGE,
        OpCode.RESOURCE_CLOSE,
    )
    for op, theirs in zip(ops, conn.requests, strict=True):
        ours = bytearray()
        encode_resource_request(ours, op, request_id_of(theirs), cursor)
        assert bytes(ours) == theirs
        assert decode_resource_id(memoryview(theirs)[4:], 10) == cursor
    reply = memoryview(answer(context, conn.requests[0], lambda out: encode_scan_page(out, page)))
    header = decode_response_header(context, reply[4:])
    assert header.decode_body(reply[4:], decode_scan_page, False) == ScanPage(rows, more)
    reply = memoryview(answer(context, conn.requests[-1]))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_empty) is None


@settings(max_examples=60)
@given(
    st.sampled_from(PYIGNITE_VERSIONS),
    TEXT.filter(bool),
    ARGS,
    st.booleans(),
    st.data(),
)
def test_sql_fields_agree_with_pyignite(version, text, args, names, data) -> None:
    context = context_for(version)
    query = SqlFieldsQuery(
        CacheTarget(MY_CACHE),
        text,
        tuple(args),
        schema=data.draw(st.none() | TEXT),
        page_size=data.draw(st.integers(1, 5000)),
        max_rows=data.draw(I32S),
        statement_type=data.draw(st.integers(0, 2)),
        distributed_joins=data.draw(st.booleans()),
        local=data.draw(st.booleans()),
        replicated_only=data.draw(st.booleans()),
        enforce_join_order=data.draw(st.booleans()),
        collocated=data.draw(st.booleans()),
        lazy=data.draw(st.booleans()),
        timeout_ms=data.draw(st.integers(0, 2**40)),
        include_field_names=names,
    )
    field_count = data.draw(st.integers(1, 4))
    field_names = data.draw(st.lists(TEXT.filter(bool), min_size=field_count, max_size=field_count))
    rows = data.draw(
        st.lists(st.lists(VALUES, min_size=field_count, max_size=field_count), max_size=4)
    )
    first = SqlFieldsPage(
        rows, data.draw(st.booleans()), data.draw(I64S), field_names if names else []
    )
    held = SqlFieldsPage(_raw_table(rows), first.more, first.cursor_id, first.field_names)
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_sql_fields_page(out, held, field_count)
    )
    result = api.sql_fields(
        conn,
        conn.cache_info(),
        text,
        query.page_size,
        list(args),
        query.schema,
        query.statement_type,
        query.distributed_joins,
        query.local,
        query.replicated_only,
        query.enforce_join_order,
        query.collocated,
        query.lazy,
        names,
        query.max_rows,
        query.timeout_ms,
    )
    assert result.status == 0
    assert result.value["cursor"] == first.cursor_id and result.value["more"] == first.more
    assert result.value["data"] == rows
    if names:
        assert result.value["fields"] == field_names
    else:
        assert result.value["field_count"] == field_count
    (theirs,) = conn.requests
    ours = bytearray()
    encode_sql_fields_request(ours, context, request_id_of(theirs), query)
    assert bytes(ours) == theirs
    assert decode_sql_fields_request(context, memoryview(theirs)[4:], 10) == query
    reply = memoryview(conn.respond(theirs))[4:]
    page, count = decode_response_header(context, reply).decode_body(
        reply, decode_sql_fields_page, first=True, field_names=names
    )
    assert (page, count) == (first, field_count)


@given(st.sampled_from(PYIGNITE_VERSIONS), I64S, st.integers(1, 4), st.data())
def test_sql_fields_later_pages_agree_with_pyignite(version, cursor, field_count, data) -> None:
    context = context_for(version)
    rows = data.draw(
        st.lists(st.lists(VALUES, min_size=field_count, max_size=field_count), max_size=4)
    )
    later = SqlFieldsPage(rows, data.draw(st.booleans()))
    held = SqlFieldsPage(_raw_table(rows), later.more)
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_sql_fields_page(out, held, field_count)
    )
    result = api.sql_fields_cursor_get_page(conn, cursor, field_count)
    assert result.value == {"data": rows, "more": later.more}
    (theirs,) = conn.requests
    ours = bytearray()
    encode_resource_request(
        ours, OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE, request_id_of(theirs), cursor
    )
    assert bytes(ours) == theirs
    reply = memoryview(conn.respond(theirs))[4:]
    decoded = decode_response_header(context, reply).decode_body(
        reply, decode_sql_fields_page, first=False, field_count=field_count
    )
    assert decoded == (later, field_count)


@given(st.sampled_from(PYIGNITE_VERSIONS), TEXT.filter(bool), ARGS, st.data())
def test_deprecated_sql_query_agrees_with_pyignite(version, table, args, data) -> None:
    context = context_for(version)
    query = SqlQuery(
        CacheTarget(MY_CACHE),
        table,
        "age > ?",
        tuple(args),
        distributed_joins=data.draw(st.booleans()),
        local=data.draw(st.booleans()),
        replicated_only=data.draw(st.booleans()),
        page_size=data.draw(st.integers(1, 5000)),
        timeout_ms=data.draw(st.integers(0, 2**40)),
    )
    rows = data.draw(ROWS)
    page = ScanPage(_raw_rows(rows), data.draw(st.booleans()), data.draw(I64S))
    conn = Loopback(context)
    conn.respond = lambda request: answer(context, request, lambda out: encode_scan_page(out, page))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = api.sql(
            conn,
            conn.cache_info(),
            table,
            query.query,
            query.page_size,
            list(args),
            query.distributed_joins,
            query.replicated_only,
            query.local,
            query.timeout_ms,
        )
    assert result.value == {"cursor": page.cursor_id, "data": dict(rows), "more": page.more}
    (theirs,) = conn.requests
    ours = bytearray()
    encode_sql_request(ours, context, request_id_of(theirs), query)
    assert bytes(ours) == theirs
    assert decode_sql_request(context, memoryview(theirs)[4:], 10) == query


@given(
    st.none() | st.lists(st.integers(0, 1023), max_size=4).map(tuple),
    st.integers(1, 1000),
    TEXT.filter(bool),
)
def test_feature_7_fields_round_trip(partitions, batch, text) -> None:
    context = ProtocolContext(LATEST, frozenset({Feature.QRY_PARTITIONS_BATCH_SIZE}))
    query = SqlFieldsQuery(CacheTarget(1), text, partitions=partitions, update_batch_size=batch)
    ours = bytearray()
    encode_sql_fields_request(ours, context, 1, query)
    assert decode_sql_fields_request(context, memoryview(bytes(ours))[4:], 10) == query


def test_scan_filters_are_carried_raw() -> None:
    context = ProtocolContext(LATEST)
    request = ScanRequest(CacheTarget(5), 10, 3, True, _raw("com.example.Filter"), 1)
    ours = bytearray()
    encode_scan_request(ours, context, 1, request)
    assert decode_scan_request(context, memoryview(bytes(ours))[4:], 10) == request


def test_page_mismatches_are_errors() -> None:
    with pytest.raises(ValueError):
        encode_sql_fields_page(bytearray(), SqlFieldsPage([[1]], False), 2)
    with pytest.raises(ValueError):
        encode_resource_request(bytearray(), OpCode.CACHE_GET, 1, 1)
    with pytest.raises(ProtocolError):  # a later page read as a first page
        decode_scan_page(memoryview(b"\x00\x00\x00\x00\x00"), 0, True)
    with pytest.raises(ValueError):
        encode_sql_fields_page(bytearray(), SqlFieldsPage([[]], False, 1), 0)
    # Rows of no fields take no bytes: a count of them is refused before any is built.
    zero_field_rows = struct.pack("<qii", 1, 0, 10**6) + bytes(10**6)
    with pytest.raises(ProtocolError):
        decode_sql_fields_page(memoryview(zero_field_rows), 0, first=True)
    with pytest.raises(ProtocolError):
        decode_sql_fields_page(memoryview(zero_field_rows[12:]), 0, first=False)
