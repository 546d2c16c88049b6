"""Beyond key-value: caches, SQL, scans, transactions, binary types, dataclasses (both shells)."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from pyignite import Client as PyigniteClient

from ignite_router import ClientListener, ServerError, TransactionLostError
from ignite_router.affinity import IgniteType
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.values import ComplexObject
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected

TRANSACTIONAL = 0  # CACHE_ATOMICITY_MODE


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int
    label: str


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=3, backups=1) as cluster:
        yield cluster


@pytest.mark.parametrize("kind", SHELLS)
def test_cache_management(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        cache = shell.do(client.create_cache(f"managed-{kind}"))
        with pytest.raises(ServerError) as caught:
            shell.do(client.create_cache(f"managed-{kind}"))
        assert caught.value.status == 1001  # CACHE_EXISTS
        assert f"managed-{kind}" in shell.do(client.get_cache_names())
        settings = cache.settings if kind == "sync" else shell.do(cache.settings())
        assert settings[CacheProperty.NAME] == f"managed-{kind}"
        assert settings[CacheProperty.BACKUPS_NUMBER] == 1
        shell.do(cache.put_all({i: i for i in range(50)}))
        assert shell.do(cache.get_size()) == 50
        assert shell.do(cache.replace(1, "one")) is True
        assert shell.do(cache.replace_if_equals(1, "one", "uno")) is True
        assert shell.do(cache.put_if_absent(1, "x")) is False
        assert shell.do(cache.get_and_put_if_absent(100, "new")) is None
        assert shell.do(cache.get_and_replace(100, "newer")) == "new"
        assert shell.do(cache.get_and_remove(100)) == "newer"
        assert shell.do(cache.remove_if_equals(1, "uno")) is True
        shell.do(cache.clear_key(2))
        shell.do(cache.clear_keys([3, 4]))
        assert shell.do(cache.get_all([1, 2, 3, 4, 5])) == {5: 5}
        rows = shell.rows(cache.scan(page_size=7))
        assert sorted(rows) == [(0, 0)] + [(i, i) for i in range(5, 50)]
        partition = client.route(cache, 10).partition
        in_partition = shell.rows(cache.scan(page_size=3, partitions=partition))
        assert (10, 10) in in_partition
        assert all(client.route(cache, key).partition == partition for key, _ in in_partition)
        shell.do(cache.remove_all())
        assert shell.do(cache.get_size()) == 0
        shell.do(cache.destroy())
        assert f"managed-{kind}" not in shell.do(client.get_cache_names())
        with pytest.raises(ServerError) as caught:
            shell.do(cache.get(1))
        assert caught.value.status == 1000  # CACHE_DOES_NOT_EXIST


@pytest.mark.parametrize("kind", SHELLS)
def test_sql_is_refused_with_the_servers_error(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        with pytest.raises(ServerError, match="SQL") as caught:
            shell.rows(shell.client.sql("SELECT 1", include_field_names=True))
        assert caught.value.status == 1


@pytest.mark.parametrize("kind", SHELLS)
def test_transactions_commit_roll_back_and_pin_their_node(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        cache = shell.do(
            client.get_or_create_cache(
                {
                    CacheProperty.NAME: f"accounts-{kind}",
                    CacheProperty.CACHE_ATOMICITY_MODE: TRANSACTIONAL,
                }
            )
        )
        shell.do(cache.put_all({"alice": 100, "bob": 0}))

        async def transfer_async(commit: bool) -> object:
            async with client.tx_start(timeout=5000) as tx:
                await cache.put("alice", 50)
                await cache.put("bob", 50)
                assert await cache.get("alice") == 50  # read your own writes
                if commit:
                    await tx.commit()
                return tx.node

        def transfer_sync(commit: bool) -> object:
            with client.tx_start(timeout=5000) as tx:
                cluster.reset_stats()
                cache.put("alice", 50)
                cache.put("bob", 50)
                assert cache.get("alice") == 50
                busy = [i for i, node in enumerate(cluster.stats()) if node["requests"]]
                assert len(busy) == 1  # every operation went through the transaction's node
                if commit:
                    tx.commit()
                return tx.node

        def transfer(commit: bool) -> object:
            if kind == "sync":
                return transfer_sync(commit)
            return shell.do(transfer_async(commit))

        assert transfer(commit=False) is not None  # left without commit: rolled back
        assert shell.do(cache.get_all(["alice", "bob"])) == {"alice": 100, "bob": 0}
        transfer(commit=True)
        assert shell.do(cache.get_all(["alice", "bob"])) == {"alice": 50, "bob": 50}
        # Outside a transaction, operations are routed by key again.
        assert client.route(cache, "alice").reason == "primary"


def test_lost_transaction_connection_is_reported() -> None:
    with LocalCluster(nodes=2) as cluster, connected("sync", cluster.endpoints) as shell:
        client = shell.client
        cache = client.get_or_create_cache(
            {CacheProperty.NAME: "tx", CacheProperty.CACHE_ATOMICITY_MODE: TRANSACTIONAL}
        )
        tx = client.tx_start()
        index = [node.node_id for node in cluster.nodes].index(tx.node.node_id)
        cluster.kill_node(index)
        with pytest.raises(TransactionLostError):
            cache.put(1, 1)
        with pytest.raises(TransactionLostError):
            tx.commit()
        assert cache.put(2, 2) is None  # the next operation is outside any transaction


@pytest.mark.parametrize("kind", SHELLS)
def test_binary_objects_and_dataclasses(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        cache = shell.do(client.get_or_create_cache(f"objects-{kind}"))
        person = ComplexObject(
            "Person",
            {"id": 7, "name": "Ada", "tags": ["x", "y"]},
            field_hints={"id": IgniteType.INT},
        )
        shell.do(cache.put(person, person))
        found = shell.do(cache.get(person))
        assert found == person
        assert found.hint_for("id") == IgniteType.INT
        shell.do(client.register_dataclass(Point, type_name="demo.Point"))
        shell.do(cache.put(Point(1, 2, "a"), Point(3, 4, "b")))
        assert shell.do(cache.get(Point(1, 2, "a"))) == Point(3, 4, "b")
        assert shell.do(cache.get_all([Point(1, 2, "a")])) == {Point(1, 2, "a"): Point(3, 4, "b")}
        assert client.route(cache, Point(1, 2, "a")).reason == "primary"


def test_objects_we_write_are_readable_by_pyignite(cluster: LocalCluster) -> None:
    """The metadata we register (OP 3003) is what another client needs to read our objects."""
    with connected("sync", cluster.endpoints) as shell:
        cache = shell.client.get_or_create_cache("shared-objects")
        key = str(uuid.uuid4())
        cache.put(key, ComplexObject("Invoice", {"number": 12, "total": 99.5}))
    peer = PyigniteClient()
    with peer.connect(cluster.endpoints):
        value = peer.get_cache("shared-objects").get(key)
        assert (value.number, value.total) == (12, 99.5)
        assert type(value).__name__ == "Invoice"


@pytest.mark.parametrize("kind", SHELLS)
def test_idle_connections_get_heartbeats_only_when_asked(kind: str) -> None:
    with LocalCluster(nodes=2) as cluster:
        with connected(kind, cluster.endpoints, heartbeat_interval=0.1) as shell:
            cluster.reset_stats()
            time.sleep(0.8)
            assert all(node["requests"] >= 3 for node in cluster.stats())
            assert all(node.heartbeat_every == 0.1 for node in shell.client.core.registry.nodes)
        with connected(kind, cluster.endpoints):
            cluster.reset_stats()
            time.sleep(0.5)
            assert all(node["requests"] == 0 for node in cluster.stats())


class Recorder(ClientListener):
    """Keeps every event it receives (pyignite-style callbacks taking event objects)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_handshake_success(self, event) -> None:
        self.events.append(("handshake_success", (event.host, event.port)))

    def on_connection_lost(self, event) -> None:
        self.events.append(("connection_lost", (event.host, event.port)))

    def on_query_start(self, event) -> None:
        self.events.append(("query_start", event.operation))

    def on_query_success(self, event) -> None:
        self.events.append(("query_success", event.operation))

    def on_query_fail(self, event) -> None:
        self.events.append(("query_fail", event.operation))

    def on_topology_changed(self, event) -> None:
        self.events.append(("topology_changed", event.new))

    def on_map_refreshed(self, event) -> None:
        self.events.append(("map_refreshed", event.version))

    def on_failover(self, event) -> None:
        self.events.append(("failover", event.operation))

    def on_retry(self, event) -> None:
        self.events.append(("retry", event.operation))


