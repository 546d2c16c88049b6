"""The optional C hashes (``affinity/_speedups.c``): in use wherever they can be built.

Their values are checked against the JDK with the pure-Python ones
(``property_tests/test_hash_vs_jdk.py``, ``tests/test_affinity_vectors.py``); here: the
install really built them on a machine with a C compiler (CI has gcc), ``ACCELERATED``
tells the truth, and without them the package falls back to the pure-Python code.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ignite_router import affinity
from ignite_router.affinity import ids

REINSTALL = 'pip install -e ".[test]" --config-settings editable_mode=strict'


def _why_not_buildable() -> str | None:
    """Why this machine cannot build a C extension, or None when it can."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if shutil.which(shlex.split(compiler)[0]) is None:
        return f"no C compiler ({compiler})"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        return f"no Python headers ({headers})"
    return None


def test_the_accelerator_is_built_wherever_a_compiler_is() -> None:
    reason = _why_not_buildable()
    if reason is not None and not os.environ.get("CI"):
        pytest.skip(f"{reason}: the pure-Python hashes are in use")
    assert affinity.ACCELERATED, (
        "the C accelerator (ignite_router.affinity._speedups) did not build although "
        f"{reason or 'a C compiler and Python headers are here'}; see the build output of: "
        f"{REINSTALL}"
    )


def test_accelerated_tells_which_functions_are_in_use() -> None:
    assert affinity.ACCELERATED is ids.ACCELERATED
    assert affinity.string_hash is ids.string_hash
    assert affinity.binary_object_hash is ids.binary_object_hash
    python = (ids.python_string_hash, ids.python_binary_object_hash)
    in_use = (ids.string_hash, ids.binary_object_hash)
    if ids.ACCELERATED:
        assert all(fn.__module__ == "ignite_router.affinity._speedups" for fn in in_use)
    else:
        assert in_use == python


def test_without_the_extension_the_pure_python_hashes_are_used() -> None:
    code = (
        "import sys\n"
        "sys.modules['ignite_router.affinity._speedups'] = None  # as if it had not built\n"
        "from ignite_router.affinity import ACCELERATED, ids, java_hash\n"
        "assert not ACCELERATED\n"
        "assert ids.string_hash is ids.python_string_hash\n"
        "assert ids.binary_object_hash is ids.python_binary_object_hash\n"
        "print(java_hash('my cache'), ids.cache_id('\\U0001f600'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    # String.hashCode of "my cache" and of the surrogate pair D83D DE00, from the JDK.
    assert result.stdout.split() == ["2012078094", "1772899"]


@pytest.mark.skipif(not ids.ACCELERATED, reason="the C accelerator is not built")
def test_the_c_functions_refuse_wrong_types_with_a_type_error() -> None:
    with pytest.raises(TypeError, match="needs a str, got bytes"):
        ids.string_hash(b"abc")
    with pytest.raises(TypeError):
        ids.binary_object_hash("abc")
