"""Hedged reads: owner lists, the hedge itself (both shells), its limits and its consistency."""

from __future__ import annotations

import random
import threading
import time
import uuid

import pytest

from ignite_router import ClientListener, IgniteError
from ignite_router.affinity import cache_id, java_hash, partition
from ignite_router.chaos.checker import stale_reads
from ignite_router.chaos.history import Kind, Operation, Outcome
from ignite_router.core.replicas import (
    PROBE_INTERVAL,
    SLOW_STREAK,
    HedgeBudget,
    LatencyWindow,
    ReplicaSet,
)
from ignite_router.hedging import HedgePolicy
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.messages.cache_properties import (
    CacheProperty,
    WriteSynchronizationMode,
)
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected

pytestmark = pytest.mark.timeout(60)

PARTS = 1024
SLOW = 0.3  # seconds the slow node adds to every answer
FULL_SYNC = WriteSynchronizationMode.FULL_SYNC
PRIMARY_SYNC = WriteSynchronizationMode.PRIMARY_SYNC


class Recorder(ClientListener):
    def __init__(self) -> None:
        self.successes: list = []

    def on_query_success(self, event) -> None:
        self.successes.append(event)


def model_owners(cluster: LocalCluster, name: str) -> list[list[uuid.UUID]]:
    """Every partition's owners (primary first), as the cluster places them."""

    def read(model):
        owners = model.caches[cache_id(name)].owners
        return [[model.nodes[index].node_id for index in part] for part in owners]

    return cluster.call(read)


def keys_with_primary(cluster: LocalCluster, name: str, index: int, count: int) -> list[int]:
    node_id = cluster.nodes[index].node_id
    table = model_owners(cluster, name)
    found = (k for k in range(100_000) if table[partition(java_hash(k), PARTS)][0] == node_id)
    return [next(found) for _ in range(count)]


def config(name: str, **properties) -> dict:
    return {CacheProperty.NAME: name} | {CacheProperty[k]: v for k, v in properties.items()}


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=3, backups=1) as cluster:  # FULL_SYNC, readFromBackup
        yield cluster


# -- the pure parts -------------------------------------------------------------------------


def test_the_budget_never_allows_more_than_its_rate_plus_its_burst() -> None:
    rng = random.Random(7)
    for rate, burst in [(0.05, 10.0), (0.2, 1.0), (0.0, 3.0)]:
        for wanted in (0.5, 1.0):  # the share of reads that would like a hedge
            budget = HedgeBudget(rate, burst)
            reads = hedges = 0
            for _ in range(5000):
                budget.deposit()
                reads += 1
                if rng.random() < wanted and budget.withdraw():
                    hedges += 1
                assert hedges <= rate * reads + burst + 1e-9
            if wanted == 1.0:  # and it does allow that rate
                assert hedges >= int(rate * reads) - 1


def test_the_adaptive_delay_is_the_median_over_nodes_of_each_nodes_p95() -> None:
    window = LatencyWindow(0.95, floor=0.001)
    assert window.delay() is None  # too few answer times yet: no hedging
    rng = random.Random(3)
    samples = {
        "a": [rng.uniform(0.0001, 0.002) for _ in range(128)],
        "b": [rng.uniform(0.0001, 0.003) for _ in range(128)],
        "slow": [0.2 + rng.uniform(0, 0.01) for _ in range(128)],
    }
    for i in range(128):  # 384 answer times: the delay was recomputed after the last
        for node, values in samples.items():
            window.add(node, values[i])

    def p95(values: list[float]) -> float:  # nearest rank: the least v with >= 95% at or below
        return min(v for v in values if sum(x <= v for x in values) >= 0.95 * len(values))

    expected = sorted(p95(values) for values in samples.values())[1]
    assert window.delay() == pytest.approx(expected)
    assert window.delay() < 0.01  # the slow node does not raise its own delay


