"""Is one key's history linearizable? The Wing & Gong search, made fast enough for chaos runs.

Calls and returns sit in a doubly linked list in time order (a call before a
return at the same time). The search walks the list from its head: a call may
be *lifted* (linearized now) when its operation's model result matches; a
return reached means that operation can no longer be placed, so the last
choice is undone. This is the algorithm of knossos and porcupine, with Lowe's
memo. Four reductions keep it exact and keep indeterminate (INFO) operations,
which stay candidates forever, from making it exponential:

1. Memo: a ``(linearized OK operations, state)`` pair is explored once, unless
   it comes with fewer INFO operations used than any time before (a node that
   used a superset of INFO operations can do nothing the other could not:
   INFO operations are optional).
2. Unobserved values: two present values that no operation returns or compares
   with behave alike from then on; the memo takes them as one state.
3. Symmetry: INFO operations with the same effect on the state (e.g. every
   write of an unobserved value) are interchangeable once invoked, so only the
   earliest pending one of each such class is in the list; lifting it brings
   in the next.
4. Budget: every candidate tried counts; past ``budget`` the verdict is UNKNOWN.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ignite_router.chaos.history import Kind, Operation, Outcome
from ignite_router.chaos.model import apply, same

__all__ = ["DEFAULT_BUDGET", "KeyVerdict", "Verdict", "check_key", "informative"]

DEFAULT_BUDGET = 1_000_000  # candidates tried per key before the verdict is UNKNOWN
CONTEXT = 4  # operations of the longest linearization shown with a violation


class Verdict(enum.Enum):
    LINEARIZABLE = "linearizable"
    NOT_LINEARIZABLE = "not linearizable"
    UNKNOWN = "unknown"  # the search budget ran out


@dataclass(frozen=True)
class KeyVerdict:
    """The verdict for one key; for a violation, the operation no order could place.

    ``culprit`` is an OK operation that could not be linearized before it
    returned, in the longest partial linearization found; ``context`` the
    last operations of that linearization, oldest first. ``tried`` counts
    the candidates the search tried.
    """

    key: Hashable
    verdict: Verdict
    operations: int
    tried: int
    culprit: Operation | None = None
    context: tuple[Operation, ...] = ()

    def explain(self) -> str:
        if self.verdict is Verdict.LINEARIZABLE:
            return f"key {self.key!r}: linearizable ({self.operations} operations)"
        if self.verdict is Verdict.UNKNOWN:
            return f"key {self.key!r}: unknown after trying {self.tried} candidates"
        before = "; ".join(str(operation) for operation in self.context) or "nothing"
        return (
            f"key {self.key!r}: not linearizable: no order places {self.culprit} "
            f"after a linearization ending with {before}"
        )


def informative(operation: Operation) -> bool:
    """Whether an operation constrains the search: not FAIL, and not an INFO read."""
    if operation.outcome is Outcome.FAIL:
        return False
    return not (operation.outcome is Outcome.INFO and operation.kind.is_read)


class _Entry:
    """A call or a return in the list; a head entry has no operation."""

    __slots__ = ("bit", "is_call", "match", "next", "operation", "prev", "rank", "successor")

    def __init__(self, operation: Operation | None, bit: int, is_call: bool) -> None:
        self.operation = operation
        self.bit = bit
        self.is_call = is_call
        self.rank = -1  # position in time order
        self.match: _Entry | None = None  # a call's return (None: INFO, never returns)
        self.successor: _Entry | None = None  # the next INFO call of the same class
        self.prev: _Entry | None = None
        self.next: _Entry | None = None


def _remove(entry: _Entry) -> None:
    assert entry.prev is not None
    entry.prev.next = entry.next
    if entry.next is not None:
        entry.next.prev = entry.prev


def _restore(entry: _Entry) -> None:
    """Put back an entry removed last, between the neighbours it had."""
    assert entry.prev is not None
    entry.prev.next = entry
    if entry.next is not None:
        entry.next.prev = entry


def _lift(call: _Entry) -> None:
    _remove(call)
    if call.match is not None:
        _remove(call.match)
    successor = call.successor
    if successor is not None:  # the next of its class takes its turn, in time order
        before = call.prev
        assert before is not None
        while before.next is not None and before.next.rank < successor.rank:
            before = before.next
        successor.prev, successor.next = before, before.next
        _restore(successor)


def _unlift(call: _Entry) -> None:
    if call.successor is not None:
        _remove(call.successor)
    if call.match is not None:
        _restore(call.match)
    _restore(call)


_UNOBSERVED = object()  # a present value no operation returns or compares with


def _observed(operations: Iterable[Operation]) -> set[tuple[type, Any]]:
    """The values some operation's outcome depends on: OK results, CAS expectations."""
    found = set()
    for operation in operations:
        if operation.kind is Kind.CAS:
            found.add((type(operation.args[0]), operation.args[0]))
        elif operation.outcome is Outcome.OK and operation.result is not None:
            found.add((type(operation.result), operation.result))
    return found


