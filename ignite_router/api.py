"""``ClientBase``: the client API shared by ``Client`` and ``AioClient``.

Everything here builds requests and hands steps of the core to
:meth:`ClientBase.run`, which the blocking client implements by driving the
step to its end and the asyncio client by returning a coroutine that does.
"""

from __future__ import annotations

import datetime
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ignite_router.affinity import IgniteType
from ignite_router.binary import DataclassRegistry
from ignite_router.cache import Cache
from ignite_router.core import answers
from ignite_router.core.engine import ClientCore, Request, Route, Step
from ignite_router.core.events import ClientListener
from ignite_router.cursors import Cursor, SqlFieldsCursorState
from ignite_router.errors import ConnectionLostError
from ignite_router.policies import RetryPolicy
from ignite_router.protocol import HandshakeRequest, ProtocolContext
from ignite_router.protocol.messages.binary_types import (
    decode_binary_type_answer,
    encode_binary_type_get,
    encode_binary_type_put,
)
from ignite_router.protocol.messages.cache_config import (
    decode_cache_names,
    encode_configuration_request,
    encode_get_names_request,
    encode_name_request,
)
from ignite_router.protocol.messages.cache_keys import CacheTarget
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.protocol.messages.cluster import (
    ClusterState,
    decode_cluster_state,
    encode_cluster_state_request,
)
from ignite_router.protocol.messages.sql import SqlFieldsQuery
from ignite_router.protocol.opcodes import Feature, OpCode
from ignite_router.protocol.values import BinaryType, write_value
from ignite_router.tls import make_ssl_context
from ignite_router.transactions import Transaction, TxConcurrency, TxIsolation

__all__ = ["DEFAULT_PORT", "ClientBase", "parse_endpoints"]

DEFAULT_PORT = 10800
# Features the client asks for: only what it uses (never ALL_AFFINITY_MAPPINGS, §4.4).
CLIENT_FEATURES = frozenset(
    {
        Feature.CLUSTER_STATES,
        Feature.CLUSTER_GROUP_GET_NODES_ENDPOINTS,
        Feature.CLUSTER_GROUPS,
        Feature.HEARTBEAT,
    }
)


def parse_endpoints(
    nodes: str | Sequence[tuple[str, int]] | Sequence[str] | None, port: int | None
) -> list[tuple[str, int]]:
    """``connect()``'s arguments as a list of ``(host, port)``.

    Accepts ``connect(host, port)``, ``connect([(host, port), ...])`` and
    ``connect(["host:port", ...])``.
    """
    if nodes is None:
        nodes = "127.0.0.1"
    if isinstance(nodes, str):
        return [(nodes, DEFAULT_PORT if port is None else int(port))]
    endpoints = []
    for node in nodes:
        if isinstance(node, str):
            host, _, text = node.rpartition(":")
            if not host or not text.isdigit():
                raise ValueError(f"endpoint {node!r} is not HOST:PORT")
            endpoints.append((host, int(text)))
        else:
            host, number = node
            endpoints.append((str(host), int(number)))
    if not endpoints:
        raise ValueError("connect() needs at least one endpoint")
    for host, number in endpoints:
        if not 0 < number < 65536:
            raise ValueError(f"port {number} of {host} is out of range")
    return endpoints


