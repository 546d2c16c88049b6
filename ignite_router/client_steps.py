"""The client-level operations, written once as steps: ``ClientSteps``.

Caches, routing (``get_best_node``), cluster state, binary types and SQL:
each method encodes its request and returns a step of the core (or a cursor
state), over a :class:`~ignite_router.session.Session`. The typed facades
(``ignite_router.sync_api``, ``ignite_router.aio_api``) run them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ignite_router.affinity import IgniteType, cache_id, field_id, schema_id, type_id
from ignite_router.binary import type_code_of
from ignite_router.cache import Hint
from ignite_router.core import answers
from ignite_router.core.engine import Request, Route, Step
from ignite_router.cursors import SqlFieldsCursorState
from ignite_router.errors import ConnectionLostError
from ignite_router.protocol.errors import ParameterError
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
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import BinaryType, write_value
from ignite_router.session import Session

__all__ = ["BestNode", "CacheRef", "ClientSteps", "cache_id_of", "cache_name"]

_GENERIC_OBJECT = int(IgniteType.COMPLEX_OBJECT)


class _HasCacheId(Protocol):
    @property
    def cache_id(self) -> int: ...


CacheRef = str | int | _HasCacheId
"""A cache by name, by id, or a ``Cache`` / ``AioCache``."""


def cache_id_of(cache: CacheRef) -> int:
    """The id of a cache given by name, id or object."""
    if isinstance(cache, str):
        return cache_id(cache_name(cache))
    if isinstance(cache, int):
        return cache
    return cache.cache_id


def cache_name(settings: str | Mapping[int, Any], only_name: bool = False) -> str:
    """The cache name in ``get_cache`` / ``create_cache`` settings (a name or a configuration;
    ``only_name``: a configuration may hold nothing else, as pyignite's ``get_cache`` says)."""
    name = settings if isinstance(settings, str) else settings.get(CacheProperty.NAME)
    if not isinstance(name, str) or not name:
        raise ParameterError(f"a cache name must be a non-empty str, got {name!r}")
    if only_name and not isinstance(settings, str) and len(settings) > 1:
        raise ParameterError("get_cache takes only a cache name (create_cache takes settings)")
    return name


@dataclass(frozen=True, slots=True)
class BestNode:
    """The node a key operation goes to (pyignite's ``get_best_node``): ``host``, ``port``,
    ``uuid`` and ``alive`` as on pyignite's connection, plus the ``route`` that chose it."""

    host: str
    port: int
    uuid: uuid.UUID | None
    alive: bool
    route: Route | None


class ClientSteps:
    """The client-level operations, each built once as a step of the core."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.core = session.core

    # -- caches -------------------------------------------------------------------------------

    def cache(self, settings: str | Mapping[int, Any], create: bool) -> Step:
        """Create a cache (``create``) or get-or-create it; returns its name."""
        core = self.core
        name = cache_name(settings)
        frame = bytearray()
        if isinstance(settings, str):
            op = OpCode.CACHE_CREATE_WITH_NAME if create else OpCode.CACHE_GET_OR_CREATE_WITH_NAME
            encode_name_request(frame, op, core.next_request_id(), name)
        else:
            op = (
                OpCode.CACHE_CREATE_WITH_CONFIGURATION
                if create
                else OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION
            )
            encode_configuration_request(
                frame, self.session.context(), op, core.next_request_id(), settings
            )
        operation = "create_cache" if create else "get_or_create_cache"
        yield from core.execute(Request(operation, frame, answers.nothing))
        return name

    def cache_names(self) -> Step:
        frame = bytearray()
        encode_get_names_request(frame, self.core.next_request_id())
        return (yield from self.core.execute(Request("get_cache_names", frame, decode_cache_names)))

    def refresh(self, cache: CacheRef) -> Step:
        """The cache's partition map, fetched now (a ``CacheMap``, or None)."""
        return (yield from self.core.refresh([cache_id_of(cache)]))

    # -- routing --------------------------------------------------------------------------------

    def route(self, target: int, key: Any, key_hint: Hint) -> Route:
        """Where a key operation on cache ``target`` (an id) would go now (no request)."""
        key = self.session.codec.to_wire(key)
        if getattr(key, "type_id", None) is not None and key.hash_code is None:
            write_value(bytearray(), key, key_hint)  # a complex key's hash is in its header
        key_hash = self.core.key_hash(target, key, key_hint)
        return self.core.primary(target, key_hash, None)

    def best_node(self, cache: CacheRef, key: Any, key_hint: Hint) -> Step:
        """The node a key operation goes to (a partition map is fetched first if none is
        known); without a key, or when the primary cannot be used, any connected node."""
        route = None
        if key is not None:
            target = cache_id_of(cache)
            route = self.route(target, key, key_hint)
            if route.reason == "no-map":
                yield from self.core.refresh([target])
                route = self.route(target, key, key_hint)
        registry = self.core.registry
        node = None
        if route is not None and route.reason == "primary" and route.node_id is not None:
            node = registry.by_id.get(route.node_id)
        if node is None:
            node = next((known for known in registry.nodes if known.up), None)
        if node is None:
            raise ConnectionLostError("no node is connected")
        host, port = node.endpoint
        return BestNode(host, port, node.node_id, node.up, route)

    def cluster_nodes(self) -> Step:
        return self.core.cluster_nodes()

    # -- cluster state --------------------------------------------------------------------------

    def cluster_state(self) -> Step:
        frame = bytearray()
        encode_cluster_state_request(frame, self.core.next_request_id(), None)
        return (yield from self.core.execute(Request("cluster_state", frame, decode_cluster_state)))

    def set_cluster_state(self, state: int) -> Step:
        frame = bytearray()
        encode_cluster_state_request(frame, self.core.next_request_id(), ClusterState(state))
        yield from self.core.execute(Request("set_cluster_state", frame, answers.nothing))

    # -- binary types ---------------------------------------------------------------------------

    def put_binary_type(
        self,
        type_name: str | BinaryType,
        affinity_key_field: str | None = None,
        is_enum: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> Step:
        """Register a type's metadata (OP 3003); returns pyignite's ``{type_id, schema_id}``.

        ``schema``: field name -> type hint, or for an enum constant name -> ordinal.
        """
        if isinstance(type_name, BinaryType):
            binary_type = type_name
        elif is_enum:
            binary_type = BinaryType.enum(type_name, {k: int(v) for k, v in (schema or {}).items()})
            binary_type.affinity_key_field = affinity_key_field
        else:
            fields = {name: type_code_of(hint) for name, hint in (schema or {}).items()}
            binary_type = BinaryType.of(type_name, fields, affinity_key_field=affinity_key_field)
        frame = bytearray()
        encode_binary_type_put(frame, self.core.next_request_id(), binary_type)
        yield from self.core.execute(Request("binary_type", frame, answers.nothing, register=()))
        self.core.registered(binary_type)
        schema_ids = list(binary_type.schemas)
        return {
            "type_id": binary_type.type_id,
            "schema_id": schema_ids[0] if len(schema_ids) == 1 else None,
        }

    def fetch_type(self, name_or_id: str | int) -> Step:
        """A type's metadata from the cluster (OP 3002), or None; remembered for decoding."""
        frame = bytearray()
        encode_binary_type_get(frame, self.core.next_request_id(), _type_id(name_or_id))
        types = self.core.types

        def decode(view: memoryview, pos: int) -> BinaryType | None:
            found = decode_binary_type_answer(view, pos)
            return None if found is None else types.add(found)

        return (yield from self.core.execute(Request("binary_type", frame, decode)))

    def get_binary_type(self, name_or_id: str | int) -> Step:
        """pyignite's description of a type: ``type_exists`` and, if it does, ``type_id``,
        ``type_name``, ``affinity_key_field``, ``is_enum``, ``schemas`` (a list of
        field name -> ``IgniteType`` dicts) and, for an enum, ``enums``."""
        found = yield from self.fetch_type(name_or_id)
        return {"type_exists": False} if found is None else _describe(found)

    def register_dataclass(
        self,
        cls: type,
        type_name: str | None = None,
        affinity_key_field: str | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> Step:
        """Register ``cls`` with the cluster, then as the class of its binary type."""
        codec = self.session.codec
        binary_type = codec.describe(cls, type_name, affinity_key_field, hints)
        yield from self.put_binary_type(binary_type)
        codec.add(cls, binary_type, hints)

    def register_binary_type(self, data_class: type, affinity_key_field: str | None) -> Step:
        """pyignite's ``register_binary_type``: :meth:`register_dataclass` under the class's
        ``type_name`` attribute, if it has one."""
        type_name = getattr(data_class, "type_name", None)
        return self.register_dataclass(data_class, type_name, affinity_key_field)

    def query_binary_type(
        self, binary_type: str | int, schema: int | Mapping[str, Any] | None = None
    ) -> Step:
        """pyignite's answer: the class of a type (``schema`` given: of that schema, or None),
        else ``{schema id: class}``. A type no class is registered for is looked up on
        the cluster and gets a dataclass with its fields (all defaulting to None)."""
        codec = self.session.codec
        wanted = _type_id(binary_type)
        cls = codec.class_of(wanted)
        if cls is not None:
            schema_ids = {codec.schema_id_of(cls)}
        else:
            found = yield from self.fetch_type(wanted)
            if found is None or found.is_enum:
                return None if schema is not None else {}
            cls = codec.make_class(found)
            hints = {
                name: item.type_code
                for name, item in found.fields.items()
                if item.type_code != _GENERIC_OBJECT
            }
            codec.add(cls, found, hints)
            schema_ids = set(found.schemas)
        if schema is None:
            return dict.fromkeys(sorted(schema_ids), cls)
        if not isinstance(schema, int):
            schema = schema_id([field_id(name) for name in schema])
        return cls if schema in schema_ids else None

    # -- SQL ----------------------------------------------------------------------------------

    def sql(
        self,
        query_str: str,
        page_size: int,
        query_args: Iterable[Any] | None,
        schema: str | None,
        statement_type: int,
        distributed_joins: bool,
        local: bool,
        replicated_only: bool,
        enforce_join_order: bool,
        collocated: bool,
        lazy: bool,
        include_field_names: bool,
        max_rows: int,
        timeout: int,
        cache: CacheRef | None,
    ) -> SqlFieldsCursorState:
        """A SQL fields query's cursor state (pyignite's ``sql`` arguments)."""
        target = 0
        if cache is not None:
            target = cache_id_of(cache)
            schema = None
        to_wire = self.session.codec.to_wire
        query = SqlFieldsQuery(
            CacheTarget(target),
            query_str,
            tuple(to_wire(arg) for arg in query_args or ()),
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
        return SqlFieldsCursorState(self.session, query)


def _type_id(name_or_id: str | int) -> int:
    return name_or_id if isinstance(name_or_id, int) else type_id(name_or_id)


def _describe(binary_type: BinaryType) -> dict[str, Any]:
    """A type's metadata in the shape of pyignite's ``get_binary_type`` answer."""
    by_id = {item.field_id: item for item in binary_type.fields.values()}
    schemas = [
        {by_id[fid].name: _hint(by_id[fid].type_code) for fid in schema.field_ids if fid in by_id}
        for schema in binary_type.schemas.values()
    ]
    described: dict[str, Any] = {
        "type_exists": True,
        "type_id": binary_type.type_id,
        "type_name": binary_type.type_name,
        "affinity_key_field": binary_type.affinity_key_field,
        "is_enum": binary_type.is_enum,
        "schemas": schemas,
    }
    if binary_type.is_enum:
        described["enums"] = [
            {"literal": name, "type_id": ordinal}
            for name, ordinal in binary_type.enum_values.items()
        ]
    return described


def _hint(type_code: int) -> IgniteType | int:
    try:
        return IgniteType(type_code)
    except ValueError:
        return type_code  # a type code this client does not know
