"""pytest fixture ``ignite_cluster``: a fresh three-node :class:`LocalCluster` per test.

Installed with ignite-router (a ``pytest11`` entry point). Parametrize it with
``@pytest.mark.ignite_cluster(nodes=5, backups=1)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ignite_router.testing.cluster import LocalCluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ignite_cluster(**kwargs): LocalCluster arguments for the ignite_cluster fixture"
    )


@pytest.fixture
def ignite_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    marker = request.node.get_closest_marker("ignite_cluster")
    options = dict(marker.kwargs) if marker else {}
    with LocalCluster(**options) as cluster:
        yield cluster