def test_a_primary_that_keeps_losing_is_hedged_at_once_and_probed() -> None:
    """After SLOW_STREAK lost races a primary's reads are hedged with no delay, but for one
    read per PROBE_INTERVAL; a race the primary wins ends that."""
    replicas = ReplicaSet(HedgePolicy(delay=0.01))
    slow, fast, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = 100.0
    for lost in range(SLOW_STREAK):
        assert replicas.delay(slow, now) == 0.01, lost
        replicas.answered(slow, fast, 0.0005)  # the backup answered first
    assert replicas.delay(slow, now) == 0.01  # the first read after the streak is a probe
    assert [replicas.delay(slow, now + 0.01 * i) for i in range(1, 5)] == [0.0] * 4
    assert replicas.delay(other, now) == 0.01  # other primaries keep the ordinary delay
    assert replicas.delay(slow, now + PROBE_INTERVAL) == 0.01  # the next probe is due
    assert replicas.delay(slow, now + PROBE_INTERVAL) == 0.0
    replicas.answered(slow, fast, 0.0005)  # the probe lost too: still slow
    assert replicas.delay(slow, now + PROBE_INTERVAL + 0.01) == 0.0
    assert replicas.suspect(slow) and not replicas.suspect(other)
    replicas.answered(slow, slow, 0.0005)  # a race the primary won
    assert replicas.delay(slow, now + PROBE_INTERVAL + 0.02) == 0.01
    assert not replicas.suspect(slow)
    replicas.answered(slow, fast, 0.0005)
    assert replicas.suspect(slow)  # one lost race: suspect, not yet slow
    assert replicas.delay(slow, now + 1) == 0.01
    adaptive = ReplicaSet(HedgePolicy())
    for _ in range(SLOW_STREAK):
        adaptive.answered(slow, fast, 0.0005)
    assert adaptive.delay(slow, now) is None  # no delay measured yet: no hedging at all


# -- owner lists ----------------------------------------------------------------------------


def test_owner_lists_are_the_clusters_placement(cluster: LocalCluster) -> None:
    with connected("sync", cluster.endpoints, hedge=HedgePolicy(delay=0.05)) as shell:
        client = shell.client
        client.get_or_create_cache("owners").with_hedging()
        expected = model_owners(cluster, "owners")
        for key in range(0, 3000, 7):
            route = client.route("owners", key)
            assert route.owners, route
            assert list(route.owners) == expected[route.partition]
            assert route.owners[0] == route.node_id


def test_owner_lists_follow_a_node_restart() -> None:
    with (
        LocalCluster(nodes=3, backups=1) as cluster,
        connected("sync", cluster.endpoints, hedge=HedgePolicy(delay=0.05)) as shell,
    ):
        client = shell.client
        hedged = client.get_or_create_cache("restart").with_hedging()
        before = model_owners(cluster, "restart")
        cluster.kill_node(2)
        cluster.start_node(2)  # a new node id: every owner list naming it changes
        cluster.wait_for_rebalance()
        expected = model_owners(cluster, "restart")
        assert expected != before
        give_up = time.monotonic() + 10
        while True:
            for key in range(50):
                hedged.get(key)  # reads refresh the map and then the node list
            routes = [client.route("restart", key) for key in range(0, 3000, 11)]
            if all(list(r.owners) == expected[r.partition] for r in routes):
                break
            assert time.monotonic() < give_up, [r for r in routes if not r.owners][:3]
            time.sleep(0.1)


# -- the hedge ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SHELLS)
def test_a_slow_primary_is_hedged_to_the_backup_owner(cluster: LocalCluster, kind: str) -> None:
    recorder = Recorder()
    options = {"hedge": HedgePolicy(delay=0.02, burst=50), "event_listeners": [recorder]}
    with connected(kind, cluster.endpoints, **options) as shell:
        client = shell.client
        name = f"hedged-{kind}"
        cache = shell.do(client.get_or_create_cache(name))
        keys = keys_with_primary(cluster, name, 0, 10)
        for key in keys:
            shell.do(cache.put(key, f"v{key}"))
        hedged = shell.do(cache.with_hedging())
        backups = {model_owners(cluster, name)[partition(java_hash(k), PARTS)][1] for k in keys}
        cluster.set_latency(0, SLOW, where="answer")
        try:
            cluster.reset_stats()
            recorder.successes.clear()
            for key in keys:
                assert shell.do(hedged.get(key)) == f"v{key}"
                assert shell.do(hedged.contains_key(key)) is True
            stats = cluster.stats()
        finally:
            cluster.set_latency(0, 0)
        metrics = client.metrics()
        # Every hedge was won by the backup; once the primary had lost SLOW_STREAK races
        # (and a probe), the reads went to the backup alone (replica reads).
        assert SLOW_STREAK <= metrics["hedges_sent"] == metrics["hedges_won"] < 2 * len(keys)
        assert metrics["hedges_won"] + metrics["replica_reads"] == 2 * len(keys)
        assert metrics["hedges_denied"] == 0
        assert metrics["hedgeable_reads"] == 2 * len(keys)
        served_by_backups = sum(
            stats[i]["key_requests"]
            for i, node in enumerate(cluster.nodes)
            if node.node_id in backups
        )
        assert served_by_backups == 2 * len(keys)
        assert sum(s["forwarded"] for s in stats) == 0  # each backup read its own copy
        reads = [e for e in recorder.successes if e.operation in ("get", "contains_key")]
        assert len(reads) == 2 * len(keys)
        assert all(e.node_id in backups for e in reads)
        assert sum(e.hedged for e in reads) == metrics["hedges_won"]
        # The slow primary's late answers were dropped; its connection stayed up.
        slow = metrics["nodes"][f"127.0.0.1:{cluster.nodes[0].port}"]
        assert slow["up"] and slow["failovers"] == 0


