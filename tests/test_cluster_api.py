"""LocalCluster's Python API: index checks, endpoints before start, option validation."""

from __future__ import annotations

import pytest
from pyignite import Client

from ignite_router.testing import LocalCluster, NodeInfo

pytestmark = pytest.mark.timeout(60)


def test_every_index_taking_method_refuses_unknown_nodes_alike() -> None:
    with LocalCluster(nodes=3) as cluster:
        calls = {
            "kill_node": lambda i: cluster.kill_node(i),
            "stop_node": lambda i: cluster.stop_node(i),
            "start_node": lambda i: cluster.start_node(i),
            "hang_node": lambda i: cluster.hang_node(i),
            "heal_node": lambda i: cluster.heal_node(i),
            "set_latency": lambda i: cluster.set_latency(i, 0.1),
        }
        for name, call in calls.items():
            for index in (-1, 3, 5, True):
                with pytest.raises(IndexError, match=f"^no node {index}$"):
                    call(index)
            assert all(node.alive for node in cluster.nodes), name  # nothing was killed
        cluster.kill_node(2)
        assert [node.alive for node in cluster.nodes] == [True, True, False]


def test_endpoints_before_start_need_a_base_port() -> None:
    cluster = LocalCluster(nodes=2)
    with pytest.raises(RuntimeError, match="start"):
        cluster.endpoints  # noqa: B018
    assert LocalCluster(nodes=2, base_port=41000).endpoints == [
        ("127.0.0.1", 41000),
        ("127.0.0.1", 41001),
    ]
    with cluster:
        assert all(port > 0 for _, port in cluster.endpoints)
        assert isinstance(cluster.nodes[0], NodeInfo)


@pytest.mark.parametrize(
    "options",
    [{"version_lag": -1}, {"exchange_delay": -0.1}, {"max_connections": 0},
     {"handshake_timeout": float("nan")}],
)  # fmt: skip
def test_bad_options_are_refused(options) -> None:
    with pytest.raises(ValueError):
        LocalCluster(**options)


def test_pyignite_works_against_every_unkind_option_at_once() -> None:
    with LocalCluster(
        nodes=3,
        backups=1,
        reorder=True,
        late_affinity=True,
        rebalance_delay=0.1,
        version_lag=0.1,
        exchange_delay=0.05,
    ) as cluster:
        client = Client(partition_aware=True, timeout=10)
        with client.connect(cluster.endpoints):
            cache = client.get_or_create_cache("unkind")
            cache.put_all({i: str(i) for i in range(200)})
            index = cluster.add_node()
            for i in range(200):
                assert cache.get(i) == str(i)
            cluster.wait_for_rebalance()
            cluster.kill_node(index)
            assert cache.get_all(list(range(200))) == {i: str(i) for i in range(200)}
            assert cache.get_size() == 200
