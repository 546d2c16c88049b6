"""Client benchmark: ignite-router against pyignite 0.6.1 (and a minimal raw client), one run.

``ignite-router bench`` and ``benchmarks/bench_client.py`` run :func:`run`; the
cluster (3 nodes) runs in its own process. Two tables:

- throughput (:mod:`benchmarks.throughput`): ops/s of ours against pyignite's;
- client CPU (:mod:`benchmarks.client_cpu`): CPU time of this process per
  operation for the minimal raw client, ours and pyignite's, string hashing,
  and the cluster's own CPU per get and put.

pyignite is a test dependency, not a runtime one:
:func:`benchmarks.harness.missing_dependency` says what is missing before anything starts.
"""

from __future__ import annotations

import asyncio
import cProfile
import datetime
import io
import os
import platform
import pstats
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.client_cpu import cpu_rows
from benchmarks.harness import (
    CACHE,
    KEYS,
    NODES,
    PLOT_MISSING,
    PYIGNITE_VERSION,
    BenchError,
    ServerProcess,
    check_routed,
    keys,
    missing_dependency,
    open_sync_clients,
    put_get,
)
from benchmarks.report import markdown, plot
from benchmarks.throughput import async_rows, sync_rows
from ignite_router.affinity import ACCELERATED
from ignite_router.client import Client

__all__ = [
    "PLOT_MISSING",
    "BenchError",
    "Sizes",
    "markdown",
    "missing_dependency",
    "plot",
    "profile_sync",
    "run",
]


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does, per side and per round."""

    rounds: int
    sync_pairs: int  # throughput: put+get pairs of the sync row (2 ops each)
    async_pairs: int  # throughput: put+get pairs per in-flight level
    batch_pairs: int  # throughput: put_all(100)+get_all(100) pairs (2 batches each)
    cpu_ops: int  # client CPU: gets, and puts, per side
    cpu_async_ops: int  # client CPU: AioClient gets
    cpu_batches: int  # client CPU: put_all(100)+get_all(100) pairs
    hash_keys: int  # client CPU: new strings per hash row (a tenth for 1,024 characters)
    warmup: int  # put+get pairs (and a tenth as many batch pairs) before measuring

    @classmethod
    def of(cls, quick: bool, ops: int | None = None) -> Sizes:
        if ops is not None:  # tests: everything tiny, one pair of rounds
            small = max(ops // 20, 2)
            return cls(2, ops, ops, small, ops, ops, small, 2 * ops, min(ops, 200))
        if quick:
            return cls(3, 2_000, 1_500, 60, 1_000, 2_000, 20, 1_000, 500)
        return cls(5, 6_000, 4_000, 200, 3_000, 6_000, 60, 3_000, KEYS)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _meta(quick: bool, sizes: Sizes) -> dict[str, Any]:
    import pyignite  # type: ignore[import-untyped]

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyignite": getattr(pyignite, "__version__", PYIGNITE_VERSION),
        "accelerated": ACCELERATED,
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_at_start": _load(),
        "nodes": NODES,
        "keys": KEYS,
        "value": "100-char str",
        "quick": quick,
        "sizes": asdict(sizes),
    }


def run(
    quick: bool, ops: int | None = None, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run every measurement: ``{"meta": {...}, "rows": [...], "cpu_rows": [...]}``.

    ``rows`` is the throughput table, ``cpu_rows`` the client CPU table. ``ops``
    (tests) shrinks every measurement to about that many operations.
    """
    say = log or (lambda _: None)
    sizes = Sizes.of(quick, ops)
    meta = _meta(quick, sizes)
    started = time.perf_counter()
    with ServerProcess(NODES) as server:
        ours, theirs, caches = open_sync_clients(server, sizes.warmup)
        try:
            rows = sync_rows(server, caches, sizes, say)
            batch_row = rows.pop()  # order: sync rows, async rows, then batches
            rows.extend(asyncio.run(async_rows(server, sizes, say)))
            rows.append(batch_row)
            cpu = cpu_rows(server, caches, sizes, say)
        finally:
            ours.close()
            theirs.close()
    meta["load_average_at_end"] = _load()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    return {"meta": meta, "rows": rows, "cpu_rows": cpu}


def profile_sync(pairs: int = 5_000, limit: int = 15, cpu: bool = True) -> str:
    """cProfile of ignite-router's sync put+get loop (after a warm-up): top ``limit`` by tottime.

    ``cpu``: the profiler's clock is ``time.process_time``, so time spent blocked in
    ``recv_into`` waiting for the server does not count (with the wall clock it dominates).
    """
    with ServerProcess(NODES) as server:
        client = Client(partition_aware=True)
        try:
            client.connect(server.endpoints)
            cache = client.get_or_create_cache(CACHE)
            put_get(cache, keys(KEYS))
            check_routed(client)
            profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
            profiler.enable()
            put_get(cache, keys(pairs))
            profiler.disable()
        finally:
            client.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    clock = "process_time (CPU)" if cpu else "perf_counter (wall)"
    return f"{2 * pairs} ops ({pairs} put+get pairs), profiler clock: {clock}\n" + out.getvalue()