@pytest.mark.parametrize("kind", SHELLS)
def test_multi_key_reads_hedge_each_group_of_keys_that_share_owners(
    cluster: LocalCluster, kind: str
) -> None:
    """get_all / contains_keys of a hedged view: one sub-request per (primary, backup)
    pair; those of the slow primary are hedged, each to the backup its keys share."""
    with connected(kind, cluster.endpoints, hedge=HedgePolicy(delay=0.02, burst=50)) as shell:
        client = shell.client
        name = f"hedged-multi-{kind}"
        cache = shell.do(client.get_or_create_cache(name))
        keys = list(range(40))
        shell.do(cache.put_all({key: f"v{key}" for key in keys}))
        hedged = shell.do(cache.with_hedging())
        owners = model_owners(cluster, name)
        slow_id = cluster.nodes[0].node_id

        def slow_groups(batch: list) -> set[tuple]:
            """The (primary, backup) pairs of the keys whose primary is the slow node."""
            pairs = {tuple(owners[partition(java_hash(k), PARTS)]) for k in batch}
            return {pair for pair in pairs if pair[0] == slow_id}

        assert slow_groups(keys)  # 40 keys over 3 nodes: some have the slow primary
        cluster.set_latency(0, SLOW, where="answer")
        try:
            before = client.metrics()
            assert shell.do(hedged.get_all(keys)) == {key: f"v{key}" for key in keys}
            assert shell.do(hedged.contains_keys(keys)) is True
            assert shell.do(hedged.contains_keys([*keys, "absent"])) is False
            after = client.metrics()
            shell.do(hedged.put_all({keys[0]: "w"}))  # a write of the view: not hedged
            assert client.metrics()["hedges_sent"] == after["hedges_sent"]
        finally:
            cluster.set_latency(0, 0)
        sent = after["hedges_sent"] - before["hedges_sent"]
        won = after["hedges_won"] - before["hedges_won"]
        to_backups = after["replica_reads"] - before["replica_reads"]
        expected = 2 * len(slow_groups(keys)) + len(slow_groups([*keys, "absent"]))
        # each group of the slow primary: hedged (and won by the backup), or, once the
        # primary is known slow, sent to the backup alone
        assert sent == won and won + to_backups == expected and won >= SLOW_STREAK
        assert shell.do(hedged.get_all([keys[0]])) == {keys[0]: "w"}


@pytest.mark.parametrize("kind", SHELLS)
def test_writes_and_transactional_reads_are_never_hedged(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints, hedge=HedgePolicy(delay=0.01)) as shell:
        client = shell.client
        name = f"writes-{kind}"
        cache = shell.do(client.get_or_create_cache(config(name, CACHE_ATOMICITY_MODE=0)))
        hedged = shell.do(cache.with_hedging())
        (key,) = keys_with_primary(cluster, name, 0, 1)
        cluster.set_latency(0, 0.1, where="answer")
        try:
            shell.do(hedged.put(key, 1))
            shell.do(hedged.replace(key, 2))
            assert shell.do(hedged.get_and_put(key, 3)) == 2
            if kind == "sync":  # TRANSACTIONAL: a read inside a transaction stays on its node
                with client.tx_start(timeout=5000):
                    hedged.put(key, 4)
                    assert hedged.get(key) == 4
                    assert hedged.contains_key(key) is True
        finally:
            cluster.set_latency(0, 0)
        assert client.metrics()["hedges_sent"] == 0


def test_without_budget_the_read_waits_for_the_primary(cluster: LocalCluster) -> None:
    policy = HedgePolicy(delay=0.01, budget=0, burst=1)
    with connected("sync", cluster.endpoints, hedge=policy) as shell:
        client = shell.client
        cache = client.get_or_create_cache("budget")
        keys = keys_with_primary(cluster, "budget", 0, 3)
        for key in keys:
            cache.put(key, key)
        hedged = cache.with_hedging()
        cluster.set_latency(0, 0.05, where="answer")
        try:
            assert [hedged.get(key) for key in keys] == keys
        finally:
            cluster.set_latency(0, 0)
        metrics = client.metrics()
        assert (metrics["hedges_sent"], metrics["hedges_denied"]) == (1, 2)  # the burst of 1


