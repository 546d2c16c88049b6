"""A partition's copies: which node serves a key, waiting for it, updates, expiry.

Every owner of a partition keeps its own copy (a dict of raw key -> raw
value). A key operation is served by one node's copy (``ClusterModel.serving``);
if that node cannot act, the operation waits for it (:func:`reach`). An update
is applied to the primary's copy, then reaches the backups as the cache's
write synchronization mode says (:func:`update`): FULL_SYNC before the answer
(waiting for backups that cannot act), PRIMARY_SYNC and FULL_ASYNC after it,
through the ``Interconnect``'s replication queues. Expiry deadlines are kept
per cache, not per copy: an entry that expires goes from every copy.

The generators here yield ``Until`` and receive a ``Verdict`` (see
``interconnect``); they return at once, without yielding, when every node
they need can act.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

from ignite_router.protocol.errors import ServerError, StatusCode
from ignite_router.protocol.messages.cache_keys import ExpiryPolicy
from ignite_router.protocol.messages.cache_properties import WriteSynchronizationMode
from ignite_router.testing.interconnect import Until, Verdict, Wait
from ignite_router.testing.refusals import forward_timeout, java_text, topology_changed

if TYPE_CHECKING:
    from ignite_router.testing.state import CacheState, ClusterModel, Store

__all__ = [
    "backups_ready",
    "expired",
    "purge_expired",
    "reach",
    "remove_everywhere",
    "set_ttl",
    "store_of",
    "update",
    "update_now",
    "write_all",
    "written",
]

Steps = Generator[Wait, Verdict | None, None]
_UNCHANGED, _ETERNAL = -2, -1  # PlatformExpiryPolicy durations


# -- expiry --------------------------------------------------------------------------------


def remove_everywhere(cache: CacheState, key: bytes, part: int) -> None:
    for store in cache.copies[part]:
        store.pop(key, None)
    cache.expiries.pop(key, None)


def expired(cache: CacheState, key: bytes, part: int) -> bool:
    """True if the key's TTL has run out (it is then removed from every copy)."""
    expiries = cache.expiries
    if expiries:
        deadline = expiries.get(key)
        if deadline is not None and deadline <= time.monotonic():
            remove_everywhere(cache, key, part)
            return True
    return False


def set_ttl(cache: CacheState, key: bytes, part: int, duration: int) -> None:
    """Apply one ``PlatformExpiryPolicy`` duration (ms) to a stored entry."""
    if duration == _UNCHANGED:
        return
    if duration == _ETERNAL:
        cache.expiries.pop(key, None)
    elif duration == 0:
        remove_everywhere(cache, key, part)
    else:
        cache.expiries[key] = time.monotonic() + duration / 1000


def written(
    cache: CacheState, key: bytes, part: int, existed: bool, expiry: ExpiryPolicy | None
) -> None:
    """TTL after a write: creation or update duration (no policy: eternal / unchanged)."""
    if expiry is None:
        if not existed:
            cache.expiries.pop(key, None)
        return
    duration = expiry.update if existed else expiry.create
    if not existed and duration == _UNCHANGED:
        duration = _ETERNAL  # a new entry with an "unchanged" TTL is eternal
    set_ttl(cache, key, part, duration)


def purge_expired(cache: CacheState) -> None:
    """Drop every entry whose TTL has run out (before sizes and scans)."""
    if not cache.expiries:
        return
    now = time.monotonic()
    for key in [key for key, deadline in cache.expiries.items() if deadline <= now]:
        cache.expiries.pop(key, None)
        for stores in cache.copies:
            for store in stores:
                store.pop(key, None)


# -- serving nodes -------------------------------------------------------------------------


def store_of(model: ClusterModel, cache: CacheState, index: int, part: int) -> Store:
    """Node ``index``'s own copy of ``part``."""
    return model.nodes[index].data[cache.cache_id][part]


def _texts(model: ClusterModel, keys: Sequence[bytes]) -> list[str]:
    return [java_text(key, model.registry) for key in keys]


