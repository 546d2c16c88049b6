"""``Cache``: the key-value API of one cache, shared by ``Client`` and ``AioClient``.

Every method encodes its request once, hands a step of the core to the
client's driver and returns what the driver returns: the result for
``Client``, an awaitable of it for ``AioClient``. Method names, arguments and
semantics follow pyignite's ``Cache``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ignite_router.affinity import IgniteType, cache_id
from ignite_router.core import answers
from ignite_router.core.engine import Request, Step, parallel
from ignite_router.cursors import Cursor, ScanCursorState
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.messages.cache_config import (
    decode_cache_configuration,
    encode_destroy_request,
)
from ignite_router.protocol.messages.cache_keys import CacheTarget, ExpiryPolicy, write_cache_prefix
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import BinaryType, ComplexObject, write_value
from ignite_router.protocol.wire import I32
from ignite_router.transactions import current_transaction

if TYPE_CHECKING:
    from ignite_router.api import ClientBase

__all__ = ["Cache"]

_PLAIN = (int, str, float, bool, bytes, type(None), uuid.UUID)


def _ttl(value: int | float | datetime.timedelta | None) -> int:
    """An expiry duration in ms (pyignite's convention); -2 unchanged, -1 eternal."""
    if value is None:
        return -2
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)


class Cache:
    """One cache of the cluster, by name (the cache id is its Java ``String.hashCode``)."""

    def __init__(self, client: ClientBase, name: str, expiry: ExpiryPolicy | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a cache name must be a non-empty str, got {name!r}")
        self.client = client
        self.name = name
        self.cache_id = cache_id(name)
        self.expiry = expiry
        self._prefix: bytes | None = None  # cache id, flags, expiry: written once
        self._core = client.core
        self._wire = client.dataclasses
        self._value = answers.reader_of_value(self._core.types, self._wire.from_wire)
        self._pairs = answers.reader_of_pairs(self._core.types, self._wire.from_wire)

    def __repr__(self) -> str:
        return f"Cache({self.name!r})"

    def with_expire_policy(
        self,
        expiry_policy: ExpiryPolicy | None = None,
        create: int | datetime.timedelta | None = None,
        update: int | datetime.timedelta | None = None,
        access: int | datetime.timedelta | None = None,
    ) -> Cache:
        """This cache with an expiry policy on every request (TTLs in ms or timedeltas)."""
        if expiry_policy is None:
            expiry_policy = ExpiryPolicy(_ttl(create), _ttl(update), _ttl(access))
        return Cache(self.client, self.name, expiry_policy)

    # -- encoding ---------------------------------------------------------------------------

    def _begin(self, op_code: int) -> tuple[bytearray, int, Any]:
        transaction = current_transaction(self.client)
        frame = bytearray()
        start = begin_request(frame, op_code, self._core.next_request_id())
        if transaction is None and self._prefix is not None:
            frame += self._prefix  # the same bytes for every request outside a transaction
            return frame, start, None
        context = self.client.context()
        tx_id = transaction.tx_id if transaction is not None else None
        prefix_start = len(frame)
        write_cache_prefix(
            frame, context, CacheTarget(self.cache_id, expiry=self.expiry, tx_id=tx_id)
        )
        if transaction is None:
            self._prefix = bytes(frame[prefix_start:])
        return frame, start, transaction

    def _request(
        self, name: str, frame: bytearray, decode: Any, transaction: Any, *values: Any
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
        key_hint: IgniteType | None,
        *values: tuple[Any, IgniteType | None],
    ) -> Any:
        if self._wire:
            key = self._wire.to_wire(key)
            values = tuple((self._wire.to_wire(value), hint) for value, hint in values)
        frame, start, transaction = self._begin(op_code)
        write_value(frame, key, key_hint)
        for value, hint in values:
            write_value(frame, value, hint)
        finish_frame(frame, start)
        request = self._request(name, frame, decode, transaction, key, *(v for v, _ in values))
        request.key_hash = self._core.key_hash(self.cache_id, key, key_hint)
        return self.client.run(self._core.execute(request))

    def _whole_op(self, name: str, op_code: int, decode: Any, body: bytes = b"") -> Any:
        frame, start, transaction = self._begin(op_code)
        frame += body
        finish_frame(frame, start)
        request = self._request(name, frame, decode, transaction)
        return self.client.run(self._core.execute(request))

    def _multi_op(
        self,
        name: str,
        op_code: int,
        decode: Any,
        items: list[tuple[Any, ...]],
        merge: Callable[[list[Any]], Any],
    ) -> Any:
        """A multi-key operation, split into one sub-request per primary node.

        ``items`` are ``(key, key_hint[, value, value_hint])`` tuples; ``merge``
        turns the sub-results (one per node) into the answer.
        """
        core = self._core
        cache_id = self.cache_id
        if self._wire:
            items = [tuple(map(self._wire.to_wire, item)) for item in items]
        hashed = []
        for item in items:
            key = item[0]
            if type(key) not in _PLAIN and getattr(key, "hash_code", 0) is None:
                write_value(bytearray(), key, item[1])  # fixes the hash in its header
            hashed.append((core.key_hash(cache_id, key, item[1]), item))
        transaction = current_transaction(self.client)
        register = self._types_of(value for item in items for value in item[::2])
        groups: dict[Any, list[tuple[int, Any]]]
        if transaction is not None or not core.partition_aware:
            groups = {None: hashed}
        else:
            groups = core.split_by_node(cache_id, hashed)
        steps: list[Step] = []
        for node, group in groups.items():
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
            steps.append(core.execute(request))
        return self.client.run(_merged(parallel(steps), merge))

    # -- single key ---------------------------------------------------------------------

    def get(self, key: Any, key_hint: IgniteType | None = None) -> Any:
        """The value for ``key``, or None."""
        return self._key_op("get", OpCode.CACHE_GET, self._value, key, key_hint)

    def put(
        self,
        key: Any,
        value: Any,
        key_hint: IgniteType | None = None,
        value_hint: IgniteType | None = None,
    ) -> Any:
        return self._key_op(
            "put", OpCode.CACHE_PUT, answers.nothing, key, key_hint, (value, value_hint)
        )

    def put_if_absent(
        self, key: Any, value: Any, key_hint: Any = None, value_hint: Any = None
    ) -> Any:
        return self._key_op(
            "put_if_absent",
            OpCode.CACHE_PUT_IF_ABSENT,
            answers.read_bool,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_put(
        self, key: Any, value: Any, key_hint: Any = None, value_hint: Any = None
    ) -> Any:
        return self._key_op(
            "get_and_put",
            OpCode.CACHE_GET_AND_PUT,
            self._value,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_put_if_absent(
        self, key: Any, value: Any, key_hint: Any = None, value_hint: Any = None
    ) -> Any:
        return self._key_op(
            "get_and_put_if_absent",
            OpCode.CACHE_GET_AND_PUT_IF_ABSENT,
            self._value,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_replace(
        self, key: Any, value: Any, key_hint: Any = None, value_hint: Any = None
    ) -> Any:
        return self._key_op(
            "get_and_replace",
            OpCode.CACHE_GET_AND_REPLACE,
            self._value,
            key,
            key_hint,
            (value, value_hint),
        )

    def get_and_remove(self, key: Any, key_hint: Any = None) -> Any:
        return self._key_op(
            "get_and_remove", OpCode.CACHE_GET_AND_REMOVE, self._value, key, key_hint
        )

    def replace(self, key: Any, value: Any, key_hint: Any = None, value_hint: Any = None) -> Any:
        return self._key_op(
            "replace", OpCode.CACHE_REPLACE, answers.read_bool, key, key_hint, (value, value_hint)
        )

    def replace_if_equals(
        self,
        key: Any,
        sample: Any,
        value: Any,
        key_hint: Any = None,
        sample_hint: Any = None,
        value_hint: Any = None,
    ) -> Any:
        return self._key_op(
            "replace_if_equals",
            OpCode.CACHE_REPLACE_IF_EQUALS,
            answers.read_bool,
            key,
            key_hint,
            (sample, sample_hint),
            (value, value_hint),
        )

    def contains_key(self, key: Any, key_hint: Any = None) -> Any:
        return self._key_op(
            "contains_key", OpCode.CACHE_CONTAINS_KEY, answers.read_bool, key, key_hint
        )

    def clear_key(self, key: Any, key_hint: Any = None) -> Any:
        return self._key_op("clear_key", OpCode.CACHE_CLEAR_KEY, answers.nothing, key, key_hint)

    def remove_key(self, key: Any, key_hint: Any = None) -> Any:
        return self._key_op("remove_key", OpCode.CACHE_REMOVE_KEY, answers.read_bool, key, key_hint)

    def remove_if_equals(
        self, key: Any, sample: Any, key_hint: Any = None, sample_hint: Any = None
    ) -> Any:
        return self._key_op(
            "remove_if_equals",
            OpCode.CACHE_REMOVE_IF_EQUALS,
            answers.read_bool,
            key,
            key_hint,
            (sample, sample_hint),
        )

    def local_peek(
        self, key: Any, node_id: uuid.UUID, peek_modes: Any = None, key_hint: Any = None
    ) -> Any:
        """The value ``key`` has on node ``node_id`` itself (sent to that node, never rerouted)."""
        node = self._core.registry.by_id.get(node_id)
        if node is None:
            raise ValueError(f"no connection to node {node_id}")
        frame, start, _ = self._begin(OpCode.CACHE_LOCAL_PEEK)
        write_value(frame, key, key_hint)
        modes = _peek_modes(peek_modes)
        frame += I32.pack(len(modes)) + bytes(modes)
        finish_frame(frame, start)
        request = Request("local_peek", frame, self._value, cache_id=self.cache_id, node=node)
        return self.client.run(self._core.execute(request))

    # -- several keys -----------------------------------------------------------------------

    def get_all(self, keys: Iterable[Any]) -> Any:
        """A dict of the keys that exist; split by primary node, sent in parallel."""
        items = [(key, None) for key in keys]
        return self._multi_op("get_all", OpCode.CACHE_GET_ALL, self._pairs, items, _merge_dicts)

    def put_all(self, pairs: Mapping[Any, Any]) -> Any:
        items = [(key, None, value, None) for key, value in dict(pairs).items()]
        return self._multi_op("put_all", OpCode.CACHE_PUT_ALL, answers.nothing, items, _none)

    def contains_keys(self, keys: Iterable[Any]) -> Any:
        items = [(key, None) for key in keys]
        return self._multi_op(
            "contains_keys", OpCode.CACHE_CONTAINS_KEYS, answers.read_bool, items, all
        )

    def clear_keys(self, keys: Iterable[Any]) -> Any:
        items = [(key, None) for key in keys]
        return self._multi_op("clear_keys", OpCode.CACHE_CLEAR_KEYS, answers.nothing, items, _none)

    def remove_keys(self, keys: Iterable[Any]) -> Any:
        items = [(key, None) for key in keys]
        return self._multi_op(
            "remove_keys", OpCode.CACHE_REMOVE_KEYS, answers.nothing, items, _none
        )

    # -- whole cache ------------------------------------------------------------------------

    def remove_all(self) -> Any:
        return self._whole_op("remove_all", OpCode.CACHE_REMOVE_ALL, answers.nothing)

    def clear(self) -> Any:
        return self._whole_op("clear", OpCode.CACHE_CLEAR, answers.nothing)

    def get_size(self, peek_modes: Any = None) -> Any:
        modes = _peek_modes(peek_modes)
        return self._whole_op(
            "get_size",
            OpCode.CACHE_GET_SIZE,
            answers.read_long,
            I32.pack(len(modes)) + bytes(modes),
        )

    @property
    def settings(self) -> Any:
        """The cache configuration, property code -> value (OP 1055)."""
        context = self.client.context()
        return self._whole_op(
            "cache_config",
            OpCode.CACHE_GET_CONFIGURATION,
            lambda view, pos: decode_cache_configuration(context, view, pos),
        )

    def destroy(self) -> Any:
        frame = bytearray()
        encode_destroy_request(frame, self._core.next_request_id(), self.cache_id)
        self._core.tracker.forget(self.cache_id)
        return self.client.run(self._core.execute(Request("destroy", frame, answers.nothing)))

    def scan(self, page_size: int = 1, partitions: int = -1, local: bool = False) -> Cursor:
        """All entries as ``(key, value)`` pairs, page by page; ``partitions`` >= 0 scans one
        partition on its primary."""
        return Cursor(self.client, ScanCursorState(self, page_size, partitions, local))


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
