"""Chaos runs in the suite: both shells under every fault, a fixed and a random seed, and
with hedged reads (``--hedge``) on both shells.

A failure names its seed; reproduce it with
``ignite-router chaos --seed N --client sync|aio --duration 3 [--hedge]``. At the end,
regression tests for two client bugs that chaos runs found, made deterministic.
"""

from __future__ import annotations

import dataclasses
import json
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from ignite_router import Client, NoNodeAvailableError, OutcomeUnknownError
from ignite_router.cache import Cache
from ignite_router.chaos.history import Kind, Operation, Outcome
from ignite_router.chaos.leaks import Snapshot, leaks_since
from ignite_router.chaos.nemesis import FAULTS
from ignite_router.chaos.report import Settled, judge
from ignite_router.chaos.runner import CACHE, ChaosConfig, cache_config, run_chaos
from ignite_router.cli import main
from ignite_router.errors import FailureClass
from ignite_router.testing import LocalCluster

FIXED_SEED = 20_240_611
RANDOM_SEED = random.randrange(1 << 32)
DURATION = 3.0


@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", [FIXED_SEED, RANDOM_SEED], ids=["fixed-seed", "random-seed"])
@pytest.mark.parametrize("client", ["sync", "aio"])
def test_no_violation_under_every_fault(client: str, seed: int) -> None:
    print(f"chaos seed {seed} ({client}): ignite-router chaos --seed {seed} --client {client}")
    report = run_chaos(ChaosConfig(duration=DURATION, seed=seed, client=client, keys=40))
    assert report.violations == [], json.dumps(report.as_dict(), indent=1)
    assert report.faults, "the nemesis injected nothing"
    assert set(report.faults) <= {*FAULTS, "restart"}
    # The workload made progress. Not much is guaranteed: a seed that kills a node at the
    # start keeps a node out for most of the run, and with failure detection every call
    # on its keys waits for it (seed 1251823679: about 300 operations in 3 s).
    assert report.ok > 100 and report.keys_checked == 40


@pytest.mark.timeout(120)
def test_hedged_reads_under_every_fault_sync() -> None:
    """Hedged reads answered by backups while nodes fail and slow down: none stale, nothing
    lost, every other operation linearizable; and hedges were sent, so it is not vacuous."""
    config = ChaosConfig(duration=DURATION, seed=FIXED_SEED, keys=40, hedge=True)
    report = run_chaos(config)
    assert report.violations == [], json.dumps(report.as_dict(), indent=1)
    assert report.hedge and report.hedged_reads > 0 and report.hedgeable_reads > 0
    assert report.hedges_sent > 0 and report.hedges_won > 0, json.dumps(report.as_dict(), indent=1)
    assert report.keys_checked == 40


