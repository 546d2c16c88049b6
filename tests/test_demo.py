"""``ignite-router demo``: the README's first command, bounded and checked."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ignite_router", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_demo_survives_a_node_failure_without_errors_or_lost_writes() -> None:
    result = run_cli("demo", "--duration", "5", "--no-live", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errors"] == 0
    assert summary["lost"] == 0
    assert summary["ops"] > 1000
    assert summary["failovers"] >= 1  # the kill really hit the workload
    assert summary["recovery_s"] is not None and summary["recovery_s"] <= 2
    assert summary["primary_ratio"] > 0.9


def test_demo_progress_lines_and_summary_table() -> None:
    result = run_cli("demo", "--duration", "3", "--no-live")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("killed" in line for line in lines)
    assert any("acknowledged writes lost" in line for line in lines)


def test_demo_refuses_bad_arguments_in_one_line() -> None:
    for args in (["--nodes", "1"], ["--backups", "0"], ["--duration", "-3"]):
        result = run_cli("demo", *args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_the_readmes_first_command_finishes_by_itself() -> None:
    """`ignite-router demo` with its defaults, as the README's first command runs it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    first_command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    assert first_command.endswith("ignite-router demo")
    started = time.monotonic()
    result = run_cli("demo", timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 45
    assert "acknowledged writes lost" in result.stdout
