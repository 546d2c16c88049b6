"""Garbage, truncated, bit-flipped and inflated messages through every decoder.

The only acceptable failure is ProtocolError: never IndexError, struct.error,
UnicodeDecodeError, RecursionError, a hang or a large allocation.
"""

from __future__ import annotations

import contextlib
import tracemalloc
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ignite_router.affinity import cache_id
from ignite_router.protocol.context import LATEST, ProtocolContext, ProtocolVersion
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.framing import FrameDecoder, frame
from ignite_router.protocol.handshake import (
    HandshakeRequest,
    decode_handshake_request,
    decode_handshake_response,
    encode_handshake_failure,
    encode_handshake_request,
    encode_handshake_success,
)
from ignite_router.protocol.header import (
    begin_request,
    decode_request_header,
    decode_response_header,
    encode_error_response,
    encode_response_header,
    finish_frame,
)
from ignite_router.protocol.messages import binary_types, cluster, heartbeat, queries, sql, tx
from ignite_router.protocol.messages.cache_config import (
    decode_cache_configuration,
    decode_cache_names,
    decode_configuration_request,
    decode_destroy_request,
    decode_name_request,
    encode_cache_configuration,
    encode_cache_names,
    encode_configuration_request,
    encode_destroy_request,
    encode_name_request,
)
from ignite_router.protocol.messages.cache_keys import (
    BODY_SHAPES,
    RESPONSE_SHAPES,
    CacheTarget,
    ExpiryPolicy,
    decode_cache_request,
    decode_cache_response,
    encode_cache_request,
    encode_cache_response,
)
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_request,
    decode_partitions_response,
    encode_partitions_request,
    encode_partitions_response,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import BinaryType, ComplexObject, encode_binary_type_response

CONTEXT = ProtocolContext(LATEST, frozenset({2}))
OLD = ProtocolContext(ProtocolVersion(1, 3, 0))
NODE = uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF)
Decoder = Callable[[memoryview], object]
Op = OpCode


def _body(write: Callable[[bytearray], None]) -> bytes:
    out = bytearray()
    write(out)
    return bytes(out)


def _request(write: Callable[[bytearray], None]) -> bytes:
    """A request payload (after the length prefix)."""
    return _body(write)[4:]


def _kv_samples() -> dict[str, tuple[bytes, Decoder]]:
    args = {
        "key": ComplexObject("Key", {"id": 1, "name": "a"}),
        "value": [1, "two", {"three": 3.0}],
        "expected": uuid.uuid4(),
        "keys": [1, "x", NODE],
        "pairs": {1: "a", "b": b"\x00\x01"},
        "modes": [0, 2],
    }
    target = CacheTarget(cache_id("c"), 1, ExpiryPolicy(1, 2, 3), 77)
    samples = {}
    for op, shape in BODY_SHAPES.items():
        payload = _request(
            lambda out, op=op, shape=shape: encode_cache_request(
                out, CONTEXT, op, 1, target, *(args[part] for part in shape)
            )
        )
        samples[f"request {op.name}"] = (
            payload,
            lambda v, op=op: decode_cache_request(CONTEXT, op, v, 10),
        )
    results = {"value": args["value"], "bool": True, "long": -5, "pairs": {1: [2]}, "none": None}
    for op, kind in RESPONSE_SHAPES.items():
        if kind in {"value", "pairs"} and op not in {Op.CACHE_GET, Op.CACHE_GET_ALL}:
            continue
        samples[f"answer {op.name}"] = (
            _body(lambda out, op=op, kind=kind: encode_cache_response(out, op, results[kind])),
            lambda v, op=op: decode_cache_response(op, v, 0),
        )
    return samples


