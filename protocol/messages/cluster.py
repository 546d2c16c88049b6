"""Cluster operations: state (5000/5001) and cluster groups (5100-5102).

5000 GET_STATE -> i8 state; 5001 CHANGE_STATE: i8 state -> empty (as pyignite
encodes them; it requires feature CLUSTER_STATES).
5100 GET_NODE_IDS: i64 known topology version, i32 filter count, filters (no
"has projection" bool: ``ClientClusterGroupProjection.read``, Java's
``ClientClusterGroupImpl``) -> bool changed [+ i64 topology
version + i32 n + n raw UUIDs].
5101 GET_NODE_INFO: i32 n + n raw UUIDs -> i32 n + n node descriptions.
5102 GET_NODE_ENDPOINTS: i64 since, i64 until -> topology version, added
nodes with their endpoints, removed node ids.
Node ids in 5100-5102 are *raw* (msb, lsb as two i64, no type code:
``ClientClusterGroupGetNodesEndpointsResponse``); 5101 answers with typed ones. Layouts
of 5100/5101 are from the server's ``ClientClusterGroupGetNodeIdsRequest/Response``,
``ClientClusterGroupProjection`` and ``ClientClusterGroupGetNodesDetailsResponse``.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ignite_router.affinity import CollectionKind, IgniteCollection
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_keys import write_server_value
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import (
    read_string,
    read_uuid,
    read_value,
    write_string,
    write_uuid,
    write_value,
)
from ignite_router.protocol.wire import (
    BOOL,
    I8,
    I16,
    I32,
    I64,
    count,
    finish,
    read_raw_uuid,
    take,
    write_raw_uuid,
)

__all__ = [
    "AttributeFilter",
    "ClusterState",
    "NodeDetails",
    "NodeEndpoints",
    "NodeIds",
    "ProductVersion",
    "ServerNodesFilter",
    "TopologyEndpoints",
    "decode_cluster_state",
    "decode_endpoints",
    "decode_endpoints_request",
    "decode_node_ids",
    "decode_node_ids_request",
    "decode_node_info",
    "decode_node_info_request",
    "encode_cluster_state",
    "encode_cluster_state_request",
    "encode_endpoints",
    "encode_endpoints_request",
    "encode_node_ids",
    "encode_node_ids_request",
    "encode_node_info",
    "encode_node_info_request",
]

_RANGE = struct.Struct("<qq")
_VERSION_HEAD = struct.Struct("<bbb")  # major, minor, maintenance
_NODE_FLAGS = struct.Struct("<q???")  # order, local, daemon, client
_ATTRIBUTE = 1  # projection item codes (ClientClusterGroupProjection)
_SERVER_NODES = 2


class ClusterState(IntEnum):
    INACTIVE = 0
    ACTIVE = 1
    ACTIVE_READ_ONLY = 2


# -- 5000 / 5001 ------------------------------------------------------------------------


def encode_cluster_state_request(
    buf: bytearray, request_id: int, state: ClusterState | None
) -> None:
    """5000 GET_STATE (``state`` None) or 5001 CHANGE_STATE."""
    op = OpCode.CLUSTER_GET_STATE if state is None else OpCode.CLUSTER_CHANGE_STATE
    start = begin_request(buf, op, request_id)
    if state is not None:
        buf += I8.pack(ClusterState(state))
    finish_frame(buf, start)


def encode_cluster_state(buf: bytearray, state: ClusterState) -> None:
    """Server side: the 5000 answer body."""
    buf += I8.pack(ClusterState(state))


def decode_cluster_state(view: memoryview, pos: int) -> ClusterState:
    """The 5000 answer body, or (server side) the 5001 request body."""
    (state,), pos = take(I8, view, pos)
    finish(view, pos, "the cluster state")
    try:
        return ClusterState(state)
    except ValueError:
        raise ProtocolError(f"unknown cluster state {state}") from None


# -- 5100 ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """Projection item: nodes whose attribute ``name`` equals ``value`` (any typed object)."""

    name: str
    value: Any


@dataclass(frozen=True, slots=True)
class ServerNodesFilter:
    """Projection item: server nodes (``servers``) or client nodes."""

    servers: bool = True


Projection = tuple[AttributeFilter | ServerNodesFilter, ...]


@dataclass(frozen=True, slots=True)
class NodeIds:
    """5100 answer when the topology moved past the version the client knows."""

    topology_version: int
    node_ids: tuple[uuid.UUID, ...]


def encode_node_ids_request(
    buf: bytearray,
    request_id: int,
    known_topology_version: int = -1,
    projection: Sequence[AttributeFilter | ServerNodesFilter] | None = None,
) -> None:
    """5100 (feature CLUSTER_GROUPS); ``projection`` None or empty = every node."""
    start = begin_request(buf, OpCode.CLUSTER_GROUP_GET_NODE_IDS, request_id)
    items = projection or ()
    try:
        buf += I64.pack(known_topology_version) + I32.pack(len(items))
        for item in items:
            if isinstance(item, AttributeFilter):
                buf += I16.pack(_ATTRIBUTE)
                write_string(buf, item.name)
                write_value(buf, item.value)
            elif isinstance(item, ServerNodesFilter):
                buf += I16.pack(_SERVER_NODES) + BOOL.pack(item.servers)
            else:
                raise TypeError(f"unknown projection item {item!r}")
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def decode_node_ids_request(
    view: memoryview, pos: int, registry: Any = None
) -> tuple[int, Projection | None]:
    """Server side: (known topology version, projection; None when it has no filters)."""
    (version,), pos = take(I64, view, pos)
    n, pos = count(view, pos, 3)
    items: list[AttributeFilter | ServerNodesFilter] = []
    for _ in range(n):
        (code,), pos = take(I16, view, pos)
        if code == _ATTRIBUTE:
            name, pos = read_string(view, pos)
            value, pos = read_value(view, pos, registry)
            if name is None:
                raise ProtocolError("null attribute name in a cluster group projection")
            items.append(AttributeFilter(name, value))
        elif code == _SERVER_NODES:
            (servers,), pos = take(BOOL, view, pos)
            items.append(ServerNodesFilter(servers))
        else:
            raise ProtocolError(f"unknown cluster group projection code {code}")
    finish(view, pos, "the node ids request")
    return version, tuple(items) or None


def encode_node_ids(buf: bytearray, answer: NodeIds | None) -> None:
    """Server side: the 5100 answer; None = topology unchanged (bool false)."""
    if answer is None:
        buf += BOOL.pack(False)
        return
    buf += BOOL.pack(True) + I64.pack(answer.topology_version) + I32.pack(len(answer.node_ids))
    for node_id in answer.node_ids:
        write_raw_uuid(buf, node_id)


def decode_node_ids(view: memoryview, pos: int) -> NodeIds | None:
    """Client side: the 5100 answer; None when the topology did not change."""
    (changed,), pos = take(BOOL, view, pos)
    answer = None
    if changed:
        (version,), pos = take(I64, view, pos)
        n, pos = count(view, pos, 16)
        ids = []
        for _ in range(n):
            node_id, pos = read_raw_uuid(view, pos)
            ids.append(node_id)
        answer = NodeIds(version, tuple(ids))
    finish(view, pos, "the node ids")
    return answer


# -- 5101 ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductVersion:
    """Ignite product version of a node (``IgniteProductVersion``)."""

    major: int
    minor: int
    maintenance: int
    stage: str | None = None
    revision_timestamp: int = 0
    revision_hash: bytes | None = None


@dataclass(frozen=True, slots=True)
class NodeDetails:
    """One node as 5101 describes it (``ClientClusterGroupGetNodesDetailsResponse``)."""

    node_id: uuid.UUID
    attributes: dict[str, Any] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    host_names: tuple[str, ...] = ()
    order: int = 0
    local: bool = False
    daemon: bool = False
    client: bool = False
    consistent_id: Any = None
    version: ProductVersion = ProductVersion(0, 0, 0)




def encode_node_info_request(
    buf: bytearray, request_id: int, node_ids: Iterable[uuid.UUID]
) -> None:
    """5101 (feature CLUSTER_GROUPS): describe these nodes."""
    ids = list(node_ids)
    start = begin_request(buf, OpCode.CLUSTER_GROUP_GET_NODE_INFO, request_id)
    buf += I32.pack(len(ids))
    for node_id in ids:
        write_raw_uuid(buf, node_id)
    finish_frame(buf, start)


def decode_node_info_request(view: memoryview, pos: int) -> list[uuid.UUID]:
    """Server side: the node ids of a 5101 request."""
    n, pos = count(view, pos, 16)
    ids = []
    for _ in range(n):
        node_id, pos = read_raw_uuid(view, pos)
        ids.append(node_id)
    finish(view, pos, "the node ids")
    return ids


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value.items if isinstance(value, IgniteCollection) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ProtocolError(f"node {what} must be a collection of strings")
    return tuple(items)


def encode_node_info(buf: bytearray, nodes: Sequence[NodeDetails]) -> None:
    """Server side: the 5101 answer body."""
    buf += I32.pack(len(nodes))
    for node in nodes:
        write_uuid(buf, node.node_id)
        buf += I32.pack(len(node.attributes))
        for name, value in node.attributes.items():
            write_string(buf, name)
            write_server_value(buf, value)
        write_server_value(buf, IgniteCollection(CollectionKind.ARR_LIST, list(node.addresses)))
        write_server_value(buf, IgniteCollection(CollectionKind.ARR_LIST, list(node.host_names)))
        buf += _NODE_FLAGS.pack(node.order, node.local, node.daemon, node.client)
        write_server_value(buf, node.consistent_id)
        version = node.version
        buf += _VERSION_HEAD.pack(version.major, version.minor, version.maintenance)
        write_string(buf, version.stage)
        buf += I64.pack(version.revision_timestamp)
        write_value(buf, version.revision_hash)


def decode_node_info(view: memoryview, pos: int, registry: Any = None) -> list[NodeDetails]:
    """Client side: the 5101 answer body."""
    n, pos = count(view, pos, 17)
    nodes = []
    for _ in range(n):
        node_id, pos = read_uuid(view, pos)
        if node_id is None:
            raise ProtocolError("null node id in a node description")
        n_attributes, pos = count(view, pos, 2)
        attributes = {}
        for _ in range(n_attributes):
            name, pos = read_string(view, pos)
            if name is None:
                raise ProtocolError("null attribute name in a node description")
            attributes[name], pos = read_value(view, pos, registry)
        addresses, pos = read_value(view, pos, registry)
        host_names, pos = read_value(view, pos, registry)
        (order, local, daemon, client), pos = take(_NODE_FLAGS, view, pos)
        consistent_id, pos = read_value(view, pos, registry)
        (major, minor, maintenance), pos = take(_VERSION_HEAD, view, pos)
        stage, pos = read_string(view, pos)
        (timestamp,), pos = take(I64, view, pos)
        revision_hash, pos = read_value(view, pos)
        if revision_hash is not None and not isinstance(revision_hash, bytes):
            raise ProtocolError("a node's revision hash must be a byte array")
        nodes.append(
            NodeDetails(
                node_id,
                attributes,
                _strings(addresses, "addresses"),
                _strings(host_names, "host names"),
                order,
                local,
                daemon,
                client,
                consistent_id,
                ProductVersion(major, minor, maintenance, stage, timestamp, revision_hash),
            )
        )
    finish(view, pos, "the node descriptions")
    return nodes


# -- 5102 ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeEndpoints:
    """A node's id, client connector port and addresses (IPs, then host names)."""

    node_id: uuid.UUID
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopologyEndpoints:
    """5102 answer: nodes added and removed since the requested topology version."""

    version: int
    added: tuple[NodeEndpoints, ...] = ()
    removed: tuple[uuid.UUID, ...] = ()


