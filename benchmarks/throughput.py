"""Throughput table: ignite-router against pyignite 0.6.1, operations per second.

Rows: sync put+get (ops/s, and client CPU µs per op), ``AioClient`` put+get with
1, 16 and 256 requests in flight, ``put_all`` + ``get_all`` of 100 keys. Both
clients are warmed up (connections open, partition maps fetched, results
checked); then every measurement alternates ours and pyignite's round by round
(ABAB...) and the row holds the median round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from benchmarks.harness import (
    BATCH,
    CACHE,
    Sample,
    ServerProcess,
    batches,
    check_routed,
    keys,
    measure,
    measure_async,
    median,
    put_all_get_all,
    put_get,
    put_get_async,
)
from ignite_router.aio import AioClient

__all__ = ["IN_FLIGHT", "async_rows", "row", "sync_rows"]

IN_FLIGHT = (1, 16, 256)


def row(
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
    """One row: medians, ours / pyignite, and whether ``target`` (op, ratio) is met."""
    our_value, their_value = median(ours), median(theirs)
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
    return median(values) if values else None


def _rate_row(
    row_id: str,
    name: str,
    unit: str,
    ours: list[Sample],
    theirs: list[Sample],
    target: tuple[str, float] | None,
) -> dict[str, Any]:
    return row(
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
            "ours": median([s.cpu_us for s in ours]),
            "pyignite": median([s.cpu_us for s in theirs]),
        },
        server_cpu_us_per_op={"ours": _server_cpu(ours), "pyignite": _server_cpu(theirs)},
    )


def sync_rows(
    server: ServerProcess,
    caches: dict[str, tuple[Any, Any]],
    sizes: Any,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Sync put+get and put_all+get_all rows; ``caches``: side -> (client, cache), warmed up."""
    pair_keys = keys(sizes.sync_pairs)
    groups = batches(sizes.batch_pairs)
    sync: dict[str, list[Sample]] = {"ours": [], "pyignite": []}
    multi: dict[str, list[Sample]] = {"ours": [], "pyignite": []}
    for round_number in range(sizes.rounds):
        log(f"throughput: sync round {round_number + 1}/{sizes.rounds}")
        for name, (client, cache) in caches.items():
            work = partial(put_get, cache, pair_keys)
            sync[name].append(measure(server, client, 2 * len(pair_keys), work))
        for name, (client, cache) in caches.items():
            work = partial(put_all_get_all, cache, groups)
            multi[name].append(measure(server, client, 2 * len(groups), work))
    return [
        _rate_row(
            "sync_put_get",
            "sync put+get, sequential",
            "ops/s",
            sync["ours"],
            sync["pyignite"],
            (">=", 4.0),
        ),
        row(
            "sync_client_cpu",
            "sync put+get, client CPU",
            "µs/op",
            [s.cpu_us for s in sync["ours"]],
            [s.cpu_us for s in sync["pyignite"]],
            ("<=", 0.3),
        ),
        _rate_row(
            "put_all_get_all_100",
            f"put_all + get_all of {BATCH} keys",
            "batches/s",
            multi["ours"],
            multi["pyignite"],
            (">=", 3.0),
        ),
    ]


async def async_rows(
    server: ServerProcess, sizes: Any, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """AioClient put+get at each IN_FLIGHT level, ours against pyignite's AioClient."""
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
        warm_keys = keys(max(sizes.warmup, 1))
        for _, cache in caches.values():
            await put_get_async(cache, warm_keys, 16)
        check_routed(ours)
        samples: dict[int, dict[str, list[Sample]]] = {
            n: {"ours": [], "pyignite": []} for n in IN_FLIGHT
        }
        for round_number in range(sizes.rounds):
            log(f"throughput: async round {round_number + 1}/{sizes.rounds}")
            for in_flight in IN_FLIGHT:
                level_keys = keys(max(sizes.async_pairs, 2 * in_flight))
                for name, (client, cache) in caches.items():
                    work = partial(put_get_async, cache, level_keys, in_flight)
                    sample = await measure_async(server, client, 2 * len(level_keys), work)
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
