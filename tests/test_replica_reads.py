"""Replica reads: single-key reads spread over a key's owners (both shells)."""

from __future__ import annotations

import asyncio
import random
import threading
import time

import pytest

from ignite_router import AioClient
from ignite_router.affinity import java_hash, partition
from ignite_router.core.replicas import ReplicaReads, choose_replica
from ignite_router.hedging import HedgePolicy
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.messages.cache_properties import WriteSynchronizationMode
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected
from tests.test_hedging import PARTS, config, keys_with_primary, model_owners

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=3, backups=1) as cluster:  # FULL_SYNC, readFromBackup
        yield cluster


def warm(shell, view, keys: list[int]) -> None:
    """Reads until the routine path is taken: partition map, node list, owner lists."""
    for _ in range(3):
        for key in keys:
            shell.do(view.get(key))


# -- the choice -----------------------------------------------------------------------------


def test_round_robin_takes_each_owner_in_turn() -> None:
    owners = ["primary", "backup-1", "backup-2"]
    chosen = [
        choose_replica(ReplicaReads.ROUND_ROBIN, owners, turn, len, random.Random(0))
        for turn in range(7)
    ]
    assert chosen == [owners[turn % 3] for turn in range(7)]
    assert choose_replica(ReplicaReads.ROUND_ROBIN, ["alone"], 5, len, random.Random(0)) == "alone"


def test_least_in_flight_takes_the_less_busy_of_two_drawn_owners() -> None:
    busy = {"primary": 3, "backup-1": 0, "backup-2": 5}
    rng = random.Random(11)
    picks = [
        choose_replica(ReplicaReads.LEAST_IN_FLIGHT, list(busy), 0, busy.__getitem__, rng)
        for _ in range(300)
    ]
    # Brute force over the three possible draws: backup-1 wins each draw it is in, primary
    # wins over backup-2, backup-2 never wins.
    assert set(picks) == {"backup-1", "primary"}
    assert picks.count("backup-1") > picks.count("primary")
    tie = {"primary": 1, "backup-1": 1}
    assert {
        choose_replica(ReplicaReads.LEAST_IN_FLIGHT, list(tie), 0, tie.__getitem__, rng)
        for _ in range(20)
    } == {"primary"}  # a tie keeps the primary


# -- on a cluster ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SHELLS)
def test_round_robin_replica_reads_reach_every_owner_and_no_other_node(
    cluster: LocalCluster, kind: str
) -> None:
    """Each read goes where the cluster's own placement says its turn falls; backups
    serve from their own copy (nothing forwarded); writes stay with the primary."""
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        name = f"replicas-{kind}"
        cache = shell.do(client.get_or_create_cache(name))
        keys = list(range(60))
        shell.do(cache.put_all({key: f"v{key}" for key in keys}))
        spread = shell.do(cache.with_replica_reads())
        warm(shell, spread, keys)
        owners = model_owners(cluster, name)
        expected = [0] * len(cluster.nodes)
        ids = [node.node_id for node in cluster.nodes]
        cluster.reset_stats()
        turn = client.core._replica_turns
        before = client.metrics()["replica_reads"]
        for i, key in enumerate(keys):
            assert shell.do(spread.get(key)) == f"v{key}"
            part_owners = owners[partition(java_hash(key), PARTS)]
            expected[ids.index(part_owners[(turn + i) % len(part_owners)])] += 1
        shell.do(spread.put(keys[0], "new"))  # a write of the view: to the primary
        expected[ids.index(owners[partition(java_hash(keys[0]), PARTS)][0])] += 1
        stats = cluster.stats()
        assert [s["key_requests"] for s in stats] == expected
        assert sum(s["forwarded"] for s in stats) == 0
        assert client.metrics()["replica_reads"] - before == len(keys) // 2
        assert shell.do(cache.get(keys[0])) == "new"  # the plain view is unchanged


def test_least_in_flight_avoids_a_slow_owner(cluster: LocalCluster) -> None:
    """Concurrent readers of keys whose primary answers late: the primary, with its reads
    piling up unanswered, gets few of them (round robin would give it half)."""
    name = "replicas-busy"

    async def main() -> tuple[int, int]:
        client = AioClient(timeout=5.0)
        await client.connect(cluster.endpoints)
        try:
            cache = await client.get_or_create_cache(name)
            keys = keys_with_primary(cluster, name, 0, 20)
            await cache.put_all({key: key for key in keys})
            spread = await cache.with_replica_reads("least_in_flight")
            for key in keys:  # warm: map and owner lists
                await spread.get(key)
            reads = 0
            before = client.metrics()["replica_reads"]
            stop = time.monotonic() + 1.5

            async def reader(seed: int) -> None:
                nonlocal reads
                rng = random.Random(seed)
                while time.monotonic() < stop:
                    key = rng.choice(keys)
                    assert await spread.get(key) == key
                    reads += 1

            cluster.set_latency(0, 0.3, where="answer")
            try:
                await asyncio.gather(*(reader(seed) for seed in range(4)))
            finally:
                cluster.set_latency(0, 0)
            return reads, client.metrics()["replica_reads"] - before
        finally:
            await client.close()

    reads, to_backups = asyncio.run(main())
    assert reads > 40
    assert reads - to_backups < reads / 10  # the primary got under a tenth


@pytest.mark.parametrize("kind", SHELLS)
def test_replica_reads_are_refused_where_they_may_read_stale(
    cluster: LocalCluster, kind: str
) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        name = f"replicas-primary-sync-{kind}"
        cache = shell.do(
            client.create_cache(
                config(name, WRITE_SYNCHRONIZATION_MODE=WriteSynchronizationMode.PRIMARY_SYNC)
            )
        )
        with pytest.raises(ParameterError, match=r"PRIMARY_SYNC.*accept_stale=True"):
            shell.do(cache.with_replica_reads())
        with pytest.raises(ParameterError, match="round_robin"):
            shell.do(cache.with_replica_reads("nearest"))
        spread = shell.do(cache.with_replica_reads("least_in_flight", accept_stale=True))
        shell.do(spread.put(1, "one"))
        assert shell.do(spread.get(1)) in ("one", None)  # may be stale, by consent


def test_hedging_and_replica_reads_combine(cluster: LocalCluster) -> None:
    with connected("sync", cluster.endpoints, hedge=HedgePolicy(delay=0.02)) as shell:
        cache = shell.client.get_or_create_cache("replicas-hedged")
        both = cache.with_hedging().with_replica_reads()
        assert both.steps.hedge and both.steps.spread is ReplicaReads.ROUND_ROBIN
        cache.put(7, "seven")
        assert both.get(7) == "seven"
        with (
            connected("sync", cluster.endpoints) as plain,
            pytest.raises(ParameterError, match="hedging is off"),
        ):
            plain.client.get_cache("replicas-hedged").with_hedging()


def test_replica_reads_from_threads_share_one_client(cluster: LocalCluster) -> None:
    """The turn counter and the owner lists are shared safely by threads."""
    with connected("sync", cluster.endpoints) as shell:
        cache = shell.client.get_or_create_cache("replicas-threads")
        cache.put_all({key: key for key in range(100)})
        spread = cache.with_replica_reads()
        errors: list[BaseException] = []

        def read(seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(300):
                    key = rng.randrange(100)
                    assert spread.get(key) == key
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=read, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert shell.client.metrics()["replica_reads"] > 0
