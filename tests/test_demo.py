"""``ignite-router demo``: the README's first command, bounded and checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import trustme


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
    # The kill really hit the client: a request failed over, or the client found the
    # connection closed before it sent one (an idle check) and reconnected after the restart.
    assert summary["failovers"] + summary["reconnects"] >= 1
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


def test_demo_over_tls_with_authentication(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    for blob in cert.cert_chain_pems:
        blob.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    secure = ["--tls-cert", str(cert_file), "--tls-key", str(key_file), "--tls-ca", str(ca_file)]
    env = {**os.environ, "DEMO_PASSWORD": "correct horse"}
    result = subprocess.run(
        [sys.executable, "-m", "ignite_router", "demo", "--duration", "3", "--json", *secure,
         "--user", "ignite", "--password-env", "DEMO_PASSWORD"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errors"] == 0 and summary["lost"] == 0
    assert summary["failovers"] + summary["reconnects"] >= 1
    assert "correct horse" not in result.stdout + result.stderr
    refused = run_cli("demo", "--user", "ignite", "--password-env", "UNSET_VARIABLE_FOR_TEST")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
