"""Pluggable key -> partition functions.

The Ignite default (:class:`RendezvousPartitioner`) partitions the key's Java
hash. Caches whose server-side affinity is custom are not routable from the
partition map alone; a user who knows the server's mapping supplies a
partitioner, for example :class:`Murmur3Partitioner`, which partitions the
key's serialised bytes the way Hazelcast does.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import mmh3

from ignite_router.affinity.partition import partition_function

__all__ = ["MURMUR3_SEED", "Murmur3Partitioner", "Partitioner", "RendezvousPartitioner"]

MURMUR3_SEED = 0x01000193
_INT_MIN = -(1 << 31)


@runtime_checkable
class Partitioner(Protocol):
    """Maps a key to one of ``parts`` partitions.

    ``hash_code`` is the key's Java hash; ``key_bytes`` its serialised form
    (the typed value as sent on the wire). A partitioner uses what it needs.
    """

    def partition(self, hash_code: int, key_bytes: bytes | memoryview, parts: int) -> int: ...


class RendezvousPartitioner:
    """Ignite's ``RendezvousAffinityFunction`` partition formula over the Java hash."""

    def __init__(self) -> None:
        self._functions: dict[int, object] = {}

    def partition(self, hash_code: int, key_bytes: bytes | memoryview, parts: int) -> int:
        function = self._functions.get(parts)
        if function is None:
            function = self._functions[parts] = partition_function(parts)
        return function(hash_code)  # type: ignore[operator]


class Murmur3Partitioner:
    """MurmurHash3 x86 32 of the key bytes (seed 0x01000193), then ``abs(h) % parts``.

    Hazelcast's formula, including its special case: a hash of
    ``Integer.MIN_VALUE`` (whose absolute value overflows in Java) goes to 0.
    """

    def __init__(self, seed: int = MURMUR3_SEED) -> None:
        self.seed = seed

    def hash(self, key_bytes: bytes | memoryview) -> int:
        """Signed 32-bit MurmurHash3 x86 32 of ``key_bytes``."""
        return mmh3.hash(bytes(key_bytes), self.seed, signed=True)

    def partition(self, hash_code: int, key_bytes: bytes | memoryview, parts: int) -> int:
        if parts < 1:
            raise ValueError(f"partition count must be positive, got {parts}")
        murmur = self.hash(key_bytes)
        return 0 if murmur == _INT_MIN else abs(murmur) % parts
