"""The data model of the local cluster: nodes, caches, placement, storage, versions.

Pure bookkeeping with no I/O and no clock, driven by the server (one
event-loop thread); timed behaviour (the late-affinity switch, nodes learning
versions one by one, exchanges) is scheduled by ``LocalCluster`` through
:attr:`ClusterModel.on_version`. Placement follows Ignite: partitions go to
owners by ``affinity.assign`` over the consistent ids of the live nodes (node
ids break ties); every owner keeps its own copy, which only its own node
reads and writes (updates reach the backups through :class:`Interconnect`);
a node that leaves takes its copies with it and the remaining owners rebalance
onto the new ones at once. With ``late_affinity`` a partition whose ideal
primary does not hold it yet keeps a current owner as primary, and a new
owner's copy fills only when :meth:`ClusterModel.finish_rebalance` runs
(``CacheAffinitySharedManager``: the ``(N, 0)`` / ``(N, 1)`` stages; until
then the copy is MOVING: it takes updates but serves no reads).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
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
from ignite_router.protocol.messages.cache_properties import WriteSynchronizationMode
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.values import BinaryTypeRegistry, read_value
from ignite_router.protocol.wire import I32
from ignite_router.testing.interconnect import Interconnect

__all__ = ["CacheState", "ClusterModel", "NodeState", "NodeStats"]

REPLICATED_PARTITIONS = 512  # replicated default: ``GridCacheUtils.initializeConfigDefaults``
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
    alive: bool = False  # in the topology
    crashed: bool = False  # killed, but still in the topology until failure detection
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
    write_mode: int = WriteSynchronizationMode.FULL_SYNC
    read_from_backup: bool = True  # a backup owner serves key reads from its own copy
    owners: list[tuple[int, ...]] = field(default_factory=list)  # part -> node indices
    copies: list[list[Store]] = field(default_factory=list)  # part -> owners' stores
    moving: dict[int, set[int]] = field(default_factory=dict)  # part -> owners still filling
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
        default_write_mode: int = WriteSynchronizationMode.FULL_SYNC,
    ):
        partition_function(partitions)  # validates the count
        if backups < 0:
            raise ValueError(f"backups must be >= 0, got {backups}")
        self.late_affinity = late_affinity
        self.default_write_mode = WriteSynchronizationMode(default_write_mode)
        self.staged = False  # some primary is kept until the rebalance finishes
        # Called after every version change with the node that made it (None for
        # joins and leaves) and whether partition ownership changed; a listener
        # may delay when the other nodes learn it.
        self.on_version: Callable[[int | None, bool], None] | None = None
        self.links = Interconnect(self)
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
        node.crashed = False
        node.data = {}
        node.order = self.major + 1
        self._topology_changed()
        self.learn(index, self.version)  # a joining node starts with the current version

    def crash(self, index: int) -> None:
        """Node ``index``'s process is gone with its copies, but it stays in the topology.

        Until :meth:`leave` (failure detection) it is still an owner and named
        as primary; operations that need it wait (see ``Interconnect``).
        """
        node = self.nodes[index]
        self.links.forget(index, as_source=True)  # updates it had not sent yet are lost
        for stores in node.data.values():
            for store in stores.values():
                store.clear()
        node.data = {}
        node.crashed = True

    def leave(self, index: int, graceful: bool = True) -> None:
        """Node ``index`` is gone with its copies: a new major version, rebalance.

        A graceful leave first delivers the updates it was replicating; an
        abrupt one (a kill) loses them.
        """
        node = self.nodes[index]
        self.links.forget(index, as_source=not graceful)
        node.alive = False
        node.crashed = False
        node.data = {}
        self._topology_changed()
        self.links.node_left(index)  # operations waiting for it are refused now

    @property
    def rebalancing(self) -> bool:
        """A late-affinity stage is pending: kept primaries or copies still filling."""
        return self.staged or any(cache.moving for cache in self.caches.values())

    def finish_rebalance(self) -> bool:
        """End the late-affinity stage: copies filled, the ideal assignment (False if none).

        Publishes ``(N, minor + 1)`` if primaries were kept; copies that were
        only filling become readable without a version change.
        """
        if not self.rebalancing:
            return False
        self.links.settle()
        staged, self.staged = self.staged, False
        if staged:
            self.minor += 1
        memo: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for cache in self.caches.values():
            self._rebalance(cache, memo, late=False)
        if staged:
            self._version_changed(None, ownership=True)
        return True

    def seen_by(self, index: int) -> tuple[int, int]:
        """The version node ``index`` reports (behind :attr:`version` while it lags)."""
        return self.nodes[index].seen

    def learn(self, index: int, version: tuple[int, int]) -> None:
        """Node ``index`` learns ``version`` (never goes back)."""
        node = self.nodes[index]
        if node.alive and version > node.seen:
            node.seen = version

    def _version_changed(self, initiator: int | None, ownership: bool = False) -> None:
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
            self.on_version(initiator, ownership)

    def _topology_changed(self) -> None:
        self.links.settle()
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
        self._version_changed(None, ownership=True)

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
        """New owners copy each partition from a complete surviving copy; stale copies go.

        With ``late`` a partition with an ideal owner that does not hold it yet
        keeps every surviving holder next to the ideal owners, and its primary
        on a holder (the ideal primary if it is one); the new owner's copy
        starts empty and MOVING: it takes updates, serves no reads, and is
        filled when the stage ends. Without ``late`` new and MOVING copies are
        filled at once. Returns True if some partition kept a holder that way.
        """
        cid = cache.cache_id
        nodes = self.nodes
        ideal = self._assignment(cache, memo)
        old_owners = cache.owners or [()] * cache.partitions
        old_moving = cache.moving
        staged = False
        new_owners = []
        copies = []
        moving: dict[int, set[int]] = {}
        for part, wanted in enumerate(ideal):
            previous = old_owners[part]
            filling = old_moving.get(part, ())
            owners = wanted
            if late and wanted:
                holders = [i for i in previous if nodes[i].alive and i not in filling]
                if holders and any(i not in holders for i in wanted):
                    # Until the new copies are filled every holder keeps its copy, and
                    # the primary stays on one (the ideal primary if it holds it).
                    first = wanted[0] if wanted[0] in holders else holders[0]
                    owners = tuple(dict.fromkeys((first, *wanted, *holders)))
                    staged = True
            source = self._complete_copy(cid, part, previous, filling)
            still_filling = set()
            for index in owners:
                stores = nodes[index].data.setdefault(cid, {})
                store = stores.get(part)
                if nodes[index].crashed:
                    if store is None:
                        stores[part] = {}  # a dead copy: nothing reads or writes it
                    continue
                if store is None:
                    fill_later = late and source is not None
                    stores[part] = {} if fill_later or source is None else dict(source)
                    if fill_later:
                        still_filling.add(index)
                elif index in filling:
                    if late:
                        still_filling.add(index)
                    elif source is not None:
                        store.clear()
                        store.update(source)
            for index in previous:
                if index not in owners:
                    nodes[index].data.get(cid, {}).pop(part, None)
            if still_filling:
                moving[part] = still_filling
            new_owners.append(owners)
            copies.append([nodes[index].data[cid][part] for index in owners])
        cache.owners = new_owners
        cache.copies = copies
        cache.moving = moving
        cache.primaries = tuple(owners[0] if owners else -1 for owners in new_owners)
        return staged

    def _complete_copy(
        self, cache_id: int, part: int, previous: tuple[int, ...], filling: Collection[int]
    ) -> Store | None:
        """The copy rebalancing reads from: the first live, filled one (the primary's first)."""
        for index in previous:
            node = self.nodes[index]
            if node.alive and not node.crashed and index not in filling:
                store = node.data.get(cache_id, {}).get(part)
                if store is not None:
                    return store
        return None

    def serving(self, cache: CacheState, part: int, receiver: int, read: bool) -> tuple[int, bool]:
        """Whose copy serves a key operation node ``receiver`` got, and whether it is forwarded.

        The primary serves writes, and reads unless the receiver owns the
        partition as a backup with a filled copy and the cache has
        readFromBackup (Ignite's default): then it reads its own copy. Anything
        the primary serves for another node is a forward (Ignite sends it over
        the network).
        """
        owners = cache.owners[part]
        primary = owners[0]
        if receiver == primary:
            return primary, False
        if (
            read
            and cache.read_from_backup
            and receiver in owners
            and receiver not in cache.moving.get(part, ())
        ):
            return receiver, False
        return primary, True

    # -- cluster state -------------------------------------------------------------

    def change_state(self, state: ClusterState, initiator: int | None = None) -> None:
        """Activation changes are exchanges (minor + 1); deactivation drops in-memory data."""
        if state == self.state:
            return
        if state == ClusterState.INACTIVE:
            self.links.forget_all()
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
        write_mode = properties.get(
            CacheProperty.WRITE_SYNCHRONIZATION_MODE, self.default_write_mode
        )
        if write_mode not in iter(WriteSynchronizationMode):
            raise ValueError(f"unknown write synchronization mode {write_mode}")
        cache = CacheState(
            name=name,
            cache_id=java_hash(name),
            properties=dict(properties),
            partitions=REPLICATED_PARTITIONS if replicated else self.default_partitions,
            backups=backups,
            replicated=replicated,
            transactional=properties.get(CacheProperty.CACHE_ATOMICITY_MODE, ATOMIC) != ATOMIC,
            key_config=key_config,
            write_mode=WriteSynchronizationMode(write_mode),
            read_from_backup=bool(properties.get(CacheProperty.READ_FROM_BACKUP, True)),
        )
        cache.properties[CacheProperty.BACKUPS_NUMBER] = backups
        cache.properties[CacheProperty.CACHE_MODE] = mode
        cache.properties[CacheProperty.WRITE_SYNCHRONIZATION_MODE] = cache.write_mode
        self.caches[cache.cache_id] = cache
        self.minor += 1
        self._rebalance(cache, {})
        self._version_changed(initiator)
        return cache

    def destroy_cache(self, cache_id: int, initiator: int | None = None) -> None:
        del self.caches[cache_id]
        self.links.forget_cache(cache_id)
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
        """The hash the server partitions by (``CacheDefaultBinaryAffinityKeyMapper``)."""
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
