"""Checks over a history: linearizability per key, stale reads, lost acknowledged writes.

Linearizability is checked key by key (it is a local property: a history is
linearizable iff each key's sub-history is) with the search of
:mod:`ignite_router.chaos.search`. Operations are ordered in real time only: ``a``
precedes ``b`` iff ``a.completed < b.invoked``; equal times are concurrent.
FAIL operations and indeterminate reads are left out (they carry no
information); an INFO write may be linearized anywhere after its invocation,
or not at all.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ignite_router.chaos.history import Kind, Operation, Outcome, by_key
from ignite_router.chaos.model import same, writes, written
from ignite_router.chaos.search import DEFAULT_BUDGET, KeyVerdict, Verdict, check_key

__all__ = [
    "DEFAULT_BUDGET",
    "KeyVerdict",
    "StaleRead",
    "Verdict",
    "check_key",
    "check_linearizable",
    "lost_writes",
    "stale_reads",
]


def check_linearizable(
    operations: Iterable[Operation], budget: int = DEFAULT_BUDGET
) -> dict[Hashable, KeyVerdict]:
    """The verdict for every key of a history (each key starts absent)."""
    return {key: check_key(ops, budget) for key, ops in by_key(operations).items()}


@dataclass(frozen=True)
class StaleRead:
    """An OK read that returned none of the results it was allowed to (``allowed``)."""

    read: Operation
    allowed: tuple[Any, ...] = field(default=())

    def explain(self) -> str:
        return f"stale read on key {self.read.key!r}: {self.read}; allowed {list(self.allowed)}"


def stale_reads(operations: Iterable[Operation]) -> list[StaleRead]:
    """OK reads that returned a value older than the last write acknowledged before them.

    A read ``r`` may return the value written by ``w`` (or None: absent, the
    initial state and what deletes leave) when

    - ``w`` is an OK operation that wrote (:func:`model.writes`), invoked no
      later than ``r`` completed, and not *superseded*: no other OK writing
      operation ``w2`` has ``w.completed < w2.invoked`` and
      ``w2.completed < r.invoked`` (``w2`` certainly came after ``w`` and was
      acknowledged before ``r`` began); the initial absent state is
      superseded by any OK write acknowledged before ``r`` began; or
    - ``w`` is an INFO operation that may write, invoked no later than ``r``
      completed (it may take effect at any time after its invocation).

    READ and CONTAINS operations are checked (a CONTAINS answers whether the
    value it may see is present). This is weaker than linearizability (it
    does not ask the reads to agree on one order of the writes), the guarantee
    a read from a backup that caught up with acknowledged writes can keep.
    For reads and unconditional writes it is exactly "the read and the writes
    alone are linearizable".
    """
    found: list[StaleRead] = []
    for ops in by_key(operations).values():
        writers = [operation for operation in ops if writes(operation)]
        by_value: dict[tuple[type, Any], list[Operation]] = {}
        for w in writers:
            value = written(w)
            by_value.setdefault((type(value), value), []).append(w)
        # What a CONTAINS of True may have seen, latest first (the likeliest not superseded).
        present = [w for w in reversed(writers) if written(w) is not None]
        # Acknowledged writers by completion, with the latest invocation among the first n.
        acknowledged = sorted((w.completed, w.invoked) for w in writers if w.completed is not None)
        ends = [end for end, _ in acknowledged]
        latest_start = list(itertools.accumulate((start for _, start in acknowledged), max))
        for read in ops:
            if not read.kind.is_read or read.outcome is not Outcome.OK:
                continue
            # Writes that completed before the latest write acknowledged before the
            # read began are superseded by it.
            before = bisect.bisect_left(ends, read.invoked)
            start = latest_start[before - 1] if before else None
            if read.kind is Kind.READ:
                absent = read.result is None
                candidates = by_value.get((type(read.result), read.result), [])
            else:
                absent = read.result is False
                candidates = by_value.get((type(None), None), []) if absent else present
            if absent and start is None:
                continue  # the initial absent state
            if not any(_may_show(w, read, start) for w in candidates):
                values = [written(w) for w in writers if _may_show(w, read, start)]
                values += [None] if start is None else []
                if read.kind is Kind.CONTAINS:
                    values = [value is not None for value in values]
                found.append(StaleRead(read, tuple(dict.fromkeys(values))))
    return found


def _may_show(write: Operation, read: Operation, superseding: float | None) -> bool:
    """Whether ``read`` may show ``write``: invoked in time, not superseded (see above)."""
    assert read.completed is not None
    if write.invoked > read.completed:
        return False
    return superseding is None or not _before(write, superseding)


def lost_writes(operations: Iterable[Operation], final: Mapping[Hashable, Any]) -> list[Operation]:
    """Acknowledged writes that nothing overwrote but the final reads do not show.

    ``final`` maps keys to the value a read returned after every operation
    completed and the cluster settled. An OK operation that wrote ``w`` is
    lost when ``final[key]`` is not its value although every other operation
    that may have written the key (OK writes and INFO writes) certainly came
    before it (``other.completed < w.invoked``): ``w`` must then be the last
    write. Keys missing from ``final`` are not judged.
    """
    lost: list[Operation] = []
    for key, ops in by_key(operations).items():
        if key not in final:
            continue
        writers = [operation for operation in ops if writes(operation)]
        for w in writers:
            if w.outcome is not Outcome.OK or same(final[key], written(w)):
                continue
            if all(_before(other, w.invoked) for other in writers if other is not w):
                lost.append(w)
    return lost


def _before(operation: Operation, moment: float) -> bool:
    """Whether the operation certainly completed before ``moment`` (never for INFO)."""
    return operation.completed is not None and operation.completed < moment
