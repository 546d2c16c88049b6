"""Protocol versions and the negotiated per-connection context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from protocol.opcodes import Feature

__all__ = [
    "SUPPORTED_VERSIONS",
    "ProtocolContext",
    "ProtocolVersion",
    "decode_features",
    "encode_features",
]


class ProtocolVersion(NamedTuple):
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


# Servers accept exactly these versions (fact sheet §1.6); newest last.
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


def encode_features(features: frozenset[int]) -> bytes:
    """Bit k -> byte k // 8, bit k % 8 (Java ``BitSet.toByteArray``, trailing zeros dropped)."""
    if not features:
        return b""
    data = bytearray(max(features) // 8 + 1)
    for bit in features:
        data[bit // 8] |= 1 << (bit % 8)
    return bytes(data)


def decode_features(data: bytes | memoryview) -> frozenset[int]:
    return frozenset(
        index * 8 + bit
        for index, byte in enumerate(bytes(data))
        for bit in range(8)
        if byte >> bit & 1
    )


@dataclass(frozen=True, slots=True)
class ProtocolContext:
    """What a handshake settled: the version and the feature bits both sides support."""

    version: ProtocolVersion = LATEST
    features: frozenset[int] = frozenset()

    @property
    def flags_header(self) -> bool:
        """Responses carry the flags header (partition-awareness era, 1.4.0+)."""
        return self.version >= V1_4

    @property
    def has_features(self) -> bool:
        return self.version >= V1_7

    def supports(self, feature: Feature) -> bool:
        return self.has_features and int(feature) in self.features
