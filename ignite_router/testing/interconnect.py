"""What travels between the nodes of a local cluster: forwarded operations and replication.

A key operation that needs another node (the primary of a key received
elsewhere, the backups of a FULL_SYNC update) asks :meth:`Interconnect.able`
whether that node can act now. If not, the operation yields :class:`Until`
and its connection parks it here until the node can act (``ABLE``), leaves
the topology (``LEFT``) or ``forward_timeout`` seconds pass (``TIMED_OUT``);
parked operations wake in the order they arrived. PRIMARY_SYNC (and
FULL_ASYNC) updates reach the backups through one FIFO queue per node,
``replication_delay`` seconds after the primary applied them (0: later in
the same turn of the event loop, after the answer was queued); a backup that
cannot act takes them when it can again.

Before partition ownership changes the model calls :meth:`Interconnect.settle`,
which applies every queued update at once, as Ignite's exchange waits for
the updates in flight (``GridDhtPartitionsExchangeFuture``, partition release).
Without an event loop (a bare ``ClusterModel`` in unit tests) every node in
the topology can act and replication applies at once.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ignite_router.testing.state import ClusterModel

__all__ = ["Delay", "Interconnect", "Until", "Verdict", "Wait", "Waiter"]


class Verdict(enum.Enum):
    """Why a parked operation wakes up."""

    ABLE = "able"  # the node can act now (check again: it may be halted anew)
    LEFT = "left"  # the node left the topology
    TIMED_OUT = "timed out"  # forward_timeout passed


@dataclass(frozen=True, slots=True)
class Until:
    """Wait until node ``node`` can act; the operation receives a :class:`Verdict`."""

    node: int


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait ``seconds`` (a slow request path)."""

    seconds: float


Wait = Until | Delay | None  # None: let other work run, then go on at once


@dataclass(slots=True)
class _Update:
    due: float
    source: int
    cache_id: int
    part: int
    key: bytes
    value: bytes | None  # None: a removal


class Waiter:
    """An operation parked until a node can act (see :meth:`Interconnect.park`)."""

    __slots__ = ("resume", "timer")

    def __init__(self, resume: Callable[[Verdict], None]) -> None:
        self.resume = resume
        self.timer: asyncio.TimerHandle | None = None


