"""The key-value API of one cache: ``CacheSteps`` (written once) and ``Cache`` (blocking).

``CacheSteps`` encodes each request once and returns a step of the core:
routing inputs (key hash, split by primary) and answer decoding included.
``Cache`` (here) and ``AioCache`` (``ignite_router.aio_cache``) run those
steps; their method names, arguments and results follow pyignite's ``Cache``
and ``AioCache``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ignite_router.affinity import IgniteType, cache_id
from ignite_router.core import answers
from ignite_router.core.engine import ReadBatch, Request, Step, parallel
from ignite_router.core.nodes import Node
from ignite_router.core.replicas import ReplicaReads
from ignite_router.cursors import Cursor, ScanCursorState
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_config import (
    decode_cache_configuration,
    encode_destroy_request,
)
from ignite_router.protocol.messages.cache_keys import CacheTarget, write_cache_prefix
from ignite_router.protocol.messages.cache_properties import (
    CacheProperty,
    ExpiryPolicy,
    WriteSynchronizationMode,
)
from ignite_router.protocol.messages.cache_properties import expiry_policy as as_expiry_policy
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import BinaryType, ComplexObject, write_value
from ignite_router.protocol.wire import I32
from ignite_router.transactions import TransactionSteps, current_transaction

if TYPE_CHECKING:
    from ignite_router.session import Session
    from ignite_router.sync_api import SyncClientApi

__all__ = ["Cache", "CacheSteps", "Hint", "Run", "make_expiry_policy"]

_PLAIN = (int, str, float, bool, bytes, type(None), uuid.UUID)
_PLAIN_TYPES = frozenset(_PLAIN)
# What a shell's run takes: a step, a lone key request, or a hedged view's multi-key read.
Run = Step | Request | ReadBatch
# Reads a view made by with_hedging or with_replica_reads may send to backup owners.
_BACKUP_READS = frozenset({OpCode.CACHE_GET, OpCode.CACHE_CONTAINS_KEY})
_HEDGED_MULTI = frozenset({OpCode.CACHE_GET_ALL, OpCode.CACHE_CONTAINS_KEYS})
# A type hint: an IgniteType, a type code, or a hint class (``ignite_router.datatypes``'s or
# pyignite's); None: the value's default mapping.
Hint = IgniteType | int | type | None
Ttl = int | datetime.timedelta | None  # ms or a timedelta; None leaves the TTL unchanged


def make_expiry_policy(policy: Any, create: Ttl, update: Ttl, access: Ttl) -> ExpiryPolicy | None:
    """``with_expire_policy``'s arguments as one policy: ``policy`` (ours or pyignite's),
    else the three TTLs."""
    if policy is not None:
        return as_expiry_policy(policy)
    return ExpiryPolicy(*(-2 if ttl is None else ttl for ttl in (create, update, access)))


def as_replica_reads(strategy: str | ReplicaReads) -> ReplicaReads:
    """The replica read strategy named ``strategy`` (``ParameterError`` if none)."""
    try:
        return ReplicaReads(strategy)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in ReplicaReads)
        raise ParameterError(
            f"replica read strategy must be one of {choices}, got {strategy!r}"
        ) from None


class CacheSteps:
    """Every operation on one cache (by name; the id is its Java ``String.hashCode``),
    each built as a step of the core."""

    def __init__(self, session: Session, name: str, expiry: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise ParameterError(f"a cache name must be a non-empty str, got {name!r}")
        self.session = session
        self.name = name
        self.cache_id = cache_id(name)
        self.expiry = as_expiry_policy(expiry)  # ours or pyignite's
        self._prefix: bytes | None = None  # cache id, flags, expiry: written once
        self._core = session.core
        self._wire = session.codec
        self._value = answers.reader_of_value(self._core.types, self._wire.from_wire)
        self._pairs = answers.reader_of_pairs(self._core.types, self._wire.from_wire)
        # How this view's single-key reads may use backup owners (with_hedging,
        # with_replica_reads); the core decides per request.
        self.hedge = False
        self.spread: ReplicaReads | None = None

    # -- encoding ---------------------------------------------------------------------------

    def _begin(self, op_code: int) -> tuple[bytearray, int, TransactionSteps | None]:
        transaction = current_transaction(self.session)
        frame = bytearray()
        start = begin_request(frame, op_code, self._core.next_request_id())
        if transaction is None and self._prefix is not None:
            frame += self._prefix  # the same bytes for every request outside a transaction
            return frame, start, None
        context = self.session.context()
        tx_id = transaction.tx_id if transaction is not None else None
        prefix_start = len(frame)
        write_cache_prefix(
            frame, context, CacheTarget(self.cache_id, expiry=self.expiry, tx_id=tx_id)
        )
        if transaction is None:
            self._prefix = bytes(frame[prefix_start:])
        return frame, start, transaction

    def _request(
        self,
        name: str,
        frame: bytearray,
        decode: Any,
        transaction: TransactionSteps | None,
        *values: Any,
    ) -> Request:
        return Request(
            name,
            frame,
            decode,
            cache_id=self.cache_id,
            node=transaction.node if transaction is not None else None,
            in_transaction=transaction is not None,
            register=self._types_of(values),
        )

    def _types_of(self, values: Iterable[Any]) -> tuple[BinaryType, ...]:
        found: dict[int, BinaryType] = {}
        stack = [value for value in values if not isinstance(value, _PLAIN)]
        while stack:
            value = stack.pop()
            if isinstance(value, ComplexObject):
                if isinstance(value.type_name, str) and all(
                    isinstance(name, str) for name in value.fields
                ):
                    found.setdefault(value.type_id, self._core.types.binary_type_for(value))
                stack.extend(value.values().values())
            elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], IgniteType):
                stack.append(value[0])
            elif isinstance(value, list | tuple | set | frozenset):
                stack.extend(value)
            elif isinstance(value, dict):
                stack.extend(value)
                stack.extend(value.values())
        return tuple(found.values())

    def _key_op(
        self,
        name: str,
        op_code: int,
        decode: Any,
        key: Any,
        key_hint: Hint,
        *values: tuple[Any, IgniteType | None],
    ) -> Request:
        to_wire = self._wire.to_wire  # dataclass and pyignite-class instances as binary objects
        key = to_wire(key)
        frame, start, transaction = self._begin(op_code)
        write_value(frame, key, key_hint)
        written = [key]
        for value, hint in values:
            value = to_wire(value)
            write_value(frame, value, hint)
            written.append(value)
        finish_frame(frame, start)
        request = self._request(name, frame, decode, transaction, *written)
        request.key_hash = self._core.key_hash(self.cache_id, key, key_hint)
        if (self.hedge or self.spread is not None) and op_code in _BACKUP_READS:
            request.hedge = self.hedge
            request.spread = self.spread
        return request  # the shell's run may send a routine one straight to the primary

    def _whole_op(self, name: str, op_code: int, decode: Any, body: bytes = b"") -> Step:
        frame, start, transaction = self._begin(op_code)
        frame += body
        finish_frame(frame, start)
        return self._core.execute(self._request(name, frame, decode, transaction))

    def _multi_op(
        self,
        name: str,
        op_code: int,
        decode: Any,
        items: list[tuple[Any, ...]],
        merge: Callable[[list[Any]], Any],
    ) -> Run:
        """A multi-key operation, split into one sub-request per primary node (a hedged
        view's reads: per primary and backup owner, as a :class:`ReadBatch`).

        ``items`` are ``(key, key_hint[, value, value_hint])`` tuples; ``merge``
        turns the sub-results (one per node) into the answer.
        """
        core = self._core
        cache_id = self.cache_id
        if self._wire or any(type(v) not in _PLAIN_TYPES for item in items for v in item[::2]):
            to_wire = self._wire.to_wire
            items = [
                (to_wire(item[0]), item[1], *((to_wire(item[2]), item[3]) if item[2:] else ()))
                for item in items
            ]
        hashed = []
        for item in items:
            key = item[0]
            if type(key) not in _PLAIN and getattr(key, "hash_code", 0) is None:
                write_value(bytearray(), key, item[1])  # fixes the hash in its header
            hashed.append((core.key_hash(cache_id, key, item[1]), item))
        transaction = current_transaction(self.session)
        register = self._types_of(value for item in items for value in item[::2])

        def request_for(group: list[tuple[int, Any]], node: Node | None) -> Request:
            frame, start, _ = self._begin(op_code)
            frame += I32.pack(len(group))
            for _, item in group:  # each key (and value) encoded once, into its frame
                write_value(frame, item[0], item[1])
                if len(item) == 4:
                    write_value(frame, item[2], item[3])
            finish_frame(frame, start)
            request = self._request(name, frame, decode, transaction)
            request.register = register
            request.prefer = node
            return request

        groups: dict[Node | None, list[tuple[int, Any]]]
        if transaction is not None or not core.partition_aware:
            groups = {None: hashed}
        elif self.hedge and op_code in _HEDGED_MULTI:
            requests = []
            for (primary, _), group in core.split_by_owners(cache_id, hashed).items():
                request = request_for(group, primary)
                if primary is not None:  # keys that share both owners: hedged as one
                    request.key_hash = group[0][0]
                    request.hedge = True
                    request.spread = self.spread
                requests.append(request)
            return ReadBatch(requests, merge)
        else:
            groups = core.split_by_node(cache_id, hashed)
        steps = [core.execute(request_for(group, node)) for node, group in groups.items()]
        return _merged(parallel(steps), merge)

    # -- single key -------------------------------------------------------------------------

    def get(self, key: Any, key_hint: Any) -> Run:
        return self._key_op("get", OpCode.CACHE_GET, self._value, key, key_hint)

    def put(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "put", OpCode.CACHE_PUT, answers.nothing, key, key_hint, (value, value_hint)
        )

    def put_if_absent(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "put_if_absent",
            OpCode.CACHE_PUT_IF_ABSENT,
            answers.read_bool,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_put(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "get_and_put", OpCode.CACHE_GET_AND_PUT, self._value, key, key_hint, (value, value_hint)
        )

    def get_and_put_if_absent(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "get_and_put_if_absent",
            OpCode.CACHE_GET_AND_PUT_IF_ABSENT,
            self._value,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_replace(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "get_and_replace",
            OpCode.CACHE_GET_AND_REPLACE,
            self._value,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_remove(self, key: Any, key_hint: Any) -> Run:
        return self._key_op(
            "get_and_remove", OpCode.CACHE_GET_AND_REMOVE, self._value, key, key_hint
        )

    def replace(self, key: Any, value: Any, key_hint: Any, value_hint: Any) -> Run:
        return self._key_op(
            "replace", OpCode.CACHE_REPLACE, answers.read_bool, key, key_hint, (value, value_hint)
        )

    def replace_if_equals(
        self,
        key: Any,
        sample: Any,
        value: Any,
        key_hint: Any,
        sample_hint: Any,
        value_hint: Any,
    ) -> Run:
        return self._key_op(
            "replace_if_equals",
            OpCode.CACHE_REPLACE_IF_EQUALS,
            answers.read_bool,
            key,
            key_hint,
            (sample, sample_hint),
            (value, value_hint),
        )

    def contains_key(self, key: Any, key_hint: Any) -> Run:
        return self._key_op(
            "contains_key", OpCode.CACHE_CONTAINS_KEY, answers.read_bool, key, key_hint
        )

    def clear_key(self, key: Any, key_hint: Any) -> Run:
        return self._key_op("clear_key", OpCode.CACHE_CLEAR_KEY, answers.nothing, key, key_hint)

    def remove_key(self, key: Any, key_hint: Any) -> Run:
        return self._key_op("remove_key", OpCode.CACHE_REMOVE_KEY, answers.read_bool, key, key_hint)

    def remove_if_equals(self, key: Any, sample: Any, key_hint: Any, sample_hint: Any) -> Run:
        return self._key_op(
            "remove_if_equals",
            OpCode.CACHE_REMOVE_IF_EQUALS,
            answers.read_bool,
            key,
            key_hint,
            (sample, sample_hint),
        )

    def local_peek(
        self, key: Any, node_id: uuid.UUID | None, peek_modes: Any, key_hint: Any
    ) -> Step:
        """The value ``key`` has in the storage of node ``node_id`` (sent there, never
        rerouted) or, without a node id, of the node the key is routed to (its primary)."""
        node = None
        if node_id is not None:
            node = self._core.registry.by_id.get(node_id)
            if node is None:
                raise ParameterError(f"no connection to node {node_id}")
        key = self._wire.to_wire(key)
        frame, start, _ = self._begin(OpCode.CACHE_LOCAL_PEEK)
        write_value(frame, key, key_hint)
        modes = _peek_modes(peek_modes)
        frame += I32.pack(len(modes)) + bytes(modes)
        finish_frame(frame, start)
        request = Request("local_peek", frame, self._value, cache_id=self.cache_id, node=node)
        if node is None:
            request.key_hash = self._core.key_hash(self.cache_id, key, key_hint)
        return self._core.execute(request)

    # -- several keys -----------------------------------------------------------------------

    def get_all(self, keys: Iterable[Any]) -> Run:
        items = [(key, None) for key in keys]
        return self._multi_op("get_all", OpCode.CACHE_GET_ALL, self._pairs, items, _merge_dicts)

    def put_all(self, pairs: Mapping[Any, Any]) -> Run:
        items = [(key, None, value, None) for key, value in dict(pairs).items()]
        return self._multi_op("put_all", OpCode.CACHE_PUT_ALL, answers.nothing, items, _none)

    def contains_keys(self, keys: Iterable[Any]) -> Run:
        items = [(key, None) for key in keys]
        return self._multi_op(
            "contains_keys", OpCode.CACHE_CONTAINS_KEYS, answers.read_bool, items, all
        )

    def clear_keys(self, keys: Iterable[Any]) -> Run:
        items = [(key, None) for key in keys]
        return self._multi_op("clear_keys", OpCode.CACHE_CLEAR_KEYS, answers.nothing, items, _none)

    def remove_keys(self, keys: Iterable[Any]) -> Run:
        items = [(key, None) for key in keys]
        return self._multi_op(
            "remove_keys", OpCode.CACHE_REMOVE_KEYS, answers.nothing, items, _none
        )

    # -- whole cache ------------------------------------------------------------------------

    def remove_all(self) -> Step:
        return self._whole_op("remove_all", OpCode.CACHE_REMOVE_ALL, answers.nothing)

    def clear(self, keys: Iterable[Any] | None) -> Run:
        """The whole cache, or (pyignite's ``clear(keys)``) just ``keys``."""
        if keys:
            return self.clear_keys(keys)
        return self._whole_op("clear", OpCode.CACHE_CLEAR, answers.nothing)

    def get_size(self, peek_modes: Any) -> Step:
        modes = _peek_modes(peek_modes)
        return self._whole_op(
            "get_size",
            OpCode.CACHE_GET_SIZE,
            answers.read_long,
            I32.pack(len(modes)) + bytes(modes),
        )

    def settings(self) -> Step:
        """The cache configuration, property code -> value (OP 1055)."""
        context = self.session.context()
        return self._whole_op(
            "cache_config",
            OpCode.CACHE_GET_CONFIGURATION,
            lambda view, pos: decode_cache_configuration(context, view, pos),
        )

    def enable_backup_reads(self, what: str, accept_stale: bool) -> Step:
        """Check the cache's configuration (OP 1055) and let the core send its reads to
        backup owners (``what``: "hedged" or "replica", for the error message).

        Without ``accept_stale``, only a cache whose backups serve reads from
        their own copy (``readFromBackup``) and are written before a write is
        acknowledged (``FULL_SYNC``) qualifies: any other may answer a read with
        a value older than an acknowledged write.
        """
        core = self._core
        settings = yield from self.settings()
        from_backup = bool(settings.get(CacheProperty.READ_FROM_BACKUP, True))
        mode = WriteSynchronizationMode(settings.get(CacheProperty.WRITE_SYNCHRONIZATION_MODE, 2))
        if not accept_stale and not (from_backup and mode is WriteSynchronizationMode.FULL_SYNC):
            raise ParameterError(
                f"cache {self.name!r} has readFromBackup={str(from_backup).lower()} and "
                f"{mode.name}: a {what} read may return a value older than an acknowledged "
                f"write ({what} reads need readFromBackup=true and FULL_SYNC); pass "
                "accept_stale=True to read from backups anyway"
            )
        core.enable_replicas(self.cache_id, int(settings.get(CacheProperty.BACKUPS_NUMBER, 0)))
        if core.tracker.maps.get(self.cache_id) is None:
            yield from core.refresh([self.cache_id])
        if core.replicas_outdated():
            yield from core.load_replicas()

    def destroy(self) -> Step:
        frame = bytearray()
        encode_destroy_request(frame, self._core.next_request_id(), self.cache_id)
        self._core.tracker.forget(self.cache_id)
        return self._core.execute(Request("destroy", frame, answers.nothing))

    def scan(self, page_size: int, partitions: int, local: bool) -> ScanCursorState:
        """A scan's cursor state: all entries as ``(key, value)`` pairs, page by page;
        ``partitions`` >= 0 scans one partition on its primary."""
        target = CacheTarget(self.cache_id, expiry=self.expiry)
        return ScanCursorState(self.session, target, page_size, partitions, local)


def _peek_modes(peek_modes: Any) -> list[int]:
    if peek_modes is None:
        return []
    if isinstance(peek_modes, int):
        return [int(PeekMode(peek_modes))]
    return [int(PeekMode(mode)) for mode in peek_modes]


def _merged(step: Step, merge: Callable[[list[Any]], Any]) -> Step:
    return merge((yield from step))


def _merge_dicts(parts: list[dict[Any, Any]]) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def _none(parts: list[Any]) -> None:
    return None


class Cache:
    """One cache of the cluster (blocking): pyignite's ``Cache`` methods; each one builds its
    step (:class:`CacheSteps`) and runs it."""

    def __init__(self, client: SyncClientApi, name: str, expiry_policy: Any = None) -> None:
        self.client = client
        self.steps = CacheSteps(client.session, name, expiry_policy)
        self._run = client.run

    def __repr__(self) -> str:
        return f"Cache({self.name!r})"

    @property
    def name(self) -> str:
        return self.steps.name

    @property
    def cache_id(self) -> int:
        return self.steps.cache_id

    def with_expire_policy(
        self,
        expiry_policy: Any = None,
        create: Ttl = None,
        update: Ttl = None,
        access: Ttl = None,
    ) -> Cache:
        """This cache with an expiry policy on every request: ``expiry_policy`` (ours or
        pyignite's) or the TTLs (ms or timedeltas; -1 eternal)."""
        policy = make_expiry_policy(expiry_policy, create, update, access)
        return Cache(self.client, self.name, policy)

    def with_hedging(self, *, accept_stale: bool = False) -> Cache:
        """This cache with hedged ``get`` and ``contains_key`` (the client's
        ``hedge`` policy): a read the primary has not answered within the hedge
        delay is sent to a backup owner too, and the first answer wins.

        Raises ``ParameterError`` for a cache that is not ``readFromBackup`` +
        ``FULL_SYNC`` unless ``accept_stale`` (docs/guide.md, "Hedged and replica
        reads").
        """
        if not self.client.core.hedging:
            raise ParameterError("hedging is off: create the client with hedge=HedgePolicy(...)")
        self._run(self.steps.enable_backup_reads("hedged", accept_stale))
        return self._reading_view(hedge=True, spread=self.steps.spread)

    def with_replica_reads(
        self, strategy: str | ReplicaReads = "round_robin", *, accept_stale: bool = False
    ) -> Cache:
        """This cache with ``get`` and ``contains_key`` spread over the key's owners
        (primary and backups): ``"round_robin"``, or ``"least_in_flight"`` (of two
        owners drawn at random, the one with fewer unanswered requests).

        The same consistency rule as :meth:`with_hedging` (docs/guide.md, "Hedged
        and replica reads"); the two combine.
        """
        spread = as_replica_reads(strategy)
        self._run(self.steps.enable_backup_reads("replica", accept_stale))
        return self._reading_view(hedge=self.steps.hedge, spread=spread)

    def _reading_view(self, hedge: bool, spread: ReplicaReads | None) -> Cache:
        view = Cache(self.client, self.name, self.steps.expiry)
        view.steps.hedge = hedge
        view.steps.spread = spread
        view._run = self.client.run_hedged
        return view

    @property
    def settings(self) -> dict[int, Any]:
        """The cache configuration, property code -> value (asked for on each access)."""
        result: dict[int, Any] = self._run(self.steps.settings())
        return result

    def destroy(self) -> None:
        self._run(self.steps.destroy())

    def get(self, key: Any, key_hint: Hint = None) -> Any:
        """The value for ``key``, or None."""
        return self._run(self.steps.get(key, key_hint))

    def put(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> None:
        self._run(self.steps.put(key, value, key_hint, value_hint))

    def get_all(self, keys: Iterable[Any]) -> dict[Any, Any]:
        """The keys that exist, with their values; split by primary node, sent together."""
        result: dict[Any, Any] = self._run(self.steps.get_all(keys))
        return result

    def put_all(self, pairs: Mapping[Any, Any]) -> None:
        self._run(self.steps.put_all(pairs))

    def replace(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> bool:
        return bool(self._run(self.steps.replace(key, value, key_hint, value_hint)))

    def clear(self, keys: Iterable[Any] | None = None) -> None:
        """Clear the cache, or only ``keys``."""
        self._run(self.steps.clear(keys))

    def clear_key(self, key: Any, key_hint: Hint = None) -> None:
        self._run(self.steps.clear_key(key, key_hint))

    def clear_keys(self, keys: Iterable[Any]) -> None:
        self._run(self.steps.clear_keys(keys))

    def contains_key(self, key: Any, key_hint: Hint = None) -> bool:
        return bool(self._run(self.steps.contains_key(key, key_hint)))

    def contains_keys(self, keys: Iterable[Any]) -> bool:
        return bool(self._run(self.steps.contains_keys(keys)))

    def get_and_put(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> Any:
        return self._run(self.steps.get_and_put(key, value, key_hint, value_hint))

    def get_and_put_if_absent(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> Any:
        return self._run(self.steps.get_and_put_if_absent(key, value, key_hint, value_hint))

    def put_if_absent(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> bool:
        return bool(self._run(self.steps.put_if_absent(key, value, key_hint, value_hint)))

    def get_and_remove(self, key: Any, key_hint: Hint = None) -> Any:
        return self._run(self.steps.get_and_remove(key, key_hint))

    def get_and_replace(
        self,
        key: Any,
        value: Any,
        key_hint: Hint = None,
        value_hint: Hint = None,
    ) -> Any:
        return self._run(self.steps.get_and_replace(key, value, key_hint, value_hint))

    def remove_key(self, key: Any, key_hint: Hint = None) -> bool:
        return bool(self._run(self.steps.remove_key(key, key_hint)))

    def remove_keys(self, keys: Iterable[Any]) -> None:
        self._run(self.steps.remove_keys(keys))

    def remove_all(self) -> None:
        self._run(self.steps.remove_all())

    def remove_if_equals(
        self,
        key: Any,
        sample: Any,
        key_hint: Hint = None,
        sample_hint: Hint = None,
    ) -> bool:
        return bool(self._run(self.steps.remove_if_equals(key, sample, key_hint, sample_hint)))

    def replace_if_equals(
        self,
        key: Any,
        sample: Any,
        value: Any,
        key_hint: Hint = None,
        sample_hint: Hint = None,
        value_hint: Hint = None,
    ) -> bool:
        step = self.steps.replace_if_equals(key, sample, value, key_hint, sample_hint, value_hint)
        return bool(self._run(step))

    def get_size(self, peek_modes: Any = None) -> int:
        return int(self._run(self.steps.get_size(peek_modes)))

    def local_peek(
        self,
        key: Any,
        node_id: uuid.UUID | None = None,
        peek_modes: Any = None,
        key_hint: Hint = None,
    ) -> Any:
        """The value ``key`` has in one node's own storage: node ``node_id``'s, or without
        one the node the key is routed to (its primary)."""
        return self._run(self.steps.local_peek(key, node_id, peek_modes, key_hint))

    def scan(self, page_size: int = 1, partitions: int = -1, local: bool = False) -> Cursor:
        """All entries as ``(key, value)`` pairs, page by page (the first page is read now);
        ``partitions`` >= 0 scans that partition on its primary."""
        return Cursor(self._run, self.steps.scan(page_size, partitions, local))
