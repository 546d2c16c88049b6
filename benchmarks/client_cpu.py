"""Client CPU table: CPU time of the client process per operation, whatever the server does.

Each row is ``time.process_time()`` of this process per operation, so a slow or
busy server changes the wall clock but not these numbers. Three clients on the
same cluster, keys and values: the minimal raw-socket client
(:mod:`benchmarks.raw_client`), ignite-router and pyignite 0.6.1 on its real
code path. Every round measures every row once, each side right after the
other (ABAB... over the rounds); the table holds the median round. Server CPU
per operation (``/proc/<pid>/stat`` of the cluster process) and the server's
``forwarded`` count are read for every measured phase.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from benchmarks.harness import (
    BATCH,
    CACHE,
    KEYS,
    BenchError,
    Sample,
    ServerProcess,
    batches,
    check_routed,
    gets,
    gets_async,
    keys,
    measure,
    measure_async,
    median,
    put_all_get_all,
    puts,
)
from benchmarks.raw_client import RawClient
from ignite_router.affinity import string_hash
from ignite_router.aio import AioClient

__all__ = ["HASH_LENGTHS", "IN_FLIGHT", "cpu_rows"]

IN_FLIGHT = 256
HASH_LENGTHS = (8, 64, 1024)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789:_-"

# Targets (op, bound, against): "raw" = ours / raw minimal, "pyignite" = ours / pyignite,
# "absolute" = the value itself.
_TARGETS: dict[str, tuple[str, float, str]] = {
    "get": ("<=", 1.5, "raw"),
    "put": ("<=", 1.5, "raw"),
    "async_get_256": ("<=", 1.0, "raw"),
    "put_all_get_all_per_key": ("<=", 0.2, "pyignite"),
    **{f"hash_{n}": ("<=", 1.0, "pyignite") for n in HASH_LENGTHS},
    "server_get": ("<=", 25.0, "absolute"),
    "server_put": ("<=", 25.0, "absolute"),
}


def _fresh_strings(rng: random.Random, length: int, count: int) -> list[str]:
    return ["".join(rng.choices(_ALPHABET, k=length)) for _ in range(count)]


def _hash_ns(function: Callable[[str], object], texts: Sequence[str]) -> float:
    """Client CPU ns per call of ``function`` over ``texts`` (strings never hashed before)."""
    start = time.process_time_ns()
    for text in texts:
        function(text)
    return (time.process_time_ns() - start) / len(texts)


def _raw_client(caches: dict[str, tuple[Any, Any]]) -> RawClient:
    """The minimal client, each key mapped to its primary's endpoint as ours routes it."""
    ours, cache = caches["ours"]
    primaries = []
    for key in range(KEYS):
        route = ours.route(CACHE, key)
        if route.reason != "primary" or route.endpoint is None:
            raise BenchError(f"no primary known for key {key}: {route}")
        primaries.append((key, route.endpoint))
    raw = RawClient(primaries, CACHE)
    if raw.get(0) != cache.get(0):
        raw.close()
        raise BenchError("the raw client read another value than ignite-router")
    return raw


async def _open_async(server: ServerProcess, opened: dict[str, tuple[Any, Any]]) -> None:
    """Ours and pyignite's AioClient, connected and warmed up, into ``opened``."""
    from pyignite.aio_client import AioClient as PyigniteAioClient  # type: ignore[import-untyped]

    # In ``opened`` before they connect: the caller closes them even if connecting fails.
    opened["ours"] = (AioClient(partition_aware=True), None)
    opened["pyignite"] = (PyigniteAioClient(partition_aware=True), None)
    for side, (client, _) in list(opened.items()):
        await client.connect(server.endpoints)
        cache = await client.get_or_create_cache(CACHE)
        opened[side] = (client, cache)
        await gets_async(cache, keys(KEYS), 16)
    check_routed(opened["ours"][0])


async def _close_async(opened: dict[str, tuple[Any, Any]]) -> None:
    for client, _ in opened.values():
        await client.close()