def encode_endpoints_request(
    buf: bytearray, request_id: int, since: int = -1, until: int = -1
) -> None:
    """5102 (feature CLUSTER_GROUP_GET_NODES_ENDPOINTS); -1 = first time / latest."""
    start = begin_request(buf, OpCode.CLUSTER_GROUP_GET_NODE_ENDPOINTS, request_id)
    buf += _RANGE.pack(since, until)
    finish_frame(buf, start)


def decode_endpoints_request(view: memoryview, pos: int) -> tuple[int, int]:
    """Server side: (since, until) topology versions."""
    versions, pos = take(_RANGE, view, pos)
    finish(view, pos, "the endpoints request")
    return versions


def encode_endpoints(buf: bytearray, answer: TopologyEndpoints) -> None:
    """Server side: the 5102 answer body."""
    buf += I64.pack(answer.version) + I32.pack(len(answer.added))
    for node in answer.added:
        write_raw_uuid(buf, node.node_id)
        buf += I32.pack(node.port) + I32.pack(len(node.addresses))
        for address in node.addresses:
            write_string(buf, address)
    buf += I32.pack(len(answer.removed))
    for node_id in answer.removed:
        write_raw_uuid(buf, node_id)


def decode_endpoints(view: memoryview, pos: int) -> TopologyEndpoints:
    """Client side: the 5102 answer body."""
    (version,), pos = take(I64, view, pos)
    n_added, pos = count(view, pos, 24)
    added = []
    for _ in range(n_added):
        node_id, pos = read_raw_uuid(view, pos)
        (port,), pos = take(I32, view, pos)
        n_addresses, pos = count(view, pos, 1)
        addresses = []
        for _ in range(n_addresses):
            address, pos = read_string(view, pos)
            if address is None:
                raise ProtocolError("null address in an endpoint list")
            addresses.append(address)
        added.append(NodeEndpoints(node_id, port, tuple(addresses)))
    n_removed, pos = count(view, pos, 16)
    removed = []
    for _ in range(n_removed):
        node_id, pos = read_raw_uuid(view, pos)
        removed.append(node_id)
    finish(view, pos, "the endpoints")
    return TopologyEndpoints(version, tuple(added), tuple(removed))
