"""What every client measurement shares: the cluster process, the clocks, the workloads.

The cluster (:mod:`benchmarks.cluster_process`) runs in its own process, so the
client and the server each have a core of their own on a 2-core machine. A
measurement resets the server's counters, reads the client's CPU time
(``time.process_time``: every thread of this process, none of the server's),
the wall clock and the server's CPU time (``/proc/<pid>/stat``), runs the
work, and reads them all again with the server's ``forwarded`` and
``key_requests`` counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ignite_router.aio import AioClient
from ignite_router.client import Client

__all__ = [
    "BATCH",
    "CACHE",
    "KEYS",
    "NODES",
    "PLOT_MISSING",
    "PYIGNITE_VERSION",
    "VALUE",
    "BenchError",
    "Sample",
    "ServerProcess",
    "batches",
    "check_routed",
    "check_values",
    "keys",
    "measure",
    "measure_async",
    "median",
    "missing_dependency",
    "open_sync_clients",
]

CACHE = "bench"
NODES = 3
KEYS = 1000  # distinct int keys, 0..999
BATCH = 100  # keys per put_all / get_all
VALUE = "v" * 100
PYIGNITE_VERSION = "0.6.1"
PLOT_MISSING = "plot needs matplotlib: pip install 'ignite-router[plot]'"
PYIGNITE_MISSING = (
    f"bench needs pyignite {PYIGNITE_VERSION}: pip install 'pyignite=={PYIGNITE_VERSION}'"
)
# The checkout holding benchmarks/: the cluster process runs from it, so it imports the
# same ignite_router source as this process does.
CHECKOUT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class BenchError(Exception):
    """The benchmark cannot run (the server did not start, a check failed)."""


def missing_dependency(plot_requested: bool) -> str | None:
    """One line saying what to install, or None if everything needed is there."""
    if plot_requested:
        try:
            importlib.import_module("matplotlib")
        except ImportError:
            return PLOT_MISSING
    try:
        pyignite = importlib.import_module("pyignite")
    except ImportError:
        return PYIGNITE_MISSING
    version = getattr(pyignite, "__version__", PYIGNITE_VERSION)
    if version != PYIGNITE_VERSION:
        return f"{PYIGNITE_MISSING} (found {version})"
    return None


# -- the server process -----------------------------------------------------------------------


class ServerProcess:
    """``python -m benchmarks.cluster_process``: a LocalCluster answering
    stats/reset/latency/quit."""

    def __init__(self, nodes: int = NODES, backups: int = 0) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.cluster_process",
                "--nodes",
                str(nodes),
                "--backups",
                str(backups),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=CHECKOUT,
        )
        try:
            hello = self._read()
            self.endpoints: list[tuple[str, int]] = []
            for text in hello["endpoints"]:
                host, _, port = text.rpartition(":")
                self.endpoints.append((host, int(port)))
            self.pid = int(hello["pid"])
        except BaseException:
            self.close()
            raise

    def _read(self) -> Any:
        stdout: IO[str] = self.process.stdout  # type: ignore[assignment]
        line = stdout.readline()
        if not line:
            try:
                code: int | None = self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            raise BenchError(f"the cluster process ended its output (exit status {code})")
        return json.loads(line)

    def command(self, text: str) -> Any:
        stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
        stdin.write(text + "\n")
        stdin.flush()
        return self._read()

    def reset(self) -> None:
        self.command("reset")

    def latency(self, index: int, seconds: float) -> None:
        """Node ``index``'s answers leave ``seconds`` late (0: on time), once this returns."""
        if self.command(f"latency {index} {seconds}") != {"ok": True}:
            raise BenchError("the cluster process did not set the latency")

    def counters(self) -> tuple[int, int]:
        """(forwarded, key_requests) summed over the nodes since the last reset."""
        stats = self.command("stats")
        return sum(n["forwarded"] for n in stats), sum(n["key_requests"] for n in stats)

    def forwarded(self) -> int:
        return self.counters()[0]

    def cpu_seconds(self) -> float | None:
        """The server process's user + system CPU time (None where /proc is missing)."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def close(self) -> None:
        """Ask the process to ``quit``, wait 10 s, else kill it; close its pipes."""
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                process.stdin.write("quit\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- one measurement ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measured phase of one side."""

    ops: int
    wall: float
    cpu: float
    server_cpu: float | None
    forwarded: int
    key_requests: int
    fallback: int = 0  # ours only: key requests the client itself sent to a non-primary

    @property
    def rate(self) -> float:
        return self.ops / self.wall if self.wall > 0 else float("inf")

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.ops * 1e6

    @property
    def server_cpu_us(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.ops * 1e6


class _Clock:
    """Starts the client's and the server's clocks after resetting the server's counters."""

    def __init__(self, server: ServerProcess, fallbacks: Callable[[], int] | None) -> None:
        self.server = server
        self.fallbacks = fallbacks
        server.reset()
        self.fallback0 = fallbacks() if fallbacks is not None else 0
        self.server0 = server.cpu_seconds()
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()

    def stop(self, ops: int) -> Sample:
        wall = time.perf_counter() - self.wall0
        cpu = time.process_time() - self.cpu0
        server1 = self.server.cpu_seconds()
        server_cpu = None if server1 is None or self.server0 is None else server1 - self.server0
        fallback = self.fallbacks() - self.fallback0 if self.fallbacks is not None else 0
        forwarded, key_requests = self.server.counters()
        return Sample(ops, wall, cpu, server_cpu, forwarded, key_requests, fallback)


def _fallbacks(client: Any) -> Callable[[], int] | None:
    """Ours: key requests our client sent elsewhere than the primary (its own metric)."""
    if not isinstance(client, Client | AioClient):
        return None
    return lambda: sum(node["fallback"] for node in client.metrics()["nodes"].values())


def measure(server: ServerProcess, client: Any, ops: int, work: Callable[[], object]) -> Sample:
    """Run ``work`` (``ops`` operations) between the clocks; ``client`` is ours, theirs or None."""
    clock = _Clock(server, _fallbacks(client))
    work()
    return clock.stop(ops)


async def measure_async(
    server: ServerProcess, client: Any, ops: int, work: Callable[[], Awaitable[object]]
) -> Sample:
    clock = _Clock(server, _fallbacks(client))
    await work()
    return clock.stop(ops)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# -- the workloads (the same code drives every client) ----------------------------------------


def keys(count: int) -> list[int]:
    return [i % KEYS for i in range(count)]


def batches(count: int) -> list[tuple[list[int], dict[int, str]]]:
    """``count`` (keys, {key: VALUE}) groups of BATCH keys, cycling over the KEYS keys."""
    groups = []
    for b in range(KEYS // BATCH):
        group = [b * BATCH + j for j in range(BATCH)]
        groups.append((group, dict.fromkeys(group, VALUE)))
    return [groups[i % len(groups)] for i in range(count)]


def put_get(cache: Any, keys: Sequence[int]) -> None:
    put = cache.put
    get = cache.get
    value = VALUE
    for key in keys:
        put(key, value)
        get(key)


def gets(cache: Any, keys: Sequence[int]) -> None:
    get = cache.get
    for key in keys:
        get(key)


def puts(cache: Any, keys: Sequence[int]) -> None:
    put = cache.put
    value = VALUE
    for key in keys:
        put(key, value)


def put_all_get_all(cache: Any, groups: Sequence[tuple[list[int], dict[int, str]]]) -> None:
    put_all = cache.put_all
    get_all = cache.get_all
    for group, pairs in groups:
        put_all(pairs)
        get_all(group)


async def put_get_async(cache: Any, keys: Sequence[int], in_flight: int) -> None:
    """``in_flight`` workers, each doing put+get pairs one after another."""
    value = VALUE

    async def worker(first: int) -> None:
        put = cache.put
        get = cache.get
        for index in range(first, len(keys), in_flight):
            key = keys[index]
            await put(key, value)
            await get(key)

    await asyncio.gather(*(worker(first) for first in range(in_flight)))


async def gets_async(cache: Any, keys: Sequence[int], in_flight: int) -> None:
    """``in_flight`` workers, each doing gets one after another."""

    async def worker(first: int) -> None:
        get = cache.get
        for index in range(first, len(keys), in_flight):
            await get(keys[index])

    await asyncio.gather(*(worker(first) for first in range(in_flight)))


def check_values(cache: Any, name: str) -> None:
    """Warm-up results are right (so every side measures working requests)."""
    if cache.get(0) != VALUE:  # the warm-up put it
        raise BenchError(f"{name}: get returned a wrong value after the warm-up")
    group, pairs = batches(1)[0]
    cache.put_all(pairs)
    if cache.get_all(group) != pairs:
        raise BenchError(f"{name}: get_all returned wrong values after the warm-up")


def check_routed(client: Client | AioClient) -> None:
    route = client.route(CACHE, 0)
    if route.reason != "primary":
        raise BenchError(f"ignite-router has no usable partition map after the warm-up: {route}")


def open_sync_clients(server: ServerProcess, warmup: int) -> tuple[Client, Any, dict[str, Any]]:
    """Ours and pyignite's sync clients, connected, warmed up and checked.

    Returns (ours, pyignite's, {"ours": (client, cache), "pyignite": (client, cache)}).
    """
    import pyignite  # type: ignore[import-untyped]

    ours = Client(partition_aware=True)
    theirs = pyignite.Client(partition_aware=True)
    try:
        ours.connect(server.endpoints)
        theirs.connect(server.endpoints)
        caches = {
            "ours": (ours, ours.get_or_create_cache(CACHE)),
            "pyignite": (theirs, theirs.get_or_create_cache(CACHE)),
        }
        for name, (_, cache) in caches.items():
            put_get(cache, keys(max(warmup, KEYS)))
            put_all_get_all(cache, batches(max(warmup // 10, 1)))
            check_values(cache, name)
        check_routed(ours)
    except BaseException:
        ours.close()
        theirs.close()
        raise
    return ours, theirs, caches
