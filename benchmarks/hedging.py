"""Hedged reads: read latency with one slow node, with hedging, without it, and pyignite's.

    .venv/bin/python -m benchmarks.hedging [--quick] [--json] [--plot FILE.png]

is ``ignite-router bench --hedging --plot docs/hedging-latency.png`` (the plot
goes to docs/hedging-latency.png unless ``--plot`` names another file).

A 3-node ``LocalCluster`` in its own process (backups=1, FULL_SYNC,
readFromBackup), 10,000 keys, uniform random single-key reads from one
thread, values checked. Three clients read the same keys in the same order:
ignite-router without hedging, ignite-router with
``HedgePolicy(floor=0.0, budget=0.5)`` (adaptive delay) on a
``with_hedging()`` cache, pyignite 0.6.1 (partition aware). Each client
reads ``warmup`` keys on the healthy cluster right before each of its
measurements. Three measurements:

- the table: p50 and p99 (ms) on the healthy cluster, then, client by
  client, with node 1 answering 200 ms late
  (``set_latency(1, 0.2, where="answer")``), and the share of the hedged
  client's reads that were hedged;
- throughput on the healthy cluster, hedged against unhedged, alternating
  rounds (reads/s, median round) and the share of reads hedged;
- the timeline: each client in turn reads back to back for ``seconds``; the
  node is healthy for the first third, slow for the middle third, healthy
  again for the last third (this process switches the latency before the
  first read that starts past a boundary). Every read's (start time, latency) is grouped
  into windows of ``window`` seconds: p50 and p99 per window, plotted over
  time by :func:`benchmarks.hedging_report.plot`.
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import PYIGNITE_VERSION, BenchError, ServerProcess, missing_dependency
from benchmarks.hedging_report import (
    BOTH_HEALTHY,
    HEDGED,
    PHASES,
    PYIGNITE,
    UNHEDGED,
    markdown,
    plot,
    targets,
)
from ignite_router import Client
from ignite_router.hedging import HedgePolicy

__all__ = [
    "DEFAULT_PLOT",
    "BenchError",
    "Sizes",
    "main",
    "markdown",
    "missing_dependency",
    "plot",
    "run",
]

CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_PLOT = CHECKOUT / "docs" / "hedging-latency.png"
CACHE = "hedging"
KEYS = 10_000
NODES = 3
BACKUPS = 1
SLOW_NODE = 1
SLOW = 0.2  # seconds added to each of the slow node's answers
DRAIN = 0.3  # seconds to wait after healing: answers already delayed still leave late
# A third of the reads have the slow node as primary; on loopback the healthy p99 is a
# fraction of a millisecond, below the default floor (1 ms).
POLICY = HedgePolicy(floor=0.0, budget=0.5)


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does."""

    healthy_reads: int  # table: reads per client on the healthy cluster
    slow_reads: int  # table: reads per client with the slow node
    rounds: int  # throughput: alternating rounds
    round_reads: int  # throughput: reads per client per round
    seconds: float  # timeline: seconds per client (a third healthy, slow, healthy again)
    window: float  # timeline: seconds per window
    warmup: int  # reads per client before each measurement

    @classmethod
    def of(cls, quick: bool, ops: int | None = None) -> Sizes:
        if ops is not None:  # tests: everything tiny
            return cls(2 * ops, ops, 2, 5 * ops, 1.5, 0.25, 200)
        if quick:
            return cls(1_000, 60, 3, 3_000, 6.0, 0.5, 300)
        return cls(3_000, 600, 6, 8_000, 30.0, 1.0, 500)


# -- reading and summing up ---------------------------------------------------------------------

Read = Callable[[int], Any]


def percentile(values: Sequence[float], share: float) -> float:
    """The value at rank ``share`` of the sorted values (the largest when they are few)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(latencies: Sequence[float]) -> dict[str, Any]:
    """Reads, p50 and p99 (ms) of some latencies (seconds)."""
    if not latencies:
        raise BenchError("a phase had no read: the run is too short")
    return {
        "reads": len(latencies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def check(key: int, value: Any) -> None:
    if value != key:
        raise BenchError(f"read {key} -> {value!r}")


def timed(read: Read, keys: Sequence[int]) -> list[float]:
    """Seconds per read; each read's value is checked."""
    latencies = []
    for key in keys:
        started = time.perf_counter()
        value = read(key)
        latencies.append(time.perf_counter() - started)
        check(key, value)
    return latencies


def warm_up(read: Read, count: int) -> None:
    """``count`` reads on the healthy cluster, not measured."""
    rng = random.Random(11)
    timed(read, [rng.randrange(KEYS) for _ in range(count)])