@pytest.mark.parametrize("kind", SHELLS)
def test_listeners_hear_connections_queries_topology_and_failover(kind: str) -> None:
    recorder = Recorder()
    with (
        LocalCluster(nodes=3, backups=1) as cluster,
        connected(kind, cluster.endpoints, event_listeners=[recorder]) as shell,
    ):
        client = shell.client
        cache = shell.do(client.get_or_create_cache("listened"))
        shell.do(cache.put(1, 1))
        with pytest.raises(ServerError):
            shell.do(shell.do(client.get_cache("missing")).get(1))
        victim = cluster.nodes[2].node_id
        key = next(k for k in range(1000) if client.route(cache, k).node_id == victim)
        shell.do(cache.put(key, "kept"))
        cluster.kill_node(2)
        assert shell.do(cache.get(key)) == "kept"  # served by a live node (a backup)
        deadline = time.monotonic() + 10  # the new version rides on a later answer under load
        while ("topology_changed" not in [name for name, _ in recorder.events]
               and time.monotonic() < deadline):  # fmt: skip
            assert shell.do(cache.get(key)) == "kept"
            time.sleep(0.02)
        names = [name for name, _ in recorder.events]
        assert names.count("handshake_success") >= 3
        assert ("query_start", "put") in recorder.events
        assert ("query_success", "put") in recorder.events
        assert ("query_fail", "get") in recorder.events  # the missing cache
        assert "map_refreshed" in names
        assert "topology_changed" in names
        assert "connection_lost" in names
