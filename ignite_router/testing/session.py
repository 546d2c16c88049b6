"""Per-connection server state: negotiated protocol, reported version, cursors, transactions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.errors import ServerError, StatusCode
from ignite_router.protocol.messages.cluster import ClusterState

if TYPE_CHECKING:
    from ignite_router.testing.state import CacheState, ClusterModel, NodeStats

__all__ = ["MAX_CURSORS", "MAX_TRANSACTIONS", "Cursor", "Session", "Transaction"]

MAX_CURSORS = 128  # Ignite's default per-connection cursor limit
MAX_TRANSACTIONS = 100  # Ignite's default maxActiveTxPerConnection
INACTIVE_MESSAGE = "Cannot perform cache operation because the cluster is inactive."


@dataclass
class Cursor:
    """Rows of a scan not sent yet (raw key, raw value)."""

    rows: list[tuple[bytes, bytes]]
    page_size: int
    position: int = 0  # rows before it have been sent


@dataclass
class Transaction:
    """Writes buffered until commit: (cache id, raw key) -> raw value, or None for a removal.

    ``timeout`` is in seconds (0 = none), ``started`` a ``time.monotonic()``
    reading: a transaction that outlived its timeout can neither be used nor
    committed (``IgniteTxLocalAdapter.checkValid``).
    """

    tx_id: int
    writes: dict[tuple[int, bytes], bytes | None] = field(default_factory=dict)
    timeout: float = 0.0
    started: float = field(default_factory=time.monotonic)
    concurrency: int = 0
    isolation: int = 0

    def check_valid(self) -> None:
        """ServerError (status 1, Ignite's words) once the timeout has passed."""
        if self.timeout and time.monotonic() - self.started > self.timeout:
            raise ServerError(StatusCode.FAILED, self.timed_out_message())

    def timed_out_message(self) -> str:
        concurrency = _CONCURRENCY.get(self.concurrency, self.concurrency)
        isolation = _ISOLATION.get(self.isolation, self.isolation)
        elapsed = int((time.monotonic() - self.started) * 1000)
        return (
            f"Cache transaction timed out: GridNearTxLocal [txId={self.tx_id}, "
            f"concurrency={concurrency}, isolation={isolation}, state=MARKED_ROLLBACK, "
            f"timeout={int(self.timeout * 1000)}, duration={elapsed}]"
        )


_CONCURRENCY = {0: "OPTIMISTIC", 1: "PESSIMISTIC"}
_ISOLATION = {0: "READ_COMMITTED", 1: "REPEATABLE_READ", 2: "SERIALIZABLE"}


@dataclass
class Session:
    """What one client connection to one node carries between requests."""

    model: ClusterModel
    node_index: int
    stats: NodeStats
    host: str = "127.0.0.1"
    context: ProtocolContext | None = None
    idle_timeout: float = 0.0  # seconds; what OP 2 reports (0 = never closed)
    reported_version: tuple[int, int] | None = None
    cursors: dict[int, Cursor] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)
    last_resource_id: int = 0
    last_tx_id: int = 0
    # Seconds the node's request path is slowed by (set_latency(where="request")):
    # multi-key writes spread their keys over it.
    pace: Callable[[], float] = field(default=lambda: 0.0, repr=False)

    @property
    def negotiated(self) -> ProtocolContext:
        """The handshake's context: requests are only served after the handshake."""
        if self.context is None:
            raise RuntimeError("a request was served before the handshake")
        return self.context

    def cache(self, cache_id: int) -> CacheState:
        """The cache a data request names; errors as Ignite reports them."""
        if self.model.state == ClusterState.INACTIVE:
            raise ServerError(StatusCode.FAILED, INACTIVE_MESSAGE)
        cache = self.model.caches.get(cache_id)
        if cache is None:
            raise ServerError(
                StatusCode.CACHE_DOES_NOT_EXIST, f"Cache does not exist [cacheId= {cache_id}]"
            )
        return cache

    def transaction(self, tx_id: int) -> Transaction:
        tx = self.transactions.get(tx_id)
        if tx is None:
            raise ServerError(StatusCode.TX_NOT_FOUND, f"Transaction with id {tx_id} not found.")
        return tx

    def topology_to_report(self) -> tuple[int, int] | None:
        """This header's version if it moved since the last (``ClientAffinityTopologyVersion``).

        It is the version this node knows, which lags behind the cluster's
        while the node has not learnt a change yet (``version_lag``).
        """
        version = self.model.nodes[self.node_index].seen
        if self.reported_version is None or version > self.reported_version:
            self.reported_version = version
            return version
        return None
