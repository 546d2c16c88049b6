"""`ignite-router hash | partition | locate`. Expected values are JVM vectors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ignite_router.cli import main


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["hash", "123456789012"], {"type": "long", "hash": -1097262584}),
        (["hash", "my cache"], {"type": "string", "hash": 2012078094}),
        (["hash", "3.14159", "--type", "double"], {"hash": -1340954729}),
        (["hash", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "--type", "uuid"], {"hash": -343263960}),
        (["hash", "1600000000123", "--type", "date"], {"hash": -2022801137}),
        (["hash", "2020-09-13T12:26:40.123", "--type", "timestamp"], {"hash": -2022801137}),
        (["hash", "1.5", "--type", "decimal"], {"hash": 466}),
        (["hash", "true", "--type", "bool"], {"hash": 1231}),
        (["hash", "A", "--type", "char"], {"hash": 65}),
        (["hash", "-1", "--type", "int"], {"type": "int", "hash": -1}),
        (["hash", "😀"], {"hash": 1772899}),
        (["partition", "my cache", "--partitions", "1000"], {"hash": 2012078094, "partition": 94}),
        (["partition", "123456789012"], {"partitions": 1024, "partition": 145}),
        (["partition", "Hello", "--partitions", "512", "--json"], {"partition": 148}),
    ],
)
def test_hash_and_partition(capsys, argv, expected) -> None:
    code, result, err = run(capsys, *argv)
    assert code == 0, err
    assert expected.items() <= result.items()


@pytest.mark.parametrize(
    ("key", "primary", "backups"),
    [("0", "node-b", ["node-a"]), ("1", "node-b", ["node-c"]), ("2", "node-a", ["node-c"])],
)
def test_locate_follows_rendezvous_vectors(capsys, key, primary, backups) -> None:
    # JVM vector: node-a/b/c, backups 1, partitions p0 b,a; p1 b,c; p2 a,c (Long k -> p k).
    code, result, err = run(
        capsys,
        "locate",
        key,
        "--consistent-ids",
        "node-a,node-b,node-c",
        "--partitions",
        "8",
        "--backups",
        "1",
    )
    assert code == 0, err
    assert (result["primary"], result["backups"]) == (primary, backups)


@pytest.mark.parametrize(
    "argv",
    [
        ["hash", "300", "--type", "byte"],
        ["hash", str(1 << 40), "--type", "int"],
        ["hash", "not-a-uuid", "--type", "uuid"],
        ["hash", "1.2.3", "--type", "decimal"],
        ["hash", "NaN", "--type", "decimal"],
        ["hash", "25:99", "--type", "time"],
        ["hash", "maybe", "--type", "bool"],
        ["partition", "x", "--partitions", "0"],
        ["locate", "x", "--consistent-ids", "a,,b"],
        ["locate", "x", "--consistent-ids", "a,a"],
        ["locate", "x", "--consistent-ids", "a", "--backups", "-1"],
        ["locate", "x", "--nodes", "a", "--backups", "-1"],
        ["hash", "x", "--type", "nosuchtype"],
        ["locate", "x"],
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, argv) -> None:
    code, result, err = run(capsys, *argv)
    assert code == 2
    assert result is None
    assert len(err.strip().splitlines()) == 1


def test_runs_as_a_module() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ignite_router", "partition", "my cache", "--partitions", "1000"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(completed.stdout)["partition"] == 94