def _samples() -> dict[str, tuple[bytes, Decoder]]:
    samples = _kv_samples()

    def add(name: str, payload: bytes, decode: Decoder) -> None:
        samples[name] = (payload, decode)

    # Handshake.
    add(
        "handshake request",
        encode_handshake_request(
            HandshakeRequest(LATEST, frozenset({0, 2}), "user", "pässword", {"k": "v"})
        )[4:],
        decode_handshake_request,
    )
    add(
        "handshake success",
        encode_handshake_success(CONTEXT, NODE)[4:],
        lambda v: decode_handshake_response(v, LATEST),
    )
    add(
        "handshake failure",
        encode_handshake_failure(LATEST, LATEST, "Unsupported version: 1.8.0", 1)[4:],
        lambda v: decode_handshake_response(v, LATEST),
    )
    # Headers.
    add("request header", _request(lambda out: begin_request(out, 1000, 5)), decode_request_header)

    def response(out: bytearray) -> None:
        finish_frame(out, encode_response_header(out, CONTEXT, 3, (7, 1)))

    add("response header", _body(response)[4:], lambda v: decode_response_header(CONTEXT, v))
    add(
        "error header",
        _body(lambda out: encode_error_response(out, CONTEXT, 3, 1000, "no", (7, 1)))[4:],
        lambda v: decode_response_header(CONTEXT, v),
    )
    add(
        "legacy error header",
        _body(lambda out: encode_error_response(out, OLD, 3, 1000, "no"))[4:],
        lambda v: decode_response_header(OLD, v),
    )
    # Cache management.
    config = {
        CacheProperty.NAME: "c",
        CacheProperty.BACKUPS_NUMBER: 1,
        CacheProperty.EXPIRY_POLICY: ExpiryPolicy(1, 2, 3),
        CacheProperty.CACHE_KEY_CONFIGURATION: [{"type_name": "T", "affinity_key_field_name": "f"}],
        CacheProperty.QUERY_ENTITIES: [
            {
                "key_type_name": "K",
                "value_type_name": "V",
                "table_name": "T",
                "key_field_name": None,
                "value_field_name": None,
                "query_fields": [{"name": "f", "type_name": "int", "default_value": 5}],
                "field_name_aliases": [{"field_name": "f", "alias": "g"}],
                "query_indexes": [{"index_name": "i", "fields": [{"name": "f"}]}],
            }
        ],
    }
    add(
        "configuration request",
        _request(lambda out: encode_configuration_request(out, CONTEXT, 1053, 1, config)),
        lambda v: decode_configuration_request(CONTEXT, v, 10),
    )
    add(
        "configuration answer",
        _body(lambda out: encode_cache_configuration(out, CONTEXT, config)),
        lambda v: decode_cache_configuration(CONTEXT, v, 0),
    )
    add(
        "cache names",
        _body(lambda out: encode_cache_names(out, ["a", "bc"])),
        lambda v: decode_cache_names(v, 0),
    )
    add(
        "name request",
        _request(lambda out: encode_name_request(out, 1051, 1, "cache")),
        lambda v: decode_name_request(v, 10),
    )
    add(
        "destroy request",
        _request(lambda out: encode_destroy_request(out, 1, 5)),
        lambda v: decode_destroy_request(v, 10),
    )
    # Partitions.
    partitions = PartitionsResponse(
        (3, 0),
        (
            PartitionGroup(True, {1: {2: 3}}, {NODE: (0, 1, 2), uuid.UUID(int=9): (3,)}),
            PartitionGroup(False, {9: {}}),
        ),
    )
    add(
        "partitions request",
        _request(lambda out: encode_partitions_request(out, CONTEXT, 1, [1, 2, 3])),
        lambda v: decode_partitions_request(CONTEXT, v, 10),
    )
    add(
        "partitions answer",
        _body(lambda out: encode_partitions_response(out, partitions)),
        lambda v: decode_partitions_response(v, 0).to_partition_map(),
    )
    # Queries.
    scan = queries.ScanRequest(CacheTarget(5), 100, 3, True)
    add(
        "scan request",
        _request(lambda out: queries.encode_scan_request(out, CONTEXT, 1, scan)),
        lambda v: queries.decode_scan_request(CONTEXT, v, 10),
    )
    page = queries.ScanPage([(b"\x04" + bytes(8), b"\x09\x01\x00\x00\x00a")], True, 5)
    add(
        "scan page",
        _body(lambda out: queries.encode_scan_page(out, page)),
        lambda v: queries.decode_scan_page(v, 0, True),
    )
    add(
        "resource request",
        _request(lambda out: queries.encode_resource_request(out, Op.RESOURCE_CLOSE, 1, 7)),
        lambda v: queries.decode_resource_id(v, 10),
    )
    fields_query = sql.SqlFieldsQuery(CacheTarget(5), "select ?", (1, "a"), "PUBLIC")
    add(
        "sql fields request",
        _request(lambda out: sql.encode_sql_fields_request(out, CONTEXT, 1, fields_query)),
        lambda v: sql.decode_sql_fields_request(CONTEXT, v, 10),
    )
    fields_page = sql.SqlFieldsPage([[b"\x04" + bytes(8), b"\x65"]], False, 9, ["A", "B"])
    add(
        "sql fields page",
        _body(lambda out: sql.encode_sql_fields_page(out, fields_page, 2)),
        lambda v: sql.decode_sql_fields_page(v, 0, first=True, field_names=True),
    )
    sql_query = sql.SqlQuery(CacheTarget(5), "Person", "age > ?", (30,))
    add(
        "sql request",
        _request(lambda out: sql.encode_sql_request(out, CONTEXT, 1, sql_query)),
        lambda v: sql.decode_sql_request(CONTEXT, v, 10),
    )
    # Binary types.
    person = BinaryType.of("Person", {"id": 3, "name": 9}, affinity_key_field="id")
    add(
        "type put request",
        _request(lambda out: binary_types.encode_binary_type_put(out, 1, person)),
        lambda v: binary_types.decode_binary_type_put_request(v, 10),
    )
    add(
        "type answer",
        _body(lambda out: encode_binary_type_response(out, person)),
        lambda v: binary_types.decode_binary_type_answer(v, 0),
    )
    add(
        "type name request",
        _request(lambda out: binary_types.encode_type_name_request(out, 1, 5, "x.Y")),
        lambda v: binary_types.decode_type_name_request(Op.BINARY_TYPE_NAME_PUT, v, 10),
    )
    add(
        "type name",
        _body(lambda out: binary_types.encode_type_name(out, "x.Y")),
        lambda v: binary_types.decode_type_name(v, 0),
    )
    # Cluster.
    add("cluster state", b"\x01", lambda v: cluster.decode_cluster_state(v, 0))
    projection = (cluster.AttributeFilter("dc", "eu"), cluster.ServerNodesFilter(True))
    add(
        "node ids request",
        _request(lambda out: cluster.encode_node_ids_request(out, 1, 5, projection)),
        lambda v: cluster.decode_node_ids_request(v, 10),
    )
    add(
        "node ids",
        _body(lambda out: cluster.encode_node_ids(out, cluster.NodeIds(3, (NODE,)))),
        lambda v: cluster.decode_node_ids(v, 0),
    )
    add(
        "node info request",
        _request(lambda out: cluster.encode_node_info_request(out, 1, [NODE])),
        lambda v: cluster.decode_node_info_request(v, 10),
    )
    info = cluster.NodeDetails(
        NODE,
        {"a": 1},
        ("10.0.0.1",),
        ("h",),
        7,
        True,
        False,
        False,
        "c",
        cluster.ProductVersion(2, 16, 0, "", 1, b"\x01"),
    )
    add(
        "node info",
        _body(lambda out: cluster.encode_node_info(out, [info])),
        lambda v: cluster.decode_node_info(v, 0),
    )
    add(
        "endpoints request",
        _request(lambda out: cluster.encode_endpoints_request(out, 1)),
        lambda v: cluster.decode_endpoints_request(v, 10),
    )
    endpoints = cluster.TopologyEndpoints(
        4, (cluster.NodeEndpoints(NODE, 10800, ("127.0.0.1", "host")),), (uuid.UUID(int=3),)
    )
    add(
        "endpoints",
        _body(lambda out: cluster.encode_endpoints(out, endpoints)),
        lambda v: cluster.decode_endpoints(v, 0),
    )
    # Transactions, heartbeats.
    add(
        "tx start",
        _request(lambda out: tx.encode_tx_start(out, 1, 1, 2, 100, "label")),
        lambda v: tx.decode_tx_start(v, 10),
    )
    add(
        "tx end",
        _request(lambda out: tx.encode_tx_end(out, 1, 5, True)),
        lambda v: tx.decode_tx_end(v, 10),
    )
    add("tx id", _body(lambda out: tx.encode_tx_id(out, 5)), lambda v: tx.decode_tx_id(v, 0))
    add(
        "idle timeout",
        _body(lambda out: heartbeat.encode_idle_timeout(out, 30_000)),
        lambda v: heartbeat.decode_idle_timeout(v, 0),
    )
    return samples


