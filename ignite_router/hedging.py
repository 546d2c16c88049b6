"""Hedged reads: the policy a client is given (``Client(hedge=HedgePolicy(...))``).

A cache opts in with ``cache.with_hedging()``; see docs/guide.md, "Hedged and
replica reads".
"""

from ignite_router.core.replicas import HedgePolicy

__all__ = ["HedgePolicy"]
