"""Request handlers of a local node: every operation except key-value ones (see ``kv``).

A handler appends the success body to ``out`` or raises :class:`ServerError`
(the connection turns it into an error response); :func:`handle_request`
dispatches by op code and runs a generator handler up to its first wait.
"""

from __future__ import annotations

import struct
import types
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from ignite_router.affinity import cache_id
from ignite_router.protocol.errors import ServerError, StatusCode
from ignite_router.protocol.messages.binary_types import (
    decode_binary_type_get_request,
    decode_binary_type_put_request,
    decode_type_name_request,
    encode_type_name,
)
from ignite_router.protocol.messages.cache_config import (
    CacheProperty,
    decode_configuration_request,
    encode_cache_configuration,
    encode_cache_names,
)
from ignite_router.protocol.messages.cluster import (
    ClusterState,
    NodeDetails,
    NodeEndpoints,
    NodeIds,
    ServerNodesFilter,
    TopologyEndpoints,
    decode_cluster_state,
    decode_endpoints_request,
    decode_node_ids_request,
    decode_node_info_request,
    encode_cluster_state,
    encode_endpoints,
    encode_node_ids,
    encode_node_info,
)
from ignite_router.protocol.messages.heartbeat import encode_idle_timeout
from ignite_router.protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_request,
    encode_partitions_response,
)
from ignite_router.protocol.messages.queries import (
    ScanPage,
    decode_resource_id,
    decode_scan_request,
    encode_scan_page,
)
from ignite_router.protocol.messages.tx import decode_tx_end, decode_tx_start, encode_tx_id
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import (
    BinaryType,
    encode_binary_type_response,
    read_string,
    write_string,
)
from ignite_router.protocol.wire import BOOL, I8, I32, take
from ignite_router.testing import kv
from ignite_router.testing.interconnect import Verdict, Wait
from ignite_router.testing.session import MAX_CURSORS, MAX_TRANSACTIONS, Cursor, Transaction

if TYPE_CHECKING:
    from ignite_router.testing.session import Session
    from ignite_router.testing.state import ClusterModel

__all__ = ["handle_request"]

Steps = Generator[Wait, Verdict | None, None]
Handler = Callable[["Session", int, memoryview, int, bytearray], "Steps | None"]

_CACHE_PREFIX = struct.Struct("<ib")  # cache id, flags


def _fail(message: str, status: int = StatusCode.FAILED) -> ServerError:
    return ServerError(status, message)


# -- cache management (1050-1056) ----------------------------------------------------------


def _require_active(model: ClusterModel) -> None:
    if model.state == ClusterState.INACTIVE:
        raise _fail("Cannot perform the operation because the cluster is inactive.")


def _create(model: ClusterModel, properties: dict, must_be_new: bool, node: int) -> None:
    _require_active(model)
    name = properties.get(CacheProperty.NAME)
    if not name:
        raise _fail("Cache name must not be null or empty")
    if cache_id(name) in model.caches:
        if must_be_new:
            raise _fail(f"Cache already exists [name={name}]", StatusCode.CACHE_EXISTS)
        return
    try:
        model.create_cache(properties, initiator=node)
    except ValueError as error:
        raise _fail(f"Invalid cache configuration: {error}") from None


