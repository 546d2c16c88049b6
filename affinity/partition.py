"""Key hash -> partition (``RendezvousAffinityFunctionHelper.calculatePartition``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

__all__ = ["MAX_PARTITIONS", "partition", "partition_function", "partition_mask"]

MAX_PARTITIONS = 65000
_MASK32 = 0xFFFFFFFF
_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1


def partition_mask(parts: int) -> int:
    """``parts - 1`` when ``parts`` is a power of two, else -1 (the remainder variant)."""
    if isinstance(parts, bool) or not isinstance(parts, int) or not 1 <= parts <= MAX_PARTITIONS:
        raise ValueError(f"partition count must be an int in [1, {MAX_PARTITIONS}], got {parts!r}")
    return parts - 1 if parts & (parts - 1) == 0 else -1


def _by_mask(mask: int, hash_code: int) -> int:
    # (h ^ (h >>> 16)) & mask, with >>> on the unsigned 32-bit pattern.
    unsigned = hash_code & _MASK32
    return (unsigned ^ (unsigned >> 16)) & mask


def _by_remainder(parts: int, hash_code: int) -> int:
    # safeAbs(h % parts) with Java's truncating %, which is |h| mod parts.
    # Python's % floors, so it must never see a negative h.
    return abs(hash_code) % parts


def partition_function(parts: int) -> Callable[[int], int]:
    """The hash -> partition function for a partition count, chosen once."""
    mask = partition_mask(parts)
    return partial(_by_mask, mask) if mask >= 0 else partial(_by_remainder, parts)


def partition(hash_code: int, parts: int) -> int:
    """Partition of a key whose Java hash is ``hash_code`` (a signed int32)."""
    if isinstance(hash_code, bool) or not isinstance(hash_code, int):
        raise TypeError(f"hash code must be an int, got {type(hash_code).__name__}")
    if not _INT_MIN <= hash_code <= _INT_MAX:
        raise ValueError(f"hash code {hash_code} is not a signed int32")
    return partition_function(parts)(hash_code)
