"""The nemesis: seeded faults injected into a ``LocalCluster``, one episode at a time.

An episode injects one fault into one node, holds it, and heals it: a killed
or stopped node is restarted, a frozen, blackholed, hung or slow node healed;
a joined node stays. Faults are sized around the client's request timeout,
so requests time out, or are answered just before or just after they do.

It acts as a careful operator would: at most one node is without its data at
a time (never more than ``backups``), and the topology has settled
(``wait_for_rebalance``) before another node's data is taken away.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ignite_router.testing import LocalCluster

__all__ = ["FAULTS", "Nemesis"]

FAULTS = ("kill", "stop", "join", "pause", "blackhole", "latency", "slow", "hang")
SETTLE_TIMEOUT = 30.0  # seconds the topology may take to settle after an episode
EXTRA_NODES = 2  # joins allowed beyond the starting size


@dataclass
class Nemesis:
    """Runs fault episodes until a deadline or a number of faults, then heals everything."""

    cluster: LocalCluster
    rng: random.Random
    timeout: float  # the client's request timeout, seconds
    backups: int
    faults: Sequence[str] = FAULTS
    clock: Callable[[], float] = time.monotonic
    injected: Counter[str] = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)
    error: BaseException | None = None
    episodes: int = 0
    _started: float = 0.0
    _max_nodes: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
        if self.backups < 1 and ({"kill", "stop"} & set(self.faults)):
            raise ValueError("kill and stop need backups >= 1: the data must survive")

    def run(self, deadline: float, max_faults: int) -> None:
        """Episodes until ``deadline`` or ``max_faults``, then heal all; the first error the
        cluster raised (a topology that did not settle, a refused fault) is kept in ``error``."""
        self._started = self.clock()
        self._max_nodes = len(self.cluster.nodes) + EXTRA_NODES
        try:
            while self.clock() < deadline and self.episodes < max_faults:
                possible = self._possible()
                if possible:
                    getattr(self, f"_{self.rng.choice(possible)}")()
                    self.episodes += 1
                time.sleep(self.rng.uniform(0.1, 0.5))
        except Exception as error:  # a cluster that cannot settle or refuses a fault
            self._failed(error)
        try:
            self.heal_all()
        except Exception as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        self.error = self.error or error
        self._note(f"nemesis failed: {type(error).__name__}: {error}")

    def heal_all(self) -> None:
        """Every node running and healed, the topology settled."""
        for index, node in enumerate(self.cluster.nodes):
            if node.alive:
                self.cluster.heal_node(index)
            else:
                self.cluster.start_node(index)
                self._note(f"restart node {index}")
        self.cluster.wait_for_rebalance(SETTLE_TIMEOUT)

    # -- episodes ---------------------------------------------------------------------------

    def _possible(self) -> list[str]:
        running = sum(node.alive for node in self.cluster.nodes)
        possible = []
        for fault in self.faults:
            if fault in ("kill", "stop") and running < 2:
                continue
            if fault == "join" and len(self.cluster.nodes) >= self._max_nodes:
                continue
            possible.append(fault)
        return possible

    def _victim(self) -> int:
        return self.rng.choice([i for i, node in enumerate(self.cluster.nodes) if node.alive])

    def _note(self, event: str) -> None:
        self.events.append(f"{self.clock() - self._started:7.3f}s {event}")

    def _lose(self, index: int, how: str, lose: Callable[[int], None]) -> None:
        """Take a node (and its copies) away, then restart it and let it refill."""
        lose(index)
        self.injected[how] += 1
        self._note(f"{how} node {index}")
        time.sleep(self.rng.uniform(0.3, 1.5))
        self.cluster.start_node(index)
        self.injected["restart"] += 1
        self._note(f"restart node {index}")
        self.cluster.wait_for_rebalance(SETTLE_TIMEOUT)

    def _kill(self) -> None:
        self._lose(self._victim(), "kill", self.cluster.kill_node)

    def _stop(self) -> None:
        self._lose(self._victim(), "stop", self.cluster.stop_node)

    def _join(self) -> None:
        index = self.cluster.add_node()
        self.injected["join"] += 1
        self._note(f"join node {index}")
        self.cluster.wait_for_rebalance(SETTLE_TIMEOUT)

    def _impair(
        self, fault: str, inject: Callable[[int], None], hold: float, detail: str = ""
    ) -> None:
        """Inject a fault that keeps the node's data, hold it, heal it."""
        index = self._victim()
        inject(index)
        self.injected[fault] += 1
        self._note(f"{fault}{detail} node {index} for {hold:.3f} s")
        time.sleep(hold)
        self.cluster.heal_node(index)
        self._note(f"heal node {index}")

    def _pause(self) -> None:
        self._impair("pause", self.cluster.pause_node, self.timeout * self.rng.uniform(0.5, 3))

    def _blackhole(self) -> None:
        self._impair(
            "blackhole", self.cluster.blackhole_node, self.timeout * self.rng.uniform(1, 4)
        )

    def _hang(self) -> None:
        """Hang, and heal right around the client's timeout: answers race the timeout."""
        self._impair("hang", self.cluster.hang_node, self.timeout * self.rng.uniform(0.9, 1.1))

    def _latency(self) -> None:
        where = self.rng.choice(("request", "answer", "both"))
        delay = self.timeout * self.rng.uniform(0.3, 1.5)

        def slow(index: int) -> None:
            self.cluster.set_latency(index, delay, where=where)

        detail = f" ({where}, {delay:.3f} s)"
        self._impair("latency", slow, self.rng.uniform(1.0, 3.0), detail)

    def _slow(self) -> None:
        """Answers late but well within the timeout (a GC-heavy or noisy node): the
        requests succeed, slowly; what hedged reads are for."""
        delay = self.timeout * self.rng.uniform(0.04, 0.3)

        def slow(index: int) -> None:
            self.cluster.set_latency(index, delay, where="answer")

        self._impair("slow", slow, self.rng.uniform(1.0, 3.0), f" ({delay:.3f} s)")