class ClientBase:
    """Configuration, caches, routing, metrics, SQL, transactions and binary types."""

    def __init__(
        self,
        partition_aware: bool = True,
        timeout: float | None = 2.0,
        handshake_timeout: float = 2.0,
        username: str | None = None,
        password: str | None = None,
        retry_policy: RetryPolicy | None = None,
        reconnect: Any = None,
        event_listeners: Sequence[ClientListener] = (),
        discovery: bool = True,
        heartbeat_interval: float | None = None,
        use_ssl: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        **ssl_options: Any,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None to wait forever)")
        if heartbeat_interval is not None and heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive (or None: no heartbeats)")
        if handshake_timeout <= 0:
            raise ValueError("handshake_timeout must be positive")
        if (username is None) != (password is None):
            raise ValueError("give both a username and a password, or neither")
        self.dataclasses = DataclassRegistry()
        self.timeout = timeout
        self.handshake_timeout = handshake_timeout
        self.ssl_context = ssl_context or (
            make_ssl_context(**ssl_options) if use_ssl or ssl_options else None
        )
        handshake = HandshakeRequest(features=CLIENT_FEATURES, username=username, password=password)
        self.core = ClientCore(
            handshake,
            time.monotonic,
            partition_aware=partition_aware,
            retry_policy=retry_policy,
            reconnect=reconnect,
            event_listeners=event_listeners,
            discovery=discovery,
            heartbeat_interval=heartbeat_interval,
        )

    def __repr__(self) -> str:
        nodes = ", ".join(f"{h}:{p}" for h, p in self.core.registry.by_endpoint)
        return f"{type(self).__name__}([{nodes}])"

    # -- the shell's part -----------------------------------------------------------------

    def run(self, step: Step) -> Any:
        """Drive ``step`` (blocking) or return an awaitable that does (asyncio)."""
        raise NotImplementedError

    def context(self) -> ProtocolContext:
        """The protocol negotiated with the cluster (after the first handshake)."""
        context = self.core.context
        if context is None:
            raise ConnectionLostError("not connected: call connect() first")
        return context

    # -- caches ---------------------------------------------------------------------------

    def get_cache(self, name: str) -> Cache:
        """A cache by name (no request is sent)."""
        return Cache(self, name)

    def create_cache(self, settings: str | Mapping[int, Any]) -> Any:
        """Create a cache by name or configuration (``CacheProperty`` -> value)."""
        return self._cache_request(settings, create=True)

    def get_or_create_cache(self, settings: str | Mapping[int, Any]) -> Any:
        """The cache, created first if it does not exist."""
        return self._cache_request(settings, create=False)

    def _cache_request(self, settings: str | Mapping[int, Any], create: bool) -> Any:
        frame = bytearray()
        request_id = self.core.next_request_id()
        if isinstance(settings, str):
            name = settings
            op = OpCode.CACHE_CREATE_WITH_NAME if create else OpCode.CACHE_GET_OR_CREATE_WITH_NAME
            encode_name_request(frame, op, request_id, name)
        else:
            name = settings[CacheProperty.NAME]
            op = (
                OpCode.CACHE_CREATE_WITH_CONFIGURATION
                if create
                else OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION
            )
            encode_configuration_request(frame, self.context(), op, request_id, settings)
        cache = Cache(self, name)
        operation = "create_cache" if create else "get_or_create_cache"
        return self.run(_then(self.core.execute(Request(operation, frame, answers.nothing)), cache))

    def get_cache_names(self) -> Any:
        frame = bytearray()
        encode_get_names_request(frame, self.core.next_request_id())
        return self.run(self.core.execute(Request("get_cache_names", frame, decode_cache_names)))

    # -- routing and observation ------------------------------------------------------------

    def route(self, cache: str | Cache, key: Any, key_hint: IgniteType | None = None) -> Route:
        """Where a key operation on ``cache`` would go now, and why (no request is sent)."""
        cache = cache if isinstance(cache, Cache) else Cache(self, cache)
        key = self.dataclasses.to_wire(key)
        if getattr(key, "type_id", None) is not None and key.hash_code is None:
            write_value(bytearray(), key, key_hint)  # a complex key's hash is in its header
        key_hash = self.core.key_hash(cache.cache_id, key, key_hint)
        return self.core.primary(cache.cache_id, key_hash, None)

    def refresh_partitions(self, cache: str | Cache) -> Any:
        """Fetch the cache's partition map now (OP_CACHE_PARTITIONS); returns its
        :class:`~ignite_router.core.topology.CacheMap` (None if the server has none)."""
        cache = cache if isinstance(cache, Cache) else Cache(self, cache)
        return self.run(self.core.refresh([cache.cache_id]))

    def cluster_nodes(self) -> Any:
        """Every server node the cluster reports (ops 5100 + 5101): id, consistent id,
        addresses, order, attributes."""
        return self.run(self.core.cluster_nodes())

    def metrics(self) -> dict[str, Any]:
        """Per node (by ``host:port``) request and connection counters, plus client-wide ones."""
        core = self.core
        return {
            "topology_version": core.tracker.version,
            "map_refreshes": core.metrics.map_refreshes,
            "topology_changes": core.metrics.topology_changes,
            "discoveries": core.metrics.discoveries,
            "nodes": {
                f"{node.endpoint[0]}:{node.endpoint[1]}": {
                    "node_id": node.node_id,
                    "up": node.up,
                    **node.metrics.as_dict(),
                }
                for node in core.registry.nodes
            },
        }

    def nodes(self) -> list[dict[str, Any]]:
        """Known nodes: endpoint, node id, whether connected."""
        return [
            {"endpoint": node.endpoint, "node_id": node.node_id, "up": node.up}
            for node in self.core.registry.nodes
        ]

    # -- cluster ------------------------------------------------------------------------------

    def get_cluster_state(self) -> Any:
        frame = bytearray()
        encode_cluster_state_request(frame, self.core.next_request_id(), None)
        return self.run(self.core.execute(Request("cluster_state", frame, decode_cluster_state)))

    def set_cluster_state(self, state: ClusterState) -> Any:
        frame = bytearray()
        encode_cluster_state_request(frame, self.core.next_request_id(), ClusterState(state))
        return self.run(self.core.execute(Request("set_cluster_state", frame, answers.nothing)))

    # -- binary types ---------------------------------------------------------------------------

    def put_binary_type(self, binary_type: BinaryType) -> Any:
        """Register a binary type's metadata with the cluster (OP 3003)."""
        frame = bytearray()
        encode_binary_type_put(frame, self.core.next_request_id(), binary_type)
        request = Request("binary_type", frame, answers.nothing, register=())
        return self.run(_then(self.core.execute(request), None, self.core.registered, binary_type))

    def register_dataclass(
        self,
        cls: type,
        type_name: str | None = None,
        affinity_key_field: str | None = None,
        hints: Mapping[str, IgniteType] | None = None,
    ) -> Any:
        """Register a dataclass as a binary type; its instances then travel as binary objects
        (keys too: ``affinity_key_field`` routes them by that field) and come back as
        instances. ``type_name`` defaults to ``module.QualName``."""
        return self.put_binary_type(
            self.dataclasses.register(cls, type_name, affinity_key_field, hints)
        )

    def get_binary_type(self, type_id: int) -> Any:
        """A type's metadata from the cluster (OP 3002), or None; remembered for decoding."""
        frame = bytearray()
        encode_binary_type_get(frame, self.core.next_request_id(), type_id)

        def decode(view: memoryview, pos: int) -> BinaryType | None:
            found = decode_binary_type_answer(view, pos)
            return None if found is None else self.core.types.add(found)

        return self.run(self.core.execute(Request("binary_type", frame, decode)))

    # -- SQL and transactions ---------------------------------------------------------------

    def sql(
        self,
        query_str: str,
        page_size: int = 1024,
        query_args: Iterable[Any] | None = None,
        schema: str | None = "PUBLIC",
        statement_type: int = 0,
        distributed_joins: bool = False,
        local: bool = False,
        replicated_only: bool = False,
        enforce_join_order: bool = False,
        collocated: bool = False,
        lazy: bool = False,
        include_field_names: bool = False,
        max_rows: int = -1,
        timeout: int = 0,
        cache: str | Cache | None = None,
    ) -> Cursor:
        """A SQL fields query; iterate the cursor for the rows (lists of values)."""
        cache_id = 0
        if cache is not None:
            cache_id = (cache if isinstance(cache, Cache) else Cache(self, cache)).cache_id
            schema = None
        query = SqlFieldsQuery(
            CacheTarget(cache_id),
            query_str,
            tuple(query_args or ()),
            schema,
            page_size,
            max_rows,
            statement_type,
            distributed_joins,
            local,
            replicated_only,
            enforce_join_order,
            collocated,
            lazy,
            timeout,
            include_field_names,
        )
        return Cursor(self, SqlFieldsCursorState(self, query))

    def tx_start(
        self,
        concurrency: int = TxConcurrency.PESSIMISTIC,
        isolation: int = TxIsolation.REPEATABLE_READ,
        timeout: int | float | datetime.timedelta = 0,
        label: str | None = None,
    ) -> Any:
        """Start a transaction; use it as a context manager (``with`` / ``async with``).

        ``timeout`` in ms (or a timedelta); 0 = none. Every cache operation
        of this thread (task) goes through the transaction's node until it
        ends.
        """
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds() * 1000
        transaction = Transaction(self, concurrency, isolation, int(timeout), label)
        return self.starting(transaction.start_step())

    def starting(self, step: Step) -> Any:
        """Run a step that returns a context manager (blocking: now; asyncio: when awaited)."""
        return self.run(step)


def _then(step: Step, value: Any, callback: Any = None, *args: Any) -> Step:
    """``step``, then ``callback(*args)`` once it succeeded; returns ``value``."""
    yield from step
    if callback is not None:
        callback(*args)
    return value
