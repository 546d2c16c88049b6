"""The wheel: what it ships, its metadata, and that it installs beside PyPI's ``protocol``
and ``affinity`` packages (names our top-level source folders would clash with).

One wheel is built from a copy of the source tree (a build in the tree itself could
pick up stale files from ``build/``) and shared by the tests. The install test makes
a scratch virtual environment and needs PyPI, as installing the project does.
"""

from __future__ import annotations

import ast
import email.message
import email.parser
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement

from ignite_router.testing import LocalCluster

ROOT = Path(__file__).resolve().parents[1]
CORE = {"mmh3", "sortedcontainers"}
# SHA-256 of the Apache License 2.0 text as published at apache.org/licenses/LICENSE-2.0.txt.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.so"
)
# Loaded by pytest itself (the pytest11 entry point), never by the library.
PYTEST_PLUGIN = "ignite_router/testing/pytest_plugin.py"
CLASHING = ["protocol==0.37", "affinity==1.1.1"]


def _run(*command: str | Path, cwd: Path | None = None, timeout: float = 180) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}: {result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source)
    (built,) = (work / "dist").glob("ignite_router-*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (path,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(path).decode())


def test_the_wheel_holds_only_the_ignite_router_package(wheel: Path, names: list[str]) -> None:
    tops = {PurePosixPath(name).parts[0] for name in names}
    version = wheel.name.split("-")[1]
    assert tops == {"ignite_router", f"ignite_router-{version}.dist-info"}
    for package in ("ignite_router", "ignite_router/affinity", "ignite_router/protocol"):
        assert f"{package}/__init__.py" in names
    assert "ignite_router/py.typed" in names


def test_every_module_of_the_source_package_is_in_the_wheel(names: list[str]) -> None:
    # ignite_router/affinity and ignite_router/protocol link the top-level folders.
    source = {
        (Path(folder) / file).relative_to(ROOT).as_posix()
        for folder, _, files in os.walk(ROOT / "ignite_router", followlinks=True)
        for file in files
        if file.endswith((".py", ".pyi", "py.typed"))
    }
    assert source - set(names) == set()  # a new subpackage missing from [tool.setuptools]


def test_no_benchmark_code_is_installed(names: list[str]) -> None:
    benchmark = [
        name
        for name in names
        if PurePosixPath(name).name in ("bench.py", "benchserver.py")
        and name != "ignite_router/commands/bench.py"  # the command; the benchmark stays out
    ]
    assert benchmark == []


def test_the_license_is_apache_2_and_ships_in_the_dist_info(wheel: Path, names: list[str]) -> None:
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_SHA256
    (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    metadata = _metadata(wheel)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]


def _third_party_imports(wheel: Path, names: list[str], commands: bool) -> set[str]:
    """Distributions whose modules the wheel's code imports (in commands/, or elsewhere)."""
    found: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in names:
            in_commands = name.startswith("ignite_router/commands/")
            if not name.endswith(".py") or name == PYTEST_PLUGIN or in_commands != commands:
                continue
            for node in ast.walk(ast.parse(archive.read(name))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    found -= {*sys.stdlib_module_names, "ignite_router"}
    distributions = importlib.metadata.packages_distributions()
    return {distributions[module][0].lower() for module in found}


def test_core_requirements_are_exactly_what_the_library_imports(
    wheel: Path, names: list[str]
) -> None:
    requirements = [Requirement(text) for text in _metadata(wheel).get_all("Requires-Dist")]
    core = {req.name for req in requirements if req.marker is None}
    assert core == _third_party_imports(wheel, names, commands=False) == CORE

    def extra(name: str) -> set[str]:
        return {
            f"{req.name}[{','.join(sorted(req.extras))}]" if req.extras else req.name
            for req in requirements
            if req.marker is not None and req.marker.evaluate({"extra": name})
        }

    assert extra("cli") == {"rich"}
    assert _third_party_imports(wheel, names, commands=True) - core <= extra("cli")
    assert "ignite-router[cli]" in extra("test")  # the tests run the tables too


def test_installs_and_imports_beside_pypi_protocol_and_affinity(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile"]
    _run(*pip, *CLASHING, wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    site = Path(str(site).strip())
    for order in ("theirs first", "ours first"):
        found = json.loads(_run(python, "-c", _IMPORT_BOTH, order, cwd=tmp_path))
        assert found["protocol"] == str(site / "protocol" / "__init__.py")
        assert found["affinity"] == str(site / "affinity.py")
        assert found["protocol_owner"] == "protocol" and found["affinity_owner"] == "affinity"
        assert found["theirs_work"] == [True, True]
        assert found["ours"] == str(site / "ignite_router" / "__init__.py")
        assert found["hello_hash"] == 99162322  # Java: "hello".hashCode()
        assert found["read_back"] == "one"

    # The command line without the cli extra: JSON commands work, tables say what to install.
    cli = venv / "bin" / "ignite-router"
    assert json.loads(_run(cli, "hash", "hello"))["hash"] == 99162322
    with LocalCluster(nodes=2) as cluster:
        endpoint = "{}:{}".format(*cluster.endpoints[0])
        result = subprocess.run(
            [cli, "topology", "--connect", endpoint], capture_output=True, text=True, timeout=60
        )
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.count("\n") == 1
        assert 'pip install "ignite-router[cli]"' in result.stderr
        _run(*pip, f"{wheel}[cli]")
        tables = _run(cli, "topology", "--connect", endpoint)
    assert "node-0" in tables and "node-1" in tables and "connected" in tables


# Run in the scratch environment: import PyPI's packages and ours in the order given.
_IMPORT_BOTH = """
import importlib.metadata as md, json, sys
def theirs():
    import affinity, protocol
    return affinity, protocol
def ours():
    import ignite_router
    from ignite_router import Client
    from ignite_router.affinity import java_hash
    from ignite_router.testing import LocalCluster
    with LocalCluster(nodes=2) as cluster, Client().connect(cluster.endpoints) as client:
        cache = client.get_or_create_cache("c")
        cache.put(1, "one")
        return ignite_router, java_hash("hello"), cache.get(1)
if sys.argv[1] == "theirs first":
    affinity, protocol = theirs()
    ignite_router, hello_hash, read_back = ours()
else:
    ignite_router, hello_hash, read_back = ours()
    affinity, protocol = theirs()
def owner(module):
    path = module.__file__
    for dist in md.distributions():
        if any(str(dist.locate_file(f)) == path for f in dist.files or ()):
            return dist.metadata["Name"]
print(json.dumps({
    "protocol": protocol.__file__, "affinity": affinity.__file__,
    "protocol_owner": owner(protocol), "affinity_owner": owner(affinity),
    "theirs_work": [hasattr(protocol, "BaseSequence"), hasattr(affinity, "Dataset")],
    "ours": ignite_router.__file__, "hello_hash": hello_hash, "read_back": read_back,
}))
"""
