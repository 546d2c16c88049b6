"""OP_CACHE_PARTITIONS (1101): which node is primary for each partition (fact sheet §4)."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from affinity import CacheAffinity, PartitionMap
from protocol.context import ProtocolContext
from protocol.errors import ProtocolError
from protocol.header import begin_request, finish_frame
from protocol.opcodes import Feature, OpCode
from protocol.values import read_uuid, write_uuid
from protocol.wire import BOOL, I32, count, take

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


@dataclass(frozen=True, slots=True)
class PartitionGroup:
    """Caches sharing one partition map; ``caches`` maps cache id -> {key type id: field id}."""

    applicable: bool
    caches: Mapping[int, Mapping[int, int]]
    node_partitions: Mapping[uuid.UUID, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartitionsResponse:
    version: tuple[int, int]
    groups: tuple[PartitionGroup, ...]

    def to_partition_map(self) -> PartitionMap:
        """The affinity snapshot this answer describes."""
        caches: dict[int, CacheAffinity] = {}
        for group in self.groups:
            for cache_id, key_config in group.caches.items():
                if group.applicable and group.node_partitions:
                    caches[cache_id] = CacheAffinity.from_primaries(
                        group.node_partitions, key_config
                    )
                else:
                    caches[cache_id] = CacheAffinity.not_applicable()
        return PartitionMap(self.version, caches)


def encode_partitions_request(
    buf: bytearray, context: ProtocolContext, request_id: int, cache_ids: Iterable[int]
) -> None:
    ids = list(cache_ids)
    start = begin_request(buf, OpCode.CACHE_PARTITIONS, request_id)
    if context.supports(Feature.ALL_AFFINITY_MAPPINGS):
        buf += BOOL.pack(False)
    buf += I32.pack(len(ids))
    for cache_id in ids:
        buf += I32.pack(cache_id)
    finish_frame(buf, start)


def decode_partitions_request(context: ProtocolContext, view: memoryview, pos: int) -> list[int]:
    """Server side: the requested cache ids."""
    if context.supports(Feature.ALL_AFFINITY_MAPPINGS):
        _, pos = take(BOOL, view, pos)
    n, pos = count(view, pos, 4)
    ids = list(struct.unpack_from(f"<{n}i", view, pos))
    if pos + 4 * n != len(view):
        raise ProtocolError("unexpected bytes after the cache ids")
    return ids


def encode_partitions_response(buf: bytearray, response: PartitionsResponse) -> None:
    """Server side: the body after the response header."""
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


def decode_partitions_response(view: memoryview, pos: int) -> PartitionsResponse:
    """Client side: decode the body (the header's topology flag is separate)."""
    version, pos = take(_VERSION, view, pos)
    n_groups, pos = count(view, pos, 5)
    groups = []
    for _ in range(n_groups):
        (applicable,), pos = take(BOOL, view, pos)
        n_caches, pos = count(view, pos, 4)
        caches: dict[int, dict[int, int]] = {}
        for _ in range(n_caches):
            (cache_id,), pos = take(I32, view, pos)
            config: dict[int, int] = {}
            if applicable:
                n_config, pos = count(view, pos, 8)
                for _ in range(n_config):
                    (type_id, field_id), pos = take(_KEY_CONFIG, view, pos)
                    config[type_id] = field_id
            caches[cache_id] = config
        nodes: dict[uuid.UUID, tuple[int, ...]] = {}
        if applicable:
            n_nodes, pos = count(view, pos, 21)
            for _ in range(n_nodes):
                node_id, pos = read_uuid(view, pos)
                if node_id is None:
                    raise ProtocolError("null node id in a partition map")
                n_parts, pos = count(view, pos, 4)
                nodes[node_id] = struct.unpack_from(f"<{n_parts}i", view, pos)
                pos += 4 * n_parts
        groups.append(PartitionGroup(applicable, caches, nodes))
    return PartitionsResponse(tuple(version), tuple(groups))
