"""Chaos runs in the suite: both shells under every fault, a fixed and a random seed.

A failure names its seed; reproduce it with
``ignite-router chaos --seed N --client sync|aio --duration 4``.
"""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Iterator

import pytest

from ignite_router.cache import Cache
from ignite_router.chaos.leaks import Snapshot, leaks_since
from ignite_router.chaos.nemesis import FAULTS
from ignite_router.chaos.runner import ChaosConfig, run_chaos
from ignite_router.cli import main

FIXED_SEED = 20_240_611
RANDOM_SEED = random.randrange(1 << 32)
DURATION = 4.0


@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", [FIXED_SEED, RANDOM_SEED], ids=["fixed-seed", "random-seed"])
@pytest.mark.parametrize("client", ["sync", "aio"])
def test_no_violation_under_every_fault(client: str, seed: int) -> None:
    print(f"chaos seed {seed} ({client}): ignite-router chaos --seed {seed} --client {client}")
    report = run_chaos(ChaosConfig(duration=DURATION, seed=seed, client=client, keys=40))
    assert report.violations == [], json.dumps(report.as_dict(), indent=1)
    assert report.faults, "the nemesis injected nothing"
    assert set(report.faults) <= {*FAULTS, "restart"}
    assert report.ok > 1000 and report.keys_checked == 40


@pytest.fixture
def lying_put(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``Cache.put`` acknowledges every fifth write without sending it."""
    real_put = Cache.put
    calls = iter(range(1 << 62))

    def put(self: Cache, key: object, value: object, *args: object, **kwargs: object) -> None:
        if next(calls) % 5 == 4:
            return None
        return real_put(self, key, value, *args, **kwargs)

    monkeypatch.setattr(Cache, "put", put)
    yield


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("lying_put")
def test_a_client_that_drops_acknowledged_writes_is_caught() -> None:
    report = run_chaos(ChaosConfig(duration=1.5, seed=FIXED_SEED, faults=(), keys=20))
    assert report.not_linearizable > 0
    assert any("not linearizable" in violation for violation in report.violations)
    assert report.examples["not_linearizable"]


def test_leaks_are_found_and_forgotten_once_closed() -> None:
    before = Snapshot.take()
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-behind")
    thread.start()
    found = leaks_since(before, grace=0.1)
    assert found.threads == ("left-behind",)
    assert len(found.sockets) == 2  # both ends; the listening socket is not a leak
    client.close()
    half_closed = leaks_since(before, grace=0.5)
    assert len(half_closed.close_wait) == 1  # the accepted end, not closed yet
    stop.set()
    thread.join()
    accepted.close()
    server.close()
    assert not leaks_since(before, grace=2.0)


@pytest.mark.timeout(60)
def test_the_command_prints_the_report_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chaos", "--duration", "3", "--json", "--seed", str(FIXED_SEED), "--keys", "20"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["violations"]
    assert report["violations"] == []
    assert report["seed"] == FIXED_SEED and report["client"] == "sync"
    for name in ("calls", "ok", "fail", "info", "not_linearizable", "lost_writes", "forwarded"):
        assert isinstance(report[name], int)
    assert isinstance(report["faults"], dict) and isinstance(report["errors"], dict)
    assert report["slowest_call_s"] <= report["call_time_bound_s"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--nodes", "2"],
        ["--backups", "0"],
        ["--duration", "0"],
        ["--faults", "kill,meteor"],
        ["--faults", "kill,"],
        ["--client", "threads"],
        ["--workers", "0"],
        ["--timeout", "nan"],
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["chaos", "--json", *arguments])
    except SystemExit as exit:  # argparse's own refusals
        code = int(exit.code or 0)
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("ignite-router chaos: error:") and error.count("\n") == 1
