"""Replicated caches in LocalCluster follow Ignite's replicatedAssign (RendezvousAffinityFunction):
the primary by rendezvous hash, then every other node in topology (join) order."""

from __future__ import annotations

from ignite_router import Client
from ignite_router.affinity import node_order
from ignite_router.protocol.messages.cache_config import CacheMode
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.testing import LocalCluster

REPLICATED = {CacheProperty.NAME: "everywhere", CacheProperty.CACHE_MODE: CacheMode.REPLICATED}


def owners_by_partition(cluster: LocalCluster) -> list[tuple[object, ...]]:
    def read(model):
        cache = next(c for c in model.caches.values() if c.name == "everywhere")
        return [tuple(model.nodes[i].node_id for i in owners) for owners in cache.owners]

    return cluster.call(read)


def expected(cluster: LocalCluster, join_order: list[int], part: int) -> tuple[object, ...]:
    nodes = cluster.nodes
    alive = [i for i in join_order if nodes[i].alive]
    ranked = node_order(
        [nodes[i].consistent_id for i in alive], part, [nodes[i].node_id for i in alive]
    )
    primary = alive[ranked[0]]
    return (nodes[primary].node_id, *(nodes[i].node_id for i in alive if i != primary))


def test_replicated_backups_are_in_topology_order_even_after_a_restart() -> None:
    with LocalCluster(nodes=4) as cluster:
        with Client().connect(cluster.endpoints) as client:
            client.get_or_create_cache(REPLICATED)
        owners = owners_by_partition(cluster)
        assert len(owners) == 512  # Ignite's default partition count for replicated caches
        for part in range(0, 512, 7):
            assert owners[part] == expected(cluster, [0, 1, 2, 3], part)
        cluster.kill_node(0)
        cluster.start_node(0)  # rejoins last: topology order 1, 2, 3, 0
        owners = owners_by_partition(cluster)
        for part in range(0, 512, 7):
            assert owners[part] == expected(cluster, [1, 2, 3, 0], part)