def _cache_admin(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    model = session.model
    if op == OpCode.CACHE_GET_NAMES:
        encode_cache_names(out, (cache.name for cache in model.caches.values()))
    elif op in (OpCode.CACHE_CREATE_WITH_NAME, OpCode.CACHE_GET_OR_CREATE_WITH_NAME):
        name, _ = read_string(view, pos)
        must_be_new = op == OpCode.CACHE_CREATE_WITH_NAME
        _create(model, {CacheProperty.NAME: name}, must_be_new, session.node_index)
    elif op in (
        OpCode.CACHE_CREATE_WITH_CONFIGURATION,
        OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION,
    ):
        properties = decode_configuration_request(session.negotiated, view, pos)
        must_be_new = op == OpCode.CACHE_CREATE_WITH_CONFIGURATION
        _create(model, properties, must_be_new, session.node_index)
    elif op == OpCode.CACHE_GET_CONFIGURATION:
        (cid, _flags), _ = take(_CACHE_PREFIX, view, pos)
        encode_cache_configuration(out, session.negotiated, session.cache(cid).properties)
    else:  # CACHE_DESTROY
        (cid,), _ = take(I32, view, pos)
        _require_active(model)
        session.cache(cid)
        model.destroy_cache(cid, initiator=session.node_index)


# -- OP_CACHE_PARTITIONS (1101) ------------------------------------------------------------


def _partitions(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """Groups of caches sharing one primary map, as ``ClientCachePartitionsRequest`` builds them.

    The requested caches make the groups (replicated ones share a not-applicable
    group); every other cache joins a group whose mapping equals its own. The
    answer is what this node knows: a node that has not learnt the newest
    version yet answers with its older version and maps, and leaves out caches
    that did not exist then.
    """
    model = session.model
    if model.state == ClusterState.INACTIVE:
        raise _fail("Cannot perform cache operation because the cluster is inactive.")
    requested = set(decode_partitions_request(session.negotiated, view, pos))
    version = model.seen_by(session.node_index)
    groups: dict[tuple[int, ...] | None, dict[int, dict[int, int]]] = {}
    for must_exist in (True, False):
        for cid, cache in model.caches.items():
            if (cid in requested) != must_exist:
                continue
            primaries = cache.primaries_at(version)
            if primaries is None:
                continue  # no assignment for this version yet
            mapping = None if cache.replicated else primaries
            if must_exist:
                groups.setdefault(mapping, {})[cid] = cache.key_config
            elif mapping in groups:
                groups[mapping][cid] = cache.key_config
    encoded = []
    for mapping, caches in groups.items():
        if mapping is None:
            encoded.append(PartitionGroup(False, {cid: {} for cid in caches}))
            continue
        nodes = {model.nodes[index].node_id: parts for index, parts in _by_node(mapping).items()}
        encoded.append(PartitionGroup(True, caches, nodes))
    response = PartitionsResponse(version, tuple(encoded))
    encode_partitions_response(out, response, session.context)


def _by_node(mapping: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
    by_node: dict[int, list[int]] = {}
    for part, index in enumerate(mapping):
        by_node.setdefault(index, []).append(part)
    return {index: tuple(parts) for index, parts in by_node.items()}


def _node_partitions(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """OP 1100, the deprecated predecessor of 1101 (``ClientCacheNodePartitionsRequest``).

    Answer: i32 node count; per node i32 client port, i32 address count,
    typed Strings, i32 partition count, i32 primary partitions
    (``ClientConnectableNodePartitions.write``).
    """
    (cid, _flags), _ = take(_CACHE_PREFIX, view, pos)
    cache = session.cache(cid)
    model = session.model
    primaries = cache.primaries_at(model.seen_by(session.node_index)) or cache.primaries
    by_node = _by_node(primaries)
    alive = model.alive_indices()
    out += I32.pack(len(alive))
    for index in alive:
        parts = by_node.get(index, ())
        out += I32.pack(model.nodes[index].port) + I32.pack(1)
        write_string(out, session.host)
        out += I32.pack(len(parts))
        out += struct.pack(f"<{len(parts)}i", *parts)


# -- scan queries and cursors (2000, 2001, 0) ----------------------------------------------


def _scan(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    if op == OpCode.RESOURCE_CLOSE:
        resource_id = decode_resource_id(view, pos)
        if session.cursors.pop(resource_id, None) is None:
            raise _fail(
                f"Failed to find resource with id: {resource_id}",
                StatusCode.RESOURCE_DOES_NOT_EXIST,
            )
        return
    if op == OpCode.QUERY_SCAN_CURSOR_GET_PAGE:
        cursor_id = decode_resource_id(view, pos)
        if cursor_id not in session.cursors:
            raise _fail(
                f"Failed to find resource with id: {cursor_id}", StatusCode.RESOURCE_DOES_NOT_EXIST
            )
        _page(session, cursor_id, False, out)
        return
    request = decode_scan_request(session.negotiated, view, pos)
    cache = session.cache(request.target.cache_id)
    if not -1 <= request.partition < cache.partitions:
        raise _fail(f"Invalid partition number: {request.partition}")
    if len(session.cursors) >= MAX_CURSORS:
        raise _fail(
            "Too many open cursors (either close other open cursors or increase the limit "
            "through ClientConnectorConfiguration.maxOpenCursorsPerConnection) "
            f"[maximum={MAX_CURSORS}, current={len(session.cursors)}]",
            StatusCode.TOO_MANY_CURSORS,
        )
    kv.purge_expired(cache)
    parts = range(cache.partitions) if request.partition < 0 else (request.partition,)
    rows: list[tuple[bytes, bytes]] = []
    for part in parts:
        owners = cache.owners[part]
        if not owners or (request.local and owners[0] != session.node_index):
            continue
        rows.extend(cache.copies[part][0].items())
    session.last_resource_id += 1
    cursor_id = session.last_resource_id
    session.cursors[cursor_id] = Cursor(rows, request.page_size)
    _page(session, cursor_id, True, out)


def _page(session: Session, cursor_id: int, first: bool, out: bytearray) -> None:
    cursor = session.cursors[cursor_id]
    start, end = cursor.position, cursor.position + cursor.page_size
    page = [(kv.detached(k), kv.detached(v)) for k, v in cursor.rows[start:end]]
    cursor.position = end
    more = end < len(cursor.rows)
    if not more:
        del session.cursors[cursor_id]
    encode_scan_page(out, ScanPage(page, more, cursor_id if first else None))


# -- refused: SQL ----------------------------------------------------------------------------


def _sql(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    raise _fail("SQL is not supported: the ignite-router local cluster does not run SQL")


# -- binary types (3000-3003) --------------------------------------------------------------


def _binary(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    model = session.model
    if op in (OpCode.BINARY_TYPE_NAME_GET, OpCode.BINARY_TYPE_NAME_PUT):
        platform, type_id, name = decode_type_name_request(op, view, pos)
        if name is not None:
            known = model.type_names.get((platform, type_id))
            if known is not None and known != name:  # MarshallerContextImpl.registerClassName
                raise _fail(
                    "org.apache.ignite.internal.DuplicateTypeIdException: Duplicate ID "
                    f"[platformId={platform}, typeId={type_id}, oldCls={known}, newCls={name}]"
                )
            model.type_names[(platform, type_id)] = name
            out += BOOL.pack(True)
            return
        known = model.type_names.get((platform, type_id))
        if known is None:
            raise _fail(f"Failed to resolve class name [platformId={platform}, typeId={type_id}]")
        encode_type_name(out, known)
    elif op == OpCode.BINARY_TYPE_GET:
        encode_binary_type_response(
            out, model.registry.get(decode_binary_type_get_request(view, pos))
        )
    else:  # BINARY_TYPE_PUT
        binary_type = decode_binary_type_put_request(view, pos)
        registered = model.registry.get(binary_type.type_id)
        if registered is not None:
            _check_compatible(registered, binary_type)
        model.registry.add(binary_type)
        model.binary_types_changed()


# BinaryUtils.FIELD_TYPE_NAMES: metadata conflicts are decided on these names.
_FIELD_TYPE_NAMES = {
    1: "byte", 2: "short", 3: "int", 4: "long", 5: "float", 6: "double", 7: "char",
    8: "boolean", 9: "String", 10: "UUID", 11: "Date", 12: "byte[]", 13: "short[]",
    14: "int[]", 15: "long[]", 16: "float[]", 17: "double[]", 18: "char[]", 19: "boolean[]",
    20: "String[]", 21: "UUID[]", 22: "Date[]", 23: "Object[]", 24: "Collection", 25: "Map",
    27: "Object", 28: "Enum", 29: "Enum[]", 30: "decimal", 31: "decimal[]", 32: "Class",
    33: "Timestamp", 34: "Timestamp[]", 36: "Time", 37: "Time[]", 38: "Enum", 103: "Object",
}  # fmt: skip


def _field_type_name(code: int) -> str:
    return _FIELD_TYPE_NAMES.get(code, str(code))


def _check_compatible(old: BinaryType, new: BinaryType) -> None:
    """Refuse what ``BinaryUtils.mergeMetadata`` refuses, with its messages (status 1)."""
    if old.type_name != new.type_name:
        raise _fail(
            f"Two binary types have duplicate type ID [typeId={old.type_id}, "
            f"typeName1={old.type_name}, typeName2={new.type_name}]"
        )
    if old.affinity_key_field != new.affinity_key_field:
        raise _fail(
            f"Binary type has different affinity key fields [typeName={new.type_name}, "
            f"affKeyFieldName1={old.affinity_key_field}, "
            f"affKeyFieldName2={new.affinity_key_field}]"
        )
    if old.is_enum != new.is_enum:
        kind = "enum" if old.is_enum else "non-enum"
        raise _fail(f"Binary type already registered as {kind}: {new.type_name}")
    for name, field in new.fields.items():
        known = old.fields.get(name)
        if known is None:
            continue
        before, after = _field_type_name(known.type_code), _field_type_name(field.type_code)
        if before != after:
            raise _fail(
                f"Binary type has different field types [typeName={old.type_name}, "
                f"fieldName={name}, fieldTypeName1={before}, fieldTypeName2={after}]"
            )


def _binary_configuration(
    session: Session, op: int, view: memoryview, pos: int, out: bytearray
) -> None:
    """OP 3004: Ignite's defaults, compact footers and the basic full-name mapper (0)."""
    out += BOOL.pack(True) + I8.pack(0)


# -- transactions (4000, 4001) -------------------------------------------------------------


def _tx(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    if op == OpCode.TX_START:
        start = decode_tx_start(view, pos)
        if len(session.transactions) >= MAX_TRANSACTIONS:
            raise _fail(
                f"Active transactions per connection limit ({MAX_TRANSACTIONS}) exceeded. "
                "To start a new transaction you need to wait for some of currently active "
                "transactions complete. To change the limit set up "
                "ThinClientConfiguration.MaxActiveTxPerConnection property.",
                StatusCode.TX_LIMIT_EXCEEDED,
            )
        session.last_tx_id += 1
        tx = Transaction(
            session.last_tx_id,
            timeout=max(start.timeout_ms, 0) / 1000,
            concurrency=start.concurrency,
            isolation=start.isolation,
        )
        session.transactions[tx.tx_id] = tx
        encode_tx_id(out, tx.tx_id)
        return
    tx_id, committed = decode_tx_end(view, pos)
    if tx_id not in session.transactions and not committed:
        return  # rolling back an unknown transaction succeeds (ClientTxEndRequest)
    tx = session.transaction(tx_id)
    del session.transactions[tx_id]
    if committed:
        tx.check_valid()  # a timed-out transaction is rolled back instead
        kv.commit(session.model, tx)


# -- cluster (5000, 5001) and cluster groups (5100-5102) -----------------------------------


def _cluster(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    model = session.model
    if op == OpCode.CLUSTER_GET_STATE:
        encode_cluster_state(out, model.state)
    else:
        model.change_state(decode_cluster_state(view, pos), initiator=session.node_index)


def _node_ids(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """The server nodes of a projection, unless the client knows the current topology."""
    model = session.model
    known, projection = decode_node_ids_request(view, pos, model.registry)
    if known >= model.major:
        encode_node_ids(out, None)
        return
    # Every local node is a server without attributes: only a servers filter can match.
    matches = all(isinstance(item, ServerNodesFilter) and item.servers for item in projection or ())
    alive = tuple(node.node_id for node in model.nodes if node.alive) if matches else ()
    encode_node_ids(out, NodeIds(model.major, alive))


def _node_info(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    model = session.model
    by_id = {node.node_id: (index, node) for index, node in enumerate(model.nodes) if node.alive}
    described = []
    for node_id in decode_node_info_request(view, pos):
        if node_id in by_id:
            index, node = by_id[node_id]
            described.append(
                NodeDetails(
                    node_id,
                    addresses=(session.host,),
                    order=node.order,
                    local=index == session.node_index,
                    consistent_id=node.consistent_id,
                )
            )
    encode_node_info(out, described)


def _endpoints(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    """Endpoint discovery: the nodes added (and removed) between two topology versions."""
    model = session.model
    start, end = decode_endpoints_request(view, pos)
    end = model.major if end == -1 else end
    if end not in model.history or (start != -1 and start not in model.history):
        raise _fail(f"Topology history is not available for versions {start}..{end}")
    current = dict(model.history[end])
    previous = {} if start == -1 else dict(model.history[start])
    added = tuple(
        NodeEndpoints(node_id, port, (session.host,))
        for node_id, port in current.items()
        if node_id not in previous
    )
    removed = tuple(node_id for node_id in previous if node_id not in current)
    encode_endpoints(out, TopologyEndpoints(end, added, removed))


def _heartbeat(session: Session, op: int, view: memoryview, pos: int, out: bytearray) -> None:
    if op == OpCode.GET_IDLE_TIMEOUT:
        encode_idle_timeout(out, int(session.idle_timeout * 1000))  # 0: never closed


HANDLERS: dict[int, Handler] = dict(kv.HANDLERS)
for _op in (1050, 1051, 1052, 1053, 1054, 1055, 1056):
    HANDLERS[_op] = _cache_admin
HANDLERS[OpCode.CACHE_PARTITIONS] = _partitions
HANDLERS[OpCode.CACHE_NODE_PARTITIONS] = _node_partitions
for _op in (OpCode.QUERY_SCAN, OpCode.QUERY_SCAN_CURSOR_GET_PAGE, OpCode.RESOURCE_CLOSE):
    HANDLERS[_op] = _scan
for _op in range(OpCode.QUERY_SQL, OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE + 1):
    HANDLERS[_op] = _sql
for _op in range(OpCode.BINARY_TYPE_NAME_GET, OpCode.BINARY_TYPE_PUT + 1):
    HANDLERS[_op] = _binary
HANDLERS[OpCode.BINARY_CONFIGURATION_GET] = _binary_configuration
HANDLERS[OpCode.TX_START] = _tx
HANDLERS[OpCode.TX_END] = _tx
HANDLERS[OpCode.CLUSTER_GET_STATE] = _cluster
HANDLERS[OpCode.CLUSTER_CHANGE_STATE] = _cluster
HANDLERS[OpCode.CLUSTER_GROUP_GET_NODE_IDS] = _node_ids
HANDLERS[OpCode.CLUSTER_GROUP_GET_NODE_INFO] = _node_info
HANDLERS[OpCode.CLUSTER_GROUP_GET_NODE_ENDPOINTS] = _endpoints
HANDLERS[OpCode.HEARTBEAT] = _heartbeat
HANDLERS[OpCode.GET_IDLE_TIMEOUT] = _heartbeat


def handle_request(
    session: Session, op: int, view: memoryview, pos: int, out: bytearray
) -> Steps | None:
    """Run the handler of ``op``; ServerError for unknown ops and failures.

    Returns None when done, or the rest of the work: a generator that yields
    what it waits for (``interconnect.Wait``; None just lets other work run)
    and receives a ``Verdict`` for each ``Until``.
    """
    handler = HANDLERS.get(op)
    if handler is None:  # ClientMessageParser: a ClientRawRequest with this status
        raise _fail(f"Invalid request op code: {op}", StatusCode.INVALID_OP_CODE)
    steps = handler(session, op, view, pos, out)
    if type(steps) is not types.GeneratorType:
        return None
    try:
        first = next(steps)
    except StopIteration:
        return None
    return _resumed(first, steps)


def _resumed(first: Wait, steps: Steps) -> Steps:
    """``steps`` after its first yield (already taken: ``first``)."""
    sent = yield first
    while True:
        try:
            wait = steps.send(sent)
        except StopIteration:
            return
        sent = yield wait