@pytest.mark.timeout(120)
def test_hedged_reads_under_every_fault_aio_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same with the asyncio shell, through ``ignite-router chaos --hedge --json``."""
    arguments = ["--hedge", "--client", "aio", "--duration", str(DURATION), "--keys", "40"]
    code = main(["chaos", *arguments, "--seed", str(FIXED_SEED), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["violations"]
    assert report["violations"] == [] and report["hedge"] is True
    assert report["hedged_reads"] > 0 and report["hedges_won"] > 0, report
    assert report["hedges_sent"] <= report["hedgeable_reads"]


def test_the_judge_exempts_hedged_reads_from_linearizability_but_not_from_staleness() -> None:
    """put(1), then put(2) in flight: two hedged reads see 2 then 1 (the primary, then a
    backup not yet written): allowed. A hedged read of 1 after put(2) was acknowledged is
    stale. The same reads unhedged are not linearizable."""

    def hedged_read(invoked: float, completed: float, result: int) -> Operation:
        return Operation(2, "k", Kind.READ, (), invoked, completed, Outcome.OK, result, True)

    put1 = Operation(0, "k", Kind.WRITE, (1,), 0.0, 1.0, Outcome.OK)
    put2 = Operation(1, "k", Kind.WRITE, (2,), 2.0, 10.0, Outcome.OK)
    new_then_old = [hedged_read(3, 4, 2), hedged_read(5, 6, 1)]
    stale = hedged_read(11, 12, 1)
    settled = Settled((), {}, final_from=100.0, forwarded=0, errors=())

    counts, _ = judge([put1, put2, *new_then_old], settled)
    assert counts["not_linearizable"] == counts["stale_reads"] == 0
    assert counts["hedged_reads"] == 2 and counts["keys_checked"] == 1
    unhedged = [dataclasses.replace(read, hedged=False) for read in new_then_old]
    counts, _ = judge([put1, put2, *unhedged], settled)
    assert counts["not_linearizable"] == 1 and counts["stale_reads"] == 0
    counts, examples = judge([put1, put2, *new_then_old, stale], settled)
    assert counts["not_linearizable"] == 0 and counts["stale_reads"] == 1
    (example,) = examples["stale_reads"]
    assert "hedged" in example and "allowed [2]" in example
    with pytest.raises(ValueError, match="only reads are hedged"):
        dataclasses.replace(put1, hedged=True)


@pytest.fixture
def lying_put(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``Cache.put`` acknowledges every fifth write without sending it."""
    real_put = Cache.put
    calls = iter(range(1 << 62))

    def put(self: Cache, key: object, value: object, *args: object, **kwargs: object) -> None:
        if next(calls) % 5 == 4:
            return None
        return real_put(self, key, value, *args, **kwargs)

    monkeypatch.setattr(Cache, "put", put)
    yield


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("lying_put")
def test_a_client_that_drops_acknowledged_writes_is_caught() -> None:
    report = run_chaos(ChaosConfig(duration=1.5, seed=FIXED_SEED, faults=(), keys=20))
    assert report.not_linearizable > 0
    assert any("not linearizable" in violation for violation in report.violations)
    assert report.examples["not_linearizable"]


def test_leaks_are_found_and_forgotten_once_closed() -> None:
    before = Snapshot.take()
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-behind")
    thread.start()
    found = leaks_since(before, grace=0.1)
    assert found.threads == ("left-behind",)
    assert len(found.sockets) == 2  # both ends; the listening socket is not a leak
    client.close()
    half_closed = leaks_since(before, grace=0.5)
    assert len(half_closed.close_wait) == 1  # the accepted end, not closed yet
    stop.set()
    thread.join()
    accepted.close()
    server.close()
    assert not leaks_since(before, grace=2.0)


@pytest.mark.timeout(60)
def test_the_command_prints_the_report_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chaos", "--duration", "3", "--json", "--seed", str(FIXED_SEED), "--keys", "20"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["violations"]
    assert report["violations"] == []
    assert report["seed"] == FIXED_SEED and report["client"] == "sync"
    for name in ("calls", "ok", "fail", "info", "not_linearizable", "lost_writes", "forwarded"):
        assert isinstance(report[name], int)
    assert isinstance(report["faults"], dict) and isinstance(report["errors"], dict)
    assert report["slowest_call_s"] <= report["call_time_bound_s"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--nodes", "2"],
        ["--backups", "0"],
        ["--duration", "0"],
        ["--faults", "kill,meteor"],
        ["--faults", "kill,"],
        ["--client", "threads"],
        ["--workers", "0"],
        ["--timeout", "nan"],
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["chaos", "--json", *arguments])
    except SystemExit as exit:  # argparse's own refusals
        code = int(exit.code or 0)
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("ignite-router chaos: error:") and error.count("\n") == 1


