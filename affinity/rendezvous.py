"""Rendezvous (highest-random-weight) assignment of partitions to nodes (fact sheet §7.2).

Modern ``RendezvousAffinityFunction``: for partition ``p`` every node gets the
64-bit Wang/Jenkins mix of ``(consistentId.hashCode() as unsigned 32 bits) |
(p << 32)``; nodes are ordered by that value as a *signed* long, ties broken by
node id (Java ``UUID.compareTo``). The first node is the primary, the next
``backups`` nodes hold the backups.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from affinity.javahash import java_hash

__all__ = ["assign", "mix_key", "node_order"]

_MASK64 = 0xFFFFFFFFFFFFFFFF
_SIGN64 = 1 << 63
_MASK32 = 0xFFFFFFFF


def mix_key(node_hash: int, part: int) -> int:
    """Wang/Jenkins 64-bit mix of ``node_hash`` (low word) and ``part`` (high word), signed."""
    return _mix_low((node_hash & _MASK32) | ((part << 32) & _MASK64))


def _signed64(value: int) -> int:
    return value - (1 << 64) if value & _SIGN64 else value


def _uuid_order(node_id: uuid.UUID) -> tuple[int, int]:
    """Sort key of Java ``UUID.compareTo``: signed msb, then signed lsb."""
    number = node_id.int
    return _signed64(number >> 64), _signed64(number & _MASK64)


def node_order(
    consistent_ids: Sequence[object],
    part: int,
    node_ids: Sequence[uuid.UUID] | None = None,
) -> list[int]:
    """Indices of all nodes in rendezvous order for one partition (primary first)."""
    hashes = [java_hash(cid) for cid in consistent_ids]
    ties = _tie_keys(consistent_ids, node_ids)
    return sorted(range(len(hashes)), key=lambda i: (mix_key(hashes[i], part), ties[i]))


def _tie_keys(
    consistent_ids: Sequence[object], node_ids: Sequence[uuid.UUID] | None
) -> list[tuple[int, int]]:
    if node_ids is None:
        # Without node ids ties (a 2^-64 event) fall back to input order.
        return [(0, i) for i in range(len(consistent_ids))]
    if len(node_ids) != len(consistent_ids):
        raise ValueError("node_ids must have one entry per consistent id")
    return [_uuid_order(node_id) for node_id in node_ids]


def assign(
    consistent_ids: Sequence[object],
    parts: int,
    backups: int,
    node_ids: Sequence[uuid.UUID] | None = None,
) -> list[tuple[int, ...]]:
    """Owners of every partition: per partition, node indices (primary first, then backups).

    ``consistent_ids`` are hashed with their Java ``hashCode`` (String for
    ``str``, UUID for ``uuid.UUID``, Long for ``int``). ``backups`` at or above
    ``len(consistent_ids) - 1`` gives every node every partition (replicated).
    ``node_ids`` break ties like the server does; without them, input order does.
    """
    count = len(consistent_ids)
    if count == 0:
        raise ValueError("cannot assign partitions to an empty topology")
    if parts < 1:
        raise ValueError(f"partition count must be positive, got {parts}")
    if backups < 0:
        raise ValueError(f"backups must be >= 0, got {backups}")
    owners = min(backups + 1, count)
    hashes = [java_hash(cid) & _MASK32 for cid in consistent_ids]
    ties = _tie_keys(consistent_ids, node_ids)
    if count == 1:
        return [(0,)] * parts
    result: list[tuple[int, ...]] = []
    for part in range(parts):
        high = (part << 32) & _MASK64
        ranked = sorted(
            (_mix_low(node_hash | high), ties[i], i) for i, node_hash in enumerate(hashes)
        )
        result.append(tuple(entry[2] for entry in ranked[:owners]))
    return result


def _mix_low(k: int) -> int:
    """The mix on an already packed 64-bit key (the hot loop of :func:`assign`)."""
    k = (~k + (k << 21)) & _MASK64
    k ^= k >> 24
    k = (k + (k << 3) + (k << 8)) & _MASK64
    k ^= k >> 14
    k = (k + (k << 2) + (k << 4)) & _MASK64
    k ^= k >> 28
    k = (k + (k << 31)) & _MASK64
    return k - (1 << 64) if k & _SIGN64 else k
