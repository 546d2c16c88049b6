"""Owners of every partition (primary and backups) and the bookkeeping of hedged reads.

``OP_CACHE_PARTITIONS`` names only primaries. For a cache with the default
affinity (``RendezvousAffinityFunction``) the backups follow from the same
assignment: :func:`ignite_router.affinity.assign` over the server nodes'
consistent ids in topology order (op 5100/5101) and the cache's backup count
(OP 1055, ``CacheConfiguration.getBackups``). An owner list is used only when
its primary is the one the server's map names for that partition, so a node
list that lags behind the topology never sends a read to a non-owner.

A hedged read goes to the primary; when no answer came within the hedge
delay, the same read goes to a backup owner and the first answer wins (the
speculative execution of Cassandra's drivers). :class:`HedgeBudget` bounds the
extra load; :class:`LatencyWindow` gives the adaptive delay.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ignite_router.affinity import assign
from ignite_router.protocol.errors import ParameterError

__all__ = [
    "CacheReplicas",
    "HedgeBudget",
    "HedgePolicy",
    "LatencyWindow",
    "ReplicaSet",
    "owners_by_partition",
]

_SAMPLES = 256  # answer times kept per node for the adaptive delay
_MIN_SAMPLES = 16  # a node's percentile counts once it has this many
_RECOMPUTE = 32  # the delay is recomputed after this many new answer times


@dataclass(frozen=True, slots=True)
class HedgePolicy:
    """When a read is sent again to a backup owner.

    - ``delay``: seconds to wait for the primary before hedging; None adapts
      it: the ``percentile`` of each node's recent answer times (the last 256
      hedged-path reads it answered), the median of those over the nodes (a
      slow node does not raise its own delay), never below ``floor``.
    - ``budget``: hedges allowed per read, on average (0.05: at most 5% more
      requests); ``burst``: hedges that may be sent at once beyond that rate.
    """

    delay: float | None = None
    floor: float = 0.001
    percentile: float = 0.99
    budget: float = 0.05
    burst: float = 10.0

    def __post_init__(self) -> None:
        if self.delay is not None and not self.delay >= 0:
            raise ParameterError(f"hedge delay must be >= 0 s, got {self.delay!r}")
        if not self.floor >= 0:
            raise ParameterError(f"hedge floor must be >= 0 s, got {self.floor!r}")
        if not 0 < self.percentile < 1:
            raise ParameterError(f"hedge percentile must be in (0, 1), got {self.percentile!r}")
        if not self.budget >= 0:
            raise ParameterError(f"hedge budget must be >= 0, got {self.budget!r}")
        if not self.burst >= 1:
            raise ParameterError(f"hedge burst must be >= 1, got {self.burst!r}")


class HedgeBudget:
    """A token bucket: each eligible read adds ``rate`` tokens (up to ``burst``); a hedge
    takes one. Over any run of reads, hedges <= rate * reads + burst."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst

    def deposit(self) -> None:
        self.tokens = min(self.burst, self.tokens + self.rate)

    def withdraw(self) -> bool:
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class LatencyWindow:
    """Recent answer times per node, and the adaptive hedge delay they give."""

    def __init__(self, percentile: float, floor: float) -> None:
        self.percentile = percentile
        self.floor = floor
        self._samples: dict[Any, deque[float]] = {}
        self._delay: float | None = None
        self._new = 0

    def add(self, node: Any, seconds: float) -> None:
        samples = self._samples.get(node)
        if samples is None:
            samples = self._samples[node] = deque(maxlen=_SAMPLES)
        samples.append(seconds)
        self._new += 1
        if self._new >= _RECOMPUTE:
            self._new = 0
            self._delay = self._compute()

    def delay(self) -> float | None:
        """The hedge delay; None until a node has enough answer times."""
        return self._delay

    def _compute(self) -> float | None:
        per_node = []
        for samples in self._samples.values():
            if len(samples) >= _MIN_SAMPLES:
                ordered = sorted(samples)
                per_node.append(ordered[math.ceil(self.percentile * len(ordered)) - 1])
        if not per_node:
            return None
        return max(self.floor, statistics.median(per_node))


def owners_by_partition(
    nodes: Sequence[tuple[int, Any, uuid.UUID]], parts: int, backups: int
) -> tuple[tuple[uuid.UUID, ...], ...]:
    """Per partition, its owners' node ids, primary first (``RendezvousAffinityFunction``).

    ``nodes`` are the server nodes as ``(topology order, consistent id, node id)``.
    """
    ordered = sorted(nodes, key=lambda node: node[0])
    consistent_ids = [node[1] for node in ordered]
    node_ids = [node[2] for node in ordered]
    table = assign(consistent_ids, parts, backups, node_ids)
    return tuple(tuple(node_ids[index] for index in owners) for owners in table)


@dataclass(slots=True)
class CacheReplicas:
    """A cache whose reads may be hedged: its backup count, and owners computed for the
    primaries table they were last checked against."""

    backups: int
    accept_stale: bool
    primaries: Sequence[uuid.UUID | None] | None = None
    owners: tuple[tuple[uuid.UUID, ...], ...] = ()


@dataclass(slots=True)
class ReplicaSet:
    """What the core knows for hedging: the policy, the server nodes, the hedged caches."""

    policy: HedgePolicy
    nodes: tuple[tuple[int, Any, uuid.UUID], ...] = ()
    nodes_version: int | None = None  # the topology's major version the nodes were read at
    caches: dict[int, CacheReplicas] = field(default_factory=dict)
    budget: HedgeBudget = field(init=False)
    latency: LatencyWindow = field(init=False)

    def __post_init__(self) -> None:
        self.budget = HedgeBudget(self.policy.budget, self.policy.burst)
        self.latency = LatencyWindow(self.policy.percentile, self.policy.floor)

    def delay(self) -> float | None:
        fixed = self.policy.delay
        return fixed if fixed is not None else self.latency.delay()

    def set_nodes(self, nodes: Sequence[tuple[int, Any, uuid.UUID]], version: int | None) -> None:
        """The server nodes as of topology major ``version``; owner tables are recomputed."""
        self.nodes = tuple(nodes)
        self.nodes_version = version
        for cache in self.caches.values():
            cache.primaries = None

    def owners_of(
        self, cache_id: int, primaries: Sequence[uuid.UUID | None], partition: int
    ) -> tuple[uuid.UUID, ...] | None:
        """The owners of ``partition`` (primary first), or None when not hedged: not a
        hedged cache, no node list, or a primary that differs from the server's map."""
        cache = self.caches.get(cache_id)
        if cache is None or not self.nodes:
            return None
        if cache.primaries is not primaries:
            cache.owners = owners_by_partition(self.nodes, len(primaries), cache.backups)
            cache.primaries = primaries
        owners = cache.owners[partition]
        if owners[0] != primaries[partition]:
            return None
        return owners
