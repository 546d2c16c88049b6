"""One chaos run: a recorded workload against a ``LocalCluster`` while the nemesis acts.

1. Start a realistic cluster (``LocalCluster(realistic=True)``) and a FULL_SYNC
   cache with ``backups`` backups (with PRIMARY_SYNC an acknowledged write
   can be lost with its primary, in Ignite as here).
2. Run the workers (threads with ``Client``, tasks with ``AioClient``) and the
   nemesis (a thread) until the deadline; the nemesis then heals everything and
   waits for the topology to settle. With ``hedge``, the client has a
   :data:`HEDGE` policy and the workers' ``get``, ``contains_key`` and ``get_all``
   go through ``cache.with_hedging()``.
3. Wait for the client to route every key to its primary; read every key back
   (the final values); reset the cluster's counters and run a short read/write
   phase, which must forward nothing.
4. Close the client and look for what it left behind; check the history
   (:func:`ignite_router.chaos.report.judge`: hedged reads are checked for stale
   reads, not for linearizability).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ignite_router import AioClient, Client
from ignite_router.chaos.history import Kind
from ignite_router.chaos.leaks import Leaks, Snapshot, leaks_since
from ignite_router.chaos.nemesis import FAULTS, Nemesis
from ignite_router.chaos.report import SHOWN, ChaosReport, Settled, judge
from ignite_router.chaos.workload import Call, Driver, Recorder, Script, Workload
from ignite_router.hedging import HedgePolicy
from ignite_router.protocol.messages.cache_properties import (
    CacheAtomicityMode,
    CacheProperty,
    WriteSynchronizationMode,
)
from ignite_router.testing import LocalCluster

__all__ = ["CLIENTS", "HEDGE", "ChaosConfig", "run_chaos"]

CLIENTS = ("sync", "aio")
CACHE = "chaos"
SETTLE_TIMEOUT = 30.0  # seconds for the client to route every key to its primary
# With hedge on: a read the primary has not answered within 5 ms goes to a backup too;
# up to half of the reads may be hedged (one slow node of three is primary for a third).
HEDGE = HedgePolicy(delay=0.005, budget=0.5)
HEDGE_METRICS = (
    "hedgeable_reads",
    "hedges_sent",
    "hedges_won",
    "hedges_denied",
    "replica_reads",
)


@dataclass(frozen=True)
class ChaosConfig:
    """What to run; ``ValueError`` for a setting that makes no sense."""

    duration: float = 30.0
    seed: int = 0
    client: str = "sync"
    workers: int = 6
    nodes: int = 3
    backups: int = 1
    keys: int = 100
    timeout: float = 0.5  # the client's request (and handshake) timeout, seconds
    faults: tuple[str, ...] = FAULTS
    max_faults: int = 10_000
    hedge: bool = False  # workers' reads (get, contains_key, get_all) hedged (HEDGE)

    def __post_init__(self) -> None:
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}, got {self.client!r}")
        if not 0 < self.duration <= 24 * 3600:
            raise ValueError(f"duration must be in (0, 86400] seconds, got {self.duration}")
        if not 0 < self.timeout <= 60:
            raise ValueError(f"timeout must be in (0, 60] seconds, got {self.timeout}")
        if not 1 <= self.workers <= 256:
            raise ValueError(f"workers must be between 1 and 256, got {self.workers}")
        if not 3 <= self.nodes <= 16:
            raise ValueError(f"nodes must be between 3 and 16, got {self.nodes}")
        if not 1 <= self.backups < self.nodes:
            raise ValueError(f"backups must be at least 1 and less than nodes, got {self.backups}")
        if not 1 <= self.keys <= 100_000:
            raise ValueError(f"keys must be between 1 and 100000, got {self.keys}")
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")


def cache_config(config: ChaosConfig) -> dict[int, Any]:
    return {
        CacheProperty.NAME: CACHE,
        CacheProperty.BACKUPS_NUMBER: config.backups,
        CacheProperty.WRITE_SYNCHRONIZATION_MODE: WriteSynchronizationMode.FULL_SYNC,
        CacheProperty.CACHE_ATOMICITY_MODE: CacheAtomicityMode.ATOMIC,
    }


def _read(key: int) -> Call:
    return Call("get", (key,), ((key, Kind.READ, ()),))


def settle(
    client: Any, cache: Any, cluster: LocalCluster, keys: int, clock: Callable[[], float]
) -> Script:
    """Step 3 of a run, as a script; returns :class:`Settled`."""
    deadline = clock() + SETTLE_TIMEOUT
    unrouted = {key: "" for key in range(keys)}
    while True:
        reasons = {key: client.route(cache, key).reason for key in unrouted}
        unrouted = {key: reason for key, reason in reasons.items() if reason != "primary"}
        if not unrouted or clock() > deadline:
            break
        for key in unrouted:  # key operations make the client fetch the maps it lacks
            yield _read(key)
        yield 0.05
    errors: list[str] = []
    final = {}
    final_from = clock()
    for key in range(keys):
        reply = yield _read(key)
        assert reply is not None
        if reply.error is None:
            final[key] = reply.result
        else:
            errors.append(f"get({key}): {type(reply.error).__name__}: {reply.error}")
    cluster.reset_stats()
    values = (f"settled:{n}" for n in itertools.count(1))
    for key in range(keys):
        value = next(values)
        for call in (_read(key), Call("put", (key, value), ((key, Kind.WRITE, (value,)),))):
            reply = yield call
            assert reply is not None
            if reply.error is not None:
                errors.append(f"{call.method}({key}): {type(reply.error).__name__}")
    forwarded = sum(node["forwarded"] for node in cluster.stats())
    why = tuple(f"key {key}: {reason}" for key, reason in unrouted.items())
    return Settled(why, final, final_from, forwarded, tuple(errors))


@dataclass
class _Run:
    """What one shell's run produced."""

    recorder: Recorder
    settled: Settled
    hedging: dict[str, int]  # the client's hedge counters (HEDGE_METRICS)
    leftover_tasks: tuple[str, ...] = ()


