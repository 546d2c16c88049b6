"""`ignite-router bench`: every row of both tables, the plot, the refusals, the server process.

The benchmark runs with a hidden ``--ops`` that shrinks it to a few seconds. Nothing here
asserts anything about speed: only that every row is measured, with numbers, that every
client really sent its requests (the server's ``key_requests``) and that ours and the raw
client sent none to a node which is not the key's primary (``forwarded`` 0). The same for
``bench --hedging``: every measurement is there, its read counts add up, the plot is a PNG.
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
HEDGING_CLIENTS = ["ignite-router", "ignite-router, hedged", "pyignite 0.6.1"]
HEDGING_TARGETS = [
    "hedged_p99",
    "hedged_p99_timeline",
    "unhedged_p99",
    "pyignite_p99",
    "hedged_p50",
    "healthy_hedges",
    "healthy_throughput",
]


def _bench(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ignite_router.commands.bench", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def _png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0


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
    _png(plot)
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
    def never(*_: object) -> None:
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
        server.latency(1, 0.0)  # the hedging benchmark's slow node, switched off
        assert "error" in server.command("hello")
        assert server.forwarded() == 0
        process = server.process
    assert process.returncode == 0  # "quit" closed the cluster and exited cleanly


# -- bench --hedging ----------------------------------------------------------------------------


def _latencies(row: dict) -> None:
    assert isinstance(row["p50_ms"], float) and isinstance(row["p99_ms"], float), row
    assert 0 < row["p50_ms"] <= row["p99_ms"] < math.inf, row


@pytest.fixture(scope="module")
def hedging_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path | None]:
    """One tiny ``--hedging --json`` run (with ``--plot`` when matplotlib is installed)."""
    plot = tmp_path_factory.mktemp("hedging") / "hedging.png" if HAS_MATPLOTLIB else None
    argv = ["--hedging", "--json", "--ops", "10"]
    if plot is not None:
        argv += ["--plot", str(plot)]
    result = _bench(*argv)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), plot


def test_hedging_table_and_throughput_have_every_client(
    hedging_run: tuple[dict, Path | None],
) -> None:
    result, _ = hedging_run
    sizes = result["meta"]["sizes"]
    assert list(result["table"]) == ["healthy", "slow node"]
    for phase, count in (("healthy", sizes["healthy_reads"]), ("slow node", sizes["slow_reads"])):
        rows = result["table"][phase]
        assert list(rows) == HEDGING_CLIENTS
        for name, row in rows.items():
            _latencies(row)
            assert row["reads"] == count
            assert ("hedged_share" in row) == (name == "ignite-router, hedged")
        assert 0 <= rows["ignite-router, hedged"]["hedged_share"] <= 1
    speed = result["throughput"]
    rounds = speed["rounds"]
    assert list(rounds) == ["ignite-router", "ignite-router, hedged"]
    assert [len(rates) for rates in rounds.values()] == [sizes["rounds"]] * 2
    assert all(0 < rate < math.inf for rates in rounds.values() for rate in rates)
    assert speed["ratio"] == pytest.approx(
        speed["hedged_reads_per_s"] / speed["unhedged_reads_per_s"]
    )
    assert 0 <= speed["hedged_share"] <= 1
    assert (result["meta"]["nodes"], result["meta"]["backups"]) == (3, 1)
    assert result["meta"]["pyignite"] == "0.6.1"


def test_hedging_timeline_windows_add_up_to_its_thirds(
    hedging_run: tuple[dict, Path | None],
) -> None:
    timeline = hedging_run[0]["timeline"]
    assert list(timeline["clients"]) == HEDGING_CLIENTS
    for name, row in timeline["clients"].items():
        third = timeline["seconds"] / 3
        assert third <= row["slow_from"] < 2 * third <= row["slow_until"], name
        thirds = row["phases"]
        assert list(thirds) == ["healthy", "slow node", "healthy again", "healthy, both thirds"]
        for summary in thirds.values():
            _latencies(summary)
        counts = [thirds[phase]["reads"] for phase in ("healthy", "slow node", "healthy again")]
        assert thirds["healthy, both thirds"]["reads"] == counts[0] + counts[2]
        assert sum(window["reads"] for window in row["windows"]) == sum(counts) > 0
        starts = [window["start"] for window in row["windows"]]
        assert starts == sorted(set(starts)) and starts[0] >= 0
        for window in row["windows"]:
            _latencies(window)
        hedged = name == "ignite-router, hedged"
        assert all(("hedged_share" in summary) == hedged for summary in thirds.values()), name


def test_hedging_targets_have_verdicts(hedging_run: tuple[dict, Path | None]) -> None:
    rows = hedging_run[0]["targets"]
    assert [row["id"] for row in rows] == HEDGING_TARGETS
    for row in rows:
        assert isinstance(row["met"], bool) and math.isfinite(row["value"]), row
        assert row["met"] == (
            row["value"] <= row["bound"] if row["op"] == "<=" else row["value"] >= row["bound"]
        )


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed")
def test_hedging_plot_writes_a_png(hedging_run: tuple[dict, Path | None]) -> None:
    result, plot = hedging_run
    assert plot is not None
    _png(plot)
    assert result["meta"]["plot"] == str(plot)


def test_hedging_with_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_command.main(["--hedging", "--profile"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "--hedging and --profile" in err
