"""Key-value operations 1000-1021 of a local node, including transactional ones.

Keys and values stay raw typed bytes end to end: stored as received (binary
objects unwrapped from 0x1B), answered as Ignite writes them back
(:func:`detached`). A single-key operation is one rule
``(current, value, expected) -> (new value, answer)``; the same rule serves
plain requests (read from the serving node's copy, written to the primary's
and then the backups', see ``copies``) and transactional ones (written to
the transaction's buffer until commit, then to every copy).

Handlers are generators: they run to the end at once unless a node they need
cannot act (or the node's request path is slow), and then yield what they
wait for (``interconnect.Until``, ``interconnect.Delay``). Multi-key requests
work key by key, so a failure in the middle leaves some keys written, as an
Ignite ATOMIC cache does.

As in Ignite (``ClientCacheRequest``, ``ClientRequestHandler``): the prefix
flags are read whatever the negotiated version, bytes after a complete body
are ignored, and a request naming a transaction this connection does not
have runs without one. Expiry policies (per request, or the cache's) follow
``PlatformExpiryPolicy``: -2 leaves the TTL unchanged, -1 makes the entry
eternal, 0 expires it at once, a positive value is a TTL in ms.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING

from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError, ServerError, StatusCode
from ignite_router.protocol.messages.cache_config import CacheProperty
from ignite_router.protocol.messages.cache_keys import ExpiryPolicy, read_cache_prefix
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import skip_value
from ignite_router.protocol.wire import I32, I64, count
from ignite_router.testing.copies import (
    backups_ready,
    expired,
    purge_expired,
    reach,
    set_ttl,
    store_of,
    update,
    update_now,
    write_all,
    written,
)
from ignite_router.testing.interconnect import Delay, Verdict, Wait
from ignite_router.testing.refusals import java_text, topology_changed

if TYPE_CHECKING:
    from ignite_router.testing.session import Session, Transaction
    from ignite_router.testing.state import CacheState, ClusterModel

__all__ = ["CHUNK", "HANDLERS", "KEY_OPS", "commit", "detached", "purge_expired", "refuse"]

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
_UNCHANGED = -2  # PlatformExpiryPolicy: leave the TTL as it is
Steps = Generator[Wait, Verdict | None, None]


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


_PLAIN_PREFIX = struct.Struct("<i")  # cache id (flags 0: no transaction, no expiry policy)


def _prefix(
    session: Session, view: memoryview, pos: int
) -> tuple[CacheState, Transaction | None, ExpiryPolicy | None, int]:
    """The cache, transaction and expiry policy a request names."""
    if len(view) >= pos + 5 and view[pos + 4] == 0:  # the routine case: no CacheTarget built
        cache = session.cache(_PLAIN_PREFIX.unpack_from(view, pos)[0])
        return cache, None, cache.properties.get(CacheProperty.EXPIRY_POLICY), pos + 5
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


# -- reading and committing ------------------------------------------------------------------


def _read(
    cache: CacheState, tx: Transaction | None, key: bytes, part: int, store: dict[bytes, bytes]
) -> bytes | None:
    """The value a request sees: its transaction's own write first, else ``store``'s copy."""
    if tx is not None:
        value = tx.writes.get((cache.cache_id, key), _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
    if expired(cache, key, part):
        return None
    return store.get(key)


def commit(model: ClusterModel, tx: Transaction) -> None:
    """Apply a transaction's writes to every copy (caches destroyed since: skipped)."""
    model.links.settle()  # updates still on their way must not land after these
    for (cache_id, key), value in tx.writes.items():
        cache = model.caches.get(cache_id)
        if cache is not None:
            part = model.partition_of(cache, key)
            primary = store_of(model, cache, cache.owners[part][0], part)
            existed = value is not None and _read(cache, None, key, part, primary) is not None
            write_all(cache, key, part, value)
            if value is not None:
                written(cache, key, part, existed, None)


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
# What follows the key: (an expected value, a new value): ``ClientCacheDataRequest``.
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