def key_stream(seed: int) -> Iterator[int]:
    """The same endless sequence of uniformly random keys for every client given ``seed``."""
    rng = random.Random(seed)
    while True:
        yield rng.randrange(KEYS)


@dataclass
class Trace:
    """One client's timeline: every read's start (seconds since the start) and latency."""

    starts: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    switches: list[float] = field(default_factory=list)  # slow from, slow until (seconds)
    hedges: list[int] = field(default_factory=list)  # hedges sent: at the start, each third's end


def timeline(
    cluster: ServerProcess, read: Read, seconds: float, hedges: Callable[[], int] | None
) -> Trace:
    """Back-to-back reads for ``seconds``, the slow node in the middle third.

    The latency is switched between two reads, the first to start past a
    boundary; ``switches`` holds when the cluster confirmed it.
    """
    trace = Trace()
    keys = key_stream(23)
    boundaries = [seconds / 3, 2 * seconds / 3, seconds]
    if hedges is not None:
        trace.hedges.append(hedges())
    start = time.perf_counter()
    now = start
    for phase, until in enumerate(boundaries):
        while now - start < until:
            key = next(keys)
            value = read(key)
            after = time.perf_counter()
            trace.starts.append(now - start)
            trace.latencies.append(after - now)
            check(key, value)
            now = after
        if hedges is not None:
            trace.hedges.append(hedges())
        if phase < 2:
            cluster.latency(SLOW_NODE, SLOW if phase == 0 else 0.0)
            now = time.perf_counter()
            trace.switches.append(now - start)
    return trace


