"""Transactions: every operation inside one goes through the transaction's connection.

The current transaction is a context variable, so it follows the thread
(``Client``) or the task (``AioClient``) that started it, as the Java
client's thread-bound transactions do.
"""

from __future__ import annotations

import contextvars
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ignite_router.core import answers
from ignite_router.core.engine import Request, Step
from ignite_router.core.nodes import Node
from ignite_router.protocol.messages.tx import (
    TxConcurrency,
    TxIsolation,
    decode_tx_id,
    encode_tx_end,
    encode_tx_start,
)

if TYPE_CHECKING:
    from ignite_router.api import ClientBase

__all__ = ["Transaction", "TxConcurrency", "TxIsolation", "current_transaction"]

_CURRENT: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "ignite_router_transaction", default=None
)


def current_transaction(client: ClientBase) -> Transaction | None:
    """The open transaction of this thread/task on ``client``, if any."""
    transaction = _CURRENT.get()
    if transaction is None or transaction.client is not client or transaction.closed:
        return None
    return transaction


class TxState(IntEnum):
    ACTIVE = 0
    COMMITTED = 1
    ROLLED_BACK = 2


class Transaction:
    """An open transaction: commit or roll back once; leaving its ``with`` block without a
    commit rolls it back (as Java's ``close()`` does)."""

    def __init__(
        self,
        client: ClientBase,
        concurrency: int,
        isolation: int,
        timeout_ms: int,
        label: str | None,
    ) -> None:
        self.client = client
        self.concurrency = TxConcurrency(concurrency)
        self.isolation = TxIsolation(isolation)
        self.timeout_ms = timeout_ms
        self.label = label
        self.tx_id: int | None = None
        self.node: Node | None = None
        self.state = TxState.ACTIVE
        self._token: contextvars.Token[Transaction | None] | None = None

    @property
    def closed(self) -> bool:
        return self.state is not TxState.ACTIVE

    def start_step(self) -> Step:
        core = self.client.core
        frame = bytearray()
        encode_tx_start(
            frame,
            core.next_request_id(),
            self.concurrency,
            self.isolation,
            self.timeout_ms,
            self.label,
            self.client.context(),
        )
        request = Request("tx_start", frame, lambda view, pos: decode_tx_id(view, pos))
        self.tx_id = yield from core.execute(request)
        self.node = request.answered_by
        self._token = _CURRENT.set(self)
        return self

    def end_step(self, commit: bool) -> Step:
        if self.closed:
            raise RuntimeError(f"the transaction is already {self.state.name.lower()}")
        core = self.client.core
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

    def commit(self) -> Any:
        return self.client.run(self.end_step(True))

    def rollback(self) -> Any:
        return self.client.run(self.end_step(False))

    # blocking client
    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.closed:
            self.rollback()

    # asyncio client
    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if not self.closed:
            await self.rollback()
