"""SQL fields queries: pyignite's own request bytes, round trips, result pages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pyignite import Client
from pyignite.connection.protocol_context import ProtocolContext as PyProtocolContext
from pyignite.datatypes import AnyDataArray, Bool, Int, Long, String
from pyignite.datatypes.sql import StatementType
from pyignite.queries import Query
from pyignite.queries.cache_info import CacheInfo
from pyignite.queries.op_codes import OP_QUERY_SQL, OP_QUERY_SQL_FIELDS
from pyignite.stream import BinaryStream

from affinity import cache_id
from protocol.context import LATEST, ProtocolContext
from protocol.messages.cache_keys import CacheTarget
from protocol.messages.sql import (
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

CONTEXT = ProtocolContext(LATEST, frozenset({2}))
FIELDS = [
    ("cache_info", CacheInfo),
    ("schema", String),
    ("page_size", Int),
    ("max_rows", Int),
    ("query_str", String),
    ("query_args", AnyDataArray()),
    ("statement_type", StatementType),
    ("distributed_joins", Bool),
    ("local", Bool),
    ("replicated_only", Bool),
    ("enforce_join_order", Bool),
    ("collocated", Bool),
    ("lazy", Bool),
    ("timeout", Long),
    ("include_field_names", Bool),
]
ARGS = st.lists(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(st.characters(exclude_characters="\x00"))),
    max_size=4,
)


@given(
    st.text(st.characters(exclude_characters="\x00"), min_size=1),
    ARGS,
    st.booleans(),
    st.integers(1, 5000),
)
def test_request_matches_pyignite(text, args, names, page_size) -> None:
    query = SqlFieldsQuery(
        CacheTarget(cache_id("PUBLIC")), text, tuple(args), "PUBLIC", page_size,
        include_field_names=names, lazy=True, timeout_ms=250,
    )  # fmt: skip
    ours = bytearray()
    encode_sql_fields_request(ours, CONTEXT, 11, query)
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    info = CacheInfo(cache_id=cache_id("PUBLIC"), protocol_context=client.protocol_context)
    params = {
        "cache_info": info,
        "schema": "PUBLIC", "page_size": page_size, "max_rows": -1, "query_str": text,
        "query_args": list(args), "statement_type": 0, "distributed_joins": False,
        "local": False, "replicated_only": False, "enforce_join_order": False,
        "collocated": False, "lazy": True, "timeout": 250, "include_field_names": names,
    }  # fmt: skip
    with BinaryStream(client) as stream:
        Query(OP_QUERY_SQL_FIELDS, FIELDS, query_id=11).from_python(stream, params)
        assert bytes(ours) == stream.getvalue()
    assert decode_sql_fields_request(CONTEXT, memoryview(bytes(ours))[4:], 10) == query


def test_result_pages_round_trip() -> None:
    first = SqlFieldsPage([[1, "a"], [2, None]], True, 99, ["ID", "NAME"])
    body = bytearray()
    encode_sql_fields_page(body, first, 2)
    page, fields = decode_sql_fields_page(memoryview(bytes(body)), 0, first=True, field_names=True)
    assert (page, fields) == (first, 2)
    later = SqlFieldsPage([[3, "c"]], False)
    body = bytearray()
    encode_sql_fields_page(body, later, 2)
    assert decode_sql_fields_page(memoryview(bytes(body)), 0, first=False, field_count=2) == (
        later,
        2,
    )


@given(ARGS, st.booleans(), st.integers(1, 5000), st.integers(0, 10**6))
def test_deprecated_sql_query_matches_pyignite(args, local, page_size, timeout) -> None:
    query = SqlQuery(
        CacheTarget(cache_id("people")), "Person", "age > ?", tuple(args),
        local=local, page_size=page_size, timeout_ms=timeout,
    )  # fmt: skip
    ours = bytearray()
    encode_sql_request(ours, CONTEXT, 12, query)
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    info = CacheInfo(cache_id=cache_id("people"), protocol_context=client.protocol_context)
    following = [
        ("cache_info", CacheInfo), ("table_name", String), ("query_str", String),
        ("query_args", AnyDataArray()), ("distributed_joins", Bool), ("local", Bool),
        ("replicated_only", Bool), ("page_size", Int), ("timeout", Long),
    ]  # fmt: skip
    params = {
        "cache_info": info, "table_name": "Person", "query_str": "age > ?",
        "query_args": list(args), "distributed_joins": 0, "local": int(local),
        "replicated_only": 0, "page_size": page_size, "timeout": timeout,
    }  # fmt: skip
    with BinaryStream(client) as stream:
        Query(OP_QUERY_SQL, following, query_id=12).from_python(stream, params)
        assert bytes(ours) == stream.getvalue()
    assert decode_sql_request(CONTEXT, memoryview(bytes(ours))[4:], 10) == query