def reach(
    model: ClusterModel,
    cache: CacheState,
    part: int,
    receiver: int,
    read: bool,
    keys: Sequence[bytes],
) -> Generator[Wait, Verdict | None, int]:
    """Wait until the node that serves ``part`` for ``receiver`` can act; returns it.

    Waking up, the serving node is looked up again (ownership may have moved).
    If it leaves the topology first, the operation is refused as Ignite refuses
    an operation that met a topology change; after ``forward_timeout`` it
    fails naming the bound. Either way nothing was applied.
    """
    links = model.links
    while True:
        if model.caches.get(cache.cache_id) is not cache:
            raise ServerError(
                StatusCode.CACHE_DOES_NOT_EXIST, f"Cache does not exist [cacheId= {cache.cache_id}]"
            )
        serving, _ = model.serving(cache, part, receiver, read)
        if links.able(serving):
            return serving
        verdict = yield Until(serving)
        if verdict is Verdict.LEFT:
            raise ServerError(StatusCode.FAILED, topology_changed(_texts(model, keys), not read))
        if verdict is Verdict.TIMED_OUT:
            name = model.nodes[serving].consistent_id
            raise ServerError(
                StatusCode.FAILED, forward_timeout(name, links.forward_timeout, False)
            )


# -- updates -------------------------------------------------------------------------------


def backups_ready(model: ClusterModel, cache: CacheState, part: int) -> bool:
    """An update of ``part`` can reach its backups now (FULL_SYNC: every one can act)."""
    if cache.write_mode != WriteSynchronizationMode.FULL_SYNC:
        return True
    able = model.links.able
    return all(able(backup) for backup in cache.owners[part][1:])


def _write_primary(
    model: ClusterModel,
    cache: CacheState,
    part: int,
    key: bytes,
    value: bytes | None,
    existed: bool,
    expiry: ExpiryPolicy | None,
) -> bytes | None:
    """Apply an update to the primary's copy; returns what the backups must store."""
    store = store_of(model, cache, cache.owners[part][0], part)
    if value is None:
        store.pop(key, None)
        cache.expiries.pop(key, None)
        return None
    store[key] = value
    written(cache, key, part, existed, expiry)
    return store.get(key)  # an expiry of 0 removed it at once


def update_now(
    model: ClusterModel,
    cache: CacheState,
    part: int,
    key: bytes,
    value: bytes | None,
    existed: bool,
    expiry: ExpiryPolicy | None,
) -> None:
    """:func:`update` when :func:`backups_ready` says it needs no wait."""
    value = _write_primary(model, cache, part, key, value, existed, expiry)
    owners = cache.owners[part]
    if len(owners) == 1:
        return
    links = model.links
    if cache.write_mode != WriteSynchronizationMode.FULL_SYNC:
        links.replicate(cache.cache_id, part, key, value, owners[0], list(owners[1:]))
        return
    for backup in owners[1:]:
        links.deliver(backup, cache.cache_id, part, key, value)


def update(
    model: ClusterModel,
    cache: CacheState,
    part: int,
    key: bytes,
    value: bytes | None,
    existed: bool,
    expiry: ExpiryPolicy | None,
) -> Steps:
    """Apply ``value`` (None: remove) to the primary's copy, then to the backups.

    The caller has reached the primary. FULL_SYNC delivers to every backup
    before returning, waiting for those that cannot act (a backup that leaves
    meanwhile is skipped, as Ignite's update future completes when a backup
    leaves); PRIMARY_SYNC and FULL_ASYNC queue the update for the backups.
    """
    if backups_ready(model, cache, part):
        update_now(model, cache, part, key, value, existed, expiry)
        return
    value = _write_primary(model, cache, part, key, value, existed, expiry)
    links = model.links
    primary, *backups = cache.owners[part]
    for position, backup in enumerate(backups):
        while not links.able(backup):
            verdict = yield Until(backup)
            if verdict is Verdict.LEFT:
                break
            if verdict is Verdict.TIMED_OUT:
                # It still gets the update when it can act; the answer says so.
                links.replicate(
                    cache.cache_id, part, key, value, primary, backups[position:], at_once=True
                )
                name = model.nodes[backup].consistent_id
                raise ServerError(
                    StatusCode.FAILED, forward_timeout(name, links.forward_timeout, True)
                )
        else:
            links.deliver(backup, cache.cache_id, part, key, value)


def write_all(cache: CacheState, key: bytes, part: int, value: bytes | None) -> None:
    """Write every copy at once (a committed transaction)."""
    if value is None:
        remove_everywhere(cache, key, part)
        return
    for store in cache.copies[part]:
        store[key] = value
