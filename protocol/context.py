"""Protocol versions and the negotiated per-connection context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.opcodes import Feature

__all__ = [
    "LATEST",
    "MAX_FEATURE_BYTES",
    "SUPPORTED_VERSIONS",
    "ProtocolContext",
    "ProtocolVersion",
    "decode_features",
    "encode_features",
]


class ProtocolVersion(NamedTuple):
    """``major.minor.patch``; ordered like a tuple (``(1, 4, 0) <= v``)."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


# Servers accept exactly these versions (``ClientConnectionContext``); newest last.
SUPPORTED_VERSIONS: tuple[ProtocolVersion, ...] = tuple(
    ProtocolVersion(1, minor, 0) for minor in range(8)
)
LATEST = SUPPORTED_VERSIONS[-1]
V1_1 = ProtocolVersion(1, 1, 0)
V1_2 = ProtocolVersion(1, 2, 0)
V1_4 = ProtocolVersion(1, 4, 0)
V1_5 = ProtocolVersion(1, 5, 0)
V1_6 = ProtocolVersion(1, 6, 0)
V1_7 = ProtocolVersion(1, 7, 0)

# Longest feature bitmask accepted either way (2048 bits; Ignite 2.x defines 19).
MAX_FEATURE_BYTES = 256
_BITS = tuple(tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256))


def encode_features(features: frozenset[int] | set[int]) -> bytes:
    """Bit k -> byte k // 8, bit k % 8 (Java ``BitSet.toByteArray``, trailing zeros dropped)."""
    if not features:
        return b""
    if min(features) < 0 or max(features) >= MAX_FEATURE_BYTES * 8:
        raise ValueError(
            f"feature bits must be in [0, {MAX_FEATURE_BYTES * 8}), got {sorted(features)}"
        )
    data = bytearray(max(features) // 8 + 1)
    for bit in features:
        data[bit // 8] |= 1 << (bit % 8)
    return bytes(data)


def decode_features(data: bytes | memoryview) -> frozenset[int]:
    """The set bits of a feature bitmask (inverse of :func:`encode_features`).

    Linear in the mask; a mask longer than :data:`MAX_FEATURE_BYTES` is a
    ProtocolError (Ignite defines 19 bits, so only garbage gets near it).
    """
    if len(data) > MAX_FEATURE_BYTES:
        raise ProtocolError(f"feature bitmask of {len(data)} bytes (at most {MAX_FEATURE_BYTES})")
    return frozenset(
        index * 8 + bit for index, byte in enumerate(bytes(data)) if byte for bit in _BITS[byte]
    )


@dataclass(frozen=True, slots=True)
class ProtocolContext:
    """What a handshake settled: the version and the feature bits both sides support.

    Every encoder and decoder whose layout depends on the version takes one;
    there is no global default.
    """

    version: ProtocolVersion = LATEST
    features: frozenset[int] = frozenset()

    @property
    def flags_header(self) -> bool:
        """Responses carry the flags header (partition-awareness era, 1.4.0+)."""
        return self.version >= V1_4

    @property
    def partition_awareness(self) -> bool:
        """Handshake node ids, topology versions in headers, OP_CACHE_PARTITIONS (1.4.0+)."""
        return self.version >= V1_4

    @property
    def transactions(self) -> bool:
        """OP_TX_START/END and the transactional cache flag (1.5.0+)."""
        return self.version >= V1_5

    @property
    def expiry_policies(self) -> bool:
        """Expiry policies in cache requests and configurations (1.6.0+)."""
        return self.version >= V1_6

    @property
    def has_features(self) -> bool:
        """Feature bitmasks are exchanged (1.7.0+)."""
        return self.version >= V1_7

    def supports(self, feature: Feature) -> bool:
        """Whether a bitmask feature was negotiated."""
        return self.has_features and int(feature) in self.features

    # The same questions under the names pyignite's ``ProtocolContext`` uses.

    def is_partition_awareness_supported(self) -> bool:
        return self.partition_awareness

    def is_status_flags_supported(self) -> bool:
        return self.flags_header

    def is_transactions_supported(self) -> bool:
        return self.transactions

    def is_expiry_policy_supported(self) -> bool:
        return self.expiry_policies

    def is_feature_flags_supported(self) -> bool:
        return self.has_features

    def is_cluster_api_supported(self) -> bool:
        """pyignite's CLUSTER_API feature is the CLUSTER_STATES bit."""
        return self.supports(Feature.CLUSTER_STATES)
