"""A history: the operations a workload invoked, when, and what came back.

Each :class:`Operation` is one key's view of one client call (a ``put_all``
of three keys is three operations with the same times). Its outcome is
``OK`` (it took effect, with ``result`` as returned), ``FAIL`` (it definitely
did not take effect) or ``INFO`` (indeterminate: it may take effect at any
time after its invocation, or never, as in Jepsen); an indeterminate
operation has no completion time. A *hedged* operation is a read made through
a cache with hedging enabled (``with_hedging()``): it is checked for stale
reads, not for linearizability.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Kind", "Operation", "Outcome", "by_key"]


class Outcome(enum.Enum):
    OK = "ok"
    FAIL = "fail"
    INFO = "info"


class Kind(enum.Enum):
    """What an operation does to one key's register; ``args`` and result per kind.

    ====================== ================== ===================================
    kind                   args               result
    ====================== ================== ===================================
    READ                   ()                 value, None when absent
    CONTAINS               ()                 bool
    WRITE                  (value,)           None (put, a key of put_all)
    DELETE                 ()                 None (a key of remove_keys)
    REMOVE                 ()                 bool: was present (remove_key)
    CAS                    (expected, new)    bool (replace_if_equals)
    PUT_IF_ABSENT          (value,)           bool: was absent
    GET_AND_PUT_IF_ABSENT  (value,)           old value; writes only if absent
    SWAP                   (value,)           old value (get_and_put)
    REPLACE                (value,)           bool; writes only if present
    GET_AND_REMOVE         ()                 old value
    ====================== ================== ===================================
    """

    READ = "read"
    CONTAINS = "contains"
    WRITE = "write"
    DELETE = "delete"
    REMOVE = "remove"
    CAS = "cas"
    PUT_IF_ABSENT = "put_if_absent"
    GET_AND_PUT_IF_ABSENT = "get_and_put_if_absent"
    SWAP = "swap"
    REPLACE = "replace"
    GET_AND_REMOVE = "get_and_remove"

    @property
    def is_read(self) -> bool:
        """True for kinds that never change the register."""
        return self in (Kind.READ, Kind.CONTAINS)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation on one key, as a workload recorded it (times in seconds, monotonic)."""

    process: int
    key: Hashable
    kind: Kind
    args: tuple[Any, ...]
    invoked: float
    completed: float | None  # None: indeterminate (INFO)
    outcome: Outcome
    result: Any = None
    hedged: bool = False  # a read through a hedged cache

    def __post_init__(self) -> None:
        if (self.completed is None) != (self.outcome is Outcome.INFO):
            raise ValueError("an operation has no completion time exactly when it is INFO")
        if self.hedged and not self.kind.is_read:
            raise ValueError(f"only reads are hedged, not {self.kind.value}")
        if self.completed is not None and self.completed < self.invoked:
            raise ValueError(f"completed {self.completed} before invoked {self.invoked}")

    def __str__(self) -> str:
        args = ", ".join(repr(arg) for arg in self.args)
        end = "…" if self.completed is None else f"{self.completed:.6f}"
        shown = f" -> {self.result!r}" if self.outcome is Outcome.OK else ""
        hedged = ", hedged" if self.hedged else ""
        return (
            f"p{self.process} {self.kind.value}({args}){shown} [{self.outcome.value}{hedged}] "
            f"{self.invoked:.6f}..{end}"
        )


def by_key(operations: Iterable[Operation]) -> dict[Hashable, list[Operation]]:
    """The operations grouped by key, each group in invocation order."""
    groups: defaultdict[Hashable, list[Operation]] = defaultdict(list)
    for operation in operations:
        groups[operation.key].append(operation)
    for group in groups.values():
        group.sort(key=lambda operation: operation.invoked)
    return dict(groups)