class Interconnect:
    """Which nodes can act, operations waiting for one, and updates on their way to backups."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.loop: asyncio.AbstractEventLoop | None = None
        self.replication_delay = 0.0
        self.forward_timeout = 10.0
        # A node's process does not act (paused, hung, blackholed, not running);
        # installed by LocalCluster with the servers' switches.
        self.halted: Callable[[int], bool] = lambda index: False
        self._waiting: dict[int, list[Waiter]] = {}
        self._queues: dict[int, deque[_Update]] = {}
        self._drains: dict[int, asyncio.Handle] = {}

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        halted: Callable[[int], bool],
        replication_delay: float,
        forward_timeout: float,
    ) -> None:
        """Run on ``loop`` from now on (called on the loop's thread)."""
        self.loop = loop
        self.halted = halted
        self.replication_delay = replication_delay
        self.forward_timeout = forward_timeout

    def detach(self) -> None:
        """Forget every parked operation and queued update (the cluster is closing)."""
        for waiters in self._waiting.values():
            for waiter in waiters:
                if waiter.timer is not None:
                    waiter.timer.cancel()
        for handle in self._drains.values():
            handle.cancel()
        self._waiting.clear()
        self._drains.clear()
        self._queues.clear()
        self.loop = None

    # -- who can act -----------------------------------------------------------------

    def able(self, index: int) -> bool:
        """Node ``index`` is in the topology and its process works."""
        node = self.model.nodes[index]
        return node.alive and not node.crashed and not self.halted(index)

    def park(self, index: int, resume: Callable[[Verdict], None]) -> Waiter:
        """Call ``resume`` once node ``index`` can act, leaves, or forward_timeout passes."""
        waiter = Waiter(resume)
        self._waiting.setdefault(index, []).append(waiter)
        if self.loop is not None and self.forward_timeout > 0:
            waiter.timer = self.loop.call_later(self.forward_timeout, self._expire, index, waiter)
        return waiter

    def unpark(self, index: int, waiter: Waiter) -> None:
        """The operation behind ``waiter`` was dropped: never resume it."""
        waiters = self._waiting.get(index)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
        if waiter.timer is not None:
            waiter.timer.cancel()

    def node_able(self, index: int) -> None:
        """Node ``index`` may act again: it takes its queued updates, then waiters go on."""
        if not self.able(index):
            return
        self._drain(index)
        self._wake(index, Verdict.ABLE)

    def node_left(self, index: int) -> None:
        """Node ``index`` left the topology: its updates are dropped, its waiters told."""
        self._queues.pop(index, None)
        handle = self._drains.pop(index, None)
        if handle is not None:
            handle.cancel()
        self._wake(index, Verdict.LEFT)

    def _wake(self, index: int, verdict: Verdict) -> None:
        for waiter in self._waiting.pop(index, []):
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiter.resume(verdict)

    def _expire(self, index: int, waiter: Waiter) -> None:
        waiters = self._waiting.get(index)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            waiter.resume(Verdict.TIMED_OUT)

    # -- replication -----------------------------------------------------------------

    def replicate(
        self,
        cache_id: int,
        part: int,
        key: bytes,
        value: bytes | None,
        source: int,
        targets: list[int],
        at_once: bool = False,
    ) -> None:
        """Send an update the primary ``source`` applied to the backups ``targets``.

        It arrives ``replication_delay`` seconds later (``at_once``: as soon as
        the backup can act), after anything sent to that backup before.
        """
        loop = self.loop
        if loop is None:
            for target in targets:
                self.deliver(target, cache_id, part, key, value)
            return
        delay = 0.0 if at_once else self.replication_delay
        due = loop.time() + delay
        for target in targets:
            queue = self._queues.get(target)
            if queue is None:
                queue = self._queues[target] = deque()
            queue.append(_Update(due, source, cache_id, part, key, value))
            if target not in self._drains:
                if delay > 0:
                    self._drains[target] = loop.call_at(due, self._drain, target)
                else:
                    self._drains[target] = loop.call_soon(self._drain, target)

    def _drain(self, index: int) -> None:
        """Apply node ``index``'s updates that are due, in order, if it can act."""
        handle = self._drains.pop(index, None)
        if handle is not None:
            handle.cancel()
        queue = self._queues.get(index)
        if not queue or not self.able(index) or self.loop is None:
            return  # node_able() drains it when it can act again
        now = self.loop.time()
        while queue and queue[0].due <= now:
            update = queue.popleft()
            self.deliver(index, update.cache_id, update.part, update.key, update.value)
        if queue:
            self._drains[index] = self.loop.call_at(queue[0].due, self._drain, index)
        else:
            del self._queues[index]

    def deliver(
        self, index: int, cache_id: int, part: int, key: bytes, value: bytes | None
    ) -> None:
        """Apply an update to node ``index``'s copy (if it still owns the partition)."""
        store = self.model.nodes[index].data.get(cache_id, {}).get(part)
        if store is None:
            return  # no longer an owner of the partition
        if value is None:
            store.pop(key, None)
        else:
            store[key] = value

    def settle(self) -> None:
        """Apply every queued update now (before ownership changes, whole-cache writes)."""
        if not self._queues:
            return
        nodes = self.model.nodes
        for index, queue in self._queues.items():
            if nodes[index].alive and not nodes[index].crashed:
                for update in queue:
                    self.deliver(index, update.cache_id, update.part, update.key, update.value)
        for handle in self._drains.values():
            handle.cancel()
        self._drains.clear()
        self._queues.clear()

    def forget(self, index: int, as_source: bool) -> None:
        """Drop the updates on their way to node ``index`` (and, ``as_source``, from it)."""
        self._queues.pop(index, None)
        handle = self._drains.pop(index, None)
        if handle is not None:
            handle.cancel()
        if as_source:
            for queue in self._queues.values():
                kept = [update for update in queue if update.source != index]
                queue.clear()
                queue.extend(kept)

    def forget_cache(self, cache_id: int) -> None:
        """Drop the updates of a destroyed cache."""
        for queue in self._queues.values():
            kept = [update for update in queue if update.cache_id != cache_id]
            queue.clear()
            queue.extend(kept)

    def forget_all(self) -> None:
        """Drop every queued update (deactivation drops the data they were for)."""
        for handle in self._drains.values():
            handle.cancel()
        self._drains.clear()
        self._queues.clear()

    def pending(self, index: int) -> int:
        """Updates on their way to node ``index`` (for tests and wait_for_rebalance)."""
        queue = self._queues.get(index)
        return len(queue) if queue else 0
