"""Transactions: every operation inside one goes through the transaction's connection.

``TransactionSteps`` builds the start and end steps; ``Transaction``
(blocking) and ``AioTransaction`` (asyncio) run them. The current
transaction is a context variable, so it follows the thread (``Client``) or
the task (``AioClient``) that started it, as the Java client's thread-bound
transactions do.
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Awaitable, Callable, Generator
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ignite_router.core import answers
from ignite_router.core.engine import Request, Step
from ignite_router.core.nodes import Node
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.messages.tx import (
    TxConcurrency,
    TxIsolation,
    decode_tx_id,
    encode_tx_end,
    encode_tx_start,
)

if TYPE_CHECKING:
    from ignite_router.session import Session

__all__ = [
    "AioTransaction",
    "Transaction",
    "TransactionSteps",
    "TxConcurrency",
    "TxIsolation",
    "current_transaction",
]

_CURRENT: contextvars.ContextVar[TransactionSteps | None] = contextvars.ContextVar(
    "ignite_router_transaction", default=None
)


def current_transaction(session: Session) -> TransactionSteps | None:
    """The open transaction of this thread/task on ``session``'s client, if any."""
    transaction = _CURRENT.get()
    if transaction is None or transaction.session is not session or transaction.closed:
        return None
    return transaction


class TxState(IntEnum):
    ACTIVE = 0
    COMMITTED = 1
    ROLLED_BACK = 2


class TransactionSteps:
    """One transaction: its settings, id, node and state, and the steps that start and end it.

    ``timeout`` in ms (or a timedelta); 0 = none.
    """

    def __init__(
        self,
        session: Session,
        concurrency: int,
        isolation: int,
        timeout: int | float | datetime.timedelta,
        label: str | None,
    ) -> None:
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds() * 1000
        if timeout < 0:
            raise ParameterError(f"a transaction timeout cannot be negative, got {timeout}")
        self.session = session
        self.concurrency = TxConcurrency(concurrency)
        self.isolation = TxIsolation(isolation)
        self.timeout_ms = int(timeout)
        self.label = label
        self.tx_id: int | None = None
        self.node: Node | None = None
        self.state = TxState.ACTIVE
        self.started = False
        self._token: contextvars.Token[TransactionSteps | None] | None = None

    @property
    def closed(self) -> bool:
        return self.state is not TxState.ACTIVE

    @property
    def open(self) -> bool:
        """Started and neither committed nor rolled back."""
        return self.started and self.state is TxState.ACTIVE

    def start(self) -> Step:
        core = self.session.core
        frame = bytearray()
        encode_tx_start(
            frame,
            core.next_request_id(),
            self.concurrency,
            self.isolation,
            self.timeout_ms,
            self.label,
            self.session.context(),
        )
        request = Request("tx_start", frame, lambda view, pos: decode_tx_id(view, pos))
        self.tx_id = yield from core.execute(request)
        self.node = request.answered_by
        self.started = True
        self._token = _CURRENT.set(self)

    def end(self, commit: bool) -> Step:
        if self.closed:
            raise RuntimeError(f"the transaction is already {self.state.name.lower()}")
        core = self.session.core
        frame = bytearray()
        encode_tx_end(frame, core.next_request_id(), self.tx_id, commit)  # type: ignore[arg-type]
        self.state = TxState.COMMITTED if commit else TxState.ROLLED_BACK
        if self._token is not None:
            try:
                _CURRENT.reset(self._token)
            except ValueError:  # ended in another context than it started in
                _CURRENT.set(None)
            self._token = None
        request = Request("tx_end", frame, answers.nothing, node=self.node, in_transaction=True)
        yield from core.execute(request)


class _TransactionView:
    """What both facades show of a transaction (pyignite's attributes, and its node)."""

    _steps: TransactionSteps

    @property
    def tx_id(self) -> int | None:
        return self._steps.tx_id

    @property
    def node(self) -> Node | None:
        """The node the transaction lives on (every operation inside it goes there)."""
        return self._steps.node

    @property
    def closed(self) -> bool:
        return self._steps.closed

    @property
    def concurrency(self) -> TxConcurrency:
        return self._steps.concurrency

    @property
    def isolation(self) -> TxIsolation:
        return self._steps.isolation

    @property
    def timeout(self) -> int:
        """In ms; 0 = none."""
        return self._steps.timeout_ms

    @property
    def label(self) -> str | None:
        return self._steps.label


class Transaction(_TransactionView):
    """An open transaction (blocking): commit or roll back once; leaving its ``with`` block
    without a commit rolls it back (as Java's ``close()`` does)."""

    def __init__(self, run: Callable[[Step], Any], steps: TransactionSteps) -> None:
        self._run = run
        self._steps = steps

    def commit(self) -> None:
        self._run(self._steps.end(True))

    def rollback(self) -> None:
        self._run(self._steps.end(False))

    def close(self) -> None:
        """Roll back unless already committed or rolled back."""
        if self._steps.open:
            self.rollback()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AioTransaction(_TransactionView):
    """A transaction (asyncio), started by ``await`` or ``async with``: commit or roll back
    once; leaving its ``async with`` block without a commit rolls it back."""

    def __init__(self, run: Callable[[Step], Awaitable[Any]], steps: TransactionSteps) -> None:
        self._run = run
        self._steps = steps

    def __await__(self) -> Generator[Any, None, AioTransaction]:
        return self._start().__await__()

    async def _start(self) -> AioTransaction:
        if not self._steps.started:
            await self._run(self._steps.start())
        return self

    async def commit(self) -> None:
        await self._run(self._steps.end(True))

    async def rollback(self) -> None:
        await self._run(self._steps.end(False))

    async def close(self) -> None:
        """Roll back unless already committed or rolled back (or never started)."""
        if self._steps.open:
            await self.rollback()

    async def __aenter__(self) -> AioTransaction:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
