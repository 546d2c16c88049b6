"""Every bad input a new user tried (issue 9): one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from ignite_router.cli import main


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


BAD_INPUT = [
    ["hash", "", "--type", "int"],
    ["hash", "x", "--type", "long"],
    ["partition", "my cache", "--type", "long"],
    ["hash", "nope", "--type", "uuid"],
    ["hash", "2024-13-01", "--type", "date"],
    ["hash", "2024-01-01T00:00:00.1234567891", "--type", "timestamp"],
    ["hash", "1e3", "--type", "int"],
    ["hash", "0x1g", "--type", "int"],
    ["hash", "1" * 5000, "--type", "long"],
    ["hash", "1E-3000000000", "--type", "decimal"],
    ["hash", "x", "--type", "nosuchtype"],
    ["hash", "-x"],
    ["hash"],
    ["partition", "x", "--partitions", "0"],
    ["partition", "x", "--partitions", "many"],
    ["locate", "42", "--nodes", "3"],
    ["locate", "42"],
    ["locate", "42", "--consistent-ids", "a,b", "--nodes", "a,b"],
    ["locate", "42", "--consistent-ids", "a,,b"],
    ["locate", "42", "--consistent-ids", "a,a"],
    ["locate", "42", "--consistent-ids", "a", "--backups", "-1"],
    ["locate", "42", "--consistent-ids", "a", "--backups", "2147483648"],
    ["locate", "42", "--consistent-ids", "a,b", "--node-ids", "not-a-uuid,x"],
    ["locate", "42", "--consistent-ids", "a,b", "--node-ids", str(uuid.UUID(int=1))],
    ["locate", "42", "--consistent-ids", "a,b", "--id-type", "uuid"],
    ["locate", "1", "--consistent-ids", "Aa,BB", "--partitions", "8"],
    ["cluster", "--nodes", "100000"],
    ["cluster", "--nodes", "0"],
    ["cluster", "--host", ""],
    ["cluster", "--host", "nosuchhost.invalid"],
    ["cluster", "--port", "-1"],
    ["cluster", "--port", "65535", "--nodes", "3"],
    ["cluster", "--credentials", ":"],
    ["cluster", "--credentials", "user:"],
    ["cluster", "--credentials", "nocolon"],
    ["nosuchcommand"],
    [],
]


@pytest.mark.parametrize("argv", BAD_INPUT, ids=lambda argv: " ".join(argv)[:60] or "(none)")
def test_bad_input_is_one_line_exit_2_without_traceback(capsys, argv) -> None:
    code, out, err = run(capsys, argv)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    command = argv[0] if argv and argv[0] in ("hash", "partition", "locate", "cluster") else None
    # Every command's errors carry the same prefix.
    prefix = f"ignite-router {command}: error: " if command else "ignite-router: error: "
    assert lines[0].startswith(prefix), lines[0]


def test_tie_error_names_the_ids_and_the_way_out(capsys) -> None:
    code, _, err = run(capsys, ["locate", "1", "--consistent-ids", "Aa,BB", "--partitions", "8"])
    assert code == 2
    assert "'Aa' and 'BB'" in err and "--node-ids" in err


def test_locate_nodes_count_is_refused_with_the_new_spelling(capsys) -> None:
    _, _, err = run(capsys, ["locate", "42", "--nodes", "3"])
    assert "--consistent-ids" in err and "count" in err


def test_old_nodes_spelling_still_works_with_a_note(capsys) -> None:
    new = run(capsys, ["locate", "7", "--consistent-ids", "node-a,node-b,node-c"])
    old = run(capsys, ["locate", "7", "--nodes", "node-a,node-b,node-c"])
    assert new[0] == old[0] == 0
    assert json.loads(new[1]) == json.loads(old[1])
    assert new[2] == "" and "--consistent-ids" in old[2] and len(old[2].splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["hash", "-1.25895E+12", "--type", "decimal"],
        ["hash", "-7"],
        ["hash", "-0.5", "--type", "double"],
        ["hash", "-inf", "--type", "float"],
        ["hash", "-1e-3", "--type", "double"],
        ["partition", "-123456", "--partitions", "17"],
    ],
)
def test_negative_values_are_plain_positionals(capsys, argv) -> None:
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert "hash" in json.loads(out)


def test_untyped_leading_zeros_are_strings_like_hex(capsys) -> None:
    for text in ("010", "00042", "0x10", "+0", "1e3"):
        code, out, _ = run(capsys, ["hash", text])
        result = json.loads(out)
        expected_type = "long" if text == "+0" else "string"
        assert (code, result["type"], result["value"]) == (
            0,
            expected_type,
            0 if expected_type == "long" else text,
        )


def test_every_command_accepts_json(capsys) -> None:
    for argv in (["hash", "1", "--json"], ["partition", "1", "--json"]):
        assert run(capsys, argv)[0] == 0
    code, _, err = run(capsys, ["cluster", "--json", "--nodes", "0"])
    assert code == 2 and "unrecognized" not in err and "--nodes" in err


def test_top_level_help_is_prose_not_a_docstring(capsys) -> None:
    code, out, _ = run(capsys, ["--help"])
    assert code == 0
    assert "``" not in out and ":mod:" not in out
    for command in ("hash", "partition", "locate", "cluster"):
        assert command in out


_SLOW_START = textwrap.dedent(
    """
    import asyncio, sys
    from ignite_router.testing.cluster import LocalCluster
    original = LocalCluster._start_node
    async def slow(self, index):
        await asyncio.sleep(0.05)
        await original(self, index)
    LocalCluster._start_node = slow
    from ignite_router.cli import main
    raise SystemExit(main(["cluster", "--nodes", "200"]))
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_starting_cluster_stops_promptly_on_a_signal(signum) -> None:
    # Start-up is slowed to ~10 s (50 ms per node); the signal must end it at once.
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_START],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        time.sleep(1.0)
        sent = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=5)
        assert time.monotonic() - sent < 3
    finally:
        if process.poll() is None:  # only when the signal was ignored
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signum
    assert out == "" and "Traceback" not in err
    assert "Task was destroyed" not in err  # close() cancels what start() left behind


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["hash", "", "--type", "int"], "not an int: ''"),
        (["partition", "my cache", "--type", "long"], "not a long: 'my cache'"),
        (["hash", "nope", "--type", "uuid"], "not a UUID: 'nope'"),
        (["hash", "2024-13-01", "--type", "date"], "not a date: '2024-13-01'"),
        (["cluster", "--port", "-1"], "--port must be between 1 and"),
        (["cluster", "--host", "nosuchhost.invalid"], "cannot be resolved"),
    ],
)
def test_messages_say_what_was_expected_not_what_python_said(capsys, argv, says) -> None:
    code, _, err = run(capsys, argv)
    assert code == 2 and says in err
    for raw in ("invalid literal", "badly formed", "base_port", "Traceback"):
        assert raw not in err
