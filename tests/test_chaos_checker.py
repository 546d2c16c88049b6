"""The history checkers against brute force and against hand-built histories.

The reference is independent of the checker: a dict with the Ignite cache
operations written out plainly, and every order of the operations that real
time allows (INFO operations included or left out) replayed on it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ignite_router.chaos.checker import (
    Verdict,
    check_key,
    check_linearizable,
    lost_writes,
    stale_reads,
)
from ignite_router.chaos.history import Kind, Operation, Outcome

OK, FAIL, INFO = Outcome.OK, Outcome.FAIL, Outcome.INFO
KEY = "k"

# -- the reference -------------------------------------------------------------------------


def reference_step(cache: dict[str, Any], op: Operation) -> Any:
    """Apply ``op`` to a dict the way the cache operation it stands for would; its result."""
    key, kind, args = op.key, op.kind, op.args
    present = key in cache
    old = cache.get(key)
    if kind is Kind.READ:
        return old
    if kind is Kind.CONTAINS:
        return present
    if kind is Kind.WRITE:
        cache[key] = args[0]
        return None
    if kind in (Kind.DELETE, Kind.REMOVE, Kind.GET_AND_REMOVE):
        cache.pop(key, None)
        return {Kind.DELETE: None, Kind.REMOVE: present, Kind.GET_AND_REMOVE: old}[kind]
    if kind is Kind.CAS:
        if present and type(old) is type(args[0]) and old == args[0]:
            cache[key] = args[1]
            return True
        return False
    if kind in (Kind.PUT_IF_ABSENT, Kind.GET_AND_PUT_IF_ABSENT):
        if not present:
            cache[key] = args[0]
        return (not present) if kind is Kind.PUT_IF_ABSENT else old
    if kind is Kind.SWAP:
        cache[key] = args[0]
        return old
    if kind is Kind.REPLACE:
        if present:
            cache[key] = args[0]
        return present
    raise AssertionError(kind)


def end(op: Operation) -> float:
    return math.inf if op.completed is None else op.completed


def respects_real_time(order: Sequence[Operation]) -> bool:
    """No operation is placed before one that completed before it was invoked."""
    return not any(
        end(later) < earlier.invoked for i, earlier in enumerate(order) for later in order[i + 1 :]
    )


def replays(order: Sequence[Operation]) -> bool:
    cache: dict[str, Any] = {}
    for op in order:
        result = reference_step(cache, op)
        if op.outcome is OK and not (type(result) is type(op.result) and result == op.result):
            return False
    return True


def brute_force_linearizable(ops: Sequence[Operation], must: Sequence[Operation] = ()) -> bool:
    """Some order of the OK operations, and of any subset of the INFO ones, replays."""
    useful = [o for o in ops if o.outcome is OK or (o.outcome is INFO and not o.kind.is_read)]
    required = [o for o in useful if o.outcome is OK] + list(must)
    optional = [o for o in useful if o.outcome is INFO]
    for size in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, size):
            for order in itertools.permutations(required + list(chosen)):
                if respects_real_time(order) and replays(order):
                    return True
    return False


# -- histories -----------------------------------------------------------------------------

VALUES = (1, 2, 3)
RESULTS: dict[Kind, tuple[Any, ...]] = {
    Kind.READ: (None, *VALUES),
    Kind.CONTAINS: (False, True),
    Kind.WRITE: (None,),
    Kind.DELETE: (None,),
    Kind.REMOVE: (False, True),
    Kind.CAS: (False, True),
    Kind.PUT_IF_ABSENT: (False, True),
    Kind.GET_AND_PUT_IF_ABSENT: (None, *VALUES),
    Kind.SWAP: (None, *VALUES),
    Kind.REPLACE: (False, True),
    Kind.GET_AND_REMOVE: (None, *VALUES),
}
NO_ARGS = (Kind.READ, Kind.CONTAINS, Kind.DELETE, Kind.REMOVE, Kind.GET_AND_REMOVE)
ARITY = {Kind.CAS: 2, **dict.fromkeys(NO_ARGS, 0)}
MIXED = (OK, OK, OK, OK, INFO, FAIL)


@st.composite
def histories(
    draw: st.DrawFn,
    kinds: Sequence[Kind] = tuple(Kind),
    size: int = 7,
    outcomes: Sequence[Outcome] = MIXED,
    values: Sequence[int] = VALUES,
) -> list[Operation]:
    """Up to ``size`` operations by up to three processes, each process's calls in sequence.

    Results come from replaying the operations in an order of linearization
    points drawn inside their intervals (so many histories are linearizable),
    then some are replaced by any result the kind can give.
    """
    count = draw(st.integers(1, size))
    clock = {p: 0 for p in range(draw(st.integers(1, 3)))}
    drafts = []
    for _ in range(count):
        process = draw(st.sampled_from(sorted(clock)))
        kind = draw(st.sampled_from(kinds))
        args = tuple(draw(st.sampled_from(values)) for _ in range(ARITY.get(kind, 1)))
        invoked = clock[process] + draw(st.integers(0, 2))
        completed = invoked + draw(st.integers(0, 4))
        outcome = draw(st.sampled_from(outcomes))
        clock[process] = completed + (0 if outcome is not INFO else draw(st.integers(0, 2)))
        point = draw(st.floats(invoked, completed + (3 if outcome is INFO else 0)))
        applied = outcome is OK or (outcome is INFO and draw(st.booleans()))
        drafts.append((process, kind, args, invoked, completed, outcome, point, applied))
    cache: dict[str, Any] = {}
    results = {}
    for index, draft in sorted(enumerate(drafts), key=lambda item: item[1][6]):
        if draft[7]:
            probe = Operation(draft[0], KEY, draft[1], draft[2], 0, 0, OK)
            results[index] = reference_step(cache, probe)
    history = []
    for index, (process, kind, args, invoked, completed, outcome, _, _) in enumerate(drafts):
        result = results.get(index) if outcome is OK else None
        if outcome is OK and draw(st.integers(0, 3)) == 0:
            result = draw(st.sampled_from(RESULTS[kind]))
        finished = None if outcome is INFO else float(completed)
        history.append(Operation(process, KEY, kind, args, invoked, finished, outcome, result))
    return history


def op(
    process: int,
    kind: Kind,
    args: tuple[Any, ...],
    invoked: float,
    completed: float | None,
    result: Any = None,
    outcome: Outcome | None = None,
) -> Operation:
    if outcome is None:
        outcome = INFO if completed is None else OK
    return Operation(process, KEY, kind, args, invoked, completed, outcome, result)


def verdict(*ops: Operation) -> Verdict:
    return check_key(list(ops)).verdict


LINEARIZABLE, VIOLATION = Verdict.LINEARIZABLE, Verdict.NOT_LINEARIZABLE

# -- linearizability: brute force ------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "values", "fewest"),
    [(MIXED, VALUES, 85), ((OK, INFO, INFO), (1, 2, 3, 4, 5, 6), 35)],
    ids=["mixed", "mostly-indeterminate"],
)
def test_linearizability_agrees_with_brute_force(
    outcomes: Sequence[Outcome], values: Sequence[int], fewest: int
) -> None:
    """The second mix has many pending INFO writes, often of values nothing reads: the
    cases the search's reductions are about."""
    verdicts: Counter[Verdict] = Counter()

    @settings(max_examples=700, deadline=None, database=None)
    @given(histories(outcomes=outcomes, values=values))
    def agrees(history: list[Operation]) -> None:
        expected = LINEARIZABLE if brute_force_linearizable(history) else VIOLATION
        assert check_key(history).verdict is expected, "\n".join(map(str, history))
        verdicts[expected] += 1

    agrees()
    # The generator is not lopsided: both verdicts come up often (about half the share
    # each usually has, so that chance alone does not fail the test).
    assert verdicts[LINEARIZABLE] >= fewest and verdicts[VIOLATION] >= fewest, verdicts


