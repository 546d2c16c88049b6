"""OP_CACHE_PARTITIONS (1101): the primary of each partition (``ClientCachePartitionsResponse``).

Request: [bool "custom mappings wanted", only if feature 13 was negotiated]
i32 n + n cache ids. Answer body: i64 + i32 topology version, i32 group
count, then per group: bool applicable, i32 cache count, per cache the id
(and, if applicable, i32 n + n (key type id, affinity field id)); if
applicable, i32 node count + per node a typed UUID and i32 n + n primary
partitions; [bool default affinity after the node map of applicable groups,
only with feature 13]. The node ids are *typed* UUIDs (17 bytes).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ignite_router.affinity import CacheAffinity, PartitionMap
from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.opcodes import Feature, OpCode
from ignite_router.protocol.values import read_uuid, write_uuid
from ignite_router.protocol.wire import BOOL, I32, count, finish, int32s, take

__all__ = [
    "PartitionGroup",
    "PartitionsResponse",
    "decode_partitions_request",
    "decode_partitions_response",
    "encode_partitions_request",
    "encode_partitions_response",
]

_VERSION = struct.Struct("<qi")
_KEY_CONFIG = struct.Struct("<ii")
_MIN_GROUP = 5  # bool + i32 count
_MIN_NODE = 21  # typed UUID + i32 count


@dataclass(frozen=True, slots=True)
class PartitionGroup:
    """Caches sharing one partition map.

    ``caches`` maps cache id -> {key type id: affinity field id} (empty for
    non-applicable groups); ``node_partitions`` maps node id -> its primary
    partitions (applicable groups only). ``default_affinity`` is only on the
    wire when feature 13 was negotiated.
    """

    applicable: bool
    caches: Mapping[int, Mapping[int, int]]
    node_partitions: Mapping[uuid.UUID, tuple[int, ...]] = field(default_factory=dict)
    default_affinity: bool | None = None


@dataclass(frozen=True, slots=True)
class PartitionsResponse:
    """The whole answer: the affinity topology version it is valid for, and the groups."""

    version: tuple[int, int]
    groups: tuple[PartitionGroup, ...]

    def to_partition_map(self) -> PartitionMap:
        """The affinity snapshot this answer describes (ProtocolError if inconsistent)."""
        caches: dict[int, CacheAffinity] = {}
        for group in self.groups:
            routable = (
                group.applicable
                and bool(group.node_partitions)
                and group.default_affinity is not False
            )
            for cache_id, key_config in group.caches.items():
                if not routable:
                    caches[cache_id] = CacheAffinity.not_applicable()
                    continue
                try:
                    caches[cache_id] = CacheAffinity.from_primaries(
                        group.node_partitions, key_config
                    )
                except ValueError as error:
                    raise ProtocolError(f"unusable partition map: {error}") from None
        return PartitionMap(self.version, caches)


def encode_partitions_request(
    buf: bytearray, context: ProtocolContext, request_id: int, cache_ids: Iterable[int]
) -> None:
    """Client side. Asks for default mappings only (the bool is false when present)."""
    ids = list(cache_ids)
    start = begin_request(buf, OpCode.CACHE_PARTITIONS, request_id)
    if context.supports(Feature.ALL_AFFINITY_MAPPINGS):
        buf += BOOL.pack(False)
    buf += I32.pack(len(ids))
    buf += struct.pack(f"<{len(ids)}i", *ids)
    finish_frame(buf, start)


def decode_partitions_request(context: ProtocolContext, view: memoryview, pos: int) -> list[int]:
    """Server side: the requested cache ids."""
    if context.supports(Feature.ALL_AFFINITY_MAPPINGS):
        _, pos = take(BOOL, view, pos)
    ids, pos = int32s(view, pos)
    finish(view, pos, "the cache ids")
    return list(ids)


def encode_partitions_response(
    buf: bytearray, response: PartitionsResponse, context: ProtocolContext | None = None
) -> None:
    """Server side: the body after the response header."""
    extended = context is not None and context.supports(Feature.ALL_AFFINITY_MAPPINGS)
    buf += _VERSION.pack(*response.version)
    buf += I32.pack(len(response.groups))
    for group in response.groups:
        buf += BOOL.pack(group.applicable)
        buf += I32.pack(len(group.caches))
        for cache_id, key_config in group.caches.items():
            buf += I32.pack(cache_id)
            if group.applicable:
                buf += I32.pack(len(key_config))
                for type_id, field_id in key_config.items():
                    buf += _KEY_CONFIG.pack(type_id, field_id)
        if group.applicable:
            buf += I32.pack(len(group.node_partitions))
            for node_id, parts in group.node_partitions.items():
                write_uuid(buf, node_id)
                buf += I32.pack(len(parts))
                buf += struct.pack(f"<{len(parts)}i", *parts)
            if extended:
                buf += BOOL.pack(group.default_affinity is not False)


def decode_partitions_response(
    view: memoryview, pos: int, context: ProtocolContext | None = None
) -> PartitionsResponse:
    """Client side: decode the body (the header's topology flag is separate)."""
    extended = context is not None and context.supports(Feature.ALL_AFFINITY_MAPPINGS)
    version, pos = take(_VERSION, view, pos)
    n_groups, pos = count(view, pos, _MIN_GROUP)
    groups = []
    for _ in range(n_groups):
        (applicable,), pos = take(BOOL, view, pos)
        n_caches, pos = count(view, pos, 8 if applicable else 4)
        caches: dict[int, dict[int, int]] = {}
        for _ in range(n_caches):
            (cache_id,), pos = take(I32, view, pos)
            config: dict[int, int] = {}
            if applicable:
                n_config, pos = count(view, pos, _KEY_CONFIG.size)
                for _ in range(n_config):
                    (type_id, field_id), pos = take(_KEY_CONFIG, view, pos)
                    config[type_id] = field_id
            caches[cache_id] = config
        nodes: dict[uuid.UUID, tuple[int, ...]] = {}
        default_affinity = None
        if applicable:
            n_nodes, pos = count(view, pos, _MIN_NODE)
            for _ in range(n_nodes):
                node_id, pos = read_uuid(view, pos)
                if node_id is None:
                    raise ProtocolError("null node id in a partition map")
                nodes[node_id], pos = int32s(view, pos)
            if extended:
                (default_affinity,), pos = take(BOOL, view, pos)
        groups.append(PartitionGroup(applicable, caches, nodes, default_affinity))
    finish(view, pos, "the partition map")
    return PartitionsResponse(tuple(version), tuple(groups))
