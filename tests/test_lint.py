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
# affinity/ and protocol/ install as ignite_router.affinity and ignite_router.protocol.
LAYERS = {"ignite_router.affinity": "affinity", "ignite_router.protocol": "protocol"}


def layer(module: str) -> str:
    """The layer a module belongs to: affinity, protocol, ignite_router, or a third party."""
    for prefix, name in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return module.split(".")[0]


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
                if layer(module) in forbidden:
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_nothing_imports_a_bare_affinity_or_protocol() -> None:
    """Only the installed names are imported: a bare ``protocol`` would be PyPI's package."""
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for folder in ("affinity", "protocol", "ignite_router", "tests", "property_tests")
        for path in (ROOT / folder).rglob("*.py")
        for module in imports(path)
        if module.split(".")[0] in ("affinity", "protocol")
    ]
    assert offenders == []


# The command line, the demo and the chaos runner run a LocalCluster; the client does not.
TOOLS = ("testing", "commands", "chaos", "cli.py", "demo.py")


def test_client_never_imports_the_test_cluster() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "ignite_router").rglob("*.py")
        if not set(path.relative_to(ROOT / "ignite_router").parts) & set(TOOLS)
        for module in imports(path)
        if module.startswith("ignite_router.testing")
    ]
    assert offenders == []