# -- linearizability: hand-built histories -------------------------------------------------
# Times are seconds; ``op(process, kind, args, invoked, completed, result)``; completed None
# is an indeterminate (INFO) operation.

W, R = Kind.WRITE, Kind.READ


def test_a_read_sees_the_last_acknowledged_write() -> None:
    assert verdict(op(0, W, (1,), 0, 1), op(0, R, (), 2, 3, 1)) is LINEARIZABLE
    assert verdict(op(0, R, (), 0, 1, None)) is LINEARIZABLE  # a key starts absent


def test_the_2_3_2_anomaly() -> None:
    """A's put(2) is acknowledged, then B's put(3) is, then a read returns 2.

    With every write acknowledged, no order explains the read: 2 was
    overwritten by 3 before the read began. If A's put(2) is indeterminate
    instead, it may land after B's put(3), and the read of 2 is fine; but a
    read of 3 after that read is not: the register went 3 -> 2 and nothing
    wrote 3 again.
    """
    put2 = op(0, W, (2,), 0, 1)
    put3 = op(1, W, (3,), 2, 3)
    read2 = op(1, R, (), 4, 5, 2)
    assert verdict(put2, put3, read2) is VIOLATION
    lost_put2 = op(0, W, (2,), 0, None)
    assert verdict(lost_put2, put3, read2) is LINEARIZABLE
    assert verdict(lost_put2, put3, read2, op(1, R, (), 6, 7, 3)) is VIOLATION
    # Reading 3 first, then 2 (the late put landing in between) is linearizable.
    assert verdict(lost_put2, put3, op(1, R, (), 4, 5, 3), op(1, R, (), 6, 7, 2)) is LINEARIZABLE


