"""A rolling restart under a steady mixed workload, on both shells.

Each node of a 3-node cluster (backups = 1) is stopped gracefully and started
again in turn while worker threads run reads, plain writes and conditional
writes. What must hold (the retry contract): no error for reads, nor for writes
that were refused ("node is stopping") or not delivered; a write may only raise
``OutcomeUnknownError`` (an attempt that reached the node just as it closed its
connections, or, on a loaded machine, one whose answer came too late), and its
keys then hold the old or the new value; every acknowledged write is read back
afterwards.
The figures are printed (``pytest -s``) and quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest

from ignite_router import OutcomeUnknownError
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, Shell, connected

KEYS = 300
WORKERS = 3


class MixedWorkload:
    """Workers that put, get, put_all/get_all and replace_if_equals their own keys.

    Each worker owns a disjoint key range, so the last acknowledged value of every
    key is known exactly; a conditional write whose outcome is unknown makes its
    key's value one of two, and both are remembered.
    """

    def __init__(self, shell: Shell, cache: Any, seed: int) -> None:
        self.shell = shell
        self.cache = cache
        self.random = random.Random(seed)
        self.expected: dict[int, set[Any]] = {}
        self.counts: Counter[str] = Counter()
        self.errors: list[tuple[str, BaseException]] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(worker,), daemon=True)
            for worker in range(WORKERS)
        ]

    def _run(self, worker: int) -> None:
        do = self.shell.do
        keys = list(range(worker, KEYS, WORKERS))
        rng = random.Random(self.random.random())
        serial = 0
        while not self._stop.is_set():
            serial += 1
            key = rng.choice(keys)
            value = f"{worker}-{serial}"
            kind = rng.choice(("get", "put", "put_all", "get_all", "replace"))
            try:
                if kind == "put":
                    do(self.cache.put(key, value))
                    self.expected[key] = {value}
                elif kind == "put_all":
                    batch = rng.sample(keys, 5)
                    do(self.cache.put_all({k: value for k in batch}))
                    for k in batch:
                        self.expected[k] = {value}
                elif kind == "get":
                    got = do(self.cache.get(key))
                    self._check(key, got)
                elif kind == "get_all":
                    batch = rng.sample(keys, 5)
                    found = do(self.cache.get_all(batch))
                    for k in batch:
                        self._check(k, found.get(k))
                else:
                    known = self.expected.get(key, {None})
                    if len(known) != 1 or None in known:
                        continue
                    (old,) = known
                    if do(self.cache.replace_if_equals(key, old, value)):
                        self.expected[key] = {value}
                    else:
                        self.errors.append((kind, AssertionError(f"{key}: {old} was replaced")))
                self.counts[kind] += 1
            except OutcomeUnknownError as error:
                self.counts[f"{kind}: outcome unknown ({error.failure.value})"] += 1
                for k in [key] if kind != "put_all" else batch:
                    self.expected[k] = self.expected.get(k, {None}) | {value}
            except Exception as error:  # every other error is a failure of the contract
                self.errors.append((kind, error))

    def _check(self, key: int, got: Any) -> None:
        known = self.expected.get(key)
        if known is not None and got not in known:
            self.errors.append(("read", AssertionError(f"{key}: read {got}, expected {known}")))

    def __enter__(self) -> MixedWorkload:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


@pytest.mark.parametrize("kind", SHELLS)
def test_rolling_restart_loses_nothing(kind: str) -> None:
    seed = random.randrange(1 << 30)
    print(f"rolling restart seed {seed}")
    with LocalCluster(nodes=3, backups=1) as cluster, connected(
        kind, cluster.endpoints, timeout=5.0
    ) as shell:
        cache = shell.do(shell.client.get_or_create_cache("rolling"))
        started = time.monotonic()
        with MixedWorkload(shell, cache, seed) as work:
            time.sleep(0.5)
            for index in range(3):
                cluster.stop_node(index)
                time.sleep(0.5)
                cluster.start_node(index)
                cluster.wait_for_rebalance()
                time.sleep(0.5)
        elapsed = time.monotonic() - started
        assert work.errors == [], work.errors[:5]
        lost = 0
        for key, values in work.expected.items():
            if shell.do(cache.get(key)) not in values:
                lost += 1
        total = sum(work.counts.values())
        print(
            f"{kind}: {total} operations in {elapsed:.1f} s during a rolling restart; "
            f"{dict(sorted(work.counts.items()))}; lost acknowledged writes: {lost}"
        )
        assert lost == 0
        assert total > 100
