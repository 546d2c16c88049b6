"""Every pyignite key-value, cache-management, scan and binary-type API against LocalCluster."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections import OrderedDict

import pytest
from pyignite import Client, GenericObjectMeta
from pyignite.datatypes import (
    BinaryEnumObject,
    BoolArrayObject,
    ByteArrayObject,
    ByteObject,
    CharArrayObject,
    CharObject,
    CollectionObject,
    DateArrayObject,
    DateObject,
    DecimalArrayObject,
    DoubleArrayObject,
    EnumObject,
    FloatArrayObject,
    FloatObject,
    IntArrayObject,
    IntObject,
    LongArrayObject,
    MapObject,
    ObjectArrayObject,
    ShortArrayObject,
    ShortObject,
    String,
    StringArrayObject,
    TimeArrayObject,
    TimestampArrayObject,
    TimestampObject,
    UUIDArrayObject,
)
from pyignite.datatypes.cache_config import CacheMode
from pyignite.datatypes.prop_codes import (
    PROP_BACKUPS_NUMBER,
    PROP_CACHE_KEY_CONFIGURATION,
    PROP_CACHE_MODE,
    PROP_NAME,
)
from pyignite.exceptions import CacheError

from ignite_router.affinity import field_id, java_hash, partition, type_id
from ignite_router.testing import LocalCluster

pytestmark = pytest.mark.timeout(60)
UTC = datetime.UTC


@pytest.fixture(scope="module")
def client():
    with LocalCluster(nodes=3, backups=1) as cluster:
        pyignite = Client(partition_aware=True, timeout=10)
        with pyignite.connect(cluster.endpoints):
            pyignite.cluster_ = cluster
            yield pyignite


VALUES = [
    (42, None),
    (-(2**63), None),
    (7, ByteObject),
    (-300, ShortObject),
    (2**31 - 1, IntObject),
    (1.5, FloatObject),
    (3.14159, None),
    ("é", CharObject),
    (True, None),
    ("héllo 😀", None),
    (uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), None),
    (datetime.datetime(2020, 9, 13, 12, 26, 40, 123000), None),
    ((datetime.datetime(2020, 9, 13, 12, 26, 40, 123000), 456789), TimestampObject),
    (datetime.timedelta(hours=12, minutes=34, seconds=56, milliseconds=789), None),
    (decimal.Decimal("-1.5"), None),
    (b"\x00\x01\xff", ByteArrayObject),
    ([1, 2, 3], IntArrayObject),
    ([1, 2, 2**40], LongArrayObject),
    ([0.5, -1.0], DoubleArrayObject),
    ([True, False], BoolArrayObject),
    (["a", None, "b"], StringArrayObject),
    ([uuid.UUID(int=1), None], UUIDArrayObject),
    ((1, [1, "a"]), CollectionObject),
    ((3, [1, 2]), CollectionObject),
    ((1, {"a": 1, "b": "x"}), MapObject),
    ((2, {"z": [1, 2], "a": None}), MapObject),
    ((-1, [1, "two", 3.0, None]), ObjectArrayObject),
    (datetime.datetime(1999, 12, 31, 23, 59, 59, 999000), DateObject),
    ((123, 4), EnumObject),
    ((123, 4), BinaryEnumObject),
    ([decimal.Decimal("1.5"), decimal.Decimal("-123456789012345678901234.5")], DecimalArrayObject),
    ([datetime.datetime(2001, 2, 3, 4, 5, 6)], DateArrayObject),
    ([(datetime.datetime(2001, 2, 3, 4, 5, 6), 7)], TimestampArrayObject),
    ([datetime.timedelta(seconds=5)], TimeArrayObject),
    ([1, -2], ShortArrayObject),
    ([0.5, 2.0], FloatArrayObject),
    (["a", "é"], CharArrayObject),
    (decimal.Decimal("12345678901234567890.000001"), None),
    ("", None),
    (b"", ByteArrayObject),
]


@pytest.mark.parametrize(("value", "hint"), VALUES, ids=lambda v: type(v).__name__)
def test_values_of_every_type_round_trip(client, value, hint) -> None:
    cache = client.get_or_create_cache("types")
    cache.put("key", value, value_hint=hint)
    got = cache.get("key")
    if isinstance(value, datetime.datetime):
        got = got.replace(tzinfo=None) if got.tzinfo else got
    assert got == value


class Person(
    metaclass=GenericObjectMeta,
    type_name="Person",
    schema=OrderedDict([("id", IntObject), ("name", String), ("city", String)]),
):
    pass


def test_complex_objects_round_trip_with_registered_types(client) -> None:
    cache = client.get_or_create_cache("people")
    alice = Person(id=1, name="Alice", city="Paris")
    cache.put(1, alice)
    got = cache.get(1)
    assert (got.id, got.name, got.city) == (1, "Alice", "Paris")
    assert type(got).__name__ == "Person"


def test_complex_keys_route_by_header_hash(client) -> None:
    cache = client.get_or_create_cache("complex-keys")
    cache.put(Person(id=1, name="a", city="b"), "v")  # warm up the map
    client.cluster_.reset_stats()
    for i in range(200):
        key = Person(id=i, name=f"n{i}", city="c")
        cache.put(key, i)
        assert cache.get(key) == i
    assert [s["forwarded"] for s in client.cluster_.stats()] == [0, 0, 0]


def test_cache_key_configuration_routes_by_affinity_field(client) -> None:
    """The server partitions by the configured affinity field: equal cities, equal partition."""
    cache = client.create_cache(
        {
            PROP_NAME: "by-city",
            PROP_CACHE_KEY_CONFIGURATION: [
                {"type_name": "Person", "affinity_key_field_name": "city"}
            ],
        }
    )
    for i in range(30):
        cache.put(Person(id=i, name="x", city="Lyon"), i)

    def partitions_of_lyon(model):
        affinity = model.caches[java_hash("by-city")]
        assert affinity.key_config == {type_id("Person"): field_id("city")}
        return {
            part
            for part in range(affinity.partitions)
            for node in model.nodes
            if node.alive
            and model.nodes.index(node) == affinity.owners[part][0]
            and node.data[affinity.cache_id].get(part)
        }

    assert client.cluster_.call(partitions_of_lyon) == {partition(java_hash("Lyon"), 1024)}


def test_key_value_operations(client) -> None:
    cache = client.get_or_create_cache("ops")
    cache.clear()
    assert cache.put_if_absent(1, "a") is True
    assert cache.put_if_absent(1, "b") is False
    assert cache.get_and_put(1, "c") == "a"
    assert cache.get_and_replace(1, "d") == "c"
    assert cache.get_and_replace(2, "x") is None
    assert cache.replace(1, "e") is True
    assert cache.replace(2, "x") is False
    assert cache.replace_if_equals(1, "e", "f") is True
    assert cache.replace_if_equals(1, "zzz", "g") is False
    assert cache.get_and_put_if_absent(1, "h") == "f"
    assert cache.contains_key(1) is True
    assert cache.get_and_remove(1) == "f"
    assert cache.contains_key(1) is False
    cache.put_all({i: i * 10 for i in range(20)})
    assert cache.get_all([1, 2, 99]) == {1: 10, 2: 20}
    assert cache.contains_keys([1, 2]) is True
    assert cache.contains_keys([1, 99]) is False
    assert cache.get_size() == 20
    assert cache.remove_key(3) is True
    assert cache.remove_key(3) is False
    assert cache.remove_if_equals(4, 40) is True
    assert cache.remove_if_equals(5, 0) is False
    cache.remove_keys([6, 7])
    cache.clear_key(8)
    cache.clear_keys([9, 10])
    assert sorted(k for k, _ in cache.scan()) == [0, 1, 2, 5, *range(11, 20)]
    cache.remove_all()
    assert cache.get_size() == 0


def test_sizes_by_peek_mode_count_backups(client) -> None:
    from pyignite.datatypes.key_value import PeekModes

    cache = client.get_or_create_cache("sizes")
    cache.put_all({i: i for i in range(50)})
    assert cache.get_size() == 50
    assert cache.get_size(PeekModes.PRIMARY) == 50
    assert cache.get_size(PeekModes.BACKUP) == 50  # backups=1 on this cluster
    assert cache.get_size(PeekModes.ALL) == 100
    # GridCacheAdapter.parsePeekModes(modes, primary = true): heap/off-heap alone = primaries
    assert cache.get_size(PeekModes.ONHEAP) == 50
    assert cache.get_size(PeekModes.OFFHEAP) == 50
    assert cache.get_size([PeekModes.PRIMARY, PeekModes.BACKUP]) == 100


def test_scan_pages_and_partitions(client) -> None:
    cache = client.get_or_create_cache("scan")
    cache.put_all({f"k{i}": i for i in range(100)})
    with cache.scan(page_size=7) as cursor:
        assert sorted(v for _, v in cursor) == list(range(100))
    per_partition = sum(len(list(cache.scan(page_size=50, partitions=p))) for p in range(1024))
    assert per_partition == 100


def test_cache_management(client) -> None:
    created = client.create_cache(
        {PROP_NAME: "managed", PROP_CACHE_MODE: CacheMode.PARTITIONED, PROP_BACKUPS_NUMBER: 2}
    )
    assert "managed" in client.get_cache_names()
    with pytest.raises(CacheError):
        client.create_cache("managed")
    settings = created.settings
    assert settings[PROP_NAME] == "managed"
    assert settings[PROP_BACKUPS_NUMBER] == 2
    created.destroy()
    assert "managed" not in client.get_cache_names()
    replicated = client.create_cache(
        {PROP_NAME: "everywhere", PROP_CACHE_MODE: CacheMode.REPLICATED}
    )
    assert replicated.settings[PROP_CACHE_MODE] == CacheMode.REPLICATED
    assert replicated.settings[PROP_BACKUPS_NUMBER] == 2**31 - 1  # Ignite's "on every node"


def test_cluster_state() -> None:
    from pyignite.datatypes import ClusterState

    with LocalCluster(nodes=2) as cluster:
        client = Client(timeout=10)
        with client.connect(cluster.endpoints):
            cache = client.get_or_create_cache("state")
            cache.put(1, 1)
            state = client.get_cluster()
            assert state.get_state() == ClusterState.ACTIVE
            state.set_state(ClusterState.ACTIVE_READ_ONLY)
            assert state.get_state() == ClusterState.ACTIVE_READ_ONLY
            assert cache.get(1) == 1
            with pytest.raises(CacheError, match="read-only"):
                cache.put(2, 2)
            state.set_state(ClusterState.INACTIVE)
            assert state.get_state() == ClusterState.INACTIVE
            with pytest.raises(CacheError, match="inactive"):
                cache.get(1)
            state.set_state(ClusterState.ACTIVE)
            assert cache.get(1) is None  # deactivation drops in-memory data, as in Ignite
            assert cluster.topology_version == (2, 4)  # 1 cache + 3 state changes


def test_transactions_commit_and_roll_back(client) -> None:
    from pyignite.datatypes.cache_config import CacheAtomicityMode
    from pyignite.datatypes.prop_codes import PROP_CACHE_ATOMICITY_MODE

    cache = client.get_or_create_cache(
        {PROP_NAME: "tx", PROP_CACHE_ATOMICITY_MODE: CacheAtomicityMode.TRANSACTIONAL}
    )
    cache.put(1, "before")
    with client.tx_start() as tx:
        cache.put(1, "committed")
        cache.put_all({2: "x", 3: "y"})
        assert cache.get(1) == "committed"  # the transaction sees its own writes
        tx.commit()
    assert cache.get_all([1, 2, 3]) == {1: "committed", 2: "x", 3: "y"}
    with client.tx_start():
        cache.remove_key(1)
        cache.put(4, "z")
    # Leaving the block without commit rolls back.
    assert cache.get(1) == "committed"
    assert cache.get(4) is None
    atomic = client.get_or_create_cache("not-tx")
    with client.tx_start(), pytest.raises(CacheError, match="ATOMIC"):
        atomic.put(1, 1)
