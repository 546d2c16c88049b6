"""The ``ignite_cluster`` pytest fixture that ships with the package."""

import pytest

from ignite_router.testing import LocalCluster


def test_default_fixture_is_a_running_three_node_cluster(ignite_cluster: LocalCluster) -> None:
    assert len(ignite_cluster.endpoints) == 3
    assert all(node.alive for node in ignite_cluster.nodes)
    assert ignite_cluster.topology_version == (3, 0)


@pytest.mark.ignite_cluster(nodes=2, backups=1, consistent_ids=["east", "west"])
def test_marker_configures_the_fixture(ignite_cluster: LocalCluster) -> None:
    assert [node.consistent_id for node in ignite_cluster.nodes] == ["east", "west"]
    assert ignite_cluster.topology_version == (2, 0)
