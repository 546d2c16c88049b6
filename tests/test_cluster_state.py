"""LocalCluster's model without sockets: placement, rebalancing, versions, key hashing, tx.

Requests are built with the ``protocol`` client encoders and handed straight to
the node's request handlers through an in-memory session; expected owners
come from ``affinity.assign`` over the live nodes, computed here.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ignite_router.affinity import REPLICATED_BACKUPS, assign, cache_id, java_hash, partition
from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError, ServerError, StatusCode
from ignite_router.protocol.messages.cache_config import CacheMode, CacheProperty
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    decode_value,
    encode_cache_request,
)
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import BinaryField, BinaryType, ComplexObject, write_value
from ignite_router.protocol.wire import I32, I64
from ignite_router.testing.handlers import HANDLERS, handle_request
from ignite_router.testing.session import Session
from ignite_router.testing.state import REPLICATED_PARTITIONS, ClusterModel

CONTEXT = ProtocolContext(LATEST, frozenset())
PARTS = 64


def started(nodes: int = 3, backups: int = 0, parts: int = PARTS) -> ClusterModel:
    model = ClusterModel([f"node-{i}" for i in range(nodes)], [0] * nodes, parts, backups)
    for index in range(nodes):
        model.join(index)
    return model


class Conn:
    """An in-memory connection to one node."""

    def __init__(self, model: ClusterModel, index: int) -> None:
        self.session = Session(model, index, model.nodes[index].stats, context=CONTEXT)

    def raw(self, op: int, body: bytes = b"") -> bytearray:
        out = bytearray()
        handle_request(self.session, op, memoryview(bytes(10) + body), 10, out)
        return out

    def cache_op(self, op: int, *args, cache: str = "c", tx_id: int | None = None) -> bytearray:
        frame = bytearray()
        encode_cache_request(
            frame, CONTEXT, op, 1, CacheTarget(cache_id(cache), tx_id=tx_id), *args
        )
        out = bytearray()
        handle_request(self.session, op, memoryview(frame)[4:], 10, out)
        return out

    def get(self, key, **kwargs):
        return decode_value(memoryview(self.cache_op(OpCode.CACHE_GET, key, **kwargs)), 0)

    def put(self, key, value, **kwargs) -> None:
        self.cache_op(OpCode.CACHE_PUT, key, value, **kwargs)


def expected_owners(model: ClusterModel, parts: int, backups: int) -> list[tuple[int, ...]]:
    # Topology order is join order (Ignite lists a replicated cache's backups in it).
    alive = sorted((i for i, node in enumerate(model.nodes) if node.alive),
                   key=lambda i: model.nodes[i].order)  # fmt: skip
    ids = [model.nodes[i].consistent_id for i in alive]
    node_ids = [model.nodes[i].node_id for i in alive]
    return [tuple(alive[i] for i in o) for o in assign(ids, parts, backups, node_ids)]


def check_placement(model: ClusterModel) -> None:
    """Owners are the rendezvous result; every node holds exactly the partitions it owns."""
    for cache in model.caches.values():
        backups = REPLICATED_BACKUPS if cache.replicated else cache.backups
        assert cache.owners == expected_owners(model, cache.partitions, backups)
        for index, node in enumerate(model.nodes):
            owned = {p for p, owners in enumerate(cache.owners) if index in owners}
            held = set(node.data.get(cache.cache_id, {})) if node.alive else set()
            assert held == owned
        for part, stores in enumerate(cache.copies):
            assert all(store == stores[0] for store in stores), f"copies differ in {part}"


def test_versions_count_joins_leaves_and_cache_changes() -> None:
    model = started(3)
    assert model.version == (3, 0)  # one major step per join, as Ignite counts
    model.create_cache({CacheProperty.NAME: "a"})
    model.create_cache({CacheProperty.NAME: "b"})
    assert model.version == (3, 2)
    model.destroy_cache(cache_id("a"))
    assert model.version == (3, 3)
    model.leave(1)
    assert model.version == (4, 0)
    model.join(1)
    assert model.version == (5, 0)
    model.change_state(ClusterState.ACTIVE)  # no change, no exchange
    assert model.version == (5, 0)
    model.change_state(ClusterState.ACTIVE_READ_ONLY)
    assert model.version == (5, 1)


@pytest.mark.parametrize("backups", [0, 1, 2])
def test_owners_follow_rendezvous_through_topology_changes(backups: int) -> None:
    model = started(3, backups)
    model.create_cache({CacheProperty.NAME: "p"})
    model.create_cache({CacheProperty.NAME: "r", CacheProperty.CACHE_MODE: CacheMode.REPLICATED})
    Conn(model, 0).put(1, 1, cache="p")
    check_placement(model)
    model.add_node("node-3", 0)
    model.join(3)
    check_placement(model)
    model.leave(0)
    check_placement(model)
    model.join(0)
    check_placement(model)
    replicated = model.caches[cache_id("r")]
    assert replicated.partitions == REPLICATED_PARTITIONS
    assert all(len(owners) == 4 for owners in replicated.owners)


KEYS = st.lists(st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8), max_size=60, unique=True)


@settings(max_examples=25)
@given(keys=KEYS, backups=st.sampled_from([0, 1]), victim=st.integers(0, 2))
def test_a_leaving_node_takes_exactly_its_unreplicated_keys(keys, backups, victim) -> None:
    model = started(3, backups)
    model.create_cache({CacheProperty.NAME: "c"})
    writer = Conn(model, (victim + 1) % 3)
    for key in keys:
        writer.put(key, "v")
    cache = model.caches[cache_id("c")]
    owners_before = {key: cache.owners[partition(java_hash(key), PARTS)] for key in keys}
    model.leave(victim)
    check_placement(model)
    for key in keys:
        lost = backups == 0 and owners_before[key] == (victim,)
        assert writer.get(key) == (None if lost else "v")
    model.join(victim)  # rejoins empty; rebalancing brings the survivors' copies back
    check_placement(model)
    for key in keys:
        lost = backups == 0 and owners_before[key] == (victim,)
        assert Conn(model, victim).get(key) == (None if lost else "v")


def test_forwarded_counts_key_requests_off_the_primary() -> None:
    model = started(3)
    model.create_cache({CacheProperty.NAME: "c"})
    cache = model.caches[cache_id("c")]
    conns = [Conn(model, i) for i in range(3)]
    for key in range(100):
        primary = cache.owners[partition(java_hash(key), PARTS)][0]
        conns[primary].put(key, key)
        conns[(primary + 1) % 3].get(key)
    stats = [node.stats for node in model.nodes]
    assert sum(s.key_requests for s in stats) == 200
    assert sum(s.forwarded for s in stats) == 100


def test_affinity_key_fields_decide_the_partition() -> None:
    model = started(1)
    key_config = [{"type_name": "Order", "affinity_key_field_name": "customer"}]
    model.create_cache(
        {CacheProperty.NAME: "configured", CacheProperty.CACHE_KEY_CONFIGURATION: key_config}
    )
    model.create_cache({CacheProperty.NAME: "plain"})
    configured, plain = model.caches[cache_id("configured")], model.caches[cache_id("plain")]

    def raw(obj) -> bytes:
        buf = bytearray()
        write_value(buf, obj)
        return bytes(buf)

    # Full footers name their fields by id: readable before any metadata is known.
    order = ComplexObject("Order", {"id": 7, "customer": "acme"}, compact_footer=False)
    encoded = raw(order)
    assert model.key_hash(configured, encoded) == java_hash("acme")
    assert model.key_hash(plain, encoded) == order.hash_code  # the header hash
    nameless = raw(ComplexObject("Order", {"id": 7, "customer": None}, compact_footer=False))
    assert model.key_hash(configured, nameless) == I32.unpack_from(nameless, 8)[0]
    # Binary metadata can name an affinity field too (OP 3003), after keys were seen.
    before = model.partition_of(plain, encoded)
    assert before == partition(order.hash_code, PARTS)
    fields = [BinaryField("id", 4), BinaryField("customer", 9)]
    model.registry.add(BinaryType.of("Order", fields, affinity_key_field="customer"))
    model.binary_types_changed()
    assert model.partition_of(plain, encoded) == partition(java_hash("acme"), PARTS)
    compact = raw(ComplexObject("Order", {"id": 8, "customer": "globex"}))
    assert model.key_hash(plain, compact) == java_hash("globex")


def test_local_peek_and_sizes_by_peek_mode() -> None:
    model = started(3, backups=1)
    model.create_cache({CacheProperty.NAME: "c"})
    cache = model.caches[cache_id("c")]
    conns = [Conn(model, i) for i in range(3)]
    for key in range(30):
        conns[0].put(key, key)

    def peek(conn: Conn, key, *modes):
        return decode_value(memoryview(conn.cache_op(OpCode.CACHE_LOCAL_PEEK, key, modes)), 0)

    for key in range(30):
        primary, backup = cache.owners[partition(java_hash(key), PARTS)]
        outsider = 3 - primary - backup
        assert peek(conns[primary], key, PeekMode.PRIMARY) == key
        assert peek(conns[primary], key, PeekMode.BACKUP) is None
        assert peek(conns[backup], key, PeekMode.BACKUP) == key
        assert peek(conns[backup], key) == key
        assert peek(conns[outsider], key) is None

    def size(*modes) -> int:
        return I64.unpack(conns[1].cache_op(OpCode.CACHE_GET_SIZE, modes))[0]

    assert size() == size(PeekMode.PRIMARY) == size(PeekMode.BACKUP) == 30
    assert size(PeekMode.ALL) == size(PeekMode.PRIMARY, PeekMode.BACKUP) == 60
    # parsePeekModes(modes, primary = true): heap/off-heap alone name no copy kind
    assert size(PeekMode.ONHEAP) == size(PeekMode.OFFHEAP) == 30
    assert size(PeekMode.ONHEAP, PeekMode.BACKUP) == 30
    assert size(PeekMode.NEAR) == 0
    # ...while a local peek with them alone looks at every copy the node has
    for key in range(30):
        primary, backup = cache.owners[partition(java_hash(key), PARTS)]
        assert peek(conns[backup], key, PeekMode.ONHEAP) == key


def test_transactions_buffer_writes_until_commit() -> None:
    model = started(2)
    model.create_cache({CacheProperty.NAME: "c", CacheProperty.CACHE_ATOMICITY_MODE: 0})
    model.create_cache({CacheProperty.NAME: "atomic"})
    owner, other = Conn(model, 0), Conn(model, 1)

    def start(conn: Conn) -> int:
        body = bytes([0, 0]) + bytes(8) + b"\x65"  # concurrency, isolation, timeout, no label
        return I32.unpack(conn.raw(OpCode.TX_START, body))[0]

    tx = start(owner)
    owner.put("k", "in tx", tx_id=tx)
    assert owner.get("k", tx_id=tx) == "in tx"
    assert other.get("k") is None  # not visible outside before commit
    owner.raw(OpCode.TX_END, I32.pack(tx) + b"\x01")
    assert other.get("k") == "in tx"
    tx = start(owner)
    owner.cache_op(OpCode.CACHE_REMOVE_KEY, "k", tx_id=tx)
    owner.raw(OpCode.TX_END, I32.pack(tx) + b"\x00")  # rollback
    assert other.get("k") == "in tx"
    with pytest.raises(ServerError) as unknown:
        owner.raw(OpCode.TX_END, I32.pack(tx) + b"\x01")
    assert unknown.value.status == StatusCode.TX_NOT_FOUND
    owner.raw(OpCode.TX_END, I32.pack(tx) + b"\x00")  # rolling back an unknown id succeeds
    # A transaction belongs to its connection: on another one its id is unknown
    # and the request runs without a transaction (ClientRequestHandler.handle).
    foreign = start(owner)
    other.put("k", "outside", tx_id=foreign)
    assert owner.get("k") == "outside"
    owner.raw(OpCode.TX_END, I32.pack(foreign) + b"\x00")
    assert owner.get("k") == "outside"  # the rollback did not undo it
    with pytest.raises(ServerError, match="ATOMIC"):
        owner.put("k", 1, cache="atomic", tx_id=start(owner))


def test_deactivation_drops_data_and_read_only_refuses_writes() -> None:
    model = started(2, backups=1)
    model.create_cache({CacheProperty.NAME: "c"})
    conn = Conn(model, 0)
    conn.put(1, 1)
    model.change_state(ClusterState.ACTIVE_READ_ONLY)
    assert conn.get(1) == 1
    with pytest.raises(ServerError, match="read-only"):
        conn.put(2, 2)
    model.change_state(ClusterState.INACTIVE)
    with pytest.raises(ServerError, match="inactive"):
        conn.get(1)
    model.change_state(ClusterState.ACTIVE)
    assert conn.get(1) is None  # in-memory data does not survive deactivation
    assert cache_id("c") in model.caches


def test_topology_history_keeps_who_was_there() -> None:
    model = started(2)
    first = {node.node_id for node in model.nodes}
    model.leave(0)
    assert {node_id for node_id, _ in model.history[2]} == first
    assert {node_id for node_id, _ in model.history[3]} == {model.nodes[1].node_id}


HANDLED_OPS = sorted(HANDLERS)


@settings(max_examples=300)
@given(
    op=st.sampled_from(HANDLED_OPS),
    body=st.binary(max_size=40),
    with_cache_prefix=st.booleans(),
    flags=st.sampled_from([0, 1, 2, 4, 6, 0x7F]),
)
def test_malformed_bodies_fail_cleanly(op, body, with_cache_prefix, flags) -> None:
    """Any body: an answer or a clean error (what the connection turns into a status)."""
    model = started(2, backups=1)
    model.create_cache({CacheProperty.NAME: "c", CacheProperty.CACHE_ATOMICITY_MODE: 0})
    conn = Conn(model, 0)
    if with_cache_prefix:
        body = I32.pack(cache_id("c")) + bytes([flags]) + body
    with contextlib.suppress(ServerError, ProtocolError, ValueError, TypeError, OverflowError):
        conn.raw(op, body)
    check_placement(model)


@settings(max_examples=200)
@given(inner=st.binary(max_size=30), offset=st.integers(-3, 35), op=st.sampled_from([1000, 1001]))
def test_wrapped_objects_with_bad_offsets_fail_cleanly(inner, offset, op) -> None:
    model = started(1)
    model.create_cache({CacheProperty.NAME: "c"})
    wrapped = b"\x1b" + I32.pack(len(inner)) + inner + I32.pack(offset)
    body = I32.pack(cache_id("c")) + b"\x00" + wrapped + (b"\x01\x05" if op == 1001 else b"")
    with contextlib.suppress(ServerError, ProtocolError, ValueError, TypeError, OverflowError):
        Conn(model, 0).raw(op, body)
