"""Counters an operator reads: per node and for the whole client."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["ClientMetrics", "NodeMetrics"]


@dataclass(slots=True)
class NodeMetrics:
    """Per node: requests sent, how they were routed, and connection events."""

    requests: int = 0  # every request sent to the node
    to_primary: int = 0  # key requests sent to the key's primary
    fallback: int = 0  # key requests sent elsewhere (no map, primary down, ...)
    retries: int = 0  # attempts that repeated an operation which failed elsewhere
    failovers: int = 0  # operations moved away from this node after it failed
    reconnects: int = 0  # successful handshakes after the first

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class ClientMetrics:
    """Client-wide counters."""

    map_refreshes: int = 0  # partition maps installed
    topology_changes: int = 0  # newer affinity topology versions observed
    discoveries: int = 0  # endpoint lists received (op 5102)
    hedgeable_reads: int = 0  # reads that could be hedged (each adds to the budget)
    hedges_sent: int = 0  # reads sent again to a backup owner (hedged reads)
    hedges_won: int = 0  # hedged reads the backup owner answered first
    hedges_denied: int = 0  # hedges the budget did not allow
    replica_reads: int = 0  # replica reads sent to a backup owner
