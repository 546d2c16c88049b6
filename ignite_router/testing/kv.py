"""Key-value operations 1000-1021 of a local node, including transactional ones.

Keys and values stay raw typed bytes end to end: stored as received (binary
objects unwrapped from 0x1B), answered verbatim. A single-key operation is
one rule ``(current, value, expected) -> (new value, answer)``; the same rule
serves plain requests (written to every owner's copy) and transactional ones
(written to the transaction's buffer until commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from protocol.errors import ProtocolError, ServerError, StatusCode
from protocol.messages.cache_keys import read_cache_prefix
from protocol.messages.cluster import ClusterState
from protocol.opcodes import OpCode, PeekMode
from protocol.values import skip_value
from protocol.wire import I32, I64, count

if TYPE_CHECKING:
    from ignite_router.testing.session import Session, Transaction
    from ignite_router.testing.state import CacheState, ClusterModel

__all__ = ["HANDLERS", "commit", "detached"]

_NULL = b"\x65"
_TRUE = b"\x01"
_FALSE = b"\x00"
_COMPLEX_OBJECT = 0x67
_WRAPPED = 0x1B
_ZERO_OFFSET = bytes(4)
_KEEP = object()  # "leave the entry as it is"
_MISSING = object()


def detached(raw: bytes | None) -> bytes:
    """A stored value as the server writes it back: binary objects travel wrapped (0x1B).

    Ignite answers with ``BinaryObjectImpl`` instances, which it writes as wrapped
    data (i32 length, the object's bytes, i32 offset 0); clients such as pyignite
    rely on that to resolve the object's type afterwards.
    """
    if raw is None:
        return _NULL
    if raw[0] != _COMPLEX_OBJECT:
        return raw
    return b"\x1b" + I32.pack(len(raw)) + raw + _ZERO_OFFSET


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


def _prefix(
    session: Session, view: memoryview, pos: int
) -> tuple[CacheState, Transaction | None, int]:
    """The cache and transaction a request names (an expiry policy is accepted, ignored)."""
    target, pos = read_cache_prefix(view, pos, session.context)
    tx = None if target.tx_id is None else session.transaction(target.tx_id)
    cache = session.cache(target.cache_id)
    if tx is not None and not cache.transactional:
        raise ServerError(
            StatusCode.FAILED,
            f"cache {cache.name!r} is ATOMIC and cannot take part in a transaction "
            "(create it with CACHE_ATOMICITY_MODE = TRANSACTIONAL)",
        )
    return cache, tx, pos


def _check_writable(model: ClusterModel, cache: CacheState) -> None:
    if model.state == ClusterState.ACTIVE_READ_ONLY:
        raise ServerError(
            StatusCode.FAILED,
            f"cannot write to cache {cache.name!r}: the cluster is in read-only mode",
        )


def _end(view: memoryview, pos: int, op: int) -> None:
    if pos != len(view):
        raise ProtocolError(f"{len(view) - pos} unexpected bytes after op {op}")


def _read(cache: CacheState, tx: Transaction | None, key: bytes, part: int) -> bytes | None:
    if tx is not None:
        value = tx.writes.get((cache.cache_id, key), _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
    return cache.copies[part][0].get(key)


def _write(
    cache: CacheState, tx: Transaction | None, key: bytes, part: int, value: bytes | None
) -> None:
    if tx is not None:
        tx.writes[(cache.cache_id, key)] = value
    elif value is None:
        for store in cache.copies[part]:
            store.pop(key, None)
    else:
        for store in cache.copies[part]:
            store[key] = value


def commit(model: ClusterModel, tx: Transaction) -> None:
    """Apply a transaction's writes to the current owners (caches destroyed since: skipped)."""
    for (cache_id, key), value in tx.writes.items():
        cache = model.caches.get(cache_id)
        if cache is not None:
            _write(cache, None, key, model.partition_of(cache, key), value)


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
    cache, tx, pos = _prefix(session, view, pos)
    model = session.model
    key, pos = _key(view, pos)
    expected = value = None
    with_expected, with_value = _OPERANDS[op]
    if with_expected:
        expected, pos = _stored(view, pos)
    if with_value:
        value, pos = _stored(view, pos)
    _end(view, pos, op)
    if op not in _READS:
        _check_writable(model, cache)
    part = model.partition_of(cache, key)
    stats = session.stats
    stats.key_requests += 1
    if cache.owners[part][0] != session.node_index:
        stats.forwarded += 1  # Ignite would forward this to the primary
    new, answer = RULES[op](_read(cache, tx, key, part), value, expected)
    if new is not _KEEP:
        _write(cache, tx, key, part, new)  # type: ignore[arg-type]
    out += answer


# -- peek modes ----------------------------------------------------------------------------


def _modes(view: memoryview, pos: int) -> tuple[set[int], int]:
    n, pos = count(view, pos, 1)
    modes = set(view[pos : pos + n])
    if not modes <= _PEEK_MODES:
        raise ProtocolError(f"unknown peek mode in {sorted(modes)}")
    return modes, pos + n


def _roles(modes: set[int], primary_only_by_default: bool) -> tuple[bool, bool]:
    """(primary, backup) copies selected by peek modes, as Ignite parses them."""
    if not modes:
        return True, not primary_only_by_default
    if PeekMode.ALL in modes:
        return True, True
    primary, backup = PeekMode.PRIMARY in modes, PeekMode.BACKUP in modes
    if not (primary or backup or PeekMode.NEAR in modes):
        return True, True  # only ONHEAP/OFFHEAP given: every copy, wherever it lives
    return primary, backup


def _local_peek(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """What the receiving node itself holds: the server-truth oracle for placement."""
    cache, _, pos = _prefix(session, view, pos)
    model = session.model
    key, pos = _key(view, pos)
    modes, pos = _modes(view, pos)
    _end(view, pos, op)
    part = model.partition_of(cache, key)
    owners = cache.owners[part]
    node = session.node_index
    primary, backup = _roles(modes, primary_only_by_default=False)
    value = None
    if node in owners and (primary if owners[0] == node else backup):
        value = model.nodes[node].data[cache.cache_id][part].get(key)
    out += detached(value)


def _size(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """Cluster-wide size; without modes only primary copies count (``IgniteCache.size()``)."""
    cache, _, pos = _prefix(session, view, pos)
    modes, pos = _modes(view, pos)
    _end(view, pos, op)
    primary, backup = _roles(modes, primary_only_by_default=True)
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


def _multi_key(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    cache, tx, pos = _prefix(session, view, pos)
    model = session.model
    if op not in _READS:
        _check_writable(model, cache)
    if op == OpCode.CACHE_PUT_ALL:
        n, pos = count(view, pos, 2)
        pairs = []
        for _ in range(n):
            key, pos = _key(view, pos)
            value, pos = _stored(view, pos)
            pairs.append((key, value))
        _end(view, pos, op)
        for key, value in pairs:
            _write(cache, tx, key, model.partition_of(cache, key), value)
        return
    if op in (OpCode.CACHE_CLEAR, OpCode.CACHE_REMOVE_ALL):
        _end(view, pos, op)
        if tx is not None and op == OpCode.CACHE_REMOVE_ALL:
            # removeAll is transactional (clear is not): remove what the tx would see.
            visible = {key for stores in cache.copies if stores for key in stores[0]}
            visible.update(key for cid, key in tx.writes if cid == cache.cache_id)
            for key in visible:
                tx.writes[(cache.cache_id, key)] = None
            return
        for stores in cache.copies:
            for store in stores:
                store.clear()
        return
    keys, pos = _keys(view, pos)
    _end(view, pos, op)
    if op in (OpCode.CACHE_CLEAR_KEYS, OpCode.CACHE_REMOVE_KEYS):
        for key in keys:
            _write(cache, tx, key, model.partition_of(cache, key), None)
        return
    found: dict[bytes, bytes] = {}
    for key in keys:
        value = _read(cache, tx, key, model.partition_of(cache, key))
        if value is not None:
            found[key] = value
    if op == OpCode.CACHE_CONTAINS_KEYS:
        out += _flag(len(found) == len(set(keys)))
        return
    out += I32.pack(len(found))
    for key, value in found.items():
        out += detached(key)
        out += detached(value)


Handler = Callable[["Session", int, memoryview, int, bytearray], None]
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
