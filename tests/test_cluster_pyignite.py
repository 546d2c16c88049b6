"""pyignite 0.6.1, the Apache client, against LocalCluster: routing, placement, topology.

pyignite is the independent reference: if the local cluster's handshake,
headers, partition maps or bodies were off, it would fail or misroute. Owners
are computed here from ``affinity`` over the cluster's live nodes, and the
server's own storage is asked through OP_CACHE_LOCAL_PEEK.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

import pytest
from pyignite import AioClient, Client
from pyignite.api.key_value import cache_local_peek
from pyignite.datatypes import IntObject
from pyignite.datatypes.key_value import PeekModes
from pyignite.exceptions import ReconnectError, connection_errors

from ignite_router.affinity import assign, java_hash, partition
from ignite_router.testing import LocalCluster

pytestmark = pytest.mark.timeout(180)

KEY_SETS = {
    "int": list(range(-500, 700)),
    "str": [f"user:{i}:é" for i in range(1200)],
    "uuid": [uuid.UUID(int=i * 0x9E3779B97F4A7C15 % (1 << 128)) for i in range(1200)],
}
ALL_KEYS = [key for keys in KEY_SETS.values() for key in keys]
TRANSIENT = (*connection_errors, ReconnectError)


def owners_of(cluster: LocalCluster, backups: int, parts: int = 1024):
    """key -> owner node ids, computed independently: affinity math over the live nodes."""
    alive = [node for node in cluster.nodes if node.alive]
    ranked = assign([n.consistent_id for n in alive], parts, backups, [n.node_id for n in alive])
    table = [[alive[i].node_id for i in owners] for owners in ranked]
    return lambda key: table[partition(java_hash(key), parts)]


def connected(endpoints) -> Client:
    client = Client(partition_aware=True, timeout=10)
    client.connect(endpoints)
    return client


def patient(call, *args):
    """pyignite reports a lost connection once instead of failing over: retry like a user."""
    for _ in range(5):
        with contextlib.suppress(TRANSIENT):
            return call(*args)
    return call(*args)


def forwarded(cluster: LocalCluster) -> list[int]:
    return [s["forwarded"] for s in cluster.stats()]


def free_port_block(count: int) -> int:
    """A base port with ``count`` free consecutive ports after it (for nodes added later)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no free block of ports")


@pytest.fixture
def cluster():
    with LocalCluster(nodes=3) as local:
        yield local