def _single_key(
    session: Session, op: int, view: memoryview, pos: int, out: bytearray
) -> Steps | None:
    """Done at once when every node it needs can act (the routine case), else a generator."""
    cache, tx, expiry, pos = _prefix(session, view, pos)
    model = session.model
    key, pos = _key(view, pos)
    expected = value = None
    with_expected, with_value = _OPERANDS[op]
    if with_expected:
        expected, pos = _stored(view, pos)
    if with_value:
        value, pos = _stored(view, pos)
    read = op in _READS
    if not read:
        _check_writable(model, cache)
    part = model.partition_of(cache, key)
    stats = session.stats
    stats.key_requests += 1
    receiver = session.node_index
    serving, forwarded = model.serving(cache, part, receiver, read)
    if forwarded:
        stats.forwarded += 1  # Ignite sends this to the primary
    if model.links.able(serving) and (read or tx is not None or backups_ready(model, cache, part)):
        store = store_of(model, cache, serving, part)
        new, existed, answer = _decide(cache, tx, key, part, store, op, value, expected, expiry)
        if new is not _KEEP:
            update_now(model, cache, part, key, new, existed, expiry)  # type: ignore[arg-type]
        out += answer
        return None
    return _single_key_waiting(session, cache, tx, expiry, key, part, op, value, expected, out)


def _single_key_waiting(
    session: Session,
    cache: CacheState,
    tx: Transaction | None,
    expiry: ExpiryPolicy | None,
    key: bytes,
    part: int,
    op: int,
    value: bytes | None,
    expected: bytes | None,
    out: bytearray,
) -> Steps:
    """A single-key operation that waits for the node serving it, or for backups."""
    model = session.model
    read = op in _READS
    serving = yield from reach(model, cache, part, session.node_index, read, [key])
    store = store_of(model, cache, serving, part)
    new, existed, answer = _decide(cache, tx, key, part, store, op, value, expected, expiry)
    if new is not _KEEP:
        yield from update(model, cache, part, key, new, existed, expiry)  # type: ignore[arg-type]
    out += answer


def _decide(
    cache: CacheState,
    tx: Transaction | None,
    key: bytes,
    part: int,
    store: dict[bytes, bytes],
    op: int,
    value: bytes | None,
    expected: bytes | None,
    expiry: ExpiryPolicy | None,
) -> tuple[object, bool, bytes]:
    """Apply the op's rule to what ``store`` (or the transaction) holds.

    Returns the new value the copies must get (``_KEEP``: none; a transaction
    keeps it in its buffer), whether the key existed, and the answer body.
    """
    current = _read(cache, tx, key, part, store)
    new, answer = RULES[op](current, value, expected)
    if new is not _KEEP and tx is not None:
        tx.writes[(cache.cache_id, key)] = new  # type: ignore[assignment]
        new = _KEEP
    elif op == OpCode.CACHE_GET and expiry is not None and current is not None and tx is None:
        set_ttl(cache, key, part, expiry.access)
    return new, current is not None, answer


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
    """What the receiving node itself holds in its own copy: the server-truth oracle."""
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
        and not expired(cache, key, part)
    ):
        value = store_of(model, cache, node, part).get(key)
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


