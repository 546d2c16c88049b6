"""``AioCache``: one cache for ``AioClient``, pyignite's ``AioCache`` methods.

Every method is a coroutine function that builds its step
(:class:`~ignite_router.cache.CacheSteps`) and awaits the client's run of
it. ``timeout`` (seconds, 0 = none; pyignite's per-call argument) bounds
the whole call and raises ``TimeoutError`` when it runs out; the client's
own ``timeout`` still bounds each answer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ignite_router.cache import (
    CacheSteps,
    Hint,
    Run,
    Ttl,
    as_replica_reads,
    make_expiry_policy,
)
from ignite_router.core.replicas import ReplicaReads
from ignite_router.cursors import AioCursor
from ignite_router.errors import CallTimeoutError
from ignite_router.protocol.errors import ParameterError

if TYPE_CHECKING:
    from ignite_router.aio_api import AioClientApi

__all__ = ["AioCache", "within"]


async def _bounded(awaitable: Awaitable[Any], timeout: float, write: str | None) -> Any:
    bound = asyncio.timeout(timeout)
    try:
        async with bound:
            return await awaitable
    except TimeoutError as error:
        if write is None or not bound.expired():
            raise
        raise CallTimeoutError(write) from error


def within(awaitable: Awaitable[Any], timeout: float, write: str | None = None) -> Awaitable[Any]:
    """``awaitable``, bounded by ``timeout`` seconds when it is not 0. For a write (its
    name in ``write``), running out of time raises :class:`CallTimeoutError`: the request
    may have reached a node, and is not sent again."""
    return _bounded(awaitable, timeout, write) if timeout else awaitable


class AioCache:
    """One cache of the cluster (asyncio): pyignite's ``AioCache`` methods, each a coroutine."""

    def __init__(self, client: AioClientApi, name: str, expiry_policy: Any = None) -> None:
        self.client = client
        self.steps = CacheSteps(client.session, name, expiry_policy)
        self._run = client.run

    def __repr__(self) -> str:
        return f"AioCache({self.name!r})"

    @property
    def name(self) -> str:
        return self.steps.name

    @property
    def cache_id(self) -> int:
        return self.steps.cache_id

    def _call(self, step: Run, timeout: float) -> Awaitable[Any]:
        """A read (or another call that changes nothing), bounded by ``timeout``."""
        return within(self._run(step), timeout)

    def _write(self, name: str, step: Run, timeout: float) -> Awaitable[Any]:
        """A write, bounded by ``timeout``: ``CallTimeoutError`` when it runs out."""
        return within(self._run(step), timeout, name)

    def with_expire_policy(
        self,
        expiry_policy: Any = None,
        create: Ttl = None,
        update: Ttl = None,
        access: Ttl = None,
    ) -> AioCache:
        """This cache with an expiry policy on every request: ``expiry_policy`` (ours or
        pyignite's) or the TTLs (ms or timedeltas; -1 eternal)."""
        policy = make_expiry_policy(expiry_policy, create, update, access)
        return AioCache(self.client, self.name, policy)

    async def with_hedging(self, *, accept_stale: bool = False) -> AioCache:
        """This cache with hedged ``get`` and ``contains_key`` (see ``Cache.with_hedging``)."""
        if not self.client.core.hedging:
            raise ParameterError("hedging is off: create the client with hedge=HedgePolicy(...)")
        await self._run(self.steps.enable_backup_reads("hedged", accept_stale))
        return self._reading_view(hedge=True, spread=self.steps.spread)

    async def with_replica_reads(
        self, strategy: str | ReplicaReads = "round_robin", *, accept_stale: bool = False
    ) -> AioCache:
        """This cache with ``get`` and ``contains_key`` spread over the key's owners (see
        ``Cache.with_replica_reads``)."""
        spread = as_replica_reads(strategy)
        await self._run(self.steps.enable_backup_reads("replica", accept_stale))
        return self._reading_view(hedge=self.steps.hedge, spread=spread)

    def _reading_view(self, hedge: bool, spread: ReplicaReads | None) -> AioCache:
        view = AioCache(self.client, self.name, self.steps.expiry)
        view.steps.hedge = hedge
        view.steps.spread = spread
        view._run = self.client.run_hedged
        return view

    async def settings(self, timeout: float = 0) -> dict[int, Any]:
        """The cache configuration, property code -> value."""
        result: dict[int, Any] = await self._call(self.steps.settings(), timeout)
        return result

    async def destroy(self, timeout: float = 0) -> None:
        await self._write("destroy", self.steps.destroy(), timeout)

    async def get(self, key: Any, key_hint: Hint = None, timeout: float = 0) -> Any:
        """The value for ``key``, or None."""
        return await self._call(self.steps.get(key, key_hint), timeout)

    async def put(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> None:
        await self._write("put", self.steps.put(key, value, key_hint, value_hint), timeout)

    async def get_all(self, keys: Iterable[Any], timeout: float = 0) -> dict[Any, Any]:
        """The keys that exist, with their values; split by primary node, sent together."""
        result: dict[Any, Any] = await self._call(self.steps.get_all(keys), timeout)
        return result

    async def put_all(self, pairs: Mapping[Any, Any], timeout: float = 0) -> None:
        await self._write("put_all", self.steps.put_all(pairs), timeout)

    async def replace(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> bool:
        return bool(
            await self._write(
                "replace", self.steps.replace(key, value, key_hint, value_hint), timeout
            )
        )

    async def clear(self, keys: Iterable[Any] | None = None, timeout: float = 0) -> None:
        """Clear the cache, or only ``keys``."""
        await self._write("clear", self.steps.clear(keys), timeout)

    async def clear_key(self, key: Any, key_hint: Hint = None, timeout: float = 0) -> None:
        await self._write("clear_key", self.steps.clear_key(key, key_hint), timeout)

    async def clear_keys(self, keys: Iterable[Any], timeout: float = 0) -> None:
        await self._write("clear_keys", self.steps.clear_keys(keys), timeout)

    async def contains_key(self, key: Any, key_hint: Hint = None, timeout: float = 0) -> bool:
        return bool(await self._call(self.steps.contains_key(key, key_hint), timeout))

    async def contains_keys(self, keys: Iterable[Any], timeout: float = 0) -> bool:
        return bool(await self._call(self.steps.contains_keys(keys), timeout))

    async def get_and_put(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> Any:
        return await self._write(
            "get_and_put", self.steps.get_and_put(key, value, key_hint, value_hint), timeout
        )

    async def get_and_put_if_absent(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> Any:
        step = self.steps.get_and_put_if_absent(key, value, key_hint, value_hint)
        return await self._write("get_and_put_if_absent", step, timeout)

    async def put_if_absent(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> bool:
        step = self.steps.put_if_absent(key, value, key_hint, value_hint)
        return bool(await self._write("put_if_absent", step, timeout))

    async def get_and_remove(self, key: Any, key_hint: Hint = None, timeout: float = 0) -> Any:
        return await self._write(
            "get_and_remove", self.steps.get_and_remove(key, key_hint), timeout
        )

    async def get_and_replace(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> Any:
        step = self.steps.get_and_replace(key, value, key_hint, value_hint)
        return await self._write("get_and_replace", step, timeout)

    async def remove_key(self, key: Any, key_hint: Hint = None, timeout: float = 0) -> bool:
        return bool(await self._write("remove_key", self.steps.remove_key(key, key_hint), timeout))

    async def remove_keys(self, keys: Iterable[Any], timeout: float = 0) -> None:
        await self._write("remove_keys", self.steps.remove_keys(keys), timeout)

    async def remove_all(self, timeout: float = 0) -> None:
        await self._write("remove_all", self.steps.remove_all(), timeout)

    async def remove_if_equals(
        self,
        key: Any,
        sample: Any,
        key_hint: Hint = None,
        sample_hint: Hint = None,
        timeout: float = 0,
    ) -> bool:
        step = self.steps.remove_if_equals(key, sample, key_hint, sample_hint)
        return bool(await self._write("remove_if_equals", step, timeout))

    async def replace_if_equals(
        self,
        key: Any,
        sample: Any,
        value: Any,
        key_hint: Hint = None,
        sample_hint: Hint = None,
        value_hint: Hint = None,
        timeout: float = 0,
    ) -> bool:
        step = self.steps.replace_if_equals(key, sample, value, key_hint, sample_hint, value_hint)
        return bool(await self._write("replace_if_equals", step, timeout))

    async def get_size(self, peek_modes: Any = None, timeout: float = 0) -> int:
        return int(await self._call(self.steps.get_size(peek_modes), timeout))

    async def local_peek(
        self,
        key: Any,
        node_id: uuid.UUID | None = None,
        peek_modes: Any = None,
        key_hint: Hint = None,
        timeout: float = 0,
    ) -> Any:
        """The value ``key`` has in one node's own storage: node ``node_id``'s, or without
        one the node the key is routed to (its primary)."""
        return await self._call(self.steps.local_peek(key, node_id, peek_modes, key_hint), timeout)

    def scan(
        self, page_size: int = 1, partitions: int = -1, local: bool = False, timeout: float = 0
    ) -> AioCursor:
        """All entries as ``(key, value)`` pairs, page by page: ``await`` the cursor (or
        ``async with`` it) to run the scan, ``async for`` to read; ``timeout`` bounds each
        page. ``partitions`` >= 0 scans that partition on its primary."""
        state = self.steps.scan(page_size, partitions, local)
        return AioCursor(lambda step: self._call(step, timeout), state)
