"""Request handlers of a local cluster node: decoded request in, response body out.

A handler appends the success body to ``out`` or raises :class:`ServerError`
(the connection turns it into an error response). Keys and values stay raw
typed bytes end to end: stored as received, answered verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count as counter
from typing import TYPE_CHECKING

from affinity import cache_id
from protocol.context import ProtocolContext
from protocol.errors import ServerError, StatusCode
from protocol.messages.cache_config import (
    CacheProperty,
    decode_configuration_request,
    encode_cache_configuration,
    encode_cache_names,
)
from protocol.messages.cache_keys import CacheRequest, decode_cache_request
from protocol.messages.cluster import ClusterState, decode_cluster_state, decode_type_name_request
from protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_request,
    encode_partitions_response,
)
from protocol.messages.queries import (
    ScanPage,
    decode_resource_id,
    decode_scan_request,
    encode_scan_page,
)
from protocol.opcodes import OpCode, PeekMode
from protocol.values import (
    decode_binary_type,
    encode_binary_type_response,
    read_string,
    write_string,
)
from protocol.wire import BOOL, I8, I32, I64, take

if TYPE_CHECKING:
    from ignite_router.testing.state import CacheState, ClusterModel

__all__ = ["ConnectionState", "handle_request"]

_NULL = b"\x65"
_COMPLEX_OBJECT = 0x67
_WRAPPED = b"\x1b"
_ZERO_OFFSET = bytes(4)
_cursor_ids = counter(1)


@dataclass
class ConnectionState:
    """Per-connection server state: negotiated context, last reported version, cursors."""

    node_index: int
    context: ProtocolContext | None = None
    reported_version: tuple[int, int] | None = None
    cursors: dict[int, Cursor] = field(default_factory=dict)


@dataclass
class Cursor:
    """Rows of a scan not sent yet."""

    rows: list[tuple[bytes, bytes]]
    page_size: int


Handler = Callable[["ClusterModel", ConnectionState, int, memoryview, int, bytearray], None]


def _cache(model: ClusterModel, cache_id: int) -> CacheState:
    cache = model.caches.get(cache_id)
    if cache is None:
        raise ServerError(
            StatusCode.CACHE_DOES_NOT_EXIST, f"Cache does not exist [cacheId= {cache_id}]"
        )
    return cache


def _raw(out: bytearray, value: bytes | None) -> None:
    out += _NULL if value is None else _detached(value)


def _stored(raw: bytes) -> bytes:
    """The form keys and values are stored in: wrapped binary objects unwrapped."""
    if raw[0] != _WRAPPED[0] or len(raw) < 9:
        return raw
    (length,) = I32.unpack_from(raw, 1)
    (offset,) = I32.unpack_from(raw, 5 + length)
    inner = raw[5 + offset : 5 + length]
    return inner if inner[:1] == bytes((_COMPLEX_OBJECT,)) else raw


def _detached(raw: bytes) -> bytes:
    """A stored value as the server writes it back: binary objects travel wrapped (0x1B).

    Ignite answers with ``BinaryObjectImpl`` instances, which it writes as wrapped
    data (i32 length, the object's bytes, i32 offset 0); clients such as pyignite
    rely on that to resolve the object's type afterwards.
    """
    if raw[0] != _COMPLEX_OBJECT:
        return raw
    return _WRAPPED + I32.pack(len(raw)) + raw + _ZERO_OFFSET


def _count_key_request(
    model: ClusterModel, conn: ConnectionState, cache: CacheState, part: int
) -> None:
    stats = model.nodes[conn.node_index].stats
    stats["key_requests"] += 1
    owners = cache.owners[part]
    if not owners or owners[0] != conn.node_index:
        stats["forwarded"] += 1


def _single_key(
    model: ClusterModel, conn: ConnectionState, req: CacheRequest, out: bytearray
) -> None:
    cache = _cache(model, req.target.cache_id)
    part = model.partition_of(cache, req.key)
    op = req.op_code
    key = req.key
    if op == OpCode.CACHE_LOCAL_PEEK:  # asks this very node: never a forward
        _raw(out, _local_peek(model, conn, cache, part, key, req.modes))
        return
    _count_key_request(model, conn, cache, part)
    primary = model.primary_store(cache, part)
    current = primary.get(key)
    copies = model.owner_stores(cache, part)

    def put(value: bytes) -> None:
        for store in copies:
            store[key] = value

    def remove() -> None:
        for store in copies:
            store.pop(key, None)

    if op == OpCode.CACHE_GET:
        _raw(out, current)
    elif op == OpCode.CACHE_PUT:
        put(req.value)
    elif op == OpCode.CACHE_PUT_IF_ABSENT:
        if current is None:
            put(req.value)
        out += BOOL.pack(current is None)
    elif op == OpCode.CACHE_GET_AND_PUT:
        put(req.value)
        _raw(out, current)
    elif op == OpCode.CACHE_GET_AND_REPLACE:
        if current is not None:
            put(req.value)
        _raw(out, current)
    elif op == OpCode.CACHE_GET_AND_REMOVE:
        remove()
        _raw(out, current)
    elif op == OpCode.CACHE_GET_AND_PUT_IF_ABSENT:
        if current is None:
            put(req.value)
        _raw(out, current)
    elif op == OpCode.CACHE_REPLACE:
        if current is not None:
            put(req.value)
        out += BOOL.pack(current is not None)
    elif op == OpCode.CACHE_REPLACE_IF_EQUALS:
        matches = current is not None and current == req.expected
        if matches:
            put(req.value)
        out += BOOL.pack(matches)
    elif op == OpCode.CACHE_CONTAINS_KEY:
        out += BOOL.pack(current is not None)
    elif op == OpCode.CACHE_CLEAR_KEY:
        remove()
    elif op == OpCode.CACHE_REMOVE_KEY:
        remove()
        out += BOOL.pack(current is not None)
    elif op == OpCode.CACHE_REMOVE_IF_EQUALS:
        matches = current is not None and current == req.expected
        if matches:
            remove()
        out += BOOL.pack(matches)


def _local_peek(
    model: ClusterModel,
    conn: ConnectionState,
    cache: CacheState,
    part: int,
    key: bytes,
    modes: list[int],
) -> bytes | None:
    """What this node itself holds for the key, in the roles the peek modes ask for."""
    owners = cache.owners[part]
    if conn.node_index not in owners:
        return None
    is_primary = owners[0] == conn.node_index
    wanted = set(modes) or {PeekMode.ALL}
    if not (
        PeekMode.ALL in wanted
        or (is_primary and PeekMode.PRIMARY in wanted)
        or (not is_primary and PeekMode.BACKUP in wanted)
        or wanted & {PeekMode.ONHEAP, PeekMode.OFFHEAP}
    ):
        return None
    return model.nodes[conn.node_index].data[cache.cache_id].get(part, {}).get(key)


def _multi_key(
    model: ClusterModel, conn: ConnectionState, req: CacheRequest, out: bytearray
) -> None:
    cache = _cache(model, req.target.cache_id)
    op = req.op_code
    if op == OpCode.CACHE_PUT_ALL:
        for key, value in req.pairs:
            for store in model.owner_stores(cache, model.partition_of(cache, key)):
                store[key] = value
        return
    if op in (OpCode.CACHE_CLEAR, OpCode.CACHE_REMOVE_ALL):
        for node in model.nodes:
            for store in node.data.get(cache.cache_id, {}).values():
                store.clear()
        return
    if op == OpCode.CACHE_GET_SIZE:
        out += I64.pack(_size(model, cache, req.modes))
        return
    found = []
    for key in req.keys:
        part = model.partition_of(cache, key)
        value = model.primary_store(cache, part).get(key)
        if op in (OpCode.CACHE_CLEAR_KEYS, OpCode.CACHE_REMOVE_KEYS):
            for store in model.owner_stores(cache, part):
                store.pop(key, None)
        elif value is not None:
            found.append((key, value))
    if op == OpCode.CACHE_GET_ALL:
        out += I32.pack(len(found))
        for key, value in found:
            out += _detached(key)
            out += _detached(value)
    elif op == OpCode.CACHE_CONTAINS_KEYS:
        out += BOOL.pack(len(found) == len(req.keys))


def _size(model: ClusterModel, cache: CacheState, modes: list[int]) -> int:
    # IgniteCache.size(): without modes only primary copies count.
    wanted = set(modes) or {PeekMode.PRIMARY}
    primary = PeekMode.ALL in wanted or PeekMode.PRIMARY in wanted
    backup = PeekMode.ALL in wanted or PeekMode.BACKUP in wanted
    total = 0
    for part, owners in enumerate(cache.owners):
        for rank, index in enumerate(owners):
            if (rank == 0 and primary) or (rank > 0 and backup):
                total += len(model.nodes[index].data[cache.cache_id].get(part, {}))
    return total


def _cache_op(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if not model.active:
        raise ServerError(
            StatusCode.FAILED, "Cannot perform cache operation because the cluster is inactive."
        )
    req = decode_cache_request(conn.context, op, view, pos)
    req.key = req.key and _stored(req.key)
    req.value = req.value and _stored(req.value)
    req.expected = req.expected and _stored(req.expected)
    req.keys = [_stored(key) for key in req.keys]
    req.pairs = [(_stored(key), _stored(value)) for key, value in req.pairs]
    if op == OpCode.CACHE_GET_CONFIGURATION:
        encode_cache_configuration(out, conn.context, _cache(model, req.target.cache_id).properties)
    elif req.key is not None:
        _single_key(model, conn, req, out)
    else:
        _multi_key(model, conn, req, out)


def _create(model: ClusterModel, properties: dict, must_be_new: bool) -> None:
    name = properties[CacheProperty.NAME]
    if not name:
        raise ServerError(StatusCode.FAILED, "Cache name must not be empty")
    if cache_id(name) in model.caches:
        if must_be_new:
            raise ServerError(StatusCode.CACHE_EXISTS, f"Cache already exists [name={name}]")
        return
    model.create_cache(properties)


def _cache_admin(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if op == OpCode.CACHE_GET_NAMES:
        encode_cache_names(out, (cache.name for cache in model.caches.values()))
    elif op in (OpCode.CACHE_CREATE_WITH_NAME, OpCode.CACHE_GET_OR_CREATE_WITH_NAME):
        name, _ = read_string(view, pos)
        _create(model, {CacheProperty.NAME: name}, op == OpCode.CACHE_CREATE_WITH_NAME)
    elif op in (
        OpCode.CACHE_CREATE_WITH_CONFIGURATION,
        OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION,
    ):
        properties = decode_configuration_request(conn.context, view, pos)
        _create(model, properties, op == OpCode.CACHE_CREATE_WITH_CONFIGURATION)
    elif op == OpCode.CACHE_DESTROY:
        (cache_id,), _ = take(I32, view, pos)
        _cache(model, cache_id)
        model.destroy_cache(cache_id)


def _partitions(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    requested = decode_partitions_request(conn.context, view, pos)
    applicable: dict[int, dict] = {}  # partition count -> {cache id: key config}
    tables: dict[int, dict] = {}
    not_applicable = {}
    for cid in requested:
        cache = model.caches.get(cid)
        if cache is None:
            continue
        if cache.replicated:
            not_applicable[cid] = {}
            continue
        applicable.setdefault(cache.partitions, {})[cid] = cache.key_config
        if cache.partitions not in tables:
            table: dict = {}
            for part, owners in enumerate(cache.owners):
                if owners:
                    table.setdefault(model.nodes[owners[0]].node_id, []).append(part)
            tables[cache.partitions] = table
    groups = [PartitionGroup(True, caches, tables[parts]) for parts, caches in applicable.items()]
    if not_applicable:
        groups.append(PartitionGroup(False, not_applicable))
    encode_partitions_response(out, PartitionsResponse(model.version, tuple(groups)))


def _scan(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if op == OpCode.RESOURCE_CLOSE:
        if conn.cursors.pop(decode_resource_id(view, pos), None) is None:
            raise ServerError(StatusCode.RESOURCE_DOES_NOT_EXIST, "Failed to find resource")
        return
    if op == OpCode.QUERY_SCAN_CURSOR_GET_PAGE:
        cursor_id = decode_resource_id(view, pos)
        if cursor_id not in conn.cursors:
            raise ServerError(
                StatusCode.RESOURCE_DOES_NOT_EXIST, f"Failed to find resource with id: {cursor_id}"
            )
        _page(conn, cursor_id, False, out)
        return
    request = decode_scan_request(conn.context, view, pos)
    cache = _cache(model, request.target.cache_id)
    if request.partition >= cache.partitions:
        raise ServerError(StatusCode.FAILED, f"Invalid partition number: {request.partition}")
    parts = range(cache.partitions) if request.partition < 0 else (request.partition,)
    rows = []
    for part in parts:
        owners = cache.owners[part]
        if not owners or (request.local and owners[0] != conn.node_index):
            continue
        stored = model.nodes[owners[0]].data[cache.cache_id].get(part, {})
        rows.extend((_detached(key), _detached(value)) for key, value in stored.items())
    cursor_id = next(_cursor_ids)
    conn.cursors[cursor_id] = Cursor(rows, request.page_size)
    _page(conn, cursor_id, True, out)


def _page(conn: ConnectionState, cursor_id: int, first: bool, out: bytearray) -> None:
    cursor = conn.cursors[cursor_id]
    page = cursor.rows[: cursor.page_size]
    del cursor.rows[: cursor.page_size]
    more = bool(cursor.rows)
    if not more:
        del conn.cursors[cursor_id]
    encode_scan_page(out, ScanPage(page, more, cursor_id if first else None))


def _sql(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    raise ServerError(
        StatusCode.FAILED, "SQL is not supported: the ignite-router local cluster does not run SQL"
    )


def _binary(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if op in (OpCode.BINARY_TYPE_NAME_GET, OpCode.BINARY_TYPE_NAME_PUT):
        platform, type_id, name = decode_type_name_request(op, view, pos)
        if name is not None:
            model.type_names[(platform, type_id)] = name
            out += BOOL.pack(True)
            return
        known = model.type_names.get((platform, type_id))
        if known is None:
            raise ServerError(
                StatusCode.FAILED,
                f"Failed to resolve class name [platformId={platform}, typeId={type_id}]",
            )
        write_string(out, known)
    elif op == OpCode.BINARY_TYPE_GET:
        (type_id,), _ = take(I32, view, pos)
        encode_binary_type_response(out, model.registry.get(type_id))
    else:
        binary_type, _ = decode_binary_type(view, pos)
        model.registry.add(binary_type)


def _cluster(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if op == OpCode.CLUSTER_GET_STATE:
        out += I8.pack(ClusterState.ACTIVE if model.active else ClusterState.INACTIVE)
    else:
        model.active = decode_cluster_state(view, pos) != ClusterState.INACTIVE


def _heartbeat(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    if op == OpCode.GET_IDLE_TIMEOUT:
        out += I64.pack(0)


HANDLERS: dict[int, Handler] = {}
for _op in range(OpCode.CACHE_GET, OpCode.CACHE_LOCAL_PEEK + 1):
    HANDLERS[_op] = _cache_op
HANDLERS[OpCode.CACHE_GET_CONFIGURATION] = _cache_op
for _op in (1050, 1051, 1052, 1053, 1054, 1056):
    HANDLERS[_op] = _cache_admin
HANDLERS[OpCode.CACHE_PARTITIONS] = _partitions
for _op in (OpCode.QUERY_SCAN, OpCode.QUERY_SCAN_CURSOR_GET_PAGE, OpCode.RESOURCE_CLOSE):
    HANDLERS[_op] = _scan
for _op in range(OpCode.QUERY_SQL, OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE + 1):
    HANDLERS[_op] = _sql
for _op in range(OpCode.BINARY_TYPE_NAME_GET, OpCode.BINARY_TYPE_PUT + 1):
    HANDLERS[_op] = _binary
HANDLERS[OpCode.CLUSTER_GET_STATE] = _cluster
HANDLERS[OpCode.CLUSTER_CHANGE_STATE] = _cluster
HANDLERS[OpCode.HEARTBEAT] = _heartbeat
HANDLERS[OpCode.GET_IDLE_TIMEOUT] = _heartbeat


def handle_request(
    model: ClusterModel, conn: ConnectionState, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    """Run the handler of ``op``; ServerError for unknown ops and failures."""
    handler = HANDLERS.get(op)
    if handler is None:
        raise ServerError(StatusCode.INVALID_OP_CODE, f"Unsupported operation [opCode={op}]")
    handler(model, conn, op, view, pos, out)
