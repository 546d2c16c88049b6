"""`ignite-router bench`: every row, the plot, the missing-matplotlib message, the server process.

The benchmark runs with a hidden ``--ops`` that shrinks it to a few seconds. Nothing here
asserts anything about speed: only that every row is measured, with numbers, and that our
client sent no key request to a node which is not the key's primary (``forwarded`` 0).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ignite_router.bench import PLOT_MISSING, ServerProcess
from ignite_router.commands import bench as bench_command

pytest.importorskip("pyignite")

ROOT = Path(__file__).resolve().parent.parent
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
ROW_IDS = [
    "sync_put_get",
    "sync_client_cpu",
    "sync_cpu_above_floor",
    "floor",
    "async_1",
    "async_16",
    "async_256",
    "put_all_get_all_100",
]
RATE_ROWS = ["sync_put_get", "async_1", "async_16", "async_256", "put_all_get_all_100"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _bench(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ignite_router.commands.bench", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path | None]:
    """One small ``--quick --json`` run (with ``--plot`` when matplotlib is installed)."""
    plot = tmp_path_factory.mktemp("bench") / "bench.png" if HAS_MATPLOTLIB else None
    argv = ["--quick", "--json", "--ops", "60"]
    if plot is not None:
        argv += ["--plot", str(plot)]
    result = _bench(*argv)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), plot


def test_json_has_every_row_with_numbers(tiny_run: tuple[dict, Path | None]) -> None:
    result, _ = tiny_run
    rows = {row["id"]: row for row in result["rows"]}
    assert list(rows) == ROW_IDS
    for row_id, row in rows.items():
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]), row_id
        if row_id != "floor":
            assert isinstance(row["pyignite"], float) and math.isfinite(row["pyignite"]), row_id
            assert row["ratio"] is not None, row_id
            assert len(row["rounds"]["ours"]) == len(row["rounds"]["pyignite"]) >= 2
    for row_id in ("sync_put_get", "sync_client_cpu", "async_256", "put_all_get_all_100"):
        assert rows[row_id]["target"] is not None, row_id
        assert isinstance(rows[row_id]["met"], bool), row_id
    assert result["meta"]["nodes"] == 3
    assert result["meta"]["pyignite"] == "0.6.1"


def test_our_client_sends_every_key_request_to_its_primary(
    tiny_run: tuple[dict, Path | None],
) -> None:
    rows = {row["id"]: row for row in tiny_run[0]["rows"]}
    for row_id in RATE_ROWS:
        assert rows[row_id]["forwarded"] == 0, row_id  # counted by the server
        assert rows[row_id]["client_fallback"] == 0, row_id  # counted by the client
        assert isinstance(rows[row_id]["pyignite_forwarded"], int), row_id


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed")
def test_plot_writes_a_png(tiny_run: tuple[dict, Path | None]) -> None:
    result, plot = tiny_run
    assert plot is not None
    data = plot.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    assert result["meta"]["plot"] == str(plot)


def test_without_matplotlib_plot_is_one_line_and_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "never.png"
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "from ignite_router.commands.bench import main\n"
        f"raise SystemExit(main(['--quick', '--ops', '10', '--plot', {str(target)!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert PLOT_MISSING in lines[0]
    assert "Traceback" not in result.stderr
    assert not target.exists()


def test_bad_ops_is_a_usage_error() -> None:
    result = _bench("--ops", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--ops" in result.stderr


def test_register_adds_the_bench_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="ignite-router")
    subparsers = parser.add_subparsers(dest="command", required=True)
    bench_command.register(subparsers)
    args = parser.parse_args(["bench", "--quick", "--json", "--plot", "out.png"])
    assert (args.command, args.quick, args.json, args.plot) == ("bench", True, True, "out.png")
    assert args.ops is None and args.handler is not None


def test_server_process_answers_stats_reset_and_quit() -> None:
    with ServerProcess(nodes=2) as server:
        assert len(server.endpoints) == 2
        stats = server.command("stats")
        assert [sorted(node) for node in stats] == [
            ["connections", "errors", "forwarded", "key_requests", "requests"]
        ] * 2
        assert server.command("reset") == {"ok": True}
        assert "error" in server.command("hello")
        assert server.forwarded() == 0
        process = server.process
    assert process.returncode == 0  # "quit" closed the cluster and exited cleanly