class _Chaos:
    """The parts of a run both shells share."""

    def __init__(self, config: ChaosConfig, cluster: LocalCluster) -> None:
        self.config = config
        self.cluster = cluster
        rng = random.Random(config.seed)
        self.workloads = [
            Workload(process, config.keys, random.Random(rng.random()), config.hedge)
            for process in range(config.workers)
        ]
        self.nemesis = Nemesis(
            cluster, random.Random(rng.random()), config.timeout, config.backups, config.faults
        )
        self.deadline = 0.0

    def client_options(self) -> dict[str, Any]:
        return {
            "timeout": self.config.timeout,
            "handshake_timeout": self.config.timeout,
            "hedge": HEDGE if self.config.hedge else None,
        }

    def start_nemesis(self) -> threading.Thread:
        self.deadline = time.monotonic() + self.config.duration
        thread = threading.Thread(
            target=self.nemesis.run,
            args=(self.deadline, self.config.max_faults),
            name="chaos-nemesis",
        )
        thread.start()
        return thread

    def run_sync(self) -> _Run:
        client = Client(**self.client_options())
        with client.connect(self.cluster.endpoints):
            cache = client.get_or_create_cache(cache_config(self.config))
            hedged = cache.with_hedging() if self.config.hedge else None
            driver = Driver(cache, Recorder(client.call_time_bound), hedged_cache=hedged)
            nemesis = self.start_nemesis()
            driver.run_threads(self.workloads, self.deadline)
            nemesis.join()
            script = settle(client, cache, self.cluster, self.config.keys, driver.clock)
            settled = driver.run(script, process=self.config.workers)
            hedging = _hedging(client.metrics())
        return _Run(driver.recorder, settled, hedging)

    async def run_aio(self) -> _Run:
        client = AioClient(**self.client_options())
        async with client.connect(self.cluster.endpoints):
            cache = await client.get_or_create_cache(cache_config(self.config))
            hedged = await cache.with_hedging() if self.config.hedge else None
            driver = Driver(cache, Recorder(client.call_time_bound), hedged_cache=hedged)
            nemesis = self.start_nemesis()
            await driver.run_tasks(self.workloads, self.deadline)
            await asyncio.to_thread(nemesis.join)
            script = settle(client, cache, self.cluster, self.config.keys, driver.clock)
            settled = await driver.run_async(script, process=self.config.workers)
            hedging = _hedging(client.metrics())
        current = asyncio.current_task()
        leftover = tuple(t.get_name() for t in asyncio.all_tasks() if t is not current)
        return _Run(driver.recorder, settled, hedging, leftover)

    def report(self, run: _Run, leaks: Leaks, elapsed: float) -> ChaosReport:
        config, recorder, settled = self.config, run.recorder, run.settled
        counts, examples = judge(recorder.operations, settled)
        for name, items in (
            ("undocumented_errors", recorder.undocumented),
            ("calls_over_bound", recorder.over_bound),
            ("unrouted_keys", list(settled.unrouted)),
            ("settled_errors", list(settled.errors)),
            ("leaked_threads", list(leaks.threads)),
            ("leaked_sockets", list(leaks.sockets)),
            ("close_wait", list(leaks.close_wait)),
            ("leaked_tasks", list(run.leftover_tasks)),
        ):
            counts[name] = len(items)
            if items:
                examples[name] = items[:SHOWN]
        error = self.nemesis.error
        return ChaosReport(
            seed=config.seed,
            client=config.client,
            nodes=config.nodes,
            backups=config.backups,
            workers=config.workers,
            keys=config.keys,
            hedge=config.hedge,
            duration_s=round(elapsed, 3),
            calls=recorder.calls,
            faults=dict(self.nemesis.injected),
            errors=dict(recorder.errors),
            slowest_call_s=round(recorder.slowest, 4),
            call_time_bound_s=round(recorder.largest_bound, 3),
            forwarded=settled.forwarded,
            **run.hedging,
            nemesis_error=None if error is None else f"{type(error).__name__}: {error}",
            examples=examples,
            fault_log=self.nemesis.events,
            **counts,
        )


def _hedging(metrics: dict[str, Any]) -> dict[str, int]:
    return {name: metrics[name] for name in HEDGE_METRICS}


def run_chaos(config: ChaosConfig) -> ChaosReport:
    """Run the workload under faults as ``config`` says; the report of what was seen."""
    started = time.monotonic()
    with LocalCluster(
        config.nodes, backups=config.backups, realistic=True, seed=config.seed
    ) as cluster:
        chaos = _Chaos(config, cluster)
        before = Snapshot.take()
        run = chaos.run_sync() if config.client == "sync" else asyncio.run(chaos.run_aio())
        leaks = leaks_since(before)
    return chaos.report(run, leaks, time.monotonic() - started)