def test_an_indeterminate_write_cannot_land_before_it_was_invoked() -> None:
    late = op(0, W, (2,), 10, None)
    assert verdict(late, op(1, R, (), 0, 5, 2)) is VIOLATION
    assert verdict(late, op(1, R, (), 0, 10, 2)) is LINEARIZABLE  # equal times: concurrent


def test_a_failed_write_never_took_effect() -> None:
    failed = op(0, W, (2,), 0, 1, outcome=FAIL)
    assert verdict(failed, op(1, R, (), 2, 3, 2)) is VIOLATION
    assert verdict(failed, op(1, R, (), 2, 3, None)) is LINEARIZABLE


def test_an_indeterminate_or_failed_read_says_nothing() -> None:
    assert verdict(op(0, R, (), 0, None, 5), op(1, R, (), 0, 1, 7, outcome=FAIL)) is LINEARIZABLE


def test_concurrent_writes_are_seen_in_one_order_by_everyone() -> None:
    """Two overlapping writes: readers may see 1 then 2 or 2 then 1, but not both orders."""
    writes = [op(0, W, (1,), 0, 10), op(1, W, (2,), 0, 10)]
    assert verdict(*writes, op(2, R, (), 1, 2, 1), op(2, R, (), 3, 4, 2)) is LINEARIZABLE
    flip_flop = [op(2, R, (), 1, 2, 1), op(2, R, (), 3, 4, 2), op(3, R, (), 5, 6, 1)]
    assert verdict(*writes, *flip_flop) is VIOLATION


def test_conditional_writes() -> None:
    start = op(0, W, (0,), 0, 1)
    # Two compare-and-set from 0 cannot both succeed; one of them may be indeterminate.
    cas_a, cas_b = op(1, Kind.CAS, (0, 1), 2, 4, True), op(2, Kind.CAS, (0, 2), 2, 4, True)
    assert verdict(start, cas_a, cas_b) is VIOLATION
    assert verdict(start, cas_a, op(2, Kind.CAS, (0, 2), 2, None)) is LINEARIZABLE
    assert verdict(start, cas_a, op(3, R, (), 5, 6, 1)) is LINEARIZABLE
    assert verdict(start, op(1, Kind.CAS, (7, 1), 2, 4, True)) is VIOLATION  # 0 is not 7
    # put_if_absent: one winner; get_and_put_if_absent returns the winner's value.
    pia = op(1, Kind.PUT_IF_ABSENT, (1,), 0, 2, True)
    assert verdict(pia, op(2, Kind.PUT_IF_ABSENT, (2,), 0, 2, True)) is VIOLATION
    assert verdict(pia, op(2, Kind.GET_AND_PUT_IF_ABSENT, (2,), 3, 4, 1)) is LINEARIZABLE
    assert verdict(pia, op(2, Kind.GET_AND_PUT_IF_ABSENT, (2,), 3, 4, None)) is VIOLATION
    # replace writes only a present key: True on an absent key needs a write before it.
    assert verdict(op(1, Kind.REPLACE, (5,), 0, 1, True)) is VIOLATION
    assert verdict(op(0, W, (4,), 0, None), op(1, Kind.REPLACE, (5,), 1, 2, True)) is LINEARIZABLE


