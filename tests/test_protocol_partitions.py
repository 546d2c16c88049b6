"""OP_CACHE_PARTITIONS (1101): pyignite's request bytes and its parse of our answers."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite import api

from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_request,
    decode_partitions_response,
    encode_partitions_request,
    encode_partitions_response,
)
from ignite_router.protocol.opcodes import Feature
from tests.protocol_harness import (
    MY_CACHE,
    PYIGNITE_VERSIONS,
    Loopback,
    answer,
    context_for,
    request_id_of,
)

I32S = st.integers(-(2**31), 2**31 - 1)
PA_VERSIONS = [v for v in PYIGNITE_VERSIONS if v >= (1, 4, 0)]


@st.composite
def groups(draw, cache_ids: list[int], extended: bool) -> PartitionGroup:
    if not draw(st.booleans()):
        return PartitionGroup(False, {cache: {} for cache in cache_ids})
    caches = {cache: draw(st.dictionaries(I32S, I32S, max_size=2)) for cache in cache_ids}
    nodes = draw(st.lists(st.uuids(), min_size=1, max_size=4, unique=True))
    parts = draw(st.permutations(range(draw(st.integers(len(nodes), 64)))))
    owners = {node: tuple(sorted(parts[i :: len(nodes)])) for i, node in enumerate(nodes)}
    default = draw(st.booleans()) if extended else None
    return PartitionGroup(True, caches, owners, default)


@st.composite
def answers(draw, extended: bool = False) -> PartitionsResponse:
    """A server groups every cache once: cache ids are unique across groups."""
    sizes = draw(st.lists(st.integers(1, 3), max_size=3))
    ids = draw(st.lists(I32S, min_size=sum(sizes), max_size=sum(sizes), unique=True))
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    group_list = [
        draw(groups(ids[start : start + size], extended))
        for start, size in zip(starts, sizes, strict=True)
    ]
    version = draw(st.tuples(st.integers(0, 2**62), st.integers(0, 2**31 - 1)))
    return PartitionsResponse(version, tuple(group_list))


def test_request_matches_the_verified_dump() -> None:
    buf = bytearray()
    encode_partitions_request(buf, ProtocolContext(LATEST, frozenset({2})), 3, [MY_CACHE])
    # pyignite 0.6.1's request bytes.
    assert bytes(buf) == bytes.fromhex("12000000 4d04 0300000000000000 01000000 0ee0ed77")


@given(st.sampled_from(PA_VERSIONS), st.lists(I32S, min_size=1, max_size=5), answers())
def test_pyignite_agrees_in_both_directions(version, cache_ids, response) -> None:
    context = context_for(version)
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_partitions_response(out, response), (9, 1)
    )
    result = api.cache_get_node_partitions(conn, cache_ids)
    (theirs,) = conn.requests
    ours = bytearray()
    encode_partitions_request(ours, context, request_id_of(theirs), cache_ids)
    assert bytes(ours) == theirs
    assert decode_partitions_request(context, memoryview(theirs)[4:], 10) == cache_ids
    # pyignite's view of our answer: per cache, applicability, key configs and nodes.
    assert result.status == 0 and result.value["version"] == response.version
    mapping = result.value["partition_mapping"]
    for group in response.groups:
        for cache, config in group.caches.items():
            assert mapping[cache]["is_applicable"] == group.applicable
            if group.applicable:
                assert mapping[cache]["cache_config"] == config
                assert mapping[cache]["node_mapping"] == {
                    node: set(parts) for node, parts in group.node_partitions.items()
                }
    # And ours.
    reply = memoryview(conn.respond(theirs))[4:]
    header = decode_response_header(context, reply)
    assert header.topology_version == (9, 1)
    assert header.decode_body(reply, decode_partitions_response) == response


@given(answers(extended=True), st.lists(I32S, max_size=4))
def test_feature_13_layout_round_trips(response, cache_ids) -> None:
    # Never negotiated by our clients, but a server must understand whoever does.
    context = ProtocolContext(LATEST, frozenset({Feature.ALL_AFFINITY_MAPPINGS}))
    request = bytearray()
    encode_partitions_request(request, context, 1, cache_ids)
    assert request[14] == 0  # "custom mappings wanted" = false
    assert decode_partitions_request(context, memoryview(bytes(request))[4:], 10) == cache_ids
    body = bytearray()
    encode_partitions_response(body, response, context)
    assert decode_partitions_response(memoryview(bytes(body)), 0, context) == response


def test_the_crafted_answer_becomes_a_partition_map() -> None:
    # A crafted ClientCachePartitionsResponse: {100 (key cfg 777->888), 200 on N1/N2}, {300}.
    n1, n2 = uuid.UUID(int=1), uuid.UUID(int=2)
    response = PartitionsResponse(
        (12, 3),
        (
            PartitionGroup(True, {100: {777: 888}, 200: {}}, {n1: (0, 2), n2: (1, 3)}),
            PartitionGroup(False, {300: {}}),
        ),
    )
    body = bytearray()
    encode_partitions_response(body, response)
    decoded = decode_partitions_response(memoryview(bytes(body)), 0)
    assert decoded == response
    pmap = decoded.to_partition_map()
    assert pmap.version == (12, 3)
    assert pmap.cache(100).partitions == 4 and pmap.cache(100).key_config == {777: 888}
    assert pmap.cache(100).primaries == (n1, n2, n1, n2)
    assert pmap.cache(300).applicable is False


def test_inconsistent_maps_are_protocol_errors() -> None:
    bad = PartitionsResponse((1, 0), (PartitionGroup(True, {1: {}}, {uuid.uuid4(): (-5,)}),))
    with pytest.raises(ProtocolError):
        bad.to_partition_map()
    body = bytearray()
    encode_partitions_response(body, bad)
    body[-25] = 0x65  # the node's UUID type code (17 + 4 + 4 bytes from the end) -> null
    with pytest.raises(ProtocolError):
        decode_partitions_response(memoryview(bytes(body)), 0)