SAMPLES = _samples()
NAMES = sorted(SAMPLES)


def _decode(name: str, payload: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        SAMPLES[name][1](memoryview(payload))


@pytest.mark.parametrize("name", NAMES)
def test_samples_decode(name: str) -> None:
    payload, decode = SAMPLES[name]
    decode(memoryview(payload))


@pytest.mark.parametrize("name", NAMES)
def test_every_truncation(name: str) -> None:
    payload = SAMPLES[name][0]
    for end in range(len(payload)):
        _decode(name, payload[:end])


@pytest.mark.parametrize("name", NAMES)
def test_every_inflated_count_fails_fast(name: str) -> None:
    """Writing 2**31 - 1 (or -1) over each 4-byte window: no large allocation."""
    payload = SAMPLES[name][0]
    tracemalloc.start()
    try:
        for pos in range(len(payload) - 3):
            for huge in (b"\xff\xff\xff\x7f", b"\xff\xff\xff\xff"):
                _decode(name, payload[:pos] + huge + payload[pos + 4 :])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


@settings(max_examples=400)
@given(st.sampled_from(NAMES), st.data())
def test_mutations_raise_only_protocol_errors(name, data) -> None:
    mutated = bytearray(SAMPLES[name][0])
    for _ in range(data.draw(st.integers(1, 4))):
        if not mutated:
            break
        index = data.draw(st.integers(0, len(mutated) - 1))
        action = data.draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if action == "flip":
            mutated[index] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "set":
            mutated[index] = data.draw(st.integers(0, 255))
        elif action == "insert":
            mutated[index:index] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del mutated[index]
    _decode(name, bytes(mutated))


@given(st.sampled_from(NAMES), st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(name, garbage) -> None:
    _decode(name, garbage)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(NAMES), max_size=6), st.data())
def test_frames_of_any_message_survive_any_chunking(names, data) -> None:
    payloads = [SAMPLES[name][0] for name in names if SAMPLES[name][0]]
    stream = b"".join(frame(payload) for payload in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = FrameDecoder()
    received = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received.extend(decoder.feed(stream[start:stop]))
    assert received == payloads


@settings(max_examples=200)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_garbage_streams_raise_only_protocol_errors(garbage, max_size) -> None:
    decoder = FrameDecoder(max_frame_size=max_size)
    with contextlib.suppress(ProtocolError):
        for payload in decoder.feed(garbage):
            assert 0 < len(payload) <= max_size
