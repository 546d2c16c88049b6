"""Hedged reads: read latency with one slow node, with hedging, without it, and pyignite's.

    .venv/bin/python benchmarks/hedging.py [--quick] [--reads N] [--json]

A 3-node ``LocalCluster`` in its own process (backups=1, FULL_SYNC,
readFromBackup), 10,000 keys, uniform random single-key reads from one
thread. First the healthy cluster, then with one node answering 200 ms late
(``set_latency(1, 0.2, where="answer")``). Each client reads the same keys
in the same order: ignite-router without hedging, ignite-router with
``HedgePolicy(budget=0.5)`` (adaptive delay), pyignite 0.6.1 (partition
aware). Reported: p50 and p99 (ms) and, for the hedged client, the share of
reads that were hedged.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ignite_router import Client
from ignite_router.hedging import HedgePolicy

__all__ = ["main"]

CACHE = "hedging"
KEYS = 10_000
SLOW_NODE = 1
SLOW = 0.2  # seconds added to each of the slow node's answers
# A third of the reads have the slow node as primary; on loopback the healthy p99 is a
# fraction of a millisecond, below the default floor (1 ms).
POLICY = HedgePolicy(floor=0.0, budget=0.5)


def serve() -> None:
    """The cluster process: prints its endpoints, then obeys ``latency I S`` and ``quit``."""
    from ignite_router.testing import LocalCluster

    with LocalCluster(nodes=3, backups=1) as cluster:
        print(json.dumps([list(endpoint) for endpoint in cluster.endpoints]), flush=True)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["latency"]:
                cluster.set_latency(int(words[1]), float(words[2]), where="answer")
                print("ok", flush=True)
            elif words[:1] == ["quit"]:
                return


class ClusterProcess:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.endpoints = [tuple(e) for e in json.loads(self.process.stdout.readline())]

    def latency(self, index: int, seconds: float) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"latency {index} {seconds}\n")
        self.process.stdin.flush()
        self.process.stdout.readline()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait(timeout=30)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(read: Callable[[int], Any], keys: Sequence[int]) -> list[float]:
    """Seconds per read; each read's value is checked."""
    latencies = []
    for key in keys:
        started = time.perf_counter()
        value = read(key)
        latencies.append(time.perf_counter() - started)
        if value != key:
            raise AssertionError(f"read {key} -> {value!r}")
    return latencies


def run(reads: int, healthy_reads: int) -> dict[str, Any]:
    from pyignite import Client as PyigniteClient  # type: ignore[import-untyped]

    cluster = ClusterProcess()
    try:
        plain = Client(timeout=10).connect(cluster.endpoints)
        hedging = Client(timeout=10, hedge=POLICY).connect(cluster.endpoints)
        pyignite = PyigniteClient(partition_aware=True, timeout=10)
        pyignite.connect(cluster.endpoints)
        cache = plain.get_or_create_cache(CACHE)
        for start in range(0, KEYS, 1000):
            cache.put_all({key: key for key in range(start, start + 1000)})
        hedged = hedging.get_cache(CACHE).with_hedging()
        theirs = pyignite.get_or_create_cache(CACHE)
        clients: dict[str, Callable[[int], Any]] = {
            "ignite-router": cache.get,
            "ignite-router, hedged": hedged.get,
            "pyignite 0.6.1": theirs.get,
        }
        rng = random.Random(17)
        for read in clients.values():  # warm-up: maps, connections, the adaptive delay
            timed(read, [rng.randrange(KEYS) for _ in range(500)])
        result: dict[str, Any] = {}
        for phase, count in (("healthy", healthy_reads), ("slow node", reads)):
            keys = [rng.randrange(KEYS) for _ in range(count)]
            rows = {}
            for name, read in clients.items():
                before = hedging.metrics()
                latencies = timed(read, keys)
                after = hedging.metrics()
                rows[name] = {
                    "p50_ms": percentile(latencies, 0.5) * 1000,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                }
                if "hedged" in name:
                    sent = after["hedges_sent"] - before["hedges_sent"]
                    rows[name]["hedged_share"] = sent / count
                    rows[name]["hedges_won"] = after["hedges_won"] - before["hedges_won"]
            result[phase] = rows
            if phase == "healthy":
                cluster.latency(SLOW_NODE, SLOW)
        plain.close()
        hedging.close()
        pyignite.close()
        return result
    finally:
        cluster.close()


def report(result: dict[str, Any]) -> str:
    lines = ["| phase | client | p50 ms | p99 ms | hedged reads |", "|---|---|---:|---:|---:|"]
    for phase, rows in result.items():
        for name, row in rows.items():
            share = f"{row['hedged_share']:.1%}" if "hedged_share" in row else ""
            lines.append(
                f"| {phase} | {name} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {share} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hedging.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer reads (a smoke run)")
    parser.add_argument("--reads", type=int, help="reads per client with the slow node")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    reads = args.reads or (100 if args.quick else 600)
    result = run(reads, healthy_reads=reads * 5)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
