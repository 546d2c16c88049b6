"""Immutable partition maps: which node is primary for each partition of each cache.

A :class:`PartitionMap` is one affinity topology version's answer to
``OP_CACHE_PARTITIONS`` (``ClientCachePartitionsResponse``): per cache id a :class:`CacheAffinity`
with a flat ``partition -> node id`` table, so a lookup is two index
operations whatever the number of nodes or partitions. Maps are swapped in
whole, never mutated; :class:`PartitionMapHistory` keeps them ordered by
version and ignores stale ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from sortedcontainers import SortedDict

from ignite_router.affinity.partition import MAX_PARTITIONS, partition_function

__all__ = ["CacheAffinity", "PartitionMap", "PartitionMapHistory", "TopologyVersion"]

TopologyVersion = tuple[int, int]
_EMPTY_KEY_CONFIG: Mapping[int, int] = MappingProxyType({})


def _unroutable(hash_code: int) -> int:
    raise ValueError("this cache has no partition map (not applicable)")


@dataclass(frozen=True, slots=True)
class CacheAffinity:
    """Placement of one cache: partition count, primaries and affinity key fields.

    ``primaries[p]`` is the primary node id of partition ``p`` (None if the
    map lists no primary). ``key_config`` maps a key type id to the field id
    of its affinity key field. A cache that is not ``applicable`` (replicated,
    custom affinity) is not routed by key.
    """

    applicable: bool
    primaries: tuple[uuid.UUID | None, ...] = ()
    key_config: Mapping[int, int] = field(default_factory=lambda: _EMPTY_KEY_CONFIG)
    partition_of: Callable[[int], int] = field(init=False, repr=False, compare=False)
    """Partition of a key hash (the ``RendezvousAffinityFunction`` formula)."""

    def __post_init__(self) -> None:
        function = partition_function(len(self.primaries)) if self.primaries else _unroutable
        object.__setattr__(self, "partition_of", function)

    @property
    def partitions(self) -> int:
        """Partition count: the largest listed partition id + 1, as the Java client infers it."""
        return len(self.primaries)

    @classmethod
    def not_applicable(cls) -> CacheAffinity:
        return cls(applicable=False)

    @classmethod
    def from_primaries(
        cls,
        node_partitions: Mapping[uuid.UUID, Iterable[int]],
        key_config: Mapping[int, int] | None = None,
    ) -> CacheAffinity:
        """Build from ``node id -> primary partitions`` (the OP_CACHE_PARTITIONS layout)."""
        owner: dict[int, uuid.UUID] = {}
        for node_id, parts in node_partitions.items():
            for part in parts:
                if not 0 <= part < MAX_PARTITIONS:
                    raise ValueError(f"partition id {part} out of range [0, {MAX_PARTITIONS})")
                owner[part] = node_id
        if not owner:
            raise ValueError("an applicable cache needs at least one partition")
        primaries = tuple(owner.get(part) for part in range(max(owner) + 1))
        config = MappingProxyType(dict(key_config)) if key_config else _EMPTY_KEY_CONFIG
        return cls(applicable=True, primaries=primaries, key_config=config)

    def node_for(self, hash_code: int) -> uuid.UUID | None:
        """Primary node id for a key hash; None when not routable."""
        if not self.primaries:
            return None
        return self.primaries[self.partition_of(hash_code)]


@dataclass(frozen=True, slots=True)
class PartitionMap:
    """All known cache placements for one affinity topology version ``(major, minor)``."""

    version: TopologyVersion
    caches: Mapping[int, CacheAffinity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "caches", MappingProxyType(dict(self.caches)))

    def cache(self, cache_id: int) -> CacheAffinity | None:
        """Placement of a cache, or None if this map does not cover it."""
        return self.caches.get(cache_id)

    def node_for(self, cache_id: int, hash_code: int) -> uuid.UUID | None:
        """Primary node id for a key hash in a cache; None if unknown or not routable."""
        affinity = self.caches.get(cache_id)
        return None if affinity is None else affinity.node_for(hash_code)

    def with_caches(self, caches: Mapping[int, CacheAffinity]) -> PartitionMap:
        """A new map of the same version that also covers ``caches`` (theirs win)."""
        merged = dict(self.caches)
        merged.update(caches)
        return PartitionMap(self.version, merged)

    def node_ids(self) -> frozenset[uuid.UUID]:
        """Every node that is primary for some partition of some cache."""
        return frozenset(
            node
            for affinity in self.caches.values()
            for node in affinity.primaries
            if node is not None
        )


class PartitionMapHistory:
    """Partition maps ordered by topology version; stale arrivals are ignored."""

    def __init__(self, maps: Sequence[PartitionMap] = ()) -> None:
        self._maps: SortedDict = SortedDict()
        for partition_map in maps:
            self.add(partition_map)

    def add(self, partition_map: PartitionMap) -> bool:
        """Keep ``partition_map`` unless a newer one is known; same version merges.

        Returns True when the map was taken (new or merged).
        """
        version = tuple(partition_map.version)
        if self._maps and version < self._maps.peekitem(-1)[0]:
            return False
        existing = self._maps.get(version)
        if existing is not None:
            partition_map = existing.with_caches(partition_map.caches)
        self._maps[version] = partition_map
        return True

    def latest(self) -> PartitionMap | None:
        """The newest map, or None when empty."""
        return self._maps.peekitem(-1)[1] if self._maps else None

    def at_or_below(self, version: TopologyVersion) -> PartitionMap | None:
        """The newest map whose version is ``<= version``."""
        index = self._maps.bisect_right(tuple(version))
        return self._maps.peekitem(index - 1)[1] if index else None

    def prune(self, keep: int) -> None:
        """Forget all but the ``keep`` newest maps."""
        while len(self._maps) > max(keep, 1):
            self._maps.popitem(0)

    def __len__(self) -> int:
        return len(self._maps)

    def __iter__(self) -> Iterator[PartitionMap]:
        return iter(self._maps.values())
