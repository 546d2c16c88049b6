"""``locate --connect --verify`` and ``topology`` against a LocalCluster.

The reference is the cluster's own storage (each node's local peek) and the
cluster model's owner lists, not our routing code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from ignite_router import Client
from ignite_router.affinity import cache_id
from ignite_router.inspection import locate_live
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.values import ComplexObject
from ignite_router.testing import LocalCluster

KEY_CONFIG = [{"type_name": "OrderKey", "affinity_key_field_name": "city"}]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ignite_router", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=4, backups=1) as cluster:
        with Client().connect(cluster.endpoints) as client:
            cache = client.get_or_create_cache("people")
            cache.put(42, "int key")
            cache.put("user:42", "str key")
            cache.put(uuid.UUID(int=42), "uuid key")
            orders = client.get_or_create_cache(
                {CacheProperty.NAME: "orders", CacheProperty.CACHE_KEY_CONFIGURATION: KEY_CONFIG}
            )
            orders.put(ComplexObject("OrderKey", {"id": 7, "city": "Lyon"}), "complex key")
        yield cluster


def connect_arg(cluster: LocalCluster) -> str:
    return ",".join(f"{host}:{port}" for host, port in cluster.endpoints)


def owners_in_model(cluster: LocalCluster, cache_name: str, part: int) -> list[str]:
    def read(model):
        owners = model.caches[cache_id(cache_name)].owners[part]
        return [str(model.nodes[index].node_id) for index in owners]

    return cluster.call(read)


@pytest.mark.parametrize(
    ("value", "type_args"),
    [("42", []), ("user:42", []), (str(uuid.UUID(int=42)), ["--type", "uuid"])],
    ids=["int", "str", "uuid"],
)
def test_locate_verify_agrees_with_the_cluster(cluster, value: str, type_args: list[str]) -> None:
    result = cli("locate", value, *type_args, "--connect", connect_arg(cluster), "--cache",
                 "people", "--verify", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["verified"] is True
    owners = owners_in_model(cluster, "people", answer["partition"])
    assert [answer["primary"], *answer["backups"]] == owners
    assert sorted(answer["holders"]) == sorted(owners)


def test_complex_key_with_an_affinity_field(cluster) -> None:
    with Client().connect(cluster.endpoints) as client:
        key = ComplexObject("OrderKey", {"id": 7, "city": "Lyon"})
        answer = locate_live(client, "orders", key, None, verify=True)
        by_city = locate_live(client, "orders", "Lyon", None, verify=False)
    assert answer["verified"] is True
    assert answer["partition"] == by_city["partition"]  # placed by the affinity field


def test_a_copy_on_the_wrong_node_fails_verification(cluster) -> None:
    with Client().connect(cluster.endpoints) as client:
        client.get_or_create_cache("planted").put(7, "seven")
        part = client.route("planted", 7).partition

    def plant(model) -> None:
        cache = model.caches[cache_id("planted")]
        owners = cache.owners[part]
        stranger = next(i for i in model.alive_indices() if i not in owners)
        store = model.nodes[owners[0]].data[cache.cache_id][part]
        model.nodes[stranger].data.setdefault(cache.cache_id, {})[part] = dict(store)
        cache.owners[part] = (*owners, stranger)  # the stranger now serves it too

    cluster.call(plant)
    result = cli("locate", "7", "--connect", connect_arg(cluster), "--cache", "planted",
                 "--verify")  # fmt: skip
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["verified"] is False
    assert len(answer["holders"]) == 3


def test_topology_counts_add_up(cluster) -> None:
    result = cli("topology", "--connect", connect_arg(cluster), "--cache", "people", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [node["node_id"] for node in report["nodes"]] == [
        str(node.node_id) for node in cluster.nodes
    ]
    spread = report["cache"]
    assert sum(row["primary"] for row in spread["per_node"]) == spread["partitions"] == 1024
    total = sum(row["primary"] + row["backup"] for row in spread["per_node"])
    assert total == spread["partitions"] * (spread["backups"] + 1)

    def held(model) -> dict[str, int]:
        cache = model.caches[cache_id("people")]
        return {
            str(model.nodes[i].node_id): sum(1 for owners in cache.owners if i in owners[1:])
            for i in model.alive_indices()
        }

    assert {row["node_id"]: row["backup"] for row in spread["per_node"]} == cluster.call(held)


def test_topology_table_and_bad_input(cluster) -> None:
    result = cli("topology", "--connect", connect_arg(cluster), "--cache", "people")
    assert result.returncode == 0
    assert "people" in result.stdout and "node-0" in result.stdout
    for args in (["--connect", "nohost"], ["--connect", connect_arg(cluster), "--user", "u"]):
        bad = cli("topology", *args)
        assert bad.returncode == 2
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    gone = cli("topology", "--connect", "127.0.0.1:1", "--timeout", "1")
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
