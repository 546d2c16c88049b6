"""Every implementation of the polynomial hashes, for tests to run each against the JDK.

``string_hash`` and ``binary_object_hash`` are the C accelerator's functions when it was
built (``ACCELERATED``); the pure-Python fallbacks are tested either way. Where the
accelerator is not built its cases are skipped, and ``tests/test_affinity_speedups.py``
fails on any machine that could have built it.
"""

from __future__ import annotations

import pytest

from ignite_router.affinity import ids

_NOT_BUILT = pytest.mark.skipif(
    not ids.ACCELERATED, reason="the C accelerator is not built (no C compiler at install time)"
)

STRING_HASHES = [
    pytest.param(ids.python_string_hash, id="python"),
    pytest.param(ids.string_hash, id="c", marks=_NOT_BUILT),
]
BYTE_ARRAY_HASHES = [
    pytest.param(ids.python_binary_object_hash, id="python"),
    pytest.param(ids.binary_object_hash, id="c", marks=_NOT_BUILT),
]
