"""``ChaosReport``: the figures of one chaos run and the violations among them."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ignite_router.chaos.checker import (
    DEFAULT_BUDGET,
    Verdict,
    check_linearizable,
    lost_writes,
    stale_reads,
)
from ignite_router.chaos.history import Operation, Outcome

__all__ = ["ChaosReport", "Settled", "judge"]

SHOWN = 5  # examples kept per kind of finding

# Count field -> what a non-zero count means.
VIOLATIONS = {
    "not_linearizable": "keys not linearizable",
    "unknown": "keys the checker could not decide",
    "stale_reads": "stale reads",
    "lost_writes": "acknowledged writes lost",
    "undocumented_errors": "errors of an undocumented type",
    "calls_over_bound": "calls longer than the client's time bound",
    "unrouted_keys": "keys not routed to their primary after the topology settled",
    "forwarded": "requests forwarded after the topology settled",
    "settled_errors": "errors after the topology settled",
    "leaked_threads": "threads left after close",
    "leaked_sockets": "sockets left after close",
    "close_wait": "sockets in CLOSE_WAIT after close",
    "leaked_tasks": "asyncio tasks left after close",
}


@dataclass(frozen=True)
class Settled:
    """What the run saw once the faults stopped and the topology settled."""

    unrouted: tuple[str, ...]  # keys the client did not route to their primary, and why
    final: dict[Any, Any]  # key -> value read back before any new write
    final_from: float  # when those reads began
    forwarded: int  # key requests that missed the primary in a short phase after that
    errors: tuple[str, ...]  # calls that failed although nothing was wrong any more


@dataclass(frozen=True)
class ChaosReport:
    """The figures of a run; ``violations`` says what broke a promise (empty: none).

    Counts of findings are integers; ``examples`` keeps a few of each, by the
    same name. With ``hedge``, ``hedged_reads`` operations were reads through
    the hedged cache (checked for stale reads only, see :func:`judge`) and
    ``hedgeable_reads`` ... ``replica_reads`` are the client's counters
    (``client.metrics()``); all are 0 without it.
    """

    seed: int
    client: str
    nodes: int
    backups: int
    workers: int
    keys: int
    hedge: bool
    duration_s: float
    calls: int
    operations: int
    ok: int
    fail: int
    info: int
    faults: dict[str, int]
    errors: dict[str, int]
    keys_checked: int
    not_linearizable: int
    unknown: int
    stale_reads: int
    lost_writes: int
    hedged_reads: int
    hedgeable_reads: int
    hedges_sent: int
    hedges_won: int
    hedges_denied: int
    replica_reads: int  # reads of a primary known slow, sent to a backup alone
    undocumented_errors: int
    slowest_call_s: float
    call_time_bound_s: float  # the largest client.call_time_bound() of the run
    calls_over_bound: int
    unrouted_keys: int
    forwarded: int
    settled_errors: int
    leaked_threads: int
    leaked_sockets: int
    close_wait: int
    leaked_tasks: int
    nemesis_error: str | None
    examples: dict[str, list[str]] = field(default_factory=dict)
    fault_log: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        found = [
            f"{getattr(self, name)} {what}"
            for name, what in VIOLATIONS.items()
            if getattr(self, name)
        ]
        if self.ok == 0:
            found.append("no operation succeeded")
        if self.nemesis_error:
            found.append(f"the nemesis failed: {self.nemesis_error}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "violations": self.violations}


def judge(
    operations: list[Operation], settled: Settled, budget: int = DEFAULT_BUDGET
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """The history's counts (``ChaosReport`` fields) and examples of each finding.

    Linearizability is checked over the operations that are not hedged reads:
    a hedged read may see a write in progress on the primary, then a later one
    miss it on a backup (new, then old), which no single order explains. Every
    OK read, hedged or not, is checked for stale reads: none may return a value
    older than the last write acknowledged before it began. Lost writes are
    judged on the operations invoked before the final reads.
    """
    earlier = [operation for operation in operations if operation.invoked < settled.final_from]
    outcomes = Counter(operation.outcome for operation in operations)
    hedged = sum(operation.hedged for operation in operations)
    verdicts = check_linearizable((o for o in operations if not o.hedged), budget)
    found: dict[str, list[str]] = {
        "not_linearizable": [],
        "unknown": [],
        "stale_reads": [stale.explain() for stale in stale_reads(operations)],
        "lost_writes": [str(write) for write in lost_writes(earlier, settled.final)],
    }
    for result in verdicts.values():
        if result.verdict is Verdict.NOT_LINEARIZABLE:
            found["not_linearizable"].append(result.explain())
        elif result.verdict is Verdict.UNKNOWN:
            found["unknown"].append(result.explain())
    counts = {
        "operations": len(operations),
        "ok": outcomes[Outcome.OK],
        "fail": outcomes[Outcome.FAIL],
        "info": outcomes[Outcome.INFO],
        "keys_checked": len(verdicts),
        "hedged_reads": hedged,
        **{name: len(items) for name, items in found.items()},
    }
    return counts, {name: items[:SHOWN] for name, items in found.items() if items}