@pytest.mark.timeout(60)
def test_a_write_applied_before_its_primary_died_is_not_applied_again() -> None:
    """Found by ``ignite-router chaos`` (a remove_keys applied twice, around a kill).

    put(1, "a") is applied by the primary, which is killed before it answers; a
    reader sees "a" on the backup. Once the cluster has detected the failure,
    put(1, "b") is acknowledged. A second attempt of put(1, "a") would land after
    it and lose "b": the client must not send one, and says the outcome is unknown.
    """
    cluster = LocalCluster(nodes=3, backups=1, failure_detection=1.0)
    with cluster, Client(timeout=3.0).connect(cluster.endpoints) as client:
        cache = client.get_or_create_cache(cache_config(ChaosConfig(backups=1)))
        cache.put(1, "v0")
        route = client.route(cache, 1)
        primary = next(i for i, n in enumerate(cluster.nodes) if n.node_id == route.node_id)
        others = [i for i in range(3) if i != primary]
        backup = next(i for i in others if cache.local_peek(1, cluster.nodes[i].node_id))
        cluster.set_latency(primary, 0.5)  # applies at once, answers 0.5 s later
        raised: list[BaseException] = []

        def put_a() -> None:
            try:
                cache.put(1, "a")
            except OutcomeUnknownError as error:
                raised.append(error)

        writer = threading.Thread(target=put_a)
        writer.start()
        backup_id = cluster.nodes[backup].node_id
        while cache.local_peek(1, backup_id) != "a":  # applied (FULL_SYNC: on the backup too)
            time.sleep(0.001)
        cluster.kill_node(primary)  # before it answered
        with Client(discovery=False).connect([cluster.endpoints[backup]]) as reader:
            assert reader.get_cache(CACHE).get(1) == "a"
        for i in others:
            cluster.set_latency(i, 0.8)  # the second attempt's refusal comes late
        while cluster.nodes[primary].in_topology:  # failure detection
            time.sleep(0.001)
        cache.put(1, "b")
        writer.join()
        (error,) = raised  # not sent again: its outcome is unknown to the caller
        assert error.failure is FailureClass.PEER_GONE
        time.sleep(1.0)  # anything still on its way would land now
        assert cache.get(1) == "b"  # "a" took effect before "b": "b" must stay


@pytest.mark.timeout(60)
def test_a_partly_applied_put_all_does_not_say_nothing_was_applied() -> None:
    """Found by ``ignite-router chaos`` (a put_all reported FAIL whose values were read later).

    put_all's part for node 0 is applied at once; node 1 is paused, then a join
    opens an exchange and node 1 resumes: its part is refused by every node for
    the whole exchange. The call raises NoNodeAvailableError; its
    ``maybe_applied`` must not be false while node 0's key was written.
    """
    cluster = LocalCluster(nodes=3, backups=1, exchange_refusals=True, exchange_delay=2.5)
    with cluster, Client(timeout=5.0).connect(cluster.endpoints) as client:
        cache = client.get_or_create_cache(cache_config(ChaosConfig(backups=1)))
        cluster.wait_for_rebalance()  # the cache creation's exchange
        cache.put_all(dict.fromkeys(range(20), "v0"))
        node_ids = [node.node_id for node in cluster.nodes]
        owner = {k: node_ids.index(client.route(cache, k).node_id) for k in range(20)}
        on_0 = next(k for k in range(20) if owner[k] == 0)
        on_1 = next(k for k in range(20) if owner[k] == 1)
        cluster.pause_node(1)
        raised: list[BaseException] = []

        def put_all() -> None:
            try:
                cache.put_all({on_0: "x", on_1: "x"})
            except NoNodeAvailableError as error:
                raised.append(error)

        writer = threading.Thread(target=put_all)
        writer.start()
        while cache.local_peek(on_0, node_ids[0]) != "x":  # node 0's part is applied
            time.sleep(0.001)
        cluster.add_node()  # an exchange: key operations are refused for 2.5 s
        cluster.resume_node(1)  # node 1 reads its part now, and refuses it
        writer.join()
        (error,) = raised
        assert isinstance(error, NoNodeAvailableError)
        assert cache.get(on_0) == "x"
        assert error.maybe_applied  # on_0 was written