def windows(trace: Trace, width: float) -> list[dict[str, Any]]:
    """p50 and p99 of the reads that started in each ``width``-second window."""
    groups: dict[int, list[float]] = {}
    for started, latency in zip(trace.starts, trace.latencies, strict=True):
        groups.setdefault(int(started // width), []).append(latency)
    return [
        {"start": index * width, **summary(latencies)}
        for index, latencies in sorted(groups.items())
    ]


def phases(trace: Trace) -> dict[str, dict[str, Any]]:
    """The three thirds of a trace, split where the latency was switched, and both
    healthy thirds together."""
    bounds = [0.0, *trace.switches, math.inf]
    thirds: list[list[float]] = [[], [], []]
    for started, latency in zip(trace.starts, trace.latencies, strict=True):
        thirds[sum(started >= bound for bound in bounds[1:3])].append(latency)
    rows = {name: summary(latencies) for name, latencies in zip(PHASES, thirds, strict=True)}
    rows[BOTH_HEALTHY] = summary(thirds[0] + thirds[2])
    if trace.hedges:
        sent = [after - before for before, after in itertools.pairwise(trace.hedges)]
        for name, count, latencies in zip(PHASES, sent, thirds, strict=True):
            rows[name]["hedged_share"] = count / len(latencies)
        rows[BOTH_HEALTHY]["hedged_share"] = (sent[0] + sent[2]) / (len(thirds[0]) + len(thirds[2]))
    return rows


# -- the three measurements ---------------------------------------------------------------------


def table(
    cluster: ServerProcess, clients: dict[str, Read], hedges: Callable[[], int], sizes: Sizes
) -> dict[str, dict[str, Any]]:
    """p50/p99 per client, healthy then with the slow node (left healthy again after).

    Each client is warmed up on the healthy cluster right before it is measured,
    so none starts cold after waiting for the others.
    """
    rng = random.Random(17)
    result: dict[str, dict[str, Any]] = {}
    for phase, count in (("healthy", sizes.healthy_reads), ("slow node", sizes.slow_reads)):
        keys = [rng.randrange(KEYS) for _ in range(count)]
        rows = {}
        for name, read in clients.items():
            warm_up(read, sizes.warmup)
            if phase == "slow node":
                cluster.latency(SLOW_NODE, SLOW)
            before = hedges()
            rows[name] = summary(timed(read, keys))
            if name == HEDGED:
                rows[name]["hedged_share"] = (hedges() - before) / count
            if phase == "slow node":
                cluster.latency(SLOW_NODE, 0.0)
                time.sleep(DRAIN)
        result[phase] = rows
    return result


def throughput(
    plain: Read, hedged: Read, hedges: Callable[[], int], sizes: Sizes
) -> dict[str, Any]:
    """Reads/s on the healthy cluster, unhedged and hedged, in alternating rounds (ABBA...)."""
    rng = random.Random(29)
    rates: dict[str, list[float]] = {UNHEDGED: [], HEDGED: []}
    sent = 0
    for index in range(sizes.rounds):
        keys = [rng.randrange(KEYS) for _ in range(sizes.round_reads)]
        order = (UNHEDGED, HEDGED) if index % 2 == 0 else (HEDGED, UNHEDGED)
        for name in order:
            read = plain if name == UNHEDGED else hedged
            before = hedges()
            started = time.perf_counter()
            for key in keys:
                check(key, read(key))
            rates[name].append(sizes.round_reads / (time.perf_counter() - started))
            if name == HEDGED:
                sent += hedges() - before
    unhedged, hedged_rate = statistics.median(rates[UNHEDGED]), statistics.median(rates[HEDGED])
    return {
        "rounds": rates,
        "round_reads": sizes.round_reads,
        "unhedged_reads_per_s": unhedged,
        "hedged_reads_per_s": hedged_rate,
        "ratio": hedged_rate / unhedged,
        "hedged_share": sent / (sizes.rounds * sizes.round_reads),
    }


def timelines(
    cluster: ServerProcess, clients: dict[str, Read], hedges: Callable[[], int], sizes: Sizes
) -> dict[str, Any]:
    """Each client's timeline in turn: its windows, its thirds and when the node was slow."""
    rows = {}
    for name, read in clients.items():
        warm_up(read, sizes.warmup)
        trace = timeline(cluster, read, sizes.seconds, hedges if name == HEDGED else None)
        rows[name] = {
            "slow_from": trace.switches[0],
            "slow_until": trace.switches[1],
            "windows": windows(trace, sizes.window),
            "phases": phases(trace),
        }
        time.sleep(DRAIN)
    return {"seconds": sizes.seconds, "window": sizes.window, "clients": rows}


# -- one run ------------------------------------------------------------------------------------


def _meta(quick: bool, sizes: Sizes) -> dict[str, Any]:
    import pyignite  # type: ignore[import-untyped]

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyignite": getattr(pyignite, "__version__", PYIGNITE_VERSION),
        "cpus": os.cpu_count(),
        "load_average_at_start": _load(),
        "nodes": NODES,
        "backups": BACKUPS,
        "keys": KEYS,
        "slow_node": SLOW_NODE,
        "slow_ms": SLOW * 1000,
        "policy": asdict(POLICY),
        "quick": quick,
        "sizes": asdict(sizes),
    }


def _load() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def run(
    quick: bool, ops: int | None = None, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Every measurement: ``{"meta", "table", "throughput", "timeline", "targets"}``.

    ``ops`` (tests) shrinks every measurement to a few seconds.
    """
    from pyignite import Client as PyigniteClient

    say = log or (lambda _: None)
    sizes = Sizes.of(quick, ops)
    meta = _meta(quick, sizes)
    started = time.perf_counter()
    cluster = ServerProcess(nodes=NODES, backups=BACKUPS)
    plain = Client(timeout=10)
    hedging = Client(timeout=10, hedge=POLICY)
    pyignite = PyigniteClient(partition_aware=True, timeout=10)
    try:
        plain.connect(cluster.endpoints)
        hedging.connect(cluster.endpoints)
        pyignite.connect(cluster.endpoints)
        cache = plain.get_or_create_cache(CACHE)
        for first in range(0, KEYS, 1000):
            cache.put_all({key: key for key in range(first, first + 1000)})
        clients: dict[str, Read] = {
            UNHEDGED: cache.get,
            HEDGED: hedging.get_cache(CACHE).with_hedging().get,
            PYIGNITE: pyignite.get_or_create_cache(CACHE).get,
        }
        for read in clients.values():  # maps, connections, the adaptive delay's answer times
            warm_up(read, sizes.warmup)

        def hedges() -> int:
            return int(hedging.metrics()["hedges_sent"])

        say("table: healthy, then the slow node")
        result: dict[str, Any] = {"meta": meta, "table": table(cluster, clients, hedges, sizes)}
        say("throughput: hedged and unhedged on the healthy cluster")
        result["throughput"] = throughput(clients[UNHEDGED], clients[HEDGED], hedges, sizes)
        say(f"timeline: {sizes.seconds:g} s per client")
        result["timeline"] = timelines(cluster, clients, hedges, sizes)
    finally:
        plain.close()
        hedging.close()
        pyignite.close()
        cluster.close()
    meta["load_average_at_end"] = _load()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    result["targets"] = targets(result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``ignite-router bench --hedging``, the plot to docs/hedging-latency.png by default."""
    args = list(sys.argv[1:] if argv is None else argv)
    from ignite_router.commands import bench

    if not any(arg == "--plot" or arg.startswith("--plot=") for arg in args):
        args += ["--plot", str(DEFAULT_PLOT)]
    return bench.main(["--hedging", *args], prog="python -m benchmarks.hedging")


if __name__ == "__main__":
    raise SystemExit(main())