# Kinds whose effect is the same function of the state: "set to None", "set to v", ...
_EFFECT = {
    Kind.DELETE: "delete",
    Kind.REMOVE: "delete",
    Kind.GET_AND_REMOVE: "delete",
    Kind.WRITE: "write",
    Kind.SWAP: "write",
    Kind.PUT_IF_ABSENT: "write if absent",
    Kind.GET_AND_PUT_IF_ABSENT: "write if absent",
    Kind.REPLACE: "write if present",
    Kind.CAS: "compare and set",
}


def _build(ops: list[Operation]) -> tuple[_Entry, int, int]:
    """The list head, the bits of OK operations, the bits of INFO ones."""
    observed = _observed(ops)

    def alike(value: Any) -> Any:
        if value is None or (type(value), value) in observed:
            return (type(value), value)
        return _UNOBSERVED

    events: list[tuple[float, int, _Entry]] = []
    classes: dict[tuple[Any, ...], list[_Entry]] = {}
    required = optional = 0
    for index, operation in enumerate(ops):
        call = _Entry(operation, 1 << index, is_call=True)
        events.append((operation.invoked, 0, call))
        if operation.completed is None:
            optional |= call.bit
            effect = (_EFFECT[operation.kind], *map(alike, operation.args))
            classes.setdefault(effect, []).append(call)
        else:
            required |= call.bit
            call.match = _Entry(operation, call.bit, is_call=False)
            events.append((operation.completed, 1, call.match))
    events.sort(key=lambda event: (event[0], event[1]))
    for rank, (_, _, entry) in enumerate(events):
        entry.rank = rank
    waiting = set()
    for members in classes.values():
        members.sort(key=lambda call: call.rank)
        for earlier, later in itertools.pairwise(members):
            earlier.successor = later
            waiting.add(later)
    head = previous = _Entry(None, 0, is_call=False)
    for _, _, entry in events:
        if entry not in waiting:
            previous.next, entry.prev = entry, previous
            previous = entry
    return head, required, optional


def check_key(operations: Sequence[Operation], budget: int = DEFAULT_BUDGET) -> KeyVerdict:
    """Whether one key's operations are linearizable, the key starting absent."""
    key = operations[0].key if operations else None
    ops = [operation for operation in operations if informative(operation)]
    head, required, optional = _build(ops)
    observed = _observed(ops)
    state: Any = None
    linearized = tried = 0
    seen: dict[tuple[int, Any], list[int]] = {}  # (OK set, state) -> INFO sets explored
    stack: list[tuple[_Entry, Any]] = []
    deepest = -1  # the longest linearization found, the return that ended it, its tail
    culprit: Operation | None = None
    context: tuple[Operation, ...] = ()
    entry = head.next
    while linearized & required != required:
        assert entry is not None and entry.operation is not None  # an OK return is left
        operation = entry.operation
        if not entry.is_call:
            # This operation was not linearized before it returned: undo the last choice.
            if len(stack) > deepest:
                deepest, culprit = len(stack), operation
                context = tuple(op for call, _ in stack[-CONTEXT:] if (op := call.operation))
            if not stack:
                break
            call, state = stack.pop()
            linearized &= ~call.bit
            _unlift(call)
            entry = call.next
            continue
        tried += 1
        if tried > budget:
            return KeyVerdict(key, Verdict.UNKNOWN, len(ops), tried)
        new_state, result = apply(operation.kind, operation.args, state)
        if operation.outcome is Outcome.INFO or same(result, operation.result):
            candidate = linearized | entry.bit
            alike = new_state
            if new_state is not None and (type(new_state), new_state) not in observed:
                alike = _UNOBSERVED
            used = candidate & optional
            explored_with = seen.setdefault((candidate & required, alike), [])
            if not any(earlier & ~used == 0 for earlier in explored_with):
                explored_with.append(used)
                stack.append((entry, state))
                state, linearized = new_state, candidate
                _lift(entry)
                entry = head.next
                continue
        entry = entry.next
    else:
        return KeyVerdict(key, Verdict.LINEARIZABLE, len(ops), tried)
    return KeyVerdict(key, Verdict.NOT_LINEARIZABLE, len(ops), tried, culprit, context)