def test_hedging_is_opt_in_and_refused_where_it_may_read_stale(cluster: LocalCluster) -> None:
    with (
        connected("sync", cluster.endpoints) as shell,
        pytest.raises(ParameterError, match="hedge=HedgePolicy"),
    ):
        shell.client.get_or_create_cache("plain").with_hedging()
    with connected("sync", cluster.endpoints, hedge=HedgePolicy()) as shell:
        client = shell.client
        primary_sync = client.get_or_create_cache(
            config("psync", WRITE_SYNCHRONIZATION_MODE=PRIMARY_SYNC)
        )
        with pytest.raises(ParameterError, match=r"PRIMARY_SYNC.*accept_stale"):
            primary_sync.with_hedging()
        no_backup_reads = client.get_or_create_cache(
            config("nrfb", READ_FROM_BACKUP=False, WRITE_SYNCHRONIZATION_MODE=FULL_SYNC)
        )
        with pytest.raises(ParameterError, match="readFromBackup=false"):
            no_backup_reads.with_hedging()
        primary_sync.with_hedging(accept_stale=True).put(1, "one")
        assert primary_sync.with_hedging(accept_stale=True).get(1) == "one"


# -- consistency ----------------------------------------------------------------------------


def test_a_primary_sync_cache_hedged_with_accept_stale_does_read_stale() -> None:
    """The stale-read check catches what FULL_SYNC prevents: a backup not written yet."""
    with (
        LocalCluster(nodes=3, backups=1, write_mode=PRIMARY_SYNC, replication_delay=5.0) as cluster,
        connected("sync", cluster.endpoints, hedge=HedgePolicy(delay=0.01)) as shell,
    ):
        cache = shell.client.get_or_create_cache("stale")
        hedged = cache.with_hedging(accept_stale=True)
        (key,) = keys_with_primary(cluster, "stale", 0, 1)
        cluster.set_latency(0, 0.2, where="answer")
        began = time.monotonic()
        cache.put(key, "new")
        wrote = time.monotonic()
        reading = time.monotonic()
        seen = hedged.get(key)
        history = [
            Operation(0, key, Kind.WRITE, ("new",), began, wrote, Outcome.OK),
            Operation(0, key, Kind.READ, (), reading, time.monotonic(), Outcome.OK, seen),
        ]
        assert seen is None
        assert len(stale_reads(history)) == 1


@pytest.mark.parametrize("reads", ["hedged", "replica"])
def test_reads_from_backups_under_faults_never_return_stale_values(reads: str) -> None:
    """Writers and hedged (or replica) readers on a FULL_SYNC cache while a node slows, is
    killed and rejoins: no read returns a value older than the last write acknowledged
    before it."""
    history: list[Operation] = []
    lock = threading.Lock()
    stop = threading.Event()
    keys = list(range(8))

    def record(operation: Operation) -> None:
        with lock:
            history.append(operation)

    with (
        LocalCluster(nodes=3, backups=1) as cluster,
        connected(
            "sync", cluster.endpoints, hedge=HedgePolicy(delay=0.005, budget=0.5), timeout=1.0
        ) as shell,
    ):
        cache = shell.client.get_or_create_cache("chaos")
        hedged = cache.with_hedging() if reads == "hedged" else cache.with_replica_reads()

        def writer(process: int) -> None:
            value = 0
            while not stop.is_set():
                value += 1
                key = keys[value % len(keys)]
                written = f"p{process}-{value}"
                invoked = time.monotonic()
                try:
                    cache.put(key, written)
                except IgniteError:
                    record(Operation(process, key, Kind.WRITE, (written,), invoked, None,
                                     Outcome.INFO))  # fmt: skip
                else:
                    record(Operation(process, key, Kind.WRITE, (written,), invoked,
                                     time.monotonic(), Outcome.OK))  # fmt: skip

        def reader(process: int) -> None:
            rng = random.Random(process)
            while not stop.is_set():
                key = rng.choice(keys)
                invoked = time.monotonic()
                try:
                    seen = hedged.get(key)
                except IgniteError:
                    continue  # a failed read says nothing
                record(Operation(process, key, Kind.READ, (), invoked, time.monotonic(),
                                 Outcome.OK, seen))  # fmt: skip

        threads = [threading.Thread(target=writer, args=(p,)) for p in (0, 1)]
        threads += [threading.Thread(target=reader, args=(p,)) for p in (2, 3, 4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            cluster.set_latency(1, 0.05, where="answer")
            time.sleep(1.0)
            cluster.set_latency(1, 0)
            cluster.kill_node(2)
            time.sleep(1.0)
            cluster.start_node(2)
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
        metrics = shell.client.metrics()
    done = [op for op in history if op.kind is Kind.READ]
    assert len(done) > 100
    assert metrics["hedges_sent" if reads == "hedged" else "replica_reads"] > 0
    assert [stale.explain() for stale in stale_reads(history)] == []
