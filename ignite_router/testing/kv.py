"""Key-value operations 1000-1021 of a local node, including transactional ones.

Keys and values stay raw typed bytes end to end: stored as received (binary
objects unwrapped from 0x1B), answered as Ignite writes them back
(:func:`detached`). A single-key operation is one rule
``(current, value, expected) -> (new value, answer)``; the same rule serves
plain requests (written to every owner's copy) and transactional ones
(written to the transaction's buffer until commit).

As in Ignite (``ClientCacheRequest``, ``ClientRequestHandler``): the prefix
flags are read whatever the negotiated version, bytes after a complete body
are ignored, and a request naming a transaction this connection does not
have runs without one. Expiry policies (per request, or the cache's) follow
``PlatformExpiryPolicy``: -2 leaves the TTL unchanged, -1 makes the entry
eternal, 0 expires it at once, a positive value is a TTL in ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError, ServerError, StatusCode
from ignite_router.protocol.messages.cache_config import CacheProperty
from ignite_router.protocol.messages.cache_keys import ExpiryPolicy, read_cache_prefix
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import skip_value
from ignite_router.protocol.wire import I32, I64, count

if TYPE_CHECKING:
    from ignite_router.testing.session import Session, Transaction
    from ignite_router.testing.state import CacheState, ClusterModel

__all__ = ["CHUNK", "HANDLERS", "commit", "detached", "purge_expired"]

CHUNK = 2000  # entries a multi-key request handles before it lets other work run
_ANY_VERSION = ProtocolContext(LATEST)  # Ignite reads the prefix flags whatever was negotiated
_NULL = b"\x65"
_TRUE = b"\x01"
_FALSE = b"\x00"
_COMPLEX_OBJECT = 0x67
_WRAPPED = 0x1B
_OBJECT_ARRAY, _COLLECTION, _MAP, _HANDLE = 0x17, 0x18, 0x19, 0x66
_ZERO_OFFSET = bytes(4)
_KEEP = object()  # "leave the entry as it is"
_MISSING = object()
_UNCHANGED, _ETERNAL = -2, -1  # PlatformExpiryPolicy durations


# -- values as the server writes them back ---------------------------------------------------


def _wrap(raw: bytes | memoryview) -> bytes:
    return b"\x1b" + I32.pack(len(raw)) + bytes(raw) + _ZERO_OFFSET


def detached(raw: bytes | None) -> bytes:
    """A stored value as the server writes it back: binary objects travel wrapped (0x1B).

    Ignite answers with ``BinaryObjectImpl`` instances, which it writes as wrapped
    data (i32 length, the object's bytes, i32 offset 0), also inside object
    arrays, collections and maps (it deserialises those into Java containers of
    ``BinaryObjectImpl``); clients such as pyignite rely on that to resolve the
    object's type afterwards.
    """
    if raw is None:
        return _NULL
    code = raw[0]
    if code == _COMPLEX_OBJECT:
        return _wrap(raw)
    if code in (_OBJECT_ARRAY, _COLLECTION, _MAP):
        out = bytearray()
        try:
            _copy_wrapping(memoryview(raw), 0, out)
        except _HasHandles:
            return raw  # back-references would need rebasing: leave such values alone
        return bytes(out)
    return raw


class _HasHandles(Exception):
    pass


def _copy_wrapping(view: memoryview, pos: int, out: bytearray) -> int:
    """Copy the value at ``pos`` to ``out`` with nested binary objects wrapped."""
    code = view[pos]
    if code == _COMPLEX_OBJECT:
        end = skip_value(view, pos)
        out += _wrap(view[pos:end])
        return end
    if code == _HANDLE:
        raise _HasHandles
    if code == _OBJECT_ARRAY:
        (component,) = I32.unpack_from(view, pos + 1)
        head = pos + 5
        if component == 0:  # a class name follows
            head = skip_value(view, head)
        items = I32.unpack_from(view, head)[0]
        out += view[pos : head + 4]
        pos = head + 4
    elif code in (_COLLECTION, _MAP):
        items = I32.unpack_from(view, pos + 1)[0] * (2 if code == _MAP else 1)
        out += view[pos : pos + 6]
        pos += 6
    else:
        end = skip_value(view, pos)
        out += view[pos:end]
        return end
    for _ in range(items):
        pos = _copy_wrapping(view, pos, out)
    return pos


def _stored(view: memoryview, pos: int) -> tuple[bytes, int]:
    """The typed value at ``pos`` in stored form (a wrapped binary object unwrapped)."""
    end = skip_value(view, pos)  # also checks that a wrapper's root lies inside it
    if view[pos] == _WRAPPED:
        (length,) = I32.unpack_from(view, pos + 1)
        (offset,) = I32.unpack_from(view, pos + 5 + length)
        inner = pos + 5 + offset
        if view[inner] == _COMPLEX_OBJECT:
            return bytes(view[inner : skip_value(view, inner)]), end
    return bytes(view[pos:end]), end


# -- the request prefix ----------------------------------------------------------------------


def _prefix(
    session: Session, view: memoryview, pos: int
) -> tuple[CacheState, Transaction | None, ExpiryPolicy | None, int]:
    """The cache, transaction and expiry policy a request names."""
    target, pos = read_cache_prefix(view, pos, _ANY_VERSION)
    expiry = target.expiry
    if expiry is not None:
        for duration in (expiry.create, expiry.update, expiry.access):
            if duration < _UNCHANGED:  # javax.cache.expiry.Duration refuses it while parsing
                raise ProtocolError(f"negative expiry duration {duration}")
    tx = None if target.tx_id is None else session.transactions.get(target.tx_id)
    cache = session.cache(target.cache_id)
    if tx is not None:
        tx.check_valid()
        if not cache.transactional:
            raise ServerError(
                StatusCode.FAILED,
                f"cache {cache.name!r} is ATOMIC and cannot take part in a transaction "
                "(create it with CACHE_ATOMICITY_MODE = TRANSACTIONAL)",
            )
    if expiry is None:
        expiry = cache.properties.get(CacheProperty.EXPIRY_POLICY)
    return cache, tx, expiry, pos


def _check_writable(model: ClusterModel, cache: CacheState) -> None:
    if model.state == ClusterState.ACTIVE_READ_ONLY:
        raise ServerError(
            StatusCode.FAILED,
            f"cannot write to cache {cache.name!r}: the cluster is in read-only mode",
        )


# -- storage ---------------------------------------------------------------------------------


def _remove(cache: CacheState, key: bytes, part: int) -> None:
    for store in cache.copies[part]:
        store.pop(key, None)
    cache.expiries.pop(key, None)


def _read(cache: CacheState, tx: Transaction | None, key: bytes, part: int) -> bytes | None:
    if tx is not None:
        value = tx.writes.get((cache.cache_id, key), _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
    expiries = cache.expiries
    if expiries:
        deadline = expiries.get(key)
        if deadline is not None and deadline <= time.monotonic():
            _remove(cache, key, part)
            return None
    return cache.copies[part][0].get(key)


def _write(
    cache: CacheState, tx: Transaction | None, key: bytes, part: int, value: bytes | None
) -> None:
    if tx is not None:
        tx.writes[(cache.cache_id, key)] = value
    elif value is None:
        _remove(cache, key, part)
    else:
        for store in cache.copies[part]:
            store[key] = value


def _set_ttl(cache: CacheState, key: bytes, part: int, duration: int) -> None:
    """Apply one ``PlatformExpiryPolicy`` duration (ms) to a stored entry."""
    if duration == _UNCHANGED:
        return
    if duration == _ETERNAL:
        cache.expiries.pop(key, None)
    elif duration == 0:
        _remove(cache, key, part)
    else:
        cache.expiries[key] = time.monotonic() + duration / 1000


def _written(
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
    _set_ttl(cache, key, part, duration)


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


def commit(model: ClusterModel, tx: Transaction) -> None:
    """Apply a transaction's writes to the current owners (caches destroyed since: skipped)."""
    for (cache_id, key), value in tx.writes.items():
        cache = model.caches.get(cache_id)
        if cache is not None:
            part = model.partition_of(cache, key)
            existed = value is not None and _read(cache, None, key, part) is not None
            _write(cache, None, key, part, value)
            if value is not None:
                _written(cache, key, part, existed, None)


# -- single-key rules: (current, value, expected) -> (new value | _KEEP | None, answer) ------

Rule = Callable[[bytes | None, bytes | None, bytes | None], tuple[object, bytes]]


def _flag(condition: bool) -> bytes:
    return _TRUE if condition else _FALSE


RULES: dict[int, Rule] = {
    OpCode.CACHE_GET: lambda cur, val, exp: (_KEEP, detached(cur)),
    OpCode.CACHE_PUT: lambda cur, val, exp: (val, b""),
    OpCode.CACHE_PUT_IF_ABSENT: lambda cur, val, exp: (
        (val, _TRUE) if cur is None else (_KEEP, _FALSE)
    ),
    OpCode.CACHE_GET_AND_PUT: lambda cur, val, exp: (val, detached(cur)),
    OpCode.CACHE_GET_AND_REPLACE: lambda cur, val, exp: (
        (_KEEP if cur is None else val),
        detached(cur),
    ),
    OpCode.CACHE_GET_AND_REMOVE: lambda cur, val, exp: (None, detached(cur)),
    OpCode.CACHE_GET_AND_PUT_IF_ABSENT: lambda cur, val, exp: (
        (val, _NULL) if cur is None else (_KEEP, detached(cur))
    ),
    OpCode.CACHE_REPLACE: lambda cur, val, exp: (_KEEP, _FALSE) if cur is None else (val, _TRUE),
    OpCode.CACHE_REPLACE_IF_EQUALS: lambda cur, val, exp: (
        (val, _TRUE) if cur is not None and cur == exp else (_KEEP, _FALSE)
    ),
    OpCode.CACHE_CONTAINS_KEY: lambda cur, val, exp: (_KEEP, _flag(cur is not None)),
    OpCode.CACHE_CLEAR_KEY: lambda cur, val, exp: (None, b""),
    OpCode.CACHE_REMOVE_KEY: lambda cur, val, exp: (None, _flag(cur is not None)),
    OpCode.CACHE_REMOVE_IF_EQUALS: lambda cur, val, exp: (
        (None, _TRUE) if cur is not None and cur == exp else (_KEEP, _FALSE)
    ),
}
# What follows the key: (an expected value, a new value); fact sheet §3.3.
_OPERANDS: dict[int, tuple[bool, bool]] = dict.fromkeys(RULES, (False, False))
for _op in (
    OpCode.CACHE_PUT,
    OpCode.CACHE_PUT_IF_ABSENT,
    OpCode.CACHE_GET_AND_PUT,
    OpCode.CACHE_GET_AND_REPLACE,
    OpCode.CACHE_GET_AND_PUT_IF_ABSENT,
    OpCode.CACHE_REPLACE,
):
    _OPERANDS[_op] = (False, True)
_OPERANDS[OpCode.CACHE_REPLACE_IF_EQUALS] = (True, True)
_OPERANDS[OpCode.CACHE_REMOVE_IF_EQUALS] = (True, False)
_PEEK_MODES = frozenset(int(mode) for mode in PeekMode)
_READS = frozenset(
    {
        OpCode.CACHE_GET,
        OpCode.CACHE_GET_ALL,
        OpCode.CACHE_CONTAINS_KEY,
        OpCode.CACHE_CONTAINS_KEYS,
        OpCode.CACHE_GET_SIZE,
        OpCode.CACHE_LOCAL_PEEK,
    }
)


def _key(view: memoryview, pos: int) -> tuple[bytes, int]:
    key, pos = _stored(view, pos)
    if key == _NULL:
        raise ServerError(StatusCode.FAILED, "Null keys are not allowed")
    return key, pos


def _single_key(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    cache, tx, expiry, pos = _prefix(session, view, pos)
    model = session.model
    key, pos = _key(view, pos)
    expected = value = None
    with_expected, with_value = _OPERANDS[op]
    if with_expected:
        expected, pos = _stored(view, pos)
    if with_value:
        value, pos = _stored(view, pos)
    if op not in _READS:
        _check_writable(model, cache)
    part = model.partition_of(cache, key)
    stats = session.stats
    stats.key_requests += 1
    if cache.owners[part][0] != session.node_index:
        stats.forwarded += 1  # Ignite would forward this to the primary
    current = _read(cache, tx, key, part)
    new, answer = RULES[op](current, value, expected)
    if new is not _KEEP:
        _write(cache, tx, key, part, new)  # type: ignore[arg-type]
        if new is not None and tx is None:
            _written(cache, key, part, current is not None, expiry)
    elif op == OpCode.CACHE_GET and current is not None and expiry is not None and tx is None:
        _set_ttl(cache, key, part, expiry.access)
    out += answer


# -- peek modes ----------------------------------------------------------------------------


def _modes(view: memoryview, pos: int) -> tuple[set[int], int]:
    n, pos = count(view, pos, 1)
    modes = set(view[pos : pos + n])
    if not modes <= _PEEK_MODES:
        raise ProtocolError(f"unknown peek mode in {sorted(modes)}")
    return modes, pos + n


def _roles(modes: set[int], for_size: bool) -> tuple[bool, bool]:
    """(primary, backup) copies selected by peek modes: ``GridCacheAdapter.parsePeekModes``.

    For sizes (its ``primary = true``) modes that name no copy kind (none,
    ``ONHEAP``, ``OFFHEAP``) mean primary copies only; for local peek every copy.
    """
    if PeekMode.ALL in modes:
        return True, True
    primary, backup = PeekMode.PRIMARY in modes, PeekMode.BACKUP in modes
    if not (primary or backup or PeekMode.NEAR in modes):
        return True, not for_size
    return primary, backup


def _local_peek(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """What the receiving node itself holds: the server-truth oracle for placement."""
    cache, _, _, pos = _prefix(session, view, pos)
    model = session.model
    key, pos = _key(view, pos)
    modes, pos = _modes(view, pos)
    part = model.partition_of(cache, key)
    owners = cache.owners[part]
    node = session.node_index
    primary, backup = _roles(modes, for_size=False)
    value = None
    if (
        node in owners
        and (primary if owners[0] == node else backup)
        and _read(cache, None, key, part) is not None  # (drops the entry if its TTL ran out)
    ):
        value = model.nodes[node].data[cache.cache_id][part].get(key)
    out += detached(value)


def _size(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """Cluster-wide size by peek modes (``IgniteCache.sizeLong(modes)``)."""
    cache, _, _, pos = _prefix(session, view, pos)
    modes, pos = _modes(view, pos)
    purge_expired(cache)
    primary, backup = _roles(modes, for_size=True)
    total = 0
    for stores in cache.copies:
        if primary and stores:
            total += len(stores[0])
        if backup:
            total += sum(len(store) for store in stores[1:])
    out += I64.pack(total)


# -- multi-key and whole-cache operations --------------------------------------------------


def _keys(view: memoryview, pos: int) -> tuple[list[bytes], int]:
    n, pos = count(view, pos, 1)
    keys = []
    for _ in range(n):
        key, pos = _key(view, pos)
        keys.append(key)
    return keys, pos


def _multi_key(
    session: Session, op: int, view: memoryview, pos: int, out: bytearray
) -> Iterator[None] | None:
    cache, tx, expiry, pos = _prefix(session, view, pos)
    model = session.model
    if op not in _READS:
        _check_writable(model, cache)
    if op == OpCode.CACHE_PUT_ALL:
        n, pos = count(view, pos, 2)
        steps = _put_all(session, cache, tx, expiry, view, pos, n)
        if n <= CHUNK:
            for _ in steps:
                pass
            return None
        return steps  # a big one: the connection runs it step by step
    if op in (OpCode.CACHE_CLEAR, OpCode.CACHE_REMOVE_ALL):
        if tx is not None and op == OpCode.CACHE_REMOVE_ALL:
            # removeAll is transactional (clear is not): remove what the tx would see.
            purge_expired(cache)
            visible = {key for stores in cache.copies if stores for key in stores[0]}
            visible.update(key for cid, key in tx.writes if cid == cache.cache_id)
            for key in visible:
                tx.writes[(cache.cache_id, key)] = None
            return None
        cache.expiries.clear()
        for stores in cache.copies:
            for store in stores:
                store.clear()
        return None
    keys, pos = _keys(view, pos)
    if op in (OpCode.CACHE_CLEAR_KEYS, OpCode.CACHE_REMOVE_KEYS):
        for key in keys:
            _write(cache, tx, key, model.partition_of(cache, key), None)
        return None
    found: dict[bytes, bytes] = {}
    for key in keys:
        part = model.partition_of(cache, key)
        value = _read(cache, tx, key, part)
        if value is not None:
            found[key] = value
            if op == OpCode.CACHE_GET_ALL and expiry is not None and tx is None:
                _set_ttl(cache, key, part, expiry.access)
    if op == OpCode.CACHE_CONTAINS_KEYS:
        out += _flag(len(found) == len(set(keys)))
        return None
    out += I32.pack(len(found))
    for key, value in found.items():
        out += detached(key)
        out += detached(value)
    return None


def _put_all(
    session: Session,
    cache: CacheState,
    tx: Transaction | None,
    expiry: ExpiryPolicy | None,
    view: memoryview,
    pos: int,
    n: int,
) -> Iterator[None]:
    """Parse every pair first (a malformed body changes nothing), then apply; a step per CHUNK."""
    pairs = []
    for index in range(n):
        key, pos = _key(view, pos)
        value, pos = _stored(view, pos)
        pairs.append((key, value))
        if index % CHUNK == CHUNK - 1:
            yield
    model = session.model
    for index, (key, value) in enumerate(pairs):
        if model.caches.get(cache.cache_id) is not cache:
            raise ServerError(
                StatusCode.CACHE_DOES_NOT_EXIST, f"Cache does not exist [cacheId= {cache.cache_id}]"
            )
        part = model.partition_of(cache, key)
        existed = tx is None and _read(cache, None, key, part) is not None
        _write(cache, tx, key, part, value)
        if tx is None:
            _written(cache, key, part, existed, expiry)
        if index % CHUNK == CHUNK - 1:
            yield


Handler = Callable[["Session", int, memoryview, int, bytearray], "Iterator[None] | None"]
HANDLERS: dict[int, Handler] = dict.fromkeys(RULES, _single_key)
HANDLERS[OpCode.CACHE_LOCAL_PEEK] = _local_peek
HANDLERS[OpCode.CACHE_GET_SIZE] = _size
for _op in (
    OpCode.CACHE_GET_ALL,
    OpCode.CACHE_PUT_ALL,
    OpCode.CACHE_CONTAINS_KEYS,
    OpCode.CACHE_CLEAR,
    OpCode.CACHE_CLEAR_KEYS,
    OpCode.CACHE_REMOVE_KEYS,
    OpCode.CACHE_REMOVE_ALL,
):
    HANDLERS[_op] = _multi_key
