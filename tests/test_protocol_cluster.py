"""Cluster state (5000/5001, against pyignite 0.6.1) and cluster groups (5100-5102)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite.api.cluster import cluster_get_state, cluster_set_state

from ignite_router.affinity import CollectionKind, IgniteCollection
from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.cluster import (
    AttributeFilter,
    ClusterState,
    NodeDetails,
    NodeEndpoints,
    NodeIds,
    ProductVersion,
    ServerNodesFilter,
    TopologyEndpoints,
    decode_cluster_state,
    decode_endpoints,
    decode_endpoints_request,
    decode_node_ids,
    decode_node_ids_request,
    decode_node_info,
    decode_node_info_request,
    encode_cluster_state,
    encode_cluster_state_request,
    encode_endpoints,
    encode_endpoints_request,
    encode_node_ids,
    encode_node_ids_request,
    encode_node_info,
    encode_node_info_request,
)
from ignite_router.protocol.messages.scalars import decode_empty
from ignite_router.protocol.values import read_value, write_value
from tests.protocol_harness import TEXT, Loopback, answer, context_for

I64S = st.integers(-(2**63), 2**63 - 1)
NAMES = TEXT.filter(bool)
NODE = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
RAW_NODE = bytes.fromhex("0011223344556677")[::-1] + bytes.fromhex("8899aabbccddeeff")[::-1]


@given(st.sampled_from(list(ClusterState)), st.sampled_from(list(ClusterState)))
def test_state_ops_agree_with_pyignite(current, wanted) -> None:
    context = context_for(LATEST)  # pyignite gates these on feature bit 2
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_cluster_state(out, current)
    )
    assert cluster_get_state(conn).value == current
    conn.respond = lambda request: answer(context, request)
    assert cluster_set_state(conn, wanted).status == 0
    get_request, set_request = conn.requests
    ours = bytearray()
    encode_cluster_state_request(ours, int.from_bytes(get_request[6:14], "little"), None)
    assert bytes(ours) == get_request
    ours.clear()
    encode_cluster_state_request(ours, int.from_bytes(set_request[6:14], "little"), wanted)
    assert bytes(ours) == set_request
    assert decode_cluster_state(memoryview(set_request)[4:], 10) == wanted
    reply = memoryview(answer(context, get_request, lambda out: encode_cluster_state(out, current)))
    header = decode_response_header(context, reply[4:])
    assert header.decode_body(reply[4:], decode_cluster_state) == current
    reply = memoryview(answer(context, set_request))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_empty) is None


def test_unknown_state_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode_cluster_state(memoryview(b"\x07"), 0)


PROJECTIONS = st.none() | st.lists(
    st.builds(AttributeFilter, NAMES, st.none() | TEXT | st.integers(-(2**63), 2**63 - 1))
    | st.builds(ServerNodesFilter, st.booleans()),
    max_size=3,
).map(tuple)


@given(I64S, PROJECTIONS, st.none() | st.builds(NodeIds, I64S, st.lists(st.uuids()).map(tuple)))
def test_node_ids_round_trip(version, projection, ids) -> None:
    buf = bytearray()
    encode_node_ids_request(buf, 3, version, projection)
    # No filters and no projection are the same bytes: a count of 0 (every node).
    assert decode_node_ids_request(memoryview(bytes(buf))[4:], 10) == (version, projection or None)
    body = bytearray()
    encode_node_ids(body, ids)
    assert decode_node_ids(memoryview(bytes(body)), 0) == ids


def test_node_ids_layout() -> None:
    # ClientClusterGroupProjection.read: i32 count, then per item i16 code (1 attribute:
    # String name + any typed object, 2 servers: bool). No "has projection" bool
    # (``ClientClusterGroupProjection.read``).
    buf = bytearray()
    encode_node_ids_request(buf, 1, -1)
    assert buf[14:] == b"\xff" * 8 + b"\x00\x00\x00\x00"  # every node
    buf.clear()
    encode_node_ids_request(buf, 1, 5, (ServerNodesFilter(True), AttributeFilter("dc", "eu")))
    assert buf[14:] == (
        (5).to_bytes(8, "little")
        + (2).to_bytes(4, "little")
        + b"\x02\x00\x01"
        + b"\x01\x00"
        + b"\x09\x02\x00\x00\x00dc"
        + b"\x09\x02\x00\x00\x00eu"
    )
    # A Java client filtering on an Integer attribute: the value is a typed int.
    java = (7).to_bytes(8, "little") + b"\x01\x00\x00\x00" + b"\x01\x00"
    java += b"\x09\x04\x00\x00\x00rack" + b"\x03" + (12).to_bytes(4, "little")
    frame = bytes(10) + java
    assert decode_node_ids_request(memoryview(frame), 10) == (7, (AttributeFilter("rack", 12),))
    body = bytearray()
    encode_node_ids(body, NodeIds(9, (NODE,)))
    assert bytes(body) == b"\x01" + (9).to_bytes(8, "little") + b"\x01\x00\x00\x00" + RAW_NODE
    body.clear()
    encode_node_ids(body, None)
    assert bytes(body) == b"\x00"


NODE_INFO = st.builds(
    NodeDetails,
    st.uuids(),
    st.dictionaries(NAMES, st.integers(-(2**63), 2**63 - 1) | TEXT, max_size=3),
    st.lists(TEXT, max_size=3).map(tuple),
    st.lists(TEXT, max_size=2).map(tuple),
    I64S,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.uuids() | TEXT,
    st.builds(
        ProductVersion,
        st.integers(0, 127),
        st.integers(0, 127),
        st.integers(0, 127),
        st.none() | TEXT,
        I64S,
        st.none() | st.binary(max_size=20),
    ),
)


@given(st.lists(st.uuids(), max_size=4), st.lists(NODE_INFO, max_size=3))
def test_node_info_round_trips(ids, nodes) -> None:
    buf = bytearray()
    encode_node_info_request(buf, 4, ids)
    assert decode_node_info_request(memoryview(bytes(buf))[4:], 10) == ids
    body = bytearray()
    encode_node_info(body, nodes)
    assert decode_node_info(memoryview(bytes(body)), 0) == nodes


def test_node_info_layout() -> None:
    # ClientClusterGroupGetNodesDetailsResponse: typed UUID, attributes, two typed
    # collections, order, three bools, consistent id, version (3 bytes, String, i64, byte[]).
    node = NodeDetails(
        NODE,
        {"a": 1},
        ("10.0.0.1",),
        ("h",),
        7,
        True,
        False,
        False,
        "c",
        ProductVersion(2, 16, 0, "", 1, b"\x01"),
    )
    body = bytearray()
    encode_node_info(body, [node])
    view = memoryview(bytes(body))
    assert view[4] == 0x0A and bytes(view[5:21]) == RAW_NODE
    assert bytes(view[21:25]) == b"\x01\x00\x00\x00"
    pos = 25 + 6  # "a" as a typed String
    value, pos = read_value(view, pos)
    assert value == 1
    addresses, pos = read_value(view, pos)
    assert addresses == IgniteCollection(CollectionKind.ARR_LIST, ["10.0.0.1"])
    out = bytearray()
    write_value(out, IgniteCollection(CollectionKind.ARR_LIST, ["h"]))
    assert bytes(view[pos : pos + len(out)]) == bytes(out)


@given(
    I64S,
    I64S,
    st.builds(
        TopologyEndpoints,
        I64S,
        st.lists(
            st.builds(
                NodeEndpoints,
                st.uuids(),
                st.integers(0, 65535),
                st.lists(TEXT, max_size=3).map(tuple),
            ),
            max_size=3,
        ).map(tuple),
        st.lists(st.uuids(), max_size=3).map(tuple),
    ),
)
def test_endpoints_round_trip(since, until, endpoints) -> None:
    buf = bytearray()
    encode_endpoints_request(buf, 1, since, until)
    assert decode_endpoints_request(memoryview(bytes(buf))[4:], 10) == (since, until)
    body = bytearray()
    encode_endpoints(body, endpoints)
    assert decode_endpoints(memoryview(bytes(body)), 0) == endpoints


def test_endpoints_use_raw_uuids() -> None:
    buf = bytearray()
    encode_endpoints_request(buf, 1)
    assert buf[14:] == b"\xff" * 16  # -1, -1: first time, latest
    body = bytearray()
    encode_endpoints(body, TopologyEndpoints(7, (NodeEndpoints(NODE, 10800, ("127.0.0.1",)),)))
    assert body[12:28] == RAW_NODE  # no 0x0a type code: ClientClusterGroupGetNodesEndpointsResponse
    context = ProtocolContext(LATEST)
    frame = answer(context, bytes(buf), lambda out: out.extend(body))
    payload = memoryview(frame)[4:]
    decoded = decode_response_header(context, payload).decode_body(payload, decode_endpoints)
    assert decoded.added[0].node_id == NODE
