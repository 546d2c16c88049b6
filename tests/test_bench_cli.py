"""`ignite-router bench`: every row of both tables, the plot, the refusals, the server process.

The benchmark runs with a hidden ``--ops`` that shrinks it to a few seconds. Nothing here
asserts anything about speed: only that every row is measured, with numbers, that every
client really sent its requests (the server's ``key_requests``) and that ours and the raw
client sent none to a node which is not the key's primary (``forwarded`` 0).
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

from benchmarks.harness import CACHE, PLOT_MISSING, ServerProcess
from benchmarks.raw_client import RawClient
from ignite_router import Client
from ignite_router.commands import bench as bench_command

pytest.importorskip("pyignite")

ROOT = Path(__file__).resolve().parent.parent
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
ROW_IDS = [
    "sync_put_get",
    "sync_client_cpu",
    "async_1",
    "async_16",
    "async_256",
    "put_all_get_all_100",
]
CPU_ROW_IDS = [
    "get",
    "put",
    "async_get_256",
    "put_all_get_all_per_key",
    "hash_8",
    "hash_64",
    "hash_1024",
    "server_get",
    "server_put",
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
        assert isinstance(row["pyignite"], float) and math.isfinite(row["pyignite"]), row_id
        assert row["ratio"] is not None, row_id
        assert len(row["rounds"]["ours"]) == len(row["rounds"]["pyignite"]) >= 2
    for row_id in ("sync_put_get", "sync_client_cpu", "async_256", "put_all_get_all_100"):
        assert rows[row_id]["target"] is not None, row_id
        assert isinstance(rows[row_id]["met"], bool), row_id
    assert result["meta"]["nodes"] == 3
    assert result["meta"]["pyignite"] == "0.6.1"
    assert isinstance(result["meta"]["accelerated"], bool)


def test_client_cpu_table_has_every_row_with_numbers(tiny_run: tuple[dict, Path | None]) -> None:
    rows = {row["id"]: row for row in tiny_run[0]["cpu_rows"]}
    assert list(rows) == CPU_ROW_IDS
    three = ("get", "put", "async_get_256", "server_get", "server_put")
    for row_id, row in rows.items():
        sides = ("raw", "ours", "pyignite") if row_id in three else ("ours", "pyignite")
        for side in sides:
            assert isinstance(row[side], float) and math.isfinite(row[side]), (row_id, side)
        assert isinstance(row["met"], bool), row_id
    for row_id in ("get", "put", "async_get_256"):
        assert rows[row_id]["ours_vs_raw"] is not None, row_id
    for row_id in ("get", "put", "async_get_256", "put_all_get_all_per_key", "hash_8"):
        assert rows[row_id]["ours_vs_pyignite"] is not None, row_id


def test_client_cpu_rows_measured_real_requests_sent_to_primaries(
    tiny_run: tuple[dict, Path | None],
) -> None:
    result, _ = tiny_run
    sizes = result["meta"]["sizes"]
    rows = {row["id"]: row for row in result["cpu_rows"]}
    sent = {
        "get": sizes["rounds"] * sizes["cpu_ops"],
        "put": sizes["rounds"] * sizes["cpu_ops"],
        "async_get_256": sizes["rounds"] * max(sizes["cpu_async_ops"], 512),
    }
    for row_id, count in sent.items():
        row = rows[row_id]
        for side in ("ours", "pyignite") if row_id == "async_get_256" else ("raw", "ours"):
            assert row["forwarded"][side] == 0, (row_id, side)  # counted by the server
        sides = ("ours", "pyignite") if row_id == "async_get_256" else ("raw", "ours", "pyignite")
        assert {side: row["key_requests"][side] for side in sides} == dict.fromkeys(sides, count)
    assert rows["put_all_get_all_per_key"]["client_fallback"] == 0


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


def test_an_unwritable_plot_path_fails_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never() -> None:
        raise AssertionError("the benchmark was loaded before the --plot path was checked")

    monkeypatch.setattr(bench_command, "_benchmarks", never)
    assert bench_command.main(["--quick", "--plot", "/nonexistent/x.png"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "/nonexistent" in err and "no such directory" in err


def test_outside_a_source_checkout_bench_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_command, "_checkout", lambda: None)  # as installed from a wheel
    assert bench_command.main(["--quick"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and bench_command.NOT_IN_A_CHECKOUT in err


def test_the_benchmarks_are_not_in_the_package() -> None:
    package = ROOT / "ignite_router"
    assert not (package / "bench.py").exists() and not (package / "benchserver.py").exists()
    assert bench_command._checkout() == ROOT


def test_raw_client_reads_what_it_wrote_on_each_keys_primary() -> None:
    with ServerProcess(nodes=2) as server:
        client = Client(partition_aware=True)
        try:
            client.connect(server.endpoints)
            cache = client.get_or_create_cache(CACHE)
            cache.put(0, "warm")  # fetches the partition map
            primaries = [(key, client.route(CACHE, key).endpoint) for key in range(40)]
            server.reset()
            raw = RawClient(primaries, CACHE)
            try:
                for key in range(40):
                    raw.put(key, f"value {key} é")
                got = [raw.get(key) for key in range(40)]
            finally:
                raw.close()
            assert got == [f"value {key} é" for key in range(40)]
            assert server.counters() == (0, 80)  # (forwarded, key_requests)
            assert cache.get(7) == "value 7 é"  # ignite-router reads what the raw client wrote
        finally:
            client.close()


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