def test_swaps_and_removals_return_what_they_replaced() -> None:
    swaps = [op(0, Kind.SWAP, (1,), 0, 1, None), op(1, Kind.SWAP, (2,), 2, 3, 1)]
    assert verdict(*swaps) is LINEARIZABLE
    assert verdict(*swaps, op(2, Kind.SWAP, (3,), 2, 3, 1)) is VIOLATION  # 1 replaced twice
    taken = op(1, Kind.GET_AND_REMOVE, (), 2, 3, 1)
    assert verdict(swaps[0], taken, op(2, Kind.GET_AND_REMOVE, (), 2, 3, 1)) is VIOLATION
    assert verdict(swaps[0], taken, op(2, Kind.CONTAINS, (), 4, 5, False)) is LINEARIZABLE
    assert verdict(swaps[0], taken, op(2, Kind.CONTAINS, (), 4, 5, True)) is VIOLATION
    assert verdict(op(0, Kind.REMOVE, (), 0, 1, True)) is VIOLATION  # nothing to remove
    assert verdict(swaps[0], op(0, Kind.DELETE, (), 2, 3), op(0, R, (), 4, 5, None)) is LINEARIZABLE


def test_true_is_not_one() -> None:
    """Java's Boolean.TRUE does not equal Long 1: a read of True is not a read of 1."""
    assert verdict(op(0, W, (1,), 0, 1), op(0, R, (), 2, 3, True)) is VIOLATION


def test_a_violation_names_the_operation_no_order_can_place() -> None:
    put2, put3, read2 = op(0, W, (2,), 0, 1), op(1, W, (3,), 2, 3), op(1, R, (), 4, 5, 2)
    result = check_key([put2, put3, read2])
    assert result.culprit == read2
    assert result.context == (put2, put3)
    assert "read() -> 2" in result.explain()


def test_the_search_budget_gives_unknown_not_a_hang() -> None:
    """Twelve overlapping acknowledged writes and a read no order explains: every subset of
    the writes is a state of the search (4 095 of them)."""
    writes = [op(p, W, (p,), 0, 10) for p in range(12)]
    impossible = op(99, R, (), 11, 12, 1000)
    assert check_key([*writes, impossible], budget=1000).verdict is Verdict.UNKNOWN
    assert check_key([*writes, impossible]).verdict is VIOLATION


def test_pending_indeterminate_writes_do_not_blow_up_the_search() -> None:
    """Forty indeterminate writes nobody reads, invoked while two acknowledged writes were in
    flight, and a read that forces the search to undo its first choice of their order:
    decided in a few dozen states, not 2**40."""
    history = [op(0, W, ("a",), 0, 10), op(1, W, ("b",), 0, 10)]
    history += [op(100 + i, W, (f"x{i}",), 1 + i / 100, None) for i in range(40)]
    history.append(op(2, R, (), 11, 12, "a"))
    result = check_key(history, budget=1000)
    assert result.verdict is LINEARIZABLE
    history.append(op(2, R, (), 13, 14, "b"))  # "b" was overwritten by "a" for good
    assert check_key(history, budget=1000).verdict is VIOLATION


