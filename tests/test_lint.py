"""The code base stays `ruff check` and `mypy` clean and keeps its layers apart."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Pure layers: no I/O, no clocks, no threads (ARCHITECTURE.md). The client core takes its
# clock as an argument; only the shells (client.py, aio.py) do I/O.
IO_MODULES = ("socket", "asyncio", "time", "threading", "selectors", "ssl")
RULES = (
    ("affinity", ("protocol", "ignite_router", *IO_MODULES)),
    ("protocol", ("ignite_router", *IO_MODULES)),
    ("ignite_router/core", IO_MODULES),
)


def imports(path: Path) -> list[str]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith(("import ", "from ")):
            found.append(stripped.split()[1])
    return found


def test_ruff_check_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "pyproject.toml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layering_is_respected() -> None:
    """Pure layers import no I/O and nothing above them (ARCHITECTURE.md)."""
    offenders = []
    for package, forbidden in RULES:
        for path in (ROOT / package).rglob("*.py"):
            for module in imports(path):
                if module.split(".")[0] in forbidden:
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


# The command line, the demo and the benchmark run a LocalCluster; the client does not.
TOOLS = ("testing", "commands", "cli.py", "bench.py", "benchserver.py", "demo.py")


def test_client_never_imports_the_test_cluster() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "ignite_router").rglob("*.py")
        if not set(path.relative_to(ROOT / "ignite_router").parts) & set(TOOLS)
        for module in imports(path)
        if module.startswith("ignite_router.testing")
    ]
    assert offenders == []
