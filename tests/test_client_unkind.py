"""Both clients against a LocalCluster as unkind as a real one (docs/testing.md):
answers out of order, late affinity on joins ((N, 0) then (N, 1)), nodes that learn a new
topology version one by one, exchanges that hold requests, and discovery from one seed."""

from __future__ import annotations

import time

import pytest

from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected
from tests.test_client_failover import Workload

UNKIND = {
    "reorder": True,
    "late_affinity": True,
    "rebalance_delay": 0.2,
    "version_lag": 0.1,
    "exchange_delay": 0.03,
}


def settle_routing(shell, cache, cluster: LocalCluster, keys: range) -> None:
    """Keep operating until every key routes to its primary with the newest map."""
    cluster.wait_for_rebalance()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for key in keys:
            shell.do(cache.get(key))
        cache_map = shell.client.core.tracker.maps.get(cache.cache_id)
        if (
            cache_map is not None
            and tuple(cache_map.version) == cluster.topology_version
            and all(shell.client.route(cache, key).reason == "primary" for key in keys)
        ):
            return
        time.sleep(0.02)
    raise AssertionError("routing did not settle on the newest map")


@pytest.mark.parametrize("kind", SHELLS)
def test_joins_restarts_and_lagging_versions_under_load(kind: str) -> None:
    with LocalCluster(nodes=3, backups=1, **UNKIND) as cluster, connected(
        kind, cluster.endpoints[:1]  # one seed: the others are discovered
    ) as shell:
        client = shell.client
        cache = shell.do(client.get_or_create_cache("unkind"))
        settle_routing(shell, cache, cluster, range(100))
        assert len([node for node in client.nodes() if node["up"]]) == 3
        with Workload(shell, cache) as work:
            work.wait_ops(300)
            cluster.add_node()  # (4, 0) keeps moving primaries, (4, 1) moves them
            work.wait_ops(300)
            cluster.kill_node(1)
            work.wait_ops(300)
            cluster.start_node(1)
            work.wait_ops(300)
        assert work.errors == []  # a put lost with the killed node is an unknown outcome
        for key, values in work.acked.items():
            assert shell.do(cache.get(key)) in values
        settle_routing(shell, cache, cluster, range(300))
        cluster.reset_stats()
        for key in range(300):
            shell.do(cache.get(key))
        assert sum(node["forwarded"] for node in cluster.stats()) == 0
        assert len([node for node in client.nodes() if node["up"]]) == 4


@pytest.mark.parametrize("kind", SHELLS)
def test_a_second_cache_object_shares_the_map(kind: str) -> None:
    with LocalCluster(nodes=3, reorder=True) as cluster, connected(
        kind, cluster.endpoints
    ) as shell:
        first = shell.do(shell.client.get_or_create_cache("shared-map"))
        settle_routing(shell, first, cluster, range(20))
        second = shell.do(shell.client.get_cache("shared-map"))
        assert all(shell.client.route(second, key).reason == "primary" for key in range(50))
        cluster.reset_stats()
        for key in range(200):
            shell.do(second.put(key, key))
        assert sum(node["forwarded"] for node in cluster.stats()) == 0
