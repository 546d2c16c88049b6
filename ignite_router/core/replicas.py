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
extra load; :class:`LatencyWindow` gives the adaptive delay. A replica read
goes to one of the owners, chosen by :func:`choose_replica`.
"""

from __future__ import annotations

import enum
import math
import random
import statistics
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ignite_router.affinity import assign
from ignite_router.protocol.errors import ParameterError

__all__ = [
    "PROBE_INTERVAL",
    "SLOW_STREAK",
    "CacheReplicas",
    "HedgeBudget",
    "HedgePolicy",
    "LatencyWindow",
    "ReplicaReads",
    "ReplicaSet",
    "choose_replica",
    "owners_by_partition",
]

_SAMPLES = 256  # answer times kept per node for the adaptive delay
_MIN_SAMPLES = 16  # a node's percentile counts once it has this many
_RECOMPUTE = 128  # the delay is recomputed after this many new answer times
# A primary whose hedges a backup won this many times in a row is known slow: its reads are
# hedged at once (delay 0), except one read per PROBE_INTERVAL seconds, which waits the
# ordinary delay to see whether the primary answers in time again.
SLOW_STREAK = 2
PROBE_INTERVAL = 0.25


class ReplicaReads(enum.Enum):
    """How a replica read picks the owner it goes to."""

    ROUND_ROBIN = "round_robin"  # each owner in turn
    LEAST_IN_FLIGHT = "least_in_flight"  # of two owners drawn at random, the less busy one


def choose_replica(
    strategy: ReplicaReads,
    owners: Sequence[Any],
    turn: int,
    in_flight: Callable[[Any], int],
    rng: random.Random,
) -> Any:
    """The owner (of the live ``owners``, primary first) a replica read goes to.

    ``turn`` counts the replica reads so far (round robin); ``in_flight`` tells how
    many requests an owner has unanswered (the power of two choices: of two owners
    drawn at random, the one with fewer; the primary on a tie).
    """
    if len(owners) == 1:
        return owners[0]
    if strategy is ReplicaReads.ROUND_ROBIN:
        return owners[turn % len(owners)]
    first, second = sorted(rng.sample(range(len(owners)), 2))
    return owners[second] if in_flight(owners[second]) < in_flight(owners[first]) else owners[first]


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
    """A cache whose reads may go to backup owners (hedged or replica reads): its backup
    count, and owners computed for the primaries table they were last checked against."""

    backups: int
    primaries: Sequence[uuid.UUID | None] | None = None
    owners: tuple[tuple[uuid.UUID, ...], ...] = ()
    # owner_nodes memo: partition -> the owners as the client's nodes (or None), valid for
    # ``primaries`` and a registry of ``resolved_for`` nodes
    resolved: dict[int, tuple[Any, ...] | None] = field(default_factory=dict)
    resolved_for: int = -1


@dataclass(slots=True)
class ReplicaSet:
    """What the core knows for reads from backups: the hedge policy, the server nodes, the
    caches whose reads may go to backup owners."""

    policy: HedgePolicy
    nodes: tuple[tuple[int, Any, uuid.UUID], ...] = ()
    nodes_version: int | None = None  # the topology's major version the nodes were read at
    caches: dict[int, CacheReplicas] = field(default_factory=dict)
    # per primary: hedges a backup won in a row, and when it was last probed (clock seconds)
    slow: dict[Any, tuple[int, float]] = field(default_factory=dict)
    budget: HedgeBudget = field(init=False)
    latency: LatencyWindow = field(init=False)

    def __post_init__(self) -> None:
        self.budget = HedgeBudget(self.policy.budget, self.policy.burst)
        self.latency = LatencyWindow(self.policy.percentile, self.policy.floor)

    def delay(self, primary: Any, now: float) -> float | None:
        """The hedge delay for a read whose primary is ``primary`` (None: do not hedge yet).

        0 while the primary is known slow (its last ``SLOW_STREAK`` hedged reads
        were answered first by a backup), but for one read per ``PROBE_INTERVAL``:
        that one waits the ordinary delay, and an answer from the primary within
        it ends the streak.
        """
        fixed = self.policy.delay
        delay = fixed if fixed is not None else self.latency.delay()
        slow = self.slow.get(primary)
        if delay is None or slow is None or slow[0] < SLOW_STREAK:
            return delay
        if now - slow[1] >= PROBE_INTERVAL:
            self.slow[primary] = (slow[0], now)
            return delay
        return 0.0

    def suspect(self, primary: Any) -> bool:
        """Whether a backup answered first for ``primary``'s last hedged read (its next
        hedge is worth sending on time, not a timer tick late)."""
        return primary in self.slow

    def answered(self, primary: Any, answered_by: Any, seconds: float) -> None:
        """A hedged-path read of ``primary`` was answered first by ``answered_by``."""
        self.latency.add(answered_by, seconds)
        if answered_by == primary:
            self.slow.pop(primary, None)
        else:
            streak, probed = self.slow.get(primary, (0, -math.inf))
            self.slow[primary] = (streak + 1, probed)

    def set_nodes(self, nodes: Sequence[tuple[int, Any, uuid.UUID]], version: int | None) -> None:
        """The server nodes as of topology major ``version``; owner tables are recomputed."""
        self.nodes = tuple(nodes)
        self.nodes_version = version
        for cache in self.caches.values():
            cache.primaries = None

    def owner_nodes(
        self,
        cache_id: int,
        primaries: Sequence[uuid.UUID | None],
        partition: int,
        by_id: Mapping[uuid.UUID, Any],
    ) -> tuple[Any, ...] | None:
        """:meth:`owners_of` as the client's node objects (None for an id ``by_id`` does
        not know), remembered per partition until the owner table or the number of
        known nodes changes: the read path hashes no UUID."""
        cache = self.caches.get(cache_id)
        if cache is None:
            return None
        if cache.primaries is not primaries or cache.resolved_for != len(by_id):
            cache.resolved = {}
            cache.resolved_for = len(by_id)
        memo = cache.resolved
        if partition in memo:
            return memo[partition]
        owners = self.owners_of(cache_id, primaries, partition)
        nodes = None if owners is None else tuple(by_id.get(owner) for owner in owners)
        memo[partition] = nodes
        return nodes

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
