"""Client benchmark: ignite-router against pyignite 0.6.1, on one local cluster, in one run.

The cluster (3 nodes, :mod:`ignite_router.benchserver`) runs in its own
process, so the client and the server each have a core of their own on a
2-core machine; the server's CPU time comes from ``/proc/<pid>/stat`` and
its ``forwarded`` counter (key requests that reached a node which is not
the key's primary) from its ``stats`` command. Both clients use the same
cache, the same int keys and the same 100-character string values; both
are warmed up (connections open, partition maps fetched) before anything is
measured, and every measurement alternates ours and pyignite's round by
round (ABAB...), reporting the median round.

Rows: sync put+get (ops/s and client CPU µs per op, via ``time.process_time``),
the floor (a bare ``sendall`` + ``recv_into`` round trip of a pre-encoded GET
frame: what any Python client pays at least), ``AioClient`` put+get with 1,
16 and 256 requests in flight, and ``put_all`` + ``get_all`` of 100 keys.

pyignite is a test dependency, not a runtime one: :func:`require` says what
is missing before anything starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import datetime
import importlib
import io
import json
import os
import platform
import pstats
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from ignite_router.aio import AioClient
from ignite_router.client import Client
from ignite_router.protocol import HandshakeRequest
from ignite_router.protocol.connection import ClientConnection, Handshaken
from ignite_router.protocol.messages.cache_keys import CacheTarget, encode_cache_request
from ignite_router.protocol.opcodes import OpCode

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

CACHE = "bench"
NODES = 3
KEYS = 1000  # distinct int keys, 0..999
BATCH = 100  # keys per put_all / get_all
VALUE = "v" * 100
IN_FLIGHT = (1, 16, 256)
PYIGNITE_VERSION = "0.6.1"
PLOT_MISSING = "plot needs matplotlib: pip install 'ignite-router[plot]'"
PYIGNITE_MISSING = (
    f"bench needs pyignite {PYIGNITE_VERSION}: pip install 'pyignite=={PYIGNITE_VERSION}'"
)
_LENGTH = struct.Struct("<i")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class BenchError(Exception):
    """The benchmark cannot run (the server did not start, a check failed)."""


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does, per side and per round."""

    rounds: int
    sync_pairs: int  # put+get pairs of the sync row (2 ops each)
    floor_ops: int  # raw GET round trips
    async_pairs: int  # put+get pairs per in-flight level
    batch_pairs: int  # put_all(100)+get_all(100) pairs (2 batches each)
    warmup: int  # put+get pairs (and a tenth as many batch pairs) before measuring

    @classmethod
    def of(cls, quick: bool, ops: int | None = None) -> Sizes:
        if ops is not None:  # tests: everything tiny, one pair of rounds
            return cls(2, ops, 2 * ops, ops, max(ops // 20, 2), min(ops, 200))
        if quick:
            return cls(3, 2_000, 4_000, 1_500, 60, 500)
        return cls(5, 6_000, 12_000, 4_000, 200, KEYS)


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
    """``python -m ignite_router.benchserver``: a LocalCluster answering stats/reset/quit."""

    def __init__(self, nodes: int = NODES) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ignite_router.benchserver", "--nodes", str(nodes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
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
            code = self.process.poll()
            raise BenchError(f"the cluster process ended (exit status {code})")
        return json.loads(line)

    def command(self, text: str) -> Any:
        stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
        stdin.write(text + "\n")
        stdin.flush()
        return self._read()

    def reset(self) -> None:
        self.command("reset")

    def forwarded(self) -> int:
        return sum(node["forwarded"] for node in self.command("stats"))

    def cpu_seconds(self) -> float | None:
        """The server process's user + system CPU time (None where /proc is missing)."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def close(self) -> None:
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
        return Sample(ops, wall, cpu, server_cpu, self.server.forwarded(), fallback)


def _fallbacks(client: Any) -> Callable[[], int] | None:
    """Ours: key requests our client sent elsewhere than the primary (its own metric)."""
    if not isinstance(client, Client | AioClient):
        return None
    return lambda: sum(node["fallback"] for node in client.metrics()["nodes"].values())


def measure(server: ServerProcess, client: Any, ops: int, work: Callable[[], object]) -> Sample:
    clock = _Clock(server, _fallbacks(client))
    work()
    return clock.stop(ops)


async def measure_async(
    server: ServerProcess, client: Any, ops: int, work: Callable[[], Awaitable[object]]
) -> Sample:
    clock = _Clock(server, _fallbacks(client))
    await work()
    return clock.stop(ops)


# -- the workloads (the same code drives both clients) -----------------------------------------


def _keys(count: int) -> list[int]:
    return [i % KEYS for i in range(count)]


def _batches(count: int) -> list[tuple[list[int], dict[int, str]]]:
    groups = []
    for b in range(KEYS // BATCH):
        keys = [b * BATCH + j for j in range(BATCH)]
        groups.append((keys, dict.fromkeys(keys, VALUE)))
    return [groups[i % len(groups)] for i in range(count)]


def put_get(cache: Any, keys: Sequence[int]) -> None:
    put = cache.put
    get = cache.get
    value = VALUE
    for key in keys:
        put(key, value)
        get(key)


def put_all_get_all(cache: Any, batches: Sequence[tuple[list[int], dict[int, str]]]) -> None:
    put_all = cache.put_all
    get_all = cache.get_all
    for keys, pairs in batches:
        put_all(pairs)
        get_all(keys)


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


def _check(cache: Any, name: str) -> None:
    """Warm-up results are right (so both sides measure working requests)."""
    if cache.get(0) != VALUE:  # the warm-up put it
        raise BenchError(f"{name}: get returned a wrong value after the warm-up")
    keys, pairs = _batches(1)[0]
    cache.put_all(pairs)
    if cache.get_all(keys) != pairs:
        raise BenchError(f"{name}: get_all returned wrong values after the warm-up")


def _check_routed(client: Client | AioClient) -> None:
    route = client.route(CACHE, 0)
    if route.reason != "primary":
        raise BenchError(f"ignite-router has no usable partition map after the warm-up: {route}")


# -- the floor: bytes on a socket, nothing else --------------------------------------------------


class RawConnection:
    """A handshaken socket that sends one pre-encoded GET frame and reads its answer."""

    def __init__(self, endpoint: tuple[str, int]) -> None:
        sock = socket.create_connection(endpoint, timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        protocol = ClientConnection(HandshakeRequest())
        sock.sendall(protocol.handshake_frame())
        done = False
        while not done:
            data = sock.recv(1 << 16)
            if not data:
                raise BenchError("the cluster closed the raw connection during the handshake")
            for event in protocol.receive(data):
                if isinstance(event, Handshaken):
                    done = True
                elif isinstance(event, bytes):
                    sock.sendall(event)
        self.sock = sock
        frame = bytearray()
        encode_cache_request(
            frame,
            protocol.context,  # type: ignore[arg-type]
            OpCode.CACHE_GET,
            1,
            CacheTarget(_cache_id(CACHE)),
            0,
        )
        self.frame = bytes(frame)
        self.buffer = bytearray(1 << 16)

    def round_trips(self, count: int) -> None:
        sock = self.sock
        frame = self.frame
        view = memoryview(self.buffer)
        unpack = _LENGTH.unpack_from
        sendall = sock.sendall
        recv_into = sock.recv_into
        for _ in range(count):
            sendall(frame)
            got = recv_into(view)
            while got < 4 or got < 4 + unpack(view, 0)[0]:
                more = recv_into(view[got:])
                if not more:
                    raise BenchError("the cluster closed the raw connection")
                got += more

    def close(self) -> None:
        self.sock.close()


def _cache_id(name: str) -> int:
    from ignite_router.affinity import cache_id

    return int(cache_id(name))


# -- the run -------------------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _row(
    row_id: str,
    name: str,
    unit: str,
    ours: Sequence[float],
    theirs: Sequence[float],
    target: tuple[str, float] | None,
    forwarded: int | None = None,
    pyignite_forwarded: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    our_value, their_value = _median(ours), _median(theirs)
    ratio = our_value / their_value if their_value else None
    met = None
    if target is not None and ratio is not None:
        op, bound = target
        met = ratio >= bound if op == ">=" else ratio <= bound
    if forwarded is not None and met is not None:
        met = met and forwarded == 0
    return {
        "id": row_id,
        "name": name,
        "unit": unit,
        "ours": our_value,
        "pyignite": their_value,
        "ratio": ratio,
        "target": None if target is None else {"op": target[0], "ratio": target[1]},
        "met": met,
        "forwarded": forwarded,
        "pyignite_forwarded": pyignite_forwarded,
        "rounds": {"ours": list(ours), "pyignite": list(theirs)},
        **extra,
    }


def _server_cpu(samples: Sequence[Sample]) -> float | None:
    values = [s.server_cpu_us for s in samples if s.server_cpu_us is not None]
    return _median(values) if values else None


def _rate_row(
    row_id: str,
    name: str,
    unit: str,
    ours: list[Sample],
    theirs: list[Sample],
    target: tuple[str, float] | None,
) -> dict[str, Any]:
    return _row(
        row_id,
        name,
        unit,
        [s.rate for s in ours],
        [s.rate for s in theirs],
        target,
        forwarded=sum(s.forwarded for s in ours),
        pyignite_forwarded=sum(s.forwarded for s in theirs),
        client_fallback=sum(s.fallback for s in ours),
        client_cpu_us_per_op={
            "ours": _median([s.cpu_us for s in ours]),
            "pyignite": _median([s.cpu_us for s in theirs]),
        },
        server_cpu_us_per_op={"ours": _server_cpu(ours), "pyignite": _server_cpu(theirs)},
    )


def _sync_rows(server: ServerProcess, sizes: Sizes, log: Callable[[str], None]) -> list[Any]:
    import pyignite  # type: ignore[import-untyped]

    endpoints = server.endpoints
    ours = Client(partition_aware=True)
    theirs = pyignite.Client(partition_aware=True)
    raw: RawConnection | None = None
    try:
        ours.connect(endpoints)
        theirs.connect(endpoints)
        caches = {
            "ours": (ours, ours.get_or_create_cache(CACHE)),
            "pyignite": (theirs, theirs.get_or_create_cache(CACHE)),
        }
        warm_keys = _keys(max(sizes.warmup, 1))
        warm_batches = _batches(max(sizes.warmup // 10, 1))
        for name, (_, cache) in caches.items():
            put_get(cache, warm_keys)
            put_all_get_all(cache, warm_batches)
            _check(cache, name)
        _check_routed(ours)
        route = ours.route(CACHE, 0)
        connection = raw = RawConnection(route.endpoint or endpoints[0])
        connection.round_trips(max(sizes.warmup, 1))

        keys = _keys(sizes.sync_pairs)
        batches = _batches(sizes.batch_pairs)
        sync: dict[str, list[Sample]] = {"ours": [], "pyignite": []}
        multi: dict[str, list[Sample]] = {"ours": [], "pyignite": []}
        floor: list[Sample] = []
        count = sizes.floor_ops
        for round_number in range(sizes.rounds):
            log(f"sync round {round_number + 1}/{sizes.rounds}")
            for name, (client, cache) in caches.items():
                sync[name].append(
                    measure(server, client, 2 * len(keys), partial(put_get, cache, keys))
                )
            floor.append(
                measure(server, None, sizes.floor_ops, partial(connection.round_trips, count))
            )
            for name, (client, cache) in caches.items():
                multi[name].append(
                    measure(
                        server, client, 2 * len(batches), partial(put_all_get_all, cache, batches)
                    )
                )
    finally:
        if raw is not None:
            raw.close()
        ours.close()
        theirs.close()

    floor_us = _median([s.cpu_us for s in floor])
    ours_cpu = [s.cpu_us for s in sync["ours"]]
    their_cpu = [s.cpu_us for s in sync["pyignite"]]
    return [
        _rate_row(
            "sync_put_get",
            "sync put+get, sequential",
            "ops/s",
            sync["ours"],
            sync["pyignite"],
            (">=", 4.0),
        ),
        _row(
            "sync_client_cpu",
            "sync put+get, client CPU",
            "µs/op",
            ours_cpu,
            their_cpu,
            ("<=", 0.3),
        ),
        _row(
            "sync_cpu_above_floor",
            "sync put+get, client CPU above the floor",
            "µs/op",
            [v - floor_us for v in ours_cpu],
            [v - floor_us for v in their_cpu],
            None,
        ),
        {
            "id": "floor",
            "name": "floor: raw sendall + recv_into of a pre-encoded GET",
            "unit": "µs/op",
            "ours": floor_us,
            "pyignite": None,
            "ratio": None,
            "target": None,
            "met": None,
            "forwarded": None,
            "pyignite_forwarded": None,
            "rounds": {"floor": [s.cpu_us for s in floor]},
            "ops_per_s": _median([s.rate for s in floor]),
            "server_cpu_us_per_op": _server_cpu(floor),
        },
        _rate_row(
            "put_all_get_all_100",
            f"put_all + get_all of {BATCH} keys",
            "batches/s",
            multi["ours"],
            multi["pyignite"],
            (">=", 3.0),
        ),
    ]


async def _async_rows(
    server: ServerProcess, sizes: Sizes, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    from pyignite.aio_client import AioClient as PyigniteAioClient  # type: ignore[import-untyped]

    endpoints = server.endpoints
    ours = AioClient(partition_aware=True)
    theirs = PyigniteAioClient(partition_aware=True)
    try:
        await ours.connect(endpoints)
        await theirs.connect(endpoints)
        caches = {
            "ours": (ours, await ours.get_or_create_cache(CACHE)),
            "pyignite": (theirs, await theirs.get_or_create_cache(CACHE)),
        }
        warm_keys = _keys(max(sizes.warmup, 1))
        for _, cache in caches.values():
            await put_get_async(cache, warm_keys, 16)
        _check_routed(ours)
        samples: dict[int, dict[str, list[Sample]]] = {
            n: {"ours": [], "pyignite": []} for n in IN_FLIGHT
        }
        for round_number in range(sizes.rounds):
            log(f"async round {round_number + 1}/{sizes.rounds}")
            for in_flight in IN_FLIGHT:
                keys = _keys(max(sizes.async_pairs, 2 * in_flight))
                for name, (client, cache) in caches.items():
                    work = partial(put_get_async, cache, keys, in_flight)
                    sample = await measure_async(server, client, 2 * len(keys), work)
                    samples[in_flight][name].append(sample)
    finally:
        await ours.close()
        await theirs.close()
    return [
        _rate_row(
            f"async_{n}",
            f"AioClient put+get, {n} in flight",
            "ops/s",
            samples[n]["ours"],
            samples[n]["pyignite"],
            (">=", 5.0) if n == 256 else None,
        )
        for n in IN_FLIGHT
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meta(quick: bool, sizes: Sizes) -> dict[str, Any]:
    import pyignite

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyignite": getattr(pyignite, "__version__", PYIGNITE_VERSION),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_at_start": list(load) if load else None,
        "nodes": NODES,
        "keys": KEYS,
        "value": "100-char str",
        "quick": quick,
        "sizes": sizes.__dict__,
    }


def run(
    quick: bool, ops: int | None = None, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run every measurement; returns ``{"meta": {...}, "rows": [...]}``.

    ``ops`` (tests) shrinks every measurement to about that many operations.
    """
    say = log or (lambda _: None)
    sizes = Sizes.of(quick, ops)
    meta = _meta(quick, sizes)
    started = time.perf_counter()
    with ServerProcess(NODES) as server:
        rows = _sync_rows(server, sizes, say)
        batch_row = rows.pop()  # order: sync and floor rows, async rows, then batches
        rows.extend(asyncio.run(_async_rows(server, sizes, say)))
        rows.append(batch_row)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    meta["load_average_at_end"] = list(load) if load else None
    meta["seconds"] = round(time.perf_counter() - started, 1)
    return {"meta": meta, "rows": rows}


# -- reporting ---------------------------------------------------------------------------------


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "µs/op":
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _target(row: dict[str, Any]) -> str:
    target = row["target"]
    if target is None:
        return "—"
    sign = "≥" if target["op"] == ">=" else "≤"
    text = f"{sign} {target['ratio']:g}x"
    if row["forwarded"] is not None:
        text += ", forwarded 0"
    return text


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown table (with a line about the machine above it)."""
    meta = result["meta"]
    lines = [
        f"Python {meta['python']}, pyignite {meta['pyignite']}, {meta['cpus']} CPUs "
        f"({meta['cpu_model']}), {meta['nodes']}-node LocalCluster in its own process, "
        f"{meta['keys']} int keys, 100-char str values, median of {meta['sizes']['rounds']} "
        "alternating rounds",
        "",
        "| measurement | unit | ignite-router | pyignite 0.6.1 | ours / pyignite | target "
        "| met | forwarded (ours / pyignite) | client CPU µs/op (ours / pyignite) |",
        "|---|---|---:|---:|---:|---|---|---:|---:|",
    ]
    for row in result["rows"]:
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        met = {None: "—", True: "yes", False: "**no**"}[row["met"]]
        forwarded = (
            "—" if row["forwarded"] is None else f"{row['forwarded']} / {row['pyignite_forwarded']}"
        )
        cpu = row.get("client_cpu_us_per_op")
        cpu_text = "—" if cpu is None else f"{cpu['ours']:,.1f} / {cpu['pyignite']:,.1f}"
        lines.append(
            f"| {row['name']} | {row['unit']} | {_number(row['ours'], row['unit'])} "
            f"| {_number(row['pyignite'], row['unit'])} | {ratio} | {_target(row)} | {met} "
            f"| {forwarded} | {cpu_text} |"
        )
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    """A bar chart, ours vs pyignite, one panel per measurement (needs matplotlib)."""
    import matplotlib  # type: ignore[import-not-found,unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    rows = {row["id"]: row for row in result["rows"]}
    panels = [
        rows[name]
        for name in (
            "sync_put_get",
            "sync_client_cpu",
            "put_all_get_all_100",
            *(f"async_{n}" for n in IN_FLIGHT),
        )
        if name in rows
    ]
    columns = 3
    lines = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.6 * lines), squeeze=False)
    colours = {"ignite-router": "#2b6cb0", "pyignite 0.6.1": "#a0aec0", "floor": "#48bb78"}
    for ax, row in zip(axes.flat, panels, strict=False):
        bars = {"ignite-router": row["ours"], "pyignite 0.6.1": row["pyignite"]}
        if row["id"] == "sync_client_cpu" and "floor" in rows:
            bars["floor"] = rows["floor"]["ours"]
        names = list(bars)
        drawn = ax.bar(names, [bars[n] for n in names], color=[colours[n] for n in names])
        ax.bar_label(drawn, labels=[_number(bars[n], row["unit"]) for n in names], fontsize=8)
        ratio = "" if row["ratio"] is None else f" — {row['ratio']:.2f}x"
        ax.set_title(f"{row['name']}{ratio}", fontsize=9)
        ax.set_ylabel(row["unit"] + (" (lower is better)" if row["unit"] == "µs/op" else ""))
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    meta = result["meta"]
    figure.suptitle(
        f"ignite-router vs pyignite {meta['pyignite']} — {meta['nodes']}-node LocalCluster, "
        f"{meta['cpus']} CPUs, {meta['date'][:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# -- profiling ---------------------------------------------------------------------------------


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
            put_get(cache, _keys(KEYS))
            _check_routed(client)
            keys = _keys(pairs)
            profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
            profiler.enable()
            put_get(cache, keys)
            profiler.disable()
        finally:
            client.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    clock = "process_time (CPU)" if cpu else "perf_counter (wall)"
    return f"{2 * pairs} ops ({pairs} put+get pairs), profiler clock: {clock}\n" + out.getvalue()