def simulated_history(rng: random.Random, keys: int, processes: int, steps: int) -> list[Operation]:
    """A linearizable history: processes call one after the other, each operation applied
    to a real dict at a random point of its interval; about 5 % are indeterminate (half
    of those applied, at a point up to 5 s after they were called, half never)."""
    kinds = [Kind.READ] * 4 + [Kind.WRITE] * 3 + [Kind.CAS, Kind.SWAP, Kind.PUT_IF_ABSENT]
    kinds += [Kind.REMOVE, Kind.CONTAINS, Kind.GET_AND_PUT_IF_ABSENT, Kind.REPLACE]
    clock = [0.0] * processes
    calls: list[tuple[float, Operation]] = []
    for counter in range(steps):
        process = rng.randrange(processes)
        kind = rng.choice(kinds)
        value = f"{process}-{counter}"
        args: tuple[Any, ...] = (value,)
        if kind is Kind.CAS:
            args = (f"{(process + 1) % processes}-{counter - 1}", value)
        elif kind in (Kind.READ, Kind.CONTAINS, Kind.REMOVE):
            args = ()
        invoked = clock[process] + rng.random()
        completed = invoked + rng.random() * 3
        clock[process] = completed
        key = f"k{rng.randrange(keys)}"
        if rng.random() < 0.05:
            point = rng.uniform(invoked, completed + 5) if rng.random() < 0.5 else math.inf
            calls.append((point, Operation(process, key, kind, args, invoked, None, INFO)))
        else:
            point = rng.uniform(invoked, completed)
            calls.append((point, Operation(process, key, kind, args, invoked, completed, OK)))
    cache: dict[str, Any] = {}
    history = []
    for point, call in sorted(calls, key=lambda pair: pair[0]):
        result = reference_step(cache, call) if point < math.inf else None
        if call.outcome is OK:
            call = dataclasses.replace(call, result=result)
        history.append(call)
    return history


def test_thousands_of_operations_are_decided() -> None:
    """4 000 operations by 8 processes over 200 keys: every key decided, all linearizable;
    one read changed to a value overwritten long before is caught on its key."""
    history = simulated_history(random.Random(11), keys=200, processes=8, steps=4000)
    verdicts = check_linearizable(history)
    assert len(verdicts) == 200
    assert {v.verdict for v in verdicts.values()} == {LINEARIZABLE}
    first_write = next(o for o in history if o.kind is W and o.outcome is OK)
    later_read = next(
        o
        for o in history
        if o.key == first_write.key
        and o.kind is R
        and o.outcome is OK
        and o.invoked > first_write.completed + 30
    )
    stale = dataclasses.replace(later_read, result=first_write.args[0])
    tampered = [stale if o is later_read else o for o in history]
    changed = check_linearizable(tampered)
    assert [k for k, v in changed.items() if v.verdict is not LINEARIZABLE] == [first_write.key]


# -- stale reads -----------------------------------------------------------------------------


def test_stale_reads_agree_with_brute_force() -> None:
    """For reads (get, contains_key) and blind writes: a read is stale iff it and the writes
    alone (no other read) have no linearization."""
    flagged_counts: Counter[bool] = Counter()

    @settings(max_examples=600, deadline=None, database=None)
    @given(histories(kinds=(W, Kind.DELETE, R, R, Kind.CONTAINS)))
    def agrees(history: list[Operation]) -> None:
        writes = [o for o in history if not o.kind.is_read]
        reads = [o for o in history if o.kind.is_read and o.outcome is OK]
        expected = [r for r in reads if not brute_force_linearizable(writes, must=[r])]
        found = [stale.read for stale in stale_reads(history)]
        assert {id(r) for r in found} == {id(r) for r in expected}, "\n".join(map(str, history))
        flagged_counts[bool(expected)] += 1

    agrees()
    assert flagged_counts[True] >= 40 and flagged_counts[False] >= 40, flagged_counts


