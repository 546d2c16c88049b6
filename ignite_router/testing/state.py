"""The data model of the local cluster: nodes, caches, placement, storage, versions.

Pure bookkeeping with no I/O, driven by the server (one event-loop thread).
Placement follows Ignite: partitions go to owners by ``affinity.assign`` over
the consistent ids of the live nodes; every owner stores its own copy; a node
that leaves takes its copies with it and the remaining owners rebalance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from affinity import IgniteType, assign, field_id, java_hash, partition_function, type_id
from protocol.messages.cache_config import CacheMode, CacheProperty
from protocol.values import BinaryTypeRegistry, ComplexObject, read_value

__all__ = ["CacheState", "ClusterModel", "NodeState"]

REPLICATED_PARTITIONS = 512  # Ignite's default for replicated caches
Store = dict[int, dict[bytes, bytes]]  # partition -> raw key -> raw value


@dataclass
class NodeState:
    """One server node; ``node_id`` changes on every start, ``consistent_id`` never."""

    consistent_id: str
    port: int
    node_id: uuid.UUID = field(default_factory=uuid.uuid4)
    alive: bool = False
    data: dict[int, Store] = field(default_factory=dict)  # cache id -> partitions
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class CacheState:
    name: str
    cache_id: int
    properties: dict[int, Any]
    partitions: int
    backups: int
    replicated: bool
    key_config: dict[int, int]
    owners: list[tuple[int, ...]] = field(default_factory=list)  # partition -> node indices
    partition_of: Callable[[int], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.partition_of = partition_function(self.partitions)


class ClusterModel:
    """Everything the nodes share: membership, caches, data and the topology version."""

    def __init__(self, consistent_ids: list[str], ports: list[int], partitions: int, backups: int):
        self.nodes = [NodeState(cid, port) for cid, port in zip(consistent_ids, ports, strict=True)]
        self.default_partitions = partitions
        self.default_backups = backups
        self.caches: dict[int, CacheState] = {}
        self.registry = BinaryTypeRegistry()
        self.type_names: dict[tuple[int, int], str] = {}
        self.major = 0
        self.minor = 0
        self.active = True

    # -- topology ----------------------------------------------------------------

    @property
    def version(self) -> tuple[int, int]:
        return self.major, self.minor

    def alive_indices(self) -> list[int]:
        return [i for i, node in enumerate(self.nodes) if node.alive]

    def join(self, index: int) -> None:
        """Node ``index`` starts (new node UUID): a new major version, rebalance."""
        node = self.nodes[index]
        node.node_id = uuid.uuid4()
        node.alive = True
        node.data = {}
        self.major += 1
        self.minor = 0
        self._rebalance_all()

    def leave(self, index: int) -> None:
        """Node ``index`` is gone with its copies: a new major version, rebalance."""
        node = self.nodes[index]
        node.alive = False
        node.data = {}
        self.major += 1
        self.minor = 0
        self._rebalance_all()

    def add_node(self, consistent_id: str, port: int) -> int:
        self.nodes.append(NodeState(consistent_id, port))
        return len(self.nodes) - 1

    def _rebalance_all(self) -> None:
        for cache in self.caches.values():
            self._rebalance(cache)

    def _assignment(self, cache: CacheState) -> list[tuple[int, ...]]:
        alive = self.alive_indices()
        if not alive:
            return [()] * cache.partitions
        backups = len(alive) if cache.replicated else cache.backups
        ranked = assign(
            [self.nodes[i].consistent_id for i in alive],
            cache.partitions,
            backups,
            [self.nodes[i].node_id for i in alive],
        )
        return [tuple(alive[i] for i in owners) for owners in ranked]

    def _rebalance(self, cache: CacheState) -> None:
        """Copy each partition from a surviving owner to its new owners; drop stale copies."""
        new_owners = self._assignment(cache)
        for part, owners in enumerate(new_owners):
            old_owners = cache.owners[part] if cache.owners else ()
            source: dict[bytes, bytes] = {}
            for index in old_owners:
                node = self.nodes[index]
                copy = node.data.get(cache.cache_id, {}).get(part) if node.alive else None
                if copy is not None:
                    source = copy
                    break
            for index in self.alive_indices():
                store = self.nodes[index].data.setdefault(cache.cache_id, {})
                if index in owners:
                    if not (index in old_owners and part in store):
                        store[part] = dict(source)
                else:
                    store.pop(part, None)
        cache.owners = new_owners

    # -- caches ------------------------------------------------------------------

    def create_cache(self, properties: dict[int, Any]) -> CacheState:
        name = properties[CacheProperty.NAME]
        mode = properties.get(CacheProperty.CACHE_MODE, CacheMode.PARTITIONED)
        replicated = mode != CacheMode.PARTITIONED
        key_config = {
            type_id(entry["type_name"]): field_id(entry["affinity_key_field_name"])
            for entry in properties.get(CacheProperty.CACHE_KEY_CONFIGURATION) or ()
        }
        cache = CacheState(
            name=name,
            cache_id=java_hash(name),
            properties=dict(properties),
            partitions=REPLICATED_PARTITIONS if replicated else self.default_partitions,
            backups=properties.get(CacheProperty.BACKUPS_NUMBER, self.default_backups),
            replicated=replicated,
            key_config=key_config,
        )
        cache.properties.setdefault(CacheProperty.BACKUPS_NUMBER, cache.backups)
        cache.properties.setdefault(CacheProperty.CACHE_MODE, mode)
        self.caches[cache.cache_id] = cache
        self.minor += 1
        self._rebalance(cache)
        return cache

    def destroy_cache(self, cache_id: int) -> None:
        del self.caches[cache_id]
        for node in self.nodes:
            node.data.pop(cache_id, None)
        self.minor += 1

    # -- keys --------------------------------------------------------------------

    def key_hash(self, cache: CacheState, raw_key: bytes) -> int:
        """The hash the server partitions by: affinity key field first (§6.1)."""
        key, _ = read_value(memoryview(raw_key), 0, self.registry)
        code = raw_key[0]
        if isinstance(key, ComplexObject):
            affinity_field = self._affinity_field_id(cache, key.type_id)
            if affinity_field is not None:
                for name, value in key.fields.items():
                    fid = name if isinstance(name, int) else field_id(name)
                    if fid == affinity_field and value is not None:
                        return java_hash(value, key.hint_for(name))
            return key.hash_code
        return java_hash(key, IgniteType(code))

    def _affinity_field_id(self, cache: CacheState, key_type_id: int) -> int | None:
        configured = cache.key_config.get(key_type_id)
        if configured is not None:
            return configured
        binary_type = self.registry.get(key_type_id)
        if binary_type is not None and binary_type.affinity_key_field:
            return field_id(binary_type.affinity_key_field)
        return None

    def partition_of(self, cache: CacheState, raw_key: bytes) -> int:
        return cache.partition_of(self.key_hash(cache, raw_key))

    def owner_stores(self, cache: CacheState, part: int) -> list[dict[bytes, bytes]]:
        """The copies of a partition, primary first."""
        return [self.nodes[i].data[cache.cache_id].setdefault(part, {}) for i in cache.owners[part]]

    def primary_store(self, cache: CacheState, part: int) -> dict[bytes, bytes]:
        owners = cache.owners[part]
        if not owners:
            raise LookupError("no live node owns this partition")
        return self.nodes[owners[0]].data[cache.cache_id].setdefault(part, {})
