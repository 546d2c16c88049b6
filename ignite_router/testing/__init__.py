"""A local multi-node cluster that speaks the Ignite thin-client protocol (for tests and demos)."""

from ignite_router.testing.cluster import LocalCluster, NodeInfo

__all__ = ["LocalCluster", "NodeInfo"]
