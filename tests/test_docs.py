"""Every documented command and code example runs, so the docs cannot drift.

Collected from README.md and docs/*.md:
- ```python blocks run as scripts (``python illustrative`` blocks, which need
  files or servers a reader has, are skipped: they say so in their fence);
- lines of ```bash blocks that start with ``ignite-router`` run as commands
  and must exit 0. Commands that name ``127.0.0.1:10800`` are pointed at a
  LocalCluster started here (its caches hold the keys the docs look up);
  ``ignite-router cluster`` must print its endpoints, then it is stopped.
Usage synopses live in ```text blocks and are not run.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ignite_router import Client
from ignite_router.testing import LocalCluster

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCTEST = """
import doctest, sys
test = doctest.DocTestParser().get_doctest({session}, {{}}, "doc", "doc", 0)
runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


def blocks(language: str) -> list[tuple[str, str, str]]:
    """(file name, fence info, body) of every block in ``language``."""
    found = []
    for path in DOCS:
        for match in FENCE.finditer(path.read_text(encoding="utf-8")):
            if match.group(1) == language:
                found.append((path.name, match.group(2).strip(), match.group(3)))
    return found


def commands() -> list[tuple[str, str]]:
    found = []
    for name, _, body in blocks("bash"):
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("ignite-router "):
                found.append((name, line))
    return found


PYTHON = [(name, body) for name, info, body in blocks("python") if "illustrative" not in info]
COMMANDS = commands()


def test_the_docs_have_examples() -> None:
    assert len(PYTHON) >= 8
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize(
    ("name", "code"), PYTHON, ids=[f"{name}:{index}" for index, (name, _) in enumerate(PYTHON)]
)
def test_python_example_runs(name: str, code: str, tmp_path: Path) -> None:
    if code.lstrip().startswith(">>>"):  # an interactive session: its outputs are checked too
        code = DOCTEST.format(session=repr(code))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, f"{name}:\n{code}\n{result.stderr}"


@pytest.fixture(scope="module")
def doc_cluster():
    """The cluster the docs' ``--connect 127.0.0.1:10800`` commands talk to."""
    with LocalCluster(nodes=3, backups=1) as cluster:
        with Client().connect(cluster.endpoints) as client:
            client.get_or_create_cache("demo").put_all({42: "answer", 123: "x"})
        yield cluster


def run_command(line: str, cluster: LocalCluster) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)[1:]
    if "--connect" in args:
        at = args.index("--connect") + 1
        args[at] = ",".join(f"{host}:{port}" for host, port in cluster.endpoints)
    if args[0] == "bench":
        args += ["--ops", "30"]  # every row at tiny sizes: the command is checked, not measured
    if args[0] == "cluster":
        if "--port" in args:
            del args[args.index("--port") : args.index("--port") + 2]  # any free port
        process = subprocess.Popen(
            [sys.executable, "-m", "ignite_router", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = process.stdout.readline()  # type: ignore[union-attr]
        finally:
            process.terminate()
            process.wait(timeout=30)
        assert json.loads(first)["endpoints"]
        return subprocess.CompletedProcess(args, 0, first, "")
    return subprocess.run(
        [sys.executable, "-m", "ignite_router", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("name", "line"), COMMANDS, ids=[line for _, line in COMMANDS])
def test_documented_command_runs(name: str, line: str, doc_cluster: LocalCluster) -> None:
    result = run_command(line, doc_cluster)
    assert result.returncode == 0, f"{name}: {line}\n{result.stderr}"
    assert "Traceback" not in result.stderr
