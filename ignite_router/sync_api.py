"""The blocking client's public API: each method builds its step and runs it.

``Client`` (``ignite_router.client``) is this API over blocking sockets;
the steps come from :class:`~ignite_router.client_steps.ClientSteps`, written once
for both clients. Names, arguments and results follow pyignite's ``Client``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, overload

from ignite_router.api import ClientBase
from ignite_router.cache import Cache, Hint
from ignite_router.client_steps import BestNode, CacheRef, cache_name
from ignite_router.core.topology import CacheMap
from ignite_router.cursors import Cursor
from ignite_router.protocol.messages.cluster import ClusterState, NodeDetails
from ignite_router.protocol.values import BinaryType
from ignite_router.transactions import Transaction, TransactionSteps, TxConcurrency, TxIsolation

__all__ = ["Cluster", "SyncClientApi"]


class SyncClientApi(ClientBase):
    """Caches, cluster, binary types, SQL and transactions, with blocking calls."""

    # -- caches -------------------------------------------------------------------------------

    def get_cache(self, settings: str | Mapping[int, Any]) -> Cache:
        """A cache by name (or a configuration holding only its name); no request is sent."""
        return Cache(self, cache_name(settings, only_name=True))

    def create_cache(self, settings: str | Mapping[int, Any]) -> Cache:
        """Create a cache by name or configuration (``CacheProperty`` -> value); a
        ``ServerError`` if it exists."""
        return Cache(self, self.run(self.steps.cache(settings, create=True)))

    def get_or_create_cache(self, settings: str | Mapping[int, Any]) -> Cache:
        """The cache, created first if it does not exist."""
        return Cache(self, self.run(self.steps.cache(settings, create=False)))

    def get_cache_names(self) -> list[str]:
        names: list[str] = self.run(self.steps.cache_names())
        return names

    # -- routing and the cluster --------------------------------------------------------------

    def get_best_node(self, cache: CacheRef, key: Any = None, key_hint: Hint = None) -> BestNode:
        """The node a key operation on ``cache`` goes to (pyignite's ``get_best_node``);
        fetches the cache's partition map first if none is known."""
        best: BestNode = self.run(self.steps.best_node(cache, key, key_hint))
        return best

    def refresh_partitions(self, cache: CacheRef) -> CacheMap | None:
        """Fetch the cache's partition map now (OP_CACHE_PARTITIONS); None if the server
        has none."""
        found: CacheMap | None = self.run(self.steps.refresh(cache))
        return found

    def cluster_nodes(self) -> list[NodeDetails]:
        """Every server node the cluster reports (ops 5100 + 5101): id, consistent id,
        addresses, order, attributes."""
        nodes: list[NodeDetails] = self.run(self.steps.cluster_nodes())
        return nodes

    def get_cluster(self) -> Cluster:
        """pyignite's cluster facade (``get_state`` / ``set_state``)."""
        return Cluster(self)

    def get_cluster_state(self) -> ClusterState:
        state: ClusterState = self.run(self.steps.cluster_state())
        return state

    def set_cluster_state(self, state: int) -> None:
        self.run(self.steps.set_cluster_state(state))

    # -- binary types ---------------------------------------------------------------------------

    def put_binary_type(
        self,
        type_name: str | BinaryType,
        affinity_key_field: str | None = None,
        is_enum: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register a binary type with the cluster (OP 3003): pyignite's arguments (``schema``
        maps field names to type hints, or an enum's names to ordinals) or a ``BinaryType``.
        Returns ``{"type_id": ..., "schema_id": ...}``."""
        step = self.steps.put_binary_type(type_name, affinity_key_field, is_enum, schema)
        result: dict[str, Any] = self.run(step)
        return result

    def get_binary_type(self, binary_type: str | int) -> dict[str, Any]:
        """A type's metadata from the cluster (OP 3002), as pyignite describes it."""
        result: dict[str, Any] = self.run(self.steps.get_binary_type(binary_type))
        return result

    def register_binary_type(self, data_class: type, affinity_key_field: str | None = None) -> None:
        """pyignite's name for :meth:`register_dataclass` (the type name is the class's
        ``type_name`` attribute, if it has one)."""
        self.run(self.steps.register_binary_type(data_class, affinity_key_field))

    @overload
    def query_binary_type(self, binary_type: str | int, schema: None = None) -> dict[int, type]: ...

    @overload
    def query_binary_type(
        self, binary_type: str | int, schema: int | Mapping[str, Any]
    ) -> type | None: ...

    def query_binary_type(
        self, binary_type: str | int, schema: int | Mapping[str, Any] | None = None
    ) -> dict[int, type] | type | None:
        """The dataclass of a binary type, as pyignite answers: with ``schema`` (an id or
        field names) that schema's class or None, else ``{schema id: class}``."""
        found: dict[int, type] | type | None = self.run(
            self.steps.query_binary_type(binary_type, schema)
        )
        return found

    def register_dataclass(
        self,
        cls: type,
        type_name: str | None = None,
        affinity_key_field: str | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> None:
        """Register a dataclass as a binary type; its instances then travel as binary objects
        (keys too: ``affinity_key_field`` routes them by that field) and come back as
        instances. ``type_name`` defaults to ``module.QualName``."""
        self.run(self.steps.register_dataclass(cls, type_name, affinity_key_field, hints))

    # -- SQL and transactions -----------------------------------------------------------------

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
        cache: CacheRef | None = None,
    ) -> Cursor:
        """Run a SQL fields query now; the cursor yields its rows (lists of values), the
        field names first with ``include_field_names``."""
        state = self.steps.sql(
            query_str,
            page_size,
            query_args,
            schema,
            statement_type,
            distributed_joins,
            local,
            replicated_only,
            enforce_join_order,
            collocated,
            lazy,
            include_field_names,
            max_rows,
            timeout,
            cache,
        )
        return Cursor(self.run, state)

    def tx_start(
        self,
        concurrency: int = TxConcurrency.PESSIMISTIC,
        isolation: int = TxIsolation.REPEATABLE_READ,
        timeout: int | float | datetime.timedelta = 0,
        label: str | None = None,
    ) -> Transaction:
        """Start a transaction (``timeout`` in ms or a timedelta; 0 = none); use it with
        ``with``. Every cache operation of this thread goes through its node until it ends."""
        steps = TransactionSteps(self.session, concurrency, isolation, timeout, label)
        self.run(steps.start())
        return Transaction(self.run, steps)


class Cluster:
    """pyignite's ``Cluster``: the cluster state (ops 5000/5001)."""

    def __init__(self, client: SyncClientApi) -> None:
        self._client = client

    def get_state(self) -> ClusterState:
        return self._client.get_cluster_state()

    def set_state(self, state: int) -> None:
        self._client.set_cluster_state(state)