def _multi_key(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> Steps:
    cache, tx, expiry, pos = _prefix(session, view, pos)
    model = session.model
    if op not in _READS:
        _check_writable(model, cache)
    if op == OpCode.CACHE_PUT_ALL:
        n, pos = count(view, pos, 2)
        pairs = []
        for index in range(n):  # parse every pair first: a malformed body changes nothing
            key, pos = _key(view, pos)
            value, pos = _stored(view, pos)
            pairs.append((key, value))
            if index % CHUNK == CHUNK - 1:
                yield None
        yield from _write_keys(session, cache, tx, expiry, pairs)
        return
    if op in (OpCode.CACHE_CLEAR, OpCode.CACHE_REMOVE_ALL):
        _clear(model, cache, tx, op)
        return
    keys, pos = _keys(view, pos)
    if op in (OpCode.CACHE_CLEAR_KEYS, OpCode.CACHE_REMOVE_KEYS):
        yield from _write_keys(session, cache, tx, None, [(key, None) for key in keys])
        return
    found: dict[bytes, bytes] = {}
    receiver = session.node_index
    for key in keys:
        part = model.partition_of(cache, key)
        serving, _ = model.serving(cache, part, receiver, True)
        if not model.links.able(serving):
            serving = yield from reach(model, cache, part, receiver, True, keys)
        seen = _read(cache, tx, key, part, store_of(model, cache, serving, part))
        if seen is not None:
            found[key] = seen
            if op == OpCode.CACHE_GET_ALL and expiry is not None and tx is None:
                set_ttl(cache, key, part, expiry.access)
    if op == OpCode.CACHE_CONTAINS_KEYS:
        out += _flag(len(found) == len(set(keys)))
        return
    out += I32.pack(len(found))
    for key, value in found.items():
        out += detached(key)
        out += detached(value)


def _clear(model: ClusterModel, cache: CacheState, tx: Transaction | None, op: int) -> None:
    """clear / remove_all: every copy at once (removeAll is transactional, clear is not)."""
    if tx is not None and op == OpCode.CACHE_REMOVE_ALL:
        purge_expired(cache)
        visible = {key for stores in cache.copies if stores for key in stores[0]}
        visible.update(key for cid, key in tx.writes if cid == cache.cache_id)
        for key in visible:
            tx.writes[(cache.cache_id, key)] = None
        return
    model.links.settle()  # updates still on their way must not land after the clear
    cache.expiries.clear()
    for stores in cache.copies:
        for store in stores:
            store.clear()


def _write_keys(
    session: Session,
    cache: CacheState,
    tx: Transaction | None,
    expiry: ExpiryPolicy | None,
    pairs: Sequence[tuple[bytes, bytes | None]],
) -> Steps:
    """Write key by key (None: remove), each through its primary; a step per CHUNK.

    On a node with a slow request path the keys are spread over its delay,
    one every ``delay / n`` seconds, so a failure in between leaves some
    written and others not.
    """
    model = session.model
    receiver = session.node_index
    pace = session.pace() / len(pairs) if pairs and tx is None else 0.0
    keys = [key for key, _ in pairs]
    for index, (key, value) in enumerate(pairs):
        if pace > 0:
            yield Delay(pace)
        if model.caches.get(cache.cache_id) is not cache:
            raise ServerError(
                StatusCode.CACHE_DOES_NOT_EXIST, f"Cache does not exist [cacheId= {cache.cache_id}]"
            )
        part = model.partition_of(cache, key)
        if tx is not None:
            tx.writes[(cache.cache_id, key)] = value
            continue
        primary = cache.owners[part][0]
        if not model.links.able(primary):
            primary = yield from reach(model, cache, part, receiver, False, keys[index:])
        existed = (
            not expired(cache, key, part)
            and store_of(model, cache, primary, part).get(key) is not None
        )
        yield from update(model, cache, part, key, value, existed, expiry)
        if index % CHUNK == CHUNK - 1:
            yield None


# -- refused during an exchange ------------------------------------------------------------


def refuse(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """Refuse a key operation that met a topology change, with Ignite's error; nothing applied."""
    _, _, _, pos = _prefix(session, view, pos)  # an unknown cache is refused as such
    if op in _SINGLE:
        keys = [_key(view, pos)[0]]
    elif op == OpCode.CACHE_PUT_ALL:
        n, pos = count(view, pos, 2)
        keys = []
        for _ in range(n):
            key, pos = _key(view, pos)
            keys.append(key)
            pos = skip_value(view, pos)
    else:
        keys, pos = _keys(view, pos)
    texts = [java_text(key, session.model.registry) for key in keys]
    raise ServerError(StatusCode.FAILED, topology_changed(texts, op not in _READS))


Handler = Callable[["Session", int, memoryview, int, bytearray], "Steps | None"]
HANDLERS: dict[int, Handler] = dict.fromkeys(RULES, _single_key)
HANDLERS[OpCode.CACHE_LOCAL_PEEK] = _local_peek
HANDLERS[OpCode.CACHE_GET_SIZE] = _size
_MULTI = (
    OpCode.CACHE_GET_ALL,
    OpCode.CACHE_PUT_ALL,
    OpCode.CACHE_CONTAINS_KEYS,
    OpCode.CACHE_CLEAR,
    OpCode.CACHE_CLEAR_KEYS,
    OpCode.CACHE_REMOVE_KEYS,
    OpCode.CACHE_REMOVE_ALL,
)
for _op in _MULTI:
    HANDLERS[_op] = _multi_key
_SINGLE = frozenset(RULES)
# Operations on keys: refused during an exchange with exchange_refusals.
KEY_OPS = _SINGLE | {
    OpCode.CACHE_GET_ALL,
    OpCode.CACHE_PUT_ALL,
    OpCode.CACHE_CONTAINS_KEYS,
    OpCode.CACHE_CLEAR_KEYS,
    OpCode.CACHE_REMOVE_KEYS,
}
