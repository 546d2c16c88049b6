"""The data model of the local cluster: nodes, caches, placement, storage, versions.

Pure bookkeeping with no I/O and no clock, driven by the server (one
event-loop thread); timed behaviour (the late-affinity switch, nodes learning
versions one by one, exchanges) is scheduled by ``LocalCluster`` through
:attr:`ClusterModel.on_version`. Placement follows Ignite: partitions go to
owners by ``affinity.assign`` over the consistent ids of the live nodes (node
ids break ties); every owner keeps its own copy; a node that leaves takes its
copies with it and the remaining owners rebalance onto the new ones at once.
With ``late_affinity`` a partition whose ideal primary does not hold it yet
keeps a current owner as primary until :meth:`ClusterModel.finish_rebalance`
(``CacheAffinitySharedManager``: the ``(N, 0)`` / ``(N, 1)`` stages).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ignite_router.affinity import (
    REPLICATED_BACKUPS,
    IgniteType,
    affinity_hash,
    assign,
    field_id,
    java_hash,
    partition_function,
    type_id,
)
from ignite_router.protocol.messages.cache_config import CacheMode, CacheProperty
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.values import BinaryTypeRegistry, read_value
from ignite_router.protocol.wire import I32

__all__ = ["CacheState", "ClusterModel", "NodeState", "NodeStats"]

REPLICATED_PARTITIONS = 512  # Ignite's default for replicated caches (fact sheet §7.1)
ATOMIC = 1  # CACHE_ATOMICITY_MODE values: 0 TRANSACTIONAL, 1 ATOMIC (the default)
HISTORY_SIZE = 1000  # topology versions remembered for endpoint discovery (OP 5102)
MAP_HISTORY = 64  # primary maps remembered per cache, for nodes that lag behind
_MEMO_LIMIT = 1 << 20  # raw keys whose partition is remembered per cache
_COMPLEX_OBJECT = 0x67
_HINTS = {int(t): t for t in IgniteType}

Store = dict[bytes, bytes]  # raw key -> raw value, one partition on one node


class NodeStats:
    """Per-node counters, cheap to bump on the hot path."""

    __slots__ = ("connections", "errors", "forwarded", "key_requests", "requests")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0  # every request after the handshake
        self.key_requests = 0  # single-key operations (the ones clients route by key)
        self.forwarded = 0  # key requests for which this node is not the primary
        self.connections = 0  # connections accepted
        self.errors = 0  # requests answered with an error status

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in sorted(self.__slots__)}


@dataclass
class NodeState:
    """One server node; ``node_id`` changes on every start, ``consistent_id`` never."""

    consistent_id: str
    port: int
    node_id: uuid.UUID = field(default_factory=uuid.uuid4)
    alive: bool = False
    order: int = 0  # the topology version its last join made (Ignite's node order)
    seen: tuple[int, int] = (0, 0)  # the newest version this node knows (and reports)
    data: dict[int, dict[int, Store]] = field(default_factory=dict)  # cache -> part -> store
    stats: NodeStats = field(default_factory=NodeStats)


@dataclass
class CacheState:
    """A cache: configuration, owners and copies of every partition."""

    name: str
    cache_id: int
    properties: dict[int, Any]
    partitions: int
    backups: int
    replicated: bool
    transactional: bool
    key_config: dict[int, int]  # key type id -> affinity field id
    owners: list[tuple[int, ...]] = field(default_factory=list)  # part -> node indices
    copies: list[list[Store]] = field(default_factory=list)  # part -> owners' stores
    primaries: tuple[int, ...] = ()  # part -> primary node index: the client-visible mapping
    # (version, primaries) of the last MAP_HISTORY versions, oldest first
    map_history: list[tuple[tuple[int, int], tuple[int, ...]]] = field(default_factory=list)
    expiries: dict[bytes, float] = field(default_factory=dict)  # raw key -> deadline (monotonic)
    partition_of_hash: Callable[[int], int] = field(init=False, repr=False)
    partition_memo: dict[bytes, int] = field(default_factory=dict, repr=False)

    def primaries_at(self, version: tuple[int, int]) -> tuple[int, ...] | None:
        """The primary map a node that knows ``version`` has; None if the cache is newer."""
        for seen, primaries in reversed(self.map_history):
            if seen <= version:
                return primaries
        return None

    def __post_init__(self) -> None:
        self.partition_of_hash = partition_function(self.partitions)


class ClusterModel:
    """Everything the nodes share: membership, caches, data and the topology version."""

    def __init__(
        self,
        consistent_ids: list[str],
        ports: list[int],
        partitions: int,
        backups: int,
        late_affinity: bool = False,
    ):
        partition_function(partitions)  # validates the count
        if backups < 0:
            raise ValueError(f"backups must be >= 0, got {backups}")
        self.late_affinity = late_affinity
        self.staged = False  # some primary is kept until the rebalance finishes
        # Called after every version change with the node that made it (None for
        # joins and leaves); a listener may delay when the other nodes learn it.
        self.on_version: Callable[[int | None], None] | None = None
        self.nodes = [NodeState(cid, port) for cid, port in zip(consistent_ids, ports, strict=True)]
        self.default_partitions = partitions
        self.default_backups = backups
        self.caches: dict[int, CacheState] = {}
        self.registry = BinaryTypeRegistry()
        self.type_names: dict[tuple[int, int], str] = {}
        self.major = 0
        self.minor = 0
        self.state = ClusterState.ACTIVE
        self.history: dict[int, tuple[tuple[uuid.UUID, int], ...]] = {}

    # -- topology ----------------------------------------------------------------

    @property
    def version(self) -> tuple[int, int]:
        return self.major, self.minor

    def alive_indices(self) -> list[int]:
        return [i for i, node in enumerate(self.nodes) if node.alive]

    def add_node(self, consistent_id: str, port: int) -> int:
        if any(node.consistent_id == consistent_id for node in self.nodes):
            raise ValueError(f"consistent id {consistent_id!r} is already taken")
        self.nodes.append(NodeState(consistent_id, port))
        return len(self.nodes) - 1

    def join(self, index: int) -> None:
        """Node ``index`` starts (new node UUID): a new major version, rebalance."""
        node = self.nodes[index]
        node.node_id = uuid.uuid4()
        node.alive = True
        node.data = {}
        node.order = self.major + 1
        self._topology_changed()
        self.learn(index, self.version)  # a joining node starts with the current version

    def leave(self, index: int) -> None:
        """Node ``index`` is gone with its copies: a new major version, rebalance."""
        node = self.nodes[index]
        node.alive = False
        node.data = {}
        self._topology_changed()

    def finish_rebalance(self) -> bool:
        """End the late-affinity stage: the ideal assignment, minor + 1 (False if none)."""
        if not self.staged:
            return False
        self.staged = False
        self.minor += 1
        memo: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for cache in self.caches.values():
            self._rebalance(cache, memo, late=False)
        self._version_changed(None)
        return True

    def seen_by(self, index: int) -> tuple[int, int]:
        """The version node ``index`` reports (behind :attr:`version` while it lags)."""
        return self.nodes[index].seen

    def learn(self, index: int, version: tuple[int, int]) -> None:
        """Node ``index`` learns ``version`` (never goes back)."""
        node = self.nodes[index]
        if node.alive and version > node.seen:
            node.seen = version

    def _version_changed(self, initiator: int | None) -> None:
        version = self.version
        for cache in self.caches.values():
            history = cache.map_history
            if not history or history[-1][1] != cache.primaries or history[-1][0] != version:
                history.append((version, cache.primaries))
            del history[:-MAP_HISTORY]
        if self.on_version is None:
            for index in self.alive_indices():
                self.nodes[index].seen = version
        else:
            self.on_version(initiator)

    def _topology_changed(self) -> None:
        self.major += 1
        self.minor = 0
        self.history[self.major] = tuple(
            (node.node_id, node.port) for node in self.nodes if node.alive
        )
        self.history.pop(self.major - HISTORY_SIZE, None)
        assignments: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        staged = False
        for cache in self.caches.values():
            staged |= self._rebalance(cache, assignments, late=self.late_affinity)
        self.staged = staged
        self._version_changed(None)

    def _assignment(
        self, cache: CacheState, memo: dict[tuple[int, int], list[tuple[int, ...]]]
    ) -> list[tuple[int, ...]]:
        # Topology order (join order): Ignite lists a replicated cache's backups in it.
        alive = sorted(self.alive_indices(), key=lambda i: self.nodes[i].order)
        if not alive:
            return [()] * cache.partitions
        backups = REPLICATED_BACKUPS if cache.replicated else cache.backups
        key = (
            cache.partitions,
            backups if backups == REPLICATED_BACKUPS else min(backups, len(alive)),
        )
        if key not in memo:
            ranked = assign(
                [self.nodes[i].consistent_id for i in alive],
                cache.partitions,
                backups,
                [self.nodes[i].node_id for i in alive],
            )
            memo[key] = [tuple(alive[i] for i in owners) for owners in ranked]
        return memo[key]

    def _rebalance(
        self,
        cache: CacheState,
        memo: dict[tuple[int, int], list[tuple[int, ...]]],
        late: bool = False,
    ) -> bool:
        """New owners copy each partition from a surviving owner; stale copies are dropped.

        With ``late`` a partition whose ideal primary does not hold it keeps its
        first surviving owner as primary (and every surviving owner keeps its
        copy) next to the ideal owners, until the ideal assignment is applied.
        Returns True if some partition was kept that way.
        """
        cid = cache.cache_id
        nodes = self.nodes
        ideal = self._assignment(cache, memo)
        old_owners = cache.owners or [()] * cache.partitions
        staged = False
        new_owners = []
        copies = []
        for part, wanted in enumerate(ideal):
            previous = old_owners[part]
            owners = wanted
            if late and wanted:
                holders = [i for i in previous if nodes[i].alive]
                if holders and wanted[0] not in holders:
                    owners = tuple(dict.fromkeys((holders[0], *wanted, *holders[1:])))
                    staged = True
            source: Store = {}
            for index in previous:
                held = nodes[index].data.get(cid, {}).get(part)
                if held is not None:
                    source = held
                    break
            for index in owners:
                stores = nodes[index].data.setdefault(cid, {})
                if part not in stores:
                    stores[part] = dict(source)
            for index in previous:
                if index not in owners:
                    nodes[index].data.get(cid, {}).pop(part, None)
            new_owners.append(owners)
            copies.append([nodes[index].data[cid][part] for index in owners])
        cache.owners = new_owners
        cache.copies = copies
        cache.primaries = tuple(owners[0] if owners else -1 for owners in new_owners)
        return staged

    # -- cluster state -------------------------------------------------------------

    def change_state(self, state: ClusterState, initiator: int | None = None) -> None:
        """Activation changes are exchanges (minor + 1); deactivation drops in-memory data."""
        if state == self.state:
            return
        if state == ClusterState.INACTIVE:
            for cache in self.caches.values():
                cache.expiries.clear()
                for stores in cache.copies:
                    for store in stores:
                        store.clear()
        self.state = state
        self.minor += 1
        self._version_changed(initiator)

    # -- caches ------------------------------------------------------------------

    def create_cache(self, properties: dict[int, Any], initiator: int | None = None) -> CacheState:
        name = properties[CacheProperty.NAME]
        mode = properties.get(CacheProperty.CACHE_MODE, CacheMode.PARTITIONED)
        replicated = mode != CacheMode.PARTITIONED
        default_backups = REPLICATED_BACKUPS if replicated else self.default_backups
        backups = properties.get(CacheProperty.BACKUPS_NUMBER, default_backups)
        if backups < 0:
            raise ValueError(f"backups must be >= 0, got {backups}")
        key_config = {
            type_id(entry["type_name"]): field_id(entry["affinity_key_field_name"])
            for entry in properties.get(CacheProperty.CACHE_KEY_CONFIGURATION) or ()
        }
        cache = CacheState(
            name=name,
            cache_id=java_hash(name),
            properties=dict(properties),
            partitions=REPLICATED_PARTITIONS if replicated else self.default_partitions,
            backups=backups,
            replicated=replicated,
            transactional=properties.get(CacheProperty.CACHE_ATOMICITY_MODE, ATOMIC) != ATOMIC,
            key_config=key_config,
        )
        cache.properties[CacheProperty.BACKUPS_NUMBER] = backups
        cache.properties[CacheProperty.CACHE_MODE] = mode
        self.caches[cache.cache_id] = cache
        self.minor += 1
        self._rebalance(cache, {})
        self._version_changed(initiator)
        return cache

    def destroy_cache(self, cache_id: int, initiator: int | None = None) -> None:
        del self.caches[cache_id]
        for node in self.nodes:
            node.data.pop(cache_id, None)
        self.minor += 1
        self._version_changed(initiator)

    def binary_types_changed(self) -> None:
        """Affinity fields may come from binary metadata: forget remembered partitions."""
        for cache in self.caches.values():
            cache.partition_memo.clear()

    # -- keys --------------------------------------------------------------------

    def partition_of(self, cache: CacheState, raw_key: bytes) -> int:
        """The partition the server puts a key in (raw typed bytes, as received)."""
        memo = cache.partition_memo
        part = memo.get(raw_key)
        if part is None:
            part = cache.partition_of_hash(self.key_hash(cache, raw_key))
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[raw_key] = part
        return part

    def key_hash(self, cache: CacheState, raw_key: bytes) -> int:
        """The hash the server partitions by: the affinity key field first (§6.1)."""
        if raw_key[0] == _COMPLEX_OBJECT and len(raw_key) >= 12:
            (key_type,) = I32.unpack_from(raw_key, 4)
            if key_type and self._affinity_field_id(cache, key_type) is None:
                (stored_hash,) = I32.unpack_from(raw_key, 8)
                return stored_hash
        key, _ = read_value(memoryview(raw_key), 0, self.registry)
        # The same rule the client routes by (affinity.affinity_hash), on the decoded key.
        return affinity_hash(
            key, _HINTS.get(raw_key[0]), lambda type_id: self._affinity_field_id(cache, type_id)
        )

    def _affinity_field_id(self, cache: CacheState, key_type_id: int) -> int | None:
        configured = cache.key_config.get(key_type_id)
        if configured is not None:
            return configured
        binary_type = self.registry.get(key_type_id)
        if binary_type is not None and binary_type.affinity_key_field:
            return field_id(binary_type.affinity_key_field)
        return None
