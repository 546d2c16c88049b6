"""The sequential specification of one key: a register whose value is None when absent.

Each kind's transition is ``state -> (new state, result)``, the semantics of
the Ignite cache operation it stands for (``IgniteCache.getAndPutIfAbsent``,
``replace(k, old, new)``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ignite_router.chaos.history import Kind, Operation, Outcome

__all__ = ["apply", "same", "writes", "written"]

Transition = Callable[[Any, tuple[Any, ...]], tuple[Any, Any]]

TRANSITIONS: dict[Kind, Transition] = {
    Kind.READ: lambda state, args: (state, state),
    Kind.CONTAINS: lambda state, args: (state, state is not None),
    Kind.WRITE: lambda state, args: (args[0], None),
    Kind.DELETE: lambda state, args: (None, None),
    Kind.REMOVE: lambda state, args: (None, state is not None),
    Kind.CAS: lambda state, args: (args[1], True) if same(state, args[0]) else (state, False),
    Kind.PUT_IF_ABSENT: lambda state, args: (args[0], True) if state is None else (state, False),
    Kind.GET_AND_PUT_IF_ABSENT: lambda state, args: (
        (args[0], None) if state is None else (state, state)
    ),
    Kind.SWAP: lambda state, args: (args[0], state),
    Kind.REPLACE: lambda state, args: (state, False) if state is None else (args[0], True),
    Kind.GET_AND_REMOVE: lambda state, args: (None, state),
}


def apply(kind: Kind, args: tuple[Any, ...], state: Any) -> tuple[Any, Any]:
    """``(new state, result)`` of ``kind(args)`` applied to ``state``."""
    return TRANSITIONS[kind](state, args)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type (``True`` is not ``1``, as in Java)."""
    return type(a) is type(b) and a == b


def written(operation: Operation) -> Any:
    """The value an operation leaves in the register if it writes (None: absent)."""
    if operation.kind is Kind.CAS:
        return operation.args[1]
    if operation.kind in (Kind.DELETE, Kind.REMOVE, Kind.GET_AND_REMOVE):
        return None
    return operation.args[0]


def writes(operation: Operation) -> bool:
    """Whether the operation may have set the register.

    FAIL: never. INFO: any kind that can write. OK: unconditional writes
    always; conditional ones when their result says they applied (a
    ``remove_key`` answering False or a ``get_and_remove`` answering None
    found the key absent and left it so).
    """
    kind = operation.kind
    if operation.outcome is Outcome.FAIL or kind.is_read:
        return False
    if operation.outcome is Outcome.INFO or kind in (Kind.WRITE, Kind.DELETE, Kind.SWAP):
        return True
    result = operation.result
    if kind is Kind.GET_AND_PUT_IF_ABSENT:
        return result is None
    if kind is Kind.GET_AND_REMOVE:
        return result is not None
    return result is True  # REMOVE, CAS, PUT_IF_ABSENT, REPLACE
