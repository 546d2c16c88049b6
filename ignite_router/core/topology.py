"""``TopologyTracker``: which affinity topology version is current, and the partition maps.

Every response header may carry the affinity topology version of the node
that sent it (``ClientAffinityTopologyVersion``). The tracker keeps the newest version any
node reported and, per cache, the newest map it has with that map's
version. A map is *fresh* when its version has caught up with the newest
reported one. Refreshes are single-flight: at most one OP_CACHE_PARTITIONS
is in flight, covering every cache that wants one. Nodes learn versions one
by one (``GridDhtPartitionsExchangeFuture``), so an answer from a lagging node may be older than
another node already reported: it still replaces an older map of a cache
(it is the best known), never a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from ignite_router.affinity import CacheAffinity, PartitionMap
from ignite_router.affinity.partition_map import TopologyVersion

__all__ = ["CacheMap", "TopologyTracker"]

LAGGING_RETRY = 0.05  # seconds before asking again when an answer left caches stale


class CacheMap:
    """A cache's placement and the topology version it was read at."""

    __slots__ = ("affinity", "version")

    def __init__(self, affinity: CacheAffinity, version: TopologyVersion) -> None:
        self.affinity = affinity
        self.version = version


class TopologyTracker:
    """Newest reported topology version, per-cache maps, and the refresh flight."""

    def __init__(self) -> None:
        self.version: TopologyVersion | None = None  # newest version any node reported
        self.maps: MappingProxyType[int, CacheMap] = MappingProxyType({})
        self._wanted: set[int] = set()  # caches to ask for in the next refresh
        self._in_flight = False
        self._not_before = 0.0

    def observe(self, version: TopologyVersion) -> bool:
        """A node reported ``version``; True if it is newer than anything seen."""
        if self.version is not None and version <= self.version:
            return False
        self.version = version
        self._not_before = 0.0
        return True

    def cache_map(self, cache_id: int) -> CacheMap | None:
        return self.maps.get(cache_id)

    def is_fresh(self, cache_map: CacheMap) -> bool:
        return self.version is None or cache_map.version >= self.version

    def want(self, cache_id: int) -> None:
        """Ask for ``cache_id`` in the next refresh."""
        self._wanted.add(cache_id)

    @property
    def wanted(self) -> bool:
        """Some cache wants a fresh map (a refresh may be due)."""
        return bool(self._wanted)

    def begin_refresh(self, now: float) -> list[int] | None:
        """Cache ids to request now, or None (nothing wanted, one in flight, or backing off).

        Every cache already mapped is asked for again too: one answer then
        moves them all to the new version together.
        """
        if self._in_flight or not self._wanted or now < self._not_before:
            return None
        self._in_flight = True
        wanted = sorted(self._wanted | set(self.maps))
        self._wanted.clear()
        return wanted

    def refresh_failed(self, cache_ids: Iterable[int]) -> None:
        """The refresh got no answer: its caches are wanted again."""
        self._in_flight = False
        self._wanted.update(cache_ids)

    def install(self, partition_map: PartitionMap, requested: Iterable[int], now: float) -> bool:
        """Take a refresh answer; returns True if any cache's map changed.

        Caches the answer covers replace an older map; requested caches the
        answer omits (not ready for that version) stay wanted.
        """
        self._in_flight = False
        version = tuple(partition_map.version)
        self.observe(version)  # type: ignore[arg-type]
        maps = dict(self.maps)
        changed = False
        for cache_id, affinity in partition_map.caches.items():
            known = maps.get(cache_id)
            if known is None or known.version <= version:
                maps[cache_id] = CacheMap(affinity, version)  # type: ignore[arg-type]
                changed = True
        self._wanted.update(cache_id for cache_id in requested if cache_id not in maps)
        if self.version is not None and version < self.version:
            self._wanted.update(maps)
        if self._wanted:  # a lagging node or caches not ready: ask again, not at once
            self._not_before = now + LAGGING_RETRY
        if changed:
            self.maps = MappingProxyType(maps)
        return changed

    def forget(self, cache_id: int) -> None:
        """A destroyed cache: drop its map."""
        if cache_id in self.maps:
            maps = dict(self.maps)
            del maps[cache_id]
            self.maps = MappingProxyType(maps)
        self._wanted.discard(cache_id)