def test_pyignite_routes_every_key_to_its_primary(cluster: LocalCluster) -> None:
    client = connected(cluster.endpoints)
    try:
        cache = client.get_or_create_cache("routing")
        cache.put(0, "warm-up")  # the first key op fetches the partition map
        cluster.reset_stats()
        for name, keys in KEY_SETS.items():
            for key in keys:
                cache.put(key, name)
            for key in keys:
                assert cache.get(key) == name
        stats = cluster.stats()
        assert sum(s["key_requests"] for s in stats) == 2 * len(ALL_KEYS)
        assert forwarded(cluster) == [0, 0, 0]
        assert all(s["key_requests"] > len(ALL_KEYS) // 3 for s in stats)  # the load is spread
    finally:
        client.close()


def test_pyignite_async_client_routes_to_primaries(cluster: LocalCluster) -> None:
    async def scenario() -> None:
        client = AioClient(partition_aware=True)
        async with client.connect(cluster.endpoints):
            cache = await client.get_or_create_cache("aio")
            await cache.put(1, 1)
            cluster.reset_stats()
            for name, keys in KEY_SETS.items():
                for key in keys[:1000]:
                    await cache.put(key, name)
                for key in keys[:1000]:
                    assert await cache.get(key) == name

    asyncio.run(scenario())
    assert forwarded(cluster) == [0, 0, 0]
    key_requests = [s["key_requests"] for s in cluster.stats()]
    assert sum(key_requests) == 6000
    assert min(key_requests) > 1000  # the load is spread


@pytest.mark.parametrize("backups", [0, 1])
def test_placement_matches_server_truth(backups: int) -> None:
    """Each node's own storage holds exactly the keys the affinity math gives it."""
    with LocalCluster(nodes=3, backups=backups) as cluster:
        client = connected(cluster.endpoints)
        try:
            cache = client.get_or_create_cache("placement")
            sample = KEY_SETS["int"][:60] + KEY_SETS["str"][:60] + KEY_SETS["uuid"][:60]
            for key in sample:
                cache.put(key, 1)
            by_node = {conn.uuid: conn for conn in client._nodes}
            expected_owners = owners_of(cluster, backups)
            for key in sample:
                owners = expected_owners(key)
                holders = {
                    node_id
                    for node_id, conn in by_node.items()
                    if cache_local_peek(conn, cache.cache_info, key).value == 1
                }
                assert holders == set(owners)
                primary = by_node[owners[0]]
                assert (
                    cache_local_peek(
                        primary, cache.cache_info, key, peek_modes=PeekModes.PRIMARY
                    ).value
                    == 1
                )
        finally:
            client.close()


def test_int_hint_routes_as_java_int(cluster: LocalCluster) -> None:
    client = connected(cluster.endpoints)
    try:
        cache = client.get_or_create_cache("hinted")
        cache.put(10**9, 1)
        cluster.reset_stats()
        for key in range(300):
            cache.put(key, key, key_hint=IntObject)
            assert cache.get(key, key_hint=IntObject) == key
            assert cache.get(key) is None  # a Long 5 is a different key from an Integer 5
        assert forwarded(cluster) == [0, 0, 0]
    finally:
        client.close()


def test_added_node_gets_its_share_and_routing_follows() -> None:
    base = free_port_block(4)
    with LocalCluster(nodes=3, base_port=base) as cluster:
        # pyignite only talks to endpoints it was given: name the 4th before it exists.
        client = connected([*cluster.endpoints, (cluster.host, base + 3)])
        try:
            cache = client.get_or_create_cache("grow")
            keys = KEY_SETS["int"]
            for key in keys:
                cache.put(key, key)
            before = cluster.topology_version
            index = cluster.add_node()
            assert cluster.nodes[index].port == base + 3
            assert cluster.topology_version == (before[0] + 1, 0)
            for key in keys:
                assert patient(cache.get, key) == key  # rebalanced, nothing lost
            cluster.reset_stats()
            for key in keys:
                assert cache.get(key) == key
            stats = cluster.stats()
            assert forwarded(cluster) == [0] * 4
            assert stats[index]["key_requests"] > 0
        finally:
            client.close()


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_with_a_backup_every_key_survives_a_node_loss(how: str) -> None:
    with LocalCluster(nodes=3, backups=1) as cluster:
        client = connected(cluster.endpoints)
        try:
            cache = client.get_or_create_cache("safe")
            keys = KEY_SETS["str"][:600]
            for key in keys:
                cache.put(key, key)
            (cluster.kill_node if how == "kill" else cluster.stop_node)(1)
            for key in keys:
                assert patient(cache.get, key) == key
            cluster.reset_stats()
            for key in keys:
                assert cache.get(key) == key
            assert forwarded(cluster) == [0, 0, 0]
            assert cluster.stats()[1]["requests"] == 0
        finally:
            client.close()


def test_killed_and_restarted_node_rejoins_the_same_client() -> None:
    with LocalCluster(nodes=3, backups=1) as cluster:
        client = connected(cluster.endpoints)
        try:
            cache = client.get_or_create_cache("restart")
            keys = KEY_SETS["uuid"][:600]
            for key in keys:
                cache.put(key, 1)
            old_id = cluster.nodes[2].node_id
            cluster.kill_node(2)
            for key in keys:
                assert patient(cache.get, key) == 1
            cluster.start_node(2)
            assert cluster.nodes[2].node_id != old_id
            assert cluster.topology_version == (5, 0)  # 3 joins, 1 leave, 1 join
            for key in keys:
                assert patient(cache.get, key) == 1  # refreshed the map, reconnected node 2
            cluster.reset_stats()
            for key in keys:
                cache.put(key, 2)
            assert forwarded(cluster) == [0, 0, 0]
            assert cluster.stats()[2]["key_requests"] > 0
        finally:
            client.close()


def test_without_backups_exactly_the_dead_nodes_keys_are_lost() -> None:
    with LocalCluster(nodes=3, backups=0) as cluster:
        client = connected(cluster.endpoints)
        try:
            cache = client.get_or_create_cache("fragile")
            keys = KEY_SETS["int"]
            for key in keys:
                cache.put(key, key)
            victim = cluster.nodes[2].node_id
            expected_owners = owners_of(cluster, backups=0)
            doomed = {k for k in keys if expected_owners(k) == [victim]}
            assert doomed and len(doomed) < len(keys)
            cluster.kill_node(2)
            lost = {k for k in keys if patient(cache.get, k) is None}
            assert lost == doomed
        finally:
            client.close()
