"""The code base stays `ruff check` clean (the configuration lives in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layering_is_respected() -> None:
    """affinity imports nothing of ours; protocol never imports ignite_router (ARCHITECTURE.md)."""
    offenders = []
    for package, forbidden in (
        ("affinity", ("protocol", "ignite_router")),
        ("protocol", ("ignite_router",)),
    ):
        for path in (ROOT / package).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                stripped = line.strip()
                if stripped.startswith(("import ", "from ")) and any(
                    stripped.split()[1].split(".")[0] == name for name in forbidden
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []
