"""Key routing of both clients against a LocalCluster: every key operation reaches its primary.

The references are independent of our routing code: the server's own count
of requests that reached a non-primary node (``forwarded``), the server's
storage (``local_peek`` on each node), and pyignite 0.6.1's router where it
hashes as Java does.
"""

from __future__ import annotations

import uuid

import pytest
from pyignite import Client as PyigniteClient
from pyignite.api.binary import put_binary_type
from pyignite.datatypes import LongObject, String

from ignite_router.affinity import IgniteType
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.values import BinaryType, ComplexObject
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected

KEY_CONFIG = [{"type_name": "OrderKey", "affinity_key_field_name": "city"}]


def total_forwarded(cluster: LocalCluster) -> int:
    return sum(node["forwarded"] for node in cluster.stats())


def sample_keys(n: int) -> list:
    keys: list = []
    for i in range(n):
        keys += [i * 7919 - 5000, f"user:{i}", uuid.UUID(int=i * 2654435761 + 1)]
    return keys


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=4, backups=0) as cluster:
        yield cluster


@pytest.mark.parametrize("kind", SHELLS)
def test_single_and_multi_key_ops_reach_primaries(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        cache = shell.do(shell.client.get_or_create_cache(f"routing-{kind}"))
        shell.do(cache.get(0))  # the first key op fetches the map (and may be forwarded)
        cluster.reset_stats()
        keys = sample_keys(300)
        for key in keys:
            shell.do(cache.put(key, repr(key)))
        for key in keys:
            assert shell.do(cache.get(key)) == repr(key)
            assert shell.do(cache.contains_key(key))
        shell.do(cache.put_all({key: f"all:{key}" for key in keys}))
        assert shell.do(cache.get_all(keys)) == {key: f"all:{key}" for key in keys}
        assert shell.do(cache.contains_keys(keys))
        shell.do(cache.remove_keys(keys[:100]))
        assert shell.do(cache.get_all(keys[:100])) == {}
        stats = cluster.stats()
        assert sum(node["key_requests"] for node in stats) >= 3 * len(keys)
        assert total_forwarded(cluster) == 0
        assert all(node["requests"] > 0 for node in stats)  # the load is spread
        # Multi-key operations were split by node: one sub-request per node, not per key.
        assert sum(node["requests"] for node in stats) < 3 * len(keys) + 40


@pytest.mark.parametrize("kind", SHELLS)
def test_route_names_the_node_that_stores_the_key(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        cache = shell.do(client.get_or_create_cache(f"peek-{kind}"))
        shell.do(cache.get(0))
        node_ids = [node.node_id for node in cluster.nodes]
        for key in sample_keys(40):
            shell.do(cache.put(key, "here"))
            route = client.route(cache, key)
            assert route.reason == "primary"
            assert route.node_id in node_ids
            holders = [
                node_id
                for node_id in node_ids
                if shell.do(cache.local_peek(key, node_id)) == "here"
            ]
            assert holders == [route.node_id]


@pytest.mark.parametrize("kind", SHELLS)
def test_complex_keys_with_affinity_fields(cluster: LocalCluster, kind: str) -> None:
    """Affinity fields from the cache's key configuration and from binary type metadata."""
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        configured = shell.do(
            client.get_or_create_cache(
                {
                    CacheProperty.NAME: f"orders-{kind}",
                    CacheProperty.CACHE_KEY_CONFIGURATION: KEY_CONFIG,
                }
            )
        )
        shell.do(
            client.put_binary_type(
                BinaryType.of(
                    "ShipmentKey",
                    {"id": IgniteType.LONG, "region": IgniteType.STRING},
                    affinity_key_field="region",
                )
            )
        )
        plain = shell.do(client.get_or_create_cache(f"shipments-{kind}"))
        shell.do(configured.get(0))
        shell.do(plain.get(0))
        cluster.reset_stats()
        node_ids = [node.node_id for node in cluster.nodes]
        cities = ["Lyon", "Oslo", "Porto", "Kyiv", "Lima", "Pune", "Cork", "Riga"]
        for i in range(80):
            city = cities[i % len(cities)]
            order = ComplexObject("OrderKey", {"id": i, "city": city})
            shipment = ComplexObject("ShipmentKey", {"id": i, "region": city})
            shell.do(configured.put(order, i))
            shell.do(plain.put(shipment, i))
            assert shell.do(configured.get(order)) == i
            assert shell.do(plain.get(shipment)) == i
            for cache, key in ((configured, order), (plain, shipment)):
                route = client.route(cache, key)
                assert route.reason == "primary"
                # The key lives where the affinity field's value alone would live.
                assert route.partition == client.route(cache, city).partition
                holders = [n for n in node_ids if shell.do(cache.local_peek(key, n)) == i]
                assert holders == [route.node_id]
        assert total_forwarded(cluster) == 0


def test_agrees_with_pyignite_where_pyignite_is_right(cluster: LocalCluster) -> None:
    """Ints, ASCII strings and UUIDs: pyignite's get_best_node picks the node we pick."""
    with connected("sync", cluster.endpoints) as shell:
        cache = shell.client.get_or_create_cache("agreement")
        cache.put(0, 0)
        peer = PyigniteClient(partition_aware=True)
        with peer.connect(cluster.endpoints):
            peer_cache = peer.get_or_create_cache("agreement")
            peer_cache.put(0, 0)
            for key in sample_keys(100):
                ours = shell.client.route(cache, key).node_id
                theirs = peer.get_best_node(peer_cache, key).uuid
                assert ours == theirs, key


def test_follows_the_server_where_pyignite_is_wrong(cluster: LocalCluster) -> None:
    """Non-BMP strings and INT-hinted keys (pyignite hashes them wrong): the server decides."""
    with connected("sync", cluster.endpoints) as shell:
        cache = shell.client.get_or_create_cache("deviations")
        cache.get(0)
        node_ids = [node.node_id for node in cluster.nodes]
        keys = [(f"😀{i}", None) for i in range(30)] + [(-i - 1, IgniteType.INT) for i in range(30)]
        for key, hint in keys:
            cache.put(key, "x", key_hint=hint)
            route = shell.client.route(cache, key, hint)
            holders = [n for n in node_ids if cache.local_peek(key, n, key_hint=hint) == "x"]
            assert holders == [route.node_id]


@pytest.mark.parametrize("kind", SHELLS)
def test_affinity_field_from_metadata_registered_by_another_client(
    cluster: LocalCluster, kind: str
) -> None:
    """The server applies an affinity field from binary metadata that some other application
    registered; the client looks the key type up once and routes by that field too."""
    type_name = f"ParcelKey{kind.title()}"
    peer = PyigniteClient()
    with peer.connect(cluster.endpoints):
        put_binary_type(
            peer.random_node,
            type_name,
            affinity_key_field="depot",
            schema={"id": LongObject, "depot": String},
        )
    with connected(kind, cluster.endpoints) as shell:
        cache = shell.do(shell.client.get_or_create_cache(f"parcels-{kind}"))
        shell.do(cache.get(0))
        shell.do(cache.put(ComplexObject(type_name, {"id": 0, "depot": "Oslo"}), 0))  # looks it up
        cluster.reset_stats()
        node_ids = [node.node_id for node in cluster.nodes]
        for i in range(1, 60):
            key = ComplexObject(type_name, {"id": i, "depot": f"depot-{i % 7}"})
            shell.do(cache.put(key, i))
            route = shell.client.route(cache, key)
            assert route.partition == shell.client.route(cache, f"depot-{i % 7}").partition
            holders = [n for n in node_ids if shell.do(cache.local_peek(key, n)) == i]
            assert holders == [route.node_id]
        assert total_forwarded(cluster) == 0
