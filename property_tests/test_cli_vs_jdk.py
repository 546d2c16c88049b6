"""The command line's answers for the inputs of issue 9, checked against the live JDK oracle."""

from __future__ import annotations

import json
import uuid

import pytest

from ignite_router.cli import main
from property_tests.oracle import assign_request, parse_assignment, utf16_hex


def run(capsys, *argv: str) -> dict:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    ("argv", "request_"),
    [
        (["-1.25895E+12", "--type", "decimal"], "decimal -125895 -7"),
        (["-0.00100", "--type", "decimal"], "decimal -100 5"),
        (["010"], f"string {utf16_hex('010')}"),
        (["00042"], f"string {utf16_hex('00042')}"),
        (["-42"], "long -42"),
        (["0x10", "--type", "int"], "int 16"),
        (["010", "--type", "short"], "short 10"),
        (
            ["2020-09-13T12:26:40.123456789Z", "--type", "timestamp"],
            "timestamp 1600000000123 456789",
        ),
        (["2020-09-13T12:26:40.123999999", "--type", "date"], "date 1600000000123"),
        (["-1", "--type", "date"], "date -1"),
    ],
)
def test_hash_matches_the_jdk(capsys, oracle, argv, request_) -> None:
    assert run(capsys, "hash", *argv)["hash"] == oracle.ask_ints([request_])[0]


def test_timestamp_nanoseconds_are_kept(capsys) -> None:
    result = run(capsys, "hash", "2020-09-13T12:26:40.123456789", "--type", "timestamp")
    assert result["value"] == "2020-09-13T12:26:40.123456789+00:00"


def _oracle_owners(oracle, ids, node_ids, parts, backups, part) -> list[int]:
    answer = oracle.ask([assign_request(ids, node_ids, parts, backups)])[0]
    return list(parse_assignment(answer)[part])


def test_locate_replicated_lists_the_others_in_topology_order(capsys, oracle) -> None:
    # Issue 9: key 0 of 4 partitions, backups = Integer.MAX_VALUE.
    names = ["node-a", "node-b", "node-c", "node-d"]
    result = run(
        capsys, "locate", "0", "--consistent-ids", ",".join(names),
        "--partitions", "4", "--backups", "2147483647",
    )  # fmt: skip
    node_ids = [uuid.UUID(int=i + 1) for i in range(4)]
    owners = _oracle_owners(oracle, names, node_ids, 4, 2147483647, result["partition"])
    assert [result["primary"], *result["backups"]] == [names[i] for i in owners]
    assert result["backups"] == ["node-a", "node-c", "node-d"]


@pytest.mark.parametrize("id_type", [None, "uuid", "string"])
def test_locate_uuid_consistent_ids(capsys, oracle, id_type) -> None:
    names = [str(uuid.UUID(int=(n * 0x9E3779B97F4A7C15) % (1 << 128))) for n in range(1, 6)]
    extra = ["--id-type", id_type] if id_type else []
    as_java = [uuid.UUID(n) for n in names] if id_type != "string" else names
    node_ids = [uuid.UUID(int=i + 1) for i in range(len(names))]
    for key in range(8):
        result = run(
            capsys, "locate", str(key), "--consistent-ids", ",".join(names),
            "--partitions", "64", "--backups", "1", *extra,
        )  # fmt: skip
        owners = _oracle_owners(oracle, as_java, node_ids, 64, 1, result["partition"])
        assert [result["primary"], *result["backups"]] == [names[i] for i in owners]


def test_locate_breaks_ties_with_node_ids(capsys, oracle) -> None:
    names = ["Aa", "BB", "node-c"]
    node_ids = [uuid.UUID(int=n) for n in (7, 3, 5)]
    for key in range(8):
        result = run(
            capsys, "locate", str(key), "--consistent-ids", ",".join(names),
            "--node-ids", ",".join(map(str, node_ids)), "--partitions", "8", "--backups", "2",
        )  # fmt: skip
        owners = _oracle_owners(oracle, names, node_ids, 8, 2, result["partition"])
        assert [result["primary"], *result["backups"]] == [names[i] for i in owners]
