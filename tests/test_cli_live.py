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


# -- one endpoint given: the others are discovered, then connected, before answering ----------


def first_endpoint(cluster: LocalCluster) -> str:
    host, port = cluster.endpoints[0]
    return f"{host}:{port}"


def test_locate_verify_with_one_endpoint_asks_every_node(cluster) -> None:
    node_0 = str(cluster.nodes[0].node_id)
    with Client().connect(cluster.endpoints) as client:
        cache = client.get_or_create_cache("discovered")
        cache.put_all({key: key for key in range(64)})
    checked = 0
    for key in range(64):
        result = cli("locate", str(key), "--connect", first_endpoint(cluster), "--cache",
                     "discovered", "--verify")  # fmt: skip
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        owners = owners_in_model(cluster, "discovered", answer["partition"])
        if node_0 in owners:
            continue  # the given node holds it: not what this test is about
        assert answer["verified"] is True and sorted(answer["holders"]) == sorted(owners)
        assert [answer["primary"], *answer["backups"]] == owners
        assert answer["endpoint"] is not None and "not_connected" not in answer
        assert result.stderr == ""
        checked += 1
        if checked == 3:
            break
    assert checked == 3  # keys owned only by discovered nodes were found and verified


def test_topology_with_one_endpoint_shows_every_node_connected(cluster) -> None:
    result = cli("topology", "--connect", first_endpoint(cluster), "--json")
    assert result.returncode == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert [node["alive"] for node in nodes] == [True] * len(cluster.nodes)
    assert [node["endpoint"] for node in nodes] == [f"{h}:{p}" for h, p in cluster.endpoints]


def test_a_discovered_node_that_never_answers_costs_at_most_the_timeout() -> None:
    with LocalCluster(nodes=3) as small:
        small.blackhole_node(2)  # in the topology, accepts connections, answers nothing
        result = cli("topology", "--connect", first_endpoint(small), "--timeout", "1", "--json")
        assert result.returncode == 0, result.stderr
        nodes = json.loads(result.stdout)["nodes"]
        assert [node["alive"] for node in nodes] == [True, True, False]
        note = result.stderr.strip().splitlines()
        assert len(note) == 1 and note[0].startswith("ignite-router topology: note: ")
        assert "not connected to node-2 within 1 s" in note[0]


def test_topology_prints_tables_unless_json(cluster) -> None:
    tables = cli("topology", "--connect", first_endpoint(cluster))
    assert tables.returncode == 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(tables.stdout)
    assert "┃" in tables.stdout and "connected" in tables.stdout
