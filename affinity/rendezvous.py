"""Rendezvous assignment of partitions to nodes (``RendezvousAffinityFunction.assignPartition``).

Modern ``RendezvousAffinityFunction``: for partition ``p`` every node gets the
64-bit Wang/Jenkins mix of ``(consistentId.hashCode() as unsigned 32 bits) |
(p << 32)``; nodes are ordered by that value as a *signed* long, ties broken by
node id (Java ``UUID.compareTo``). The first node is the primary, the next
``backups`` nodes hold the backups. With ``backups == Integer.MAX_VALUE`` (what
Ignite uses for replicated caches) Ignite's ``replicatedAssign`` lists the
primary and then every other node in topology order, not in hash order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ignite_router.affinity.javahash import java_hash

__all__ = [
    "REPLICATED_BACKUPS",
    "AmbiguousOrderError",
    "assign",
    "mix_key",
    "node_order",
    "partition_owners",
]

REPLICATED_BACKUPS = (1 << 31) - 1
"""``Integer.MAX_VALUE``: the backups of a replicated cache (every node owns every partition)."""

_MASK64 = 0xFFFFFFFFFFFFFFFF
_SIGN64 = 1 << 63
_MASK32 = 0xFFFFFFFF


class AmbiguousOrderError(ValueError):
    """Two nodes tie and no node ids were given: Ignite orders them by node id, unknown here.

    Consistent ids with equal Java ``hashCode()`` (``"Aa"`` and ``"BB"``) get equal
    mixes in *every* partition, so their order is decided by ``UUID.compareTo`` of
    the node ids. ``colliding`` holds the groups of consistent ids that tie.
    """

    def __init__(self, colliding: list[list[object]], part: int) -> None:
        self.colliding = colliding
        self.part = part
        groups = "; ".join(
            " and ".join(repr(cid) for cid in group) + f" share hashCode {java_hash(group[0])}"
            for group in colliding
        )
        super().__init__(
            f"consistent ids {groups}: Ignite orders such nodes by node id, and partition "
            f"{part} depends on it; pass the node ids (node_ids=..., on the command line "
            "--node-ids) to decide"
        )


def mix_key(node_hash: int, part: int) -> int:
    """Wang/Jenkins 64-bit mix of ``node_hash`` (low word) and ``part`` (high word), signed."""
    return _mix_low((node_hash & _MASK32) | ((part << 32) & _MASK64))


def _signed64(value: int) -> int:
    return value - (1 << 64) if value & _SIGN64 else value


def _uuid_order(node_id: uuid.UUID) -> tuple[int, int]:
    """Sort key of Java ``UUID.compareTo``: signed msb, then signed lsb (JDK <= 19)."""
    number = node_id.int
    return _signed64(number >> 64), _signed64(number & _MASK64)


class _Topology:
    """Consistent-id hashes, tie-break keys and hash collisions of one node list."""

    __slots__ = ("colliding", "consistent_ids", "hashes", "ties")

    def __init__(
        self, consistent_ids: Sequence[object], node_ids: Sequence[uuid.UUID] | None
    ) -> None:
        if len(consistent_ids) == 0:
            raise ValueError("cannot assign partitions to an empty topology")
        self.consistent_ids = consistent_ids
        self.hashes = [java_hash(cid) & _MASK32 for cid in consistent_ids]
        if node_ids is None:
            self.ties = [(0, 0)] * len(consistent_ids)
            self.colliding = self._collisions()
        else:
            if len(node_ids) != len(consistent_ids):
                raise ValueError("node_ids must have one entry per consistent id")
            if not all(isinstance(node_id, uuid.UUID) for node_id in node_ids):
                raise TypeError("node_ids must be uuid.UUID values")
            if len(set(node_ids)) != len(node_ids):
                raise ValueError("node_ids must be distinct")
            self.ties = [_uuid_order(node_id) for node_id in node_ids]
            self.colliding = frozenset()

    def _collisions(self) -> frozenset[int]:
        """Indices of nodes whose hash another node shares (they tie in every partition)."""
        first: dict[int, int] = {}
        colliding: set[int] = set()
        for index, node_hash in enumerate(self.hashes):
            other = first.setdefault(node_hash, index)
            if other != index:
                colliding.update((other, index))
        return frozenset(colliding)

    def ranked(self, part: int) -> list[tuple[int, tuple[int, int], int]]:
        """(mix, tie key, index) of every node, ascending: the rendezvous order of ``part``."""
        high = (part << 32) & _MASK64
        ties = self.ties
        return sorted(
            (_mix_low(node_hash | high), ties[i], i) for i, node_hash in enumerate(self.hashes)
        )

    def check_decided(self, ranked: list, count: int, part: int) -> None:
        """Refuse when a tying node is among the first ``count``: its place is a guess."""
        if self.colliding and any(entry[2] in self.colliding for entry in ranked[:count]):
            groups: dict[int, list[object]] = {}
            for index in sorted(self.colliding):
                groups.setdefault(self.hashes[index], []).append(self.consistent_ids[index])
            raise AmbiguousOrderError(list(groups.values()), part)


def _check_backups(backups: int) -> None:
    if isinstance(backups, bool) or not isinstance(backups, int):
        raise TypeError(f"backups must be an int, got {type(backups).__name__}")
    if not 0 <= backups <= REPLICATED_BACKUPS:
        raise ValueError(f"backups must be in [0, {REPLICATED_BACKUPS}] (Java int), got {backups}")


def _check_part(part: int) -> None:
    if isinstance(part, bool) or not isinstance(part, int) or part < 0:
        raise ValueError(f"partition must be a non-negative int, got {part!r}")


def node_order(
    consistent_ids: Sequence[object],
    part: int,
    node_ids: Sequence[uuid.UUID] | None = None,
) -> list[int]:
    """Indices of all nodes in rendezvous (hash) order for one partition, primary first.

    Raises :class:`AmbiguousOrderError` when two consistent ids share a Java hash
    and ``node_ids`` are not given.
    """
    _check_part(part)
    topology = _Topology(consistent_ids, node_ids)
    ranked = topology.ranked(part)
    topology.check_decided(ranked, len(ranked), part)
    return [entry[2] for entry in ranked]


def _owners(topology: _Topology, part: int, backups: int) -> tuple[int, ...]:
    count = len(topology.hashes)
    if count == 1:
        return (0,)
    ranked = topology.ranked(part)
    if backups == REPLICATED_BACKUPS:
        # RendezvousAffinityFunction.replicatedAssign: the primary, then the
        # other nodes in topology order.
        topology.check_decided(ranked, 1, part)
        primary = ranked[0][2]
        return (primary, *(i for i in range(count) if i != primary))
    owners = min(backups + 1, count)
    topology.check_decided(ranked, owners, part)
    return tuple(entry[2] for entry in ranked[:owners])


def partition_owners(
    consistent_ids: Sequence[object],
    part: int,
    backups: int,
    node_ids: Sequence[uuid.UUID] | None = None,
) -> tuple[int, ...]:
    """Owners of one partition: node indices, primary first, then backups.

    Same rules as :func:`assign` for a single partition, without computing the
    others.
    """
    _check_part(part)
    _check_backups(backups)
    return _owners(_Topology(consistent_ids, node_ids), part, backups)


def assign(
    consistent_ids: Sequence[object],
    parts: int,
    backups: int,
    node_ids: Sequence[uuid.UUID] | None = None,
) -> list[tuple[int, ...]]:
    """Owners of every partition: per partition, node indices (primary first, then backups).

    ``consistent_ids`` are in topology order and hashed with their Java
    ``hashCode`` (String for ``str``, UUID for ``uuid.UUID``, Long for ``int``).
    ``backups`` is a Java int; ``REPLICATED_BACKUPS`` (``Integer.MAX_VALUE``)
    takes Ignite's replicated path (primary by hash, the others in topology
    order), any smaller count the hash order. ``node_ids`` break ties like the
    server does; without them a tie that decides an owner raises
    :class:`AmbiguousOrderError`.
    """
    if parts < 1:
        raise ValueError(f"partition count must be positive, got {parts}")
    _check_backups(backups)
    topology = _Topology(consistent_ids, node_ids)
    if len(consistent_ids) == 1:
        return [(0,)] * parts
    if backups == REPLICATED_BACKUPS or topology.colliding:
        return [_owners(topology, part, backups) for part in range(parts)]
    owners = min(backups + 1, len(consistent_ids))
    hashes, ties = topology.hashes, topology.ties
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