def test_stale_reads_by_hand() -> None:
    put1, put2 = op(0, W, (1,), 0, 1), op(1, W, (2,), 2, 3)
    (stale,) = stale_reads([put1, put2, op(2, R, (), 4, 5, 1)])
    assert stale.allowed == (2,)
    assert stale_reads([put1, put2, op(2, R, (), 2.5, 5, 1)]) == []  # began before put2 ended
    assert len(stale_reads([put1, op(2, R, (), 0, 0.5, 1)])) == 0  # concurrent with put1
    assert len(stale_reads([op(0, W, (1,), 3, 4), op(2, R, (), 0, 2, 1)])) == 1  # from the future
    # An indeterminate write invoked before the read completed may be read at any time.
    assert stale_reads([op(0, W, (9,), 0, None), put2, op(2, R, (), 40, 41, 9)]) == []


def test_stale_contains_by_hand() -> None:
    """contains_key answers whether the value it may see is present."""
    put1, removed = op(0, W, (1,), 0, 1), op(1, Kind.DELETE, (), 2, 3)
    (stale,) = stale_reads([put1, removed, op(2, Kind.CONTAINS, (), 4, 5, True)])
    assert stale.allowed == (False,)
    assert stale_reads([put1, removed, op(2, Kind.CONTAINS, (), 4, 5, False)]) == []
    assert stale_reads([put1, removed, op(2, Kind.CONTAINS, (), 2.5, 5, True)]) == []
    (absent,) = stale_reads([put1, op(2, Kind.CONTAINS, (), 2, 3, False)])
    assert absent.allowed == (True,)
    assert stale_reads([op(2, Kind.CONTAINS, (), 0, 1, False)]) == []  # a key starts absent


def test_stale_read_freedom_is_weaker_than_linearizability() -> None:
    """Two readers see two concurrent writes in opposite orders: no read is stale, yet no
    single order of the writes explains both readers."""
    history = [
        op(0, W, (1,), 0, 10),
        op(1, W, (2,), 0, 10),
        op(2, R, (), 1, 2, 1),
        op(2, R, (), 3, 4, 2),
        op(3, R, (), 1, 2, 2),
        op(3, R, (), 3, 4, 1),
    ]
    assert stale_reads(history) == []
    assert verdict(*history) is VIOLATION


# -- lost acknowledged writes ----------------------------------------------------------------


def test_lost_writes_by_hand() -> None:
    put1, put2 = op(0, W, (1,), 0, 1), op(1, W, (2,), 2, 3)
    assert lost_writes([put1, put2], {KEY: 2}) == []
    assert lost_writes([put1, put2], {KEY: 1}) == [put2]
    assert lost_writes([put1, put2], {KEY: None}) == [put2]
    assert lost_writes([op(0, W, (1,), 0, 3), put2], {KEY: 1}) == []  # concurrent: either last
    assert lost_writes([put1, put2, op(2, W, (3,), 5, None)], {KEY: 3}) == []  # may land late
    assert lost_writes([put1, put2, op(2, W, (3,), 5, 6, outcome=FAIL)], {KEY: 1}) == [put2]
    removed = op(1, Kind.REMOVE, (), 2, 3, True)
    assert lost_writes([put1, removed], {KEY: 1}) == [removed]  # the key came back
    assert lost_writes([put1, op(1, Kind.CAS, (5, 6), 2, 3, False)], {KEY: 1}) == []
    assert lost_writes([put1], {}) == []  # keys without a final read are not judged


def test_a_lost_write_is_a_linearizability_violation() -> None:
    """With a final read after everything, a lost write makes the key non-linearizable and a
    linearizable history loses nothing (brute force)."""
    losses: Counter[bool] = Counter()

    @settings(max_examples=400, deadline=None, database=None)
    @given(histories(size=6), st.sampled_from((None, *VALUES)))
    def implies(history: list[Operation], final_value: Any) -> None:
        final = op(9, R, (), 1000, 1001, final_value)
        lost = lost_writes(history, {KEY: final_value})
        if brute_force_linearizable([*history, final]):
            assert lost == []
        if lost:
            assert check_key([*history, final]).verdict is VIOLATION
        losses[bool(lost)] += 1

    implies()
    assert losses[True] >= 40, losses
