"""Reads from backup owners: the hedge policy a client is given
(``Client(hedge=HedgePolicy(...))``) and the replica read strategies.

A cache opts in with ``cache.with_hedging()`` or ``cache.with_replica_reads()``;
see docs/guide.md, "Hedged and replica reads".
"""

from ignite_router.core.replicas import HedgePolicy, ReplicaReads

__all__ = ["HedgePolicy", "ReplicaReads"]
