"""``ignite-router demo``: the mission, live — routing to primaries through a node failure.

An embedded ``LocalCluster`` serves a mixed workload from ``Client`` (single-
and multi-key operations on int, str and UUID keys). A third of the way
through one node is killed; at two thirds it comes back. The summary says
how many operations ran, how many errors reached the application, how many
acknowledged writes were lost (every one is read back at the end), the share
of key requests sent to the primary, failovers and retries, and how long
primary routing took to resume after the restart.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ignite_router.client import Client
from ignite_router.errors import OutcomeUnknownError
from ignite_router.testing import LocalCluster

__all__ = ["DemoSummary", "run_demo"]

KEYS = 2_000
BATCH = 20
TICK = 0.25  # seconds between live-view updates


@dataclass
class DemoSummary:
    ops: int
    errors: int
    unknown: int
    lost: int
    primary_ratio: float
    failovers: int
    retries: int
    reconnects: int
    recovery_s: float | None
    nodes: int
    backups: int
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _key(i: int) -> Any:
    kind = i % 3
    if kind == 0:
        return i
    if kind == 1:
        return f"user:{i}"
    return uuid.UUID(int=i * 2654435761 + 7)


class Workload:
    """Mixed single- and multi-key traffic; remembers every acknowledged write.

    A write in flight on the killed node raises ``OutcomeUnknownError`` (the node
    may have applied it before it died): it is counted apart, and its keys may hold
    the old or the new value until the next acknowledged write.
    """

    def __init__(self, client: Client) -> None:
        self.cache = client.get_or_create_cache("demo")
        self.acked: dict[Any, set[int | None]] = {}
        self.ops = 0
        self.unknown = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-workload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        cache = self.cache
        i = 0
        while not self._stop.is_set():
            if i % 10 == 9:
                keys = [_key((i + n * 37) % KEYS) for n in range(BATCH)]
            else:
                keys = [_key(i % KEYS)]
            try:
                if len(keys) > 1:
                    cache.put_all({key: i for key in keys})
                    for key in keys:
                        self.acked[key] = {i}
                    got = cache.get_all(keys)
                    if any(got.get(key) != i for key in keys):
                        self.errors.append("get_all returned a stale value")
                else:
                    cache.put(keys[0], i)
                    self.acked[keys[0]] = {i}
                    if cache.get(keys[0]) != i:
                        self.errors.append(f"get({keys[0]!r}) returned a stale value")
                self.ops += 2
            except OutcomeUnknownError:  # in flight on the node that died
                self.unknown += 1
                for key in keys:
                    self.acked[key] = self.acked.get(key, {None}) | {i}
            except Exception as error:  # an error the application would see
                self.errors.append(f"{type(error).__name__}: {error}")
            i += 1

    def lost(self) -> int:
        """Acknowledged writes that cannot be read back."""
        keys = list(self.acked)
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), 200):
            found.update(self.cache.get_all(keys[start : start + 200]))
        return sum(1 for key in keys if found.get(key) not in self.acked[key])


def _recovered(client: Client, cache: Any, node_id: uuid.UUID) -> bool:
    """Keys of the restarted node are routed to it as their primary again."""
    for i in range(300):
        route = client.route(cache, _key(i))
        if route.node_id == node_id:
            return route.reason == "primary"
    return False


def run_demo(
    nodes: int = 3,
    backups: int = 1,
    duration: float = 20.0,
    on_tick: Callable[[dict[str, Any]], None] | None = None,
    cluster_options: dict[str, Any] | None = None,
    client_options: dict[str, Any] | None = None,
) -> DemoSummary:
    """Run the scenario; ``on_tick`` gets a snapshot about four times a second.

    ``cluster_options`` go to the embedded ``LocalCluster`` (e.g. ``ssl_context``,
    ``credentials``), ``client_options`` to the ``Client`` (e.g. ``ssl_context``,
    ``username``/``password``).
    """
    if nodes < 2:
        raise ValueError("the demo needs at least 2 nodes (one of them is killed)")
    if backups < 1:
        raise ValueError("the demo needs backups >= 1 so that no acknowledged write is lost")
    if duration <= 0:
        raise ValueError("duration must be positive")
    victim = nodes - 1
    with LocalCluster(nodes=nodes, backups=backups, **(cluster_options or {})) as cluster:
        client = Client(timeout=2.0, **(client_options or {}))
        with client.connect(cluster.endpoints):
            work = Workload(client)
            work.cache.get(0)  # fetch the partition map before measuring
            cluster.reset_stats()
            work.start()
            started = time.monotonic()
            killed = restarted = False
            restart_time = recovery = None
            phase = "steady"
            next_tick = 0.0
            while (elapsed := time.monotonic() - started) < duration:
                if not killed and elapsed >= duration / 3:
                    cluster.kill_node(victim)
                    killed, phase = True, f"node {victim} killed"
                if killed and not restarted and elapsed >= 2 * duration / 3:
                    cluster.start_node(victim)
                    restarted, phase = True, f"node {victim} restarted"
                    restart_time = time.monotonic()
                    new_id = cluster.nodes[victim].node_id
                if (
                    restart_time is not None
                    and recovery is None
                    and _recovered(client, work.cache, new_id)
                ):
                    recovery = time.monotonic() - restart_time
                    phase = f"node {victim} back as primary"
                if on_tick is not None and elapsed >= next_tick:
                    on_tick(_snapshot(client, cluster, work, elapsed, phase))
                    next_tick = elapsed + TICK
                time.sleep(0.02)
            work.stop()
            lost = work.lost()
            metrics = client.metrics()["nodes"].values()
            to_primary = sum(node["to_primary"] for node in metrics)
            fallback = sum(node["fallback"] for node in metrics)
            return DemoSummary(
                ops=work.ops,
                errors=len(work.errors),
                unknown=work.unknown,
                lost=lost,
                primary_ratio=round(to_primary / max(to_primary + fallback, 1), 4),
                failovers=sum(node["failovers"] for node in metrics),
                retries=sum(node["retries"] for node in metrics),
                reconnects=sum(node["reconnects"] for node in metrics),
                recovery_s=None if recovery is None else round(recovery, 3),
                nodes=nodes,
                backups=backups,
                duration_s=round(time.monotonic() - started, 2),
            )


def _snapshot(
    client: Client, cluster: LocalCluster, work: Workload, elapsed: float, phase: str
) -> dict[str, Any]:
    stats = cluster.stats()
    metrics = client.metrics()
    rows = []
    for index, info in enumerate(cluster.nodes):
        endpoint = "{}:{}".format(*cluster.endpoints[index])
        ours = metrics["nodes"].get(endpoint, {})
        rows.append(
            {
                "node": index,
                "endpoint": endpoint,
                "alive": info.alive,
                "node_id": str(info.node_id)[:8],
                "requests": ours.get("requests", 0),
                "to_primary": ours.get("to_primary", 0),
                "fallback": ours.get("fallback", 0),
                "forwarded": stats[index]["forwarded"],
            }
        )
    return {
        "elapsed": elapsed,
        "phase": phase,
        "ops": work.ops,
        "errors": len(work.errors),
        "topology_version": metrics["topology_version"],
        "nodes": rows,
    }