class _Run:
    """One run of the table: the clients, and the samples measured round after round."""

    def __init__(
        self,
        server: ServerProcess,
        caches: dict[str, tuple[Any, Any]],
        raw: RawClient,
        aio: dict[str, tuple[Any, Any]],
        runner: asyncio.Runner,
        sizes: Any,
    ) -> None:
        self.server = server
        self.sync = {"raw": (None, raw), **caches}
        self.batch = caches
        self.aio = aio
        self.runner = runner
        self.sizes = sizes
        self.samples: dict[tuple[str, str], list[Sample]] = {}
        self.hashes: dict[tuple[int, str], list[float]] = {}
        self.rng = random.Random(20261203)

    def _add(self, row_id: str, side: str, sample: Sample) -> None:
        self.samples.setdefault((row_id, side), []).append(sample)

    def phases(self, row_id: str, *sides: str) -> dict[str, list[Sample]]:
        return {side: self.samples.get((row_id, side), []) for side in sides}

    def round(self) -> None:
        """Every row once, the sides one right after the other."""
        from pyignite import _cutils  # type: ignore[import-untyped]  # pyignite's C string hash

        server, sizes = self.server, self.sizes
        op_keys = keys(sizes.cpu_ops)
        for row_id, work in (("get", gets), ("put", puts)):
            for side, (client, cache) in self.sync.items():
                job = partial(work, cache, op_keys)
                self._add(row_id, side, measure(server, client, len(op_keys), job))
        async_keys = keys(max(sizes.cpu_async_ops, 2 * IN_FLIGHT))
        for side, (client, cache) in self.aio.items():
            many = partial(gets_async, cache, async_keys, IN_FLIGHT)
            sample = self.runner.run(measure_async(server, client, len(async_keys), many))
            self._add("async_get_256", side, sample)
        groups = batches(sizes.cpu_batches)
        for side, (client, cache) in self.batch.items():
            job = partial(put_all_get_all, cache, groups)
            sample = measure(server, client, 2 * BATCH * len(groups), job)
            self._add("put_all_get_all_per_key", side, sample)
        for length in HASH_LENGTHS:
            count = sizes.hash_keys if length < 1024 else max(sizes.hash_keys // 10, 10)
            for side, function in (("ours", string_hash), ("pyignite", _cutils.hashcode)):
                texts = _fresh_strings(self.rng, length, count)
                self.hashes.setdefault((length, side), []).append(_hash_ns(function, texts))


def cpu_rows(
    server: ServerProcess,
    caches: dict[str, tuple[Any, Any]],
    sizes: Any,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Every row of the client CPU table; ``caches``: side -> (sync client, cache), warmed up."""
    raw = _raw_client(caches)
    aio: dict[str, tuple[Any, Any]] = {}
    try:
        with asyncio.Runner() as runner:
            try:
                runner.run(_open_async(server, aio))
                run = _Run(server, caches, raw, aio, runner, sizes)
                for round_number in range(sizes.rounds):
                    log(f"client CPU: round {round_number + 1}/{sizes.rounds}")
                    run.round()
            finally:
                runner.run(_close_async(aio))
    finally:
        raw.close()
    return _rows(run)


def _row(
    row_id: str,
    name: str,
    unit: str,
    values: dict[str, list[float]],
    forwarded: dict[str, int] | None = None,
    server_cpu: dict[str, float | None] | None = None,
    key_requests: dict[str, int] | None = None,
) -> dict[str, Any]:
    medians = {side: median(v) if v else None for side, v in values.items()}
    ours, raw, theirs = medians.get("ours"), medians.get("raw"), medians.get("pyignite")
    op, bound, against = _TARGETS[row_id]
    relative = against != "absolute"
    ratios = {
        "raw": ours / raw if relative and ours is not None and raw else None,
        "pyignite": ours / theirs if relative and ours is not None and theirs else None,
        "absolute": ours,
    }
    checked = ratios[against]
    met = None if checked is None else (checked <= bound if op == "<=" else checked >= bound)
    if met is not None and forwarded is not None:
        met = met and forwarded.get("ours", 0) == 0
    return {
        "id": row_id,
        "name": name,
        "unit": unit,
        "raw": raw,
        "ours": ours,
        "pyignite": theirs,
        "ours_vs_raw": ratios["raw"],
        "ours_vs_pyignite": ratios["pyignite"],
        "target": {"op": op, "bound": bound, "against": against},
        "met": met,
        "forwarded": forwarded,
        "key_requests": key_requests,
        "server_cpu_us_per_op": server_cpu,
        "rounds": values,
    }


def _server_cpu_us(samples: Sequence[Sample]) -> float | None:
    """Server CPU µs per op over all rounds together: ``/proc`` counts in 10 ms ticks."""
    cpu = [s.server_cpu for s in samples]
    if not samples or any(c is None for c in cpu):
        return None
    return sum(c for c in cpu if c is not None) / sum(s.ops for s in samples) * 1e6


def _phase_row(row_id: str, name: str, samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """A row of measured phases: client CPU per op by side, with the server's view of them."""
    server = {side: _server_cpu_us(got) for side, got in samples.items()}
    return _row(
        row_id,
        name,
        "µs/key" if row_id == "put_all_get_all_per_key" else "µs/op",
        {side: [s.cpu_us for s in got] for side, got in samples.items()},
        forwarded={side: sum(s.forwarded for s in got) for side, got in samples.items()},
        server_cpu=server,
        key_requests={side: sum(s.key_requests for s in got) for side, got in samples.items()},
    )


def _rows(run: _Run) -> list[dict[str, Any]]:
    three = ("raw", "ours", "pyignite")
    batch_row = _phase_row(
        "put_all_get_all_per_key",
        f"put_all + get_all of {BATCH}, per key",
        run.phases("put_all_get_all_per_key", "ours", "pyignite"),
    )
    batch_row["client_fallback"] = sum(
        s.fallback for s in run.phases(batch_row["id"], "ours")["ours"]
    )
    rows = [
        _phase_row("get", "get, sync, one request in flight", run.phases("get", *three)),
        _phase_row("put", "put, sync, one request in flight", run.phases("put", *three)),
        # The target compares with the raw client's sequential get: that is its raw column.
        _phase_row(
            "async_get_256",
            f"AioClient.get, {IN_FLIGHT} in flight (raw: sequential get)",
            {**run.phases("get", "raw"), **run.phases("async_get_256", "ours", "pyignite")},
        ),
        batch_row,
    ]
    for length in HASH_LENGTHS:
        values = {side: run.hashes[(length, side)] for side in ("ours", "pyignite")}
        rows.append(
            _row(f"hash_{length}", f"string hash, new {length}-char keys", "ns/hash", values)
        )
    for row_id, op in (("server_get", "get"), ("server_put", "put")):
        per_side = {side: _server_cpu_us(got) for side, got in run.phases(op, *three).items()}
        values = {side: [v] for side, v in per_side.items() if v is not None}
        rows.append(_row(row_id, f"LocalCluster server CPU per {op}", "µs/op", values))
    return rows
