"""``ClientCore``: routing, failover, map refreshes and discovery, as plain generators.

An operation is a generator (:meth:`ClientCore.execute`) that yields batches
of :data:`Attempt` — ``(node, frame)`` pairs to send — and is sent back one
outcome per attempt: the :class:`~protocol.connection.Answer` or the
exception the shell met (connection lost, timeout, refused handshake). The
blocking and the asyncio shells drive the same generators; they differ only
in how they move bytes and wait.

Work the topology needs rides along with the operation that noticed it: a
partition-map refresh or an endpoint discovery is added to the operation's
batch (sent to a node in parallel with it), so no request waits an extra
round trip for a refresh, and at most one refresh is in flight.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ignite_router.affinity import CacheAffinity, affinity_hash, field_id, java_hash
from ignite_router.core.answers import nothing as decode_empty_lenient
from ignite_router.core.events import ClientListener, EventDispatcher
from ignite_router.core.metrics import ClientMetrics
from ignite_router.core.nodes import Endpoint, Node, NodeRegistry
from ignite_router.core.replicas import (
    CacheReplicas,
    HedgePolicy,
    ReplicaReads,
    ReplicaSet,
    choose_replica,
)
from ignite_router.core.topology import TopologyTracker
from ignite_router.errors import (
    AuthenticationError,
    ConnectionLostError,
    FailureClass,
    HandshakeError,
    IgniteError,
    NoNodeAvailableError,
    OutcomeUnknownError,
    ProtocolError,
    ServerError,
    TransactionLostError,
)
from ignite_router.policies import (
    DefaultRetryPolicy,
    ExponentialReconnect,
    FailedAttempt,
    RetryPolicy,
)
from ignite_router.protocol import HandshakeRequest, ProtocolContext
from ignite_router.protocol.connection import Answer, Handshaken
from ignite_router.protocol.errors import is_refusal
from ignite_router.protocol.header import patch_request_id, request_op_code
from ignite_router.protocol.messages.binary_types import (
    decode_binary_type_answer,
    encode_binary_type_get,
    encode_binary_type_put,
)
from ignite_router.protocol.messages.cluster import (
    ServerNodesFilter,
    decode_endpoints,
    decode_node_ids,
    decode_node_info,
    encode_endpoints_request,
    encode_node_ids_request,
    encode_node_info_request,
)
from ignite_router.protocol.messages.heartbeat import (
    decode_idle_timeout,
    encode_heartbeat,
    encode_idle_timeout_request,
)
from ignite_router.protocol.messages.partitions import (
    decode_partitions_response,
    encode_partitions_request,
)
from ignite_router.protocol.opcodes import Feature, OpCode, retry_safety
from ignite_router.protocol.values import BinaryType, BinaryTypeRegistry, UnknownSchemaError

__all__ = [
    "Attempt",
    "ClientCore",
    "Outcome",
    "Pause",
    "ReadBatch",
    "Request",
    "Route",
    "Step",
    "parallel",
]

Attempt = tuple[Node, bytes | bytearray]
Outcome = Answer | BaseException


NOT_ROUTINE = object()  # a fast-path outcome that the ordinary path must take over


class Pause(float):
    """What a step yields to wait that many seconds before its next batch (it is sent [])."""


Step = Generator[list[Attempt] | Pause, list[Outcome], Any]
Decoder = Callable[[memoryview, int], Any]

_SCHEMA_FETCHES = 4  # unknown schemas fetched per answer before giving up
_PLAIN_KEYS = frozenset({int, str, uuid.UUID, float, bool, bytes})  # never binary objects
# Failures after which the attempt may have been applied.
_DELIVERED = frozenset({FailureClass.PEER_GONE, FailureClass.OUTCOME_UNKNOWN})
# Reads that may be hedged or sent to a backup owner (outside a transaction): single-key
# reads, and the sub-requests of multi-key reads whose keys share their owners.
_HEDGEABLE = frozenset(
    {OpCode.CACHE_GET, OpCode.CACHE_CONTAINS_KEY, OpCode.CACHE_GET_ALL, OpCode.CACHE_CONTAINS_KEYS}
)
# When every node refused (a topology change under way), the plan is walked again after
# these pauses (seconds): an exchange usually ends within them.
REFUSAL_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


def failure_of(error: BaseException) -> FailureClass:
    """What a failed attempt's error says of its fate (anything unexpected: unknown)."""
    if isinstance(error, ConnectionLostError):
        return error.failure
    if isinstance(error, HandshakeError):
        return FailureClass.NOT_DELIVERED
    return FailureClass.OUTCOME_UNKNOWN


@dataclass(frozen=True, slots=True)
class Route:
    """Where a key goes: its partition, the primary's node id and endpoint, and why.

    ``reason`` is ``"primary"`` when the request goes to the key's primary,
    otherwise why it does not: ``"no-map"`` (not fetched yet),
    ``"not-applicable"`` (replicated or custom affinity), ``"unknown-node"``
    (the map names a node the client has no connection to),
    ``"primary-down"``, or ``"partition-awareness-off"``. ``owners``: for a
    cache with hedged reads, the partition's owners (primary first, then its
    backups) when they agree with the server's map; else empty.
    """

    partition: int | None
    node_id: uuid.UUID | None
    endpoint: Endpoint | None
    reason: str
    owners: tuple[uuid.UUID, ...] = ()


@dataclass(slots=True)
class Request:
    """One encoded request and how to route and decode it.

    ``frame`` is a complete request frame; its request id is patched per
    attempt. Routing: ``node`` pins it to one node (transactions, cursors,
    local peek: no failover); else ``cache_id`` + ``key_hash`` (or
    ``partition``) route it to the primary, or ``prefer`` names the primary
    (a multi-key sub-request); else any live node. ``hedge``: a read that may be
    hedged (:meth:`ClientCore.hedge_plan`), ``hedged``: it was also sent to a
    backup owner. ``spread``: a read that may go to any owner
    (:meth:`ClientCore.fast_node`), ``replica``: it went to a backup owner.
    """

    name: str
    frame: bytearray
    decode: Decoder
    cache_id: int | None = None
    key_hash: int | None = None
    partition: int | None = None
    node: Node | None = None
    prefer: Node | None = None
    in_transaction: bool = False
    register: tuple[BinaryType, ...] = ()
    answered_by: Node | None = None
    hedge: bool = False
    hedged: bool = False
    spread: ReplicaReads | None = None
    replica: bool = False


@dataclass(slots=True)
class ReadBatch:
    """A multi-key read of a hedged view: one request per group of keys that share their
    primary and the backup a hedge would go to (:meth:`ClientCore.split_by_owners`); the
    shell runs each as a hedged read and ``merge`` combines their results in order."""

    requests: list[Request]
    merge: Callable[[list[Any]], Any]


class ClientCore:
    """Everything both clients decide, with the clock passed in."""

    def __init__(
        self,
        handshake: HandshakeRequest,
        clock: Callable[[], float],
        *,
        partition_aware: bool = True,
        retry_policy: RetryPolicy | None = None,
        reconnect: Callable[[], Iterator[float]] | None = None,
        event_listeners: Sequence[ClientListener] = (),
        discovery: bool = True,
        heartbeat_interval: float | None = None,
        hedge: HedgePolicy | None = None,
    ) -> None:
        self.handshake = handshake
        self.clock = clock
        self.partition_aware = partition_aware
        self.retry_policy = retry_policy or DefaultRetryPolicy()
        self.registry = NodeRegistry(reconnect or ExponentialReconnect())
        self.tracker = TopologyTracker()
        self.metrics = ClientMetrics()
        self.events = EventDispatcher(
            event_listeners, clock=clock, context=lambda: self.context, tracker=self.tracker
        )
        self.types = BinaryTypeRegistry()
        self.context: ProtocolContext | None = None
        self.discovery = discovery
        self.heartbeat_interval = heartbeat_interval
        self._discovery_due = discovery
        self._registered: set[tuple[int, int]] = set()  # (type id, schema id) sent to the cluster
        self._looked_up: set[int] = set()  # key type ids whose metadata was asked for
        self._types_wanted: set[int] = set()  # key type ids to ask about (affinity fields)
        self._request_ids = iter(range(1, 1 << 62))
        self.hedging = hedge is not None
        self.replicas = ReplicaSet(hedge or HedgePolicy())
        self._replica_turns = 0  # replica reads so far (round robin)
        self._replica_rng = random.Random()

    # -- connections (the shells report) ---------------------------------------------------

    def next_request_id(self) -> int:
        return next(self._request_ids)

    def connected(self, node: Node, handshaken: Handshaken) -> None:
        """A handshake with ``node`` succeeded."""
        if self.context is None:
            self.context = handshaken.context
        first = node.node_id is None
        restarted = self.registry.mark_up(node, handshaken.node_id)
        if not first:
            node.metrics.reconnects += 1
        if restarted:
            self._discovery_due = self.discovery
        self.events.handshake_success(node.endpoint, handshaken.node_id)

    def connection_failed(self, node: Node, error: BaseException, *, handshake: bool) -> None:
        """Connecting to, or talking with, ``node`` failed; it is down until a reconnection."""
        was_up = self.registry.mark_down(node, error, self.clock())
        if handshake:
            self.events.handshake_failed(node.endpoint, error)
        elif was_up:
            self.events.connection_lost(node.endpoint, node.node_id, error)

    def observe(self, node: Node, version: tuple[int, int]) -> None:
        """A response header carried an affinity topology version."""
        node.reported_version = version
        old = self.tracker.version
        if self.tracker.observe(version):
            self.metrics.topology_changes += 1
            if old is not None:
                if version[0] != old[0]:
                    self._discovery_due = self.discovery
                self.events.topology_changed(old, version)

    # -- routing -------------------------------------------------------------------------

    def key_hash(self, cache_id: int, key: Any, hint: Any = None) -> int:
        """The hash the server partitions ``key`` by (affinity key fields applied).

        Complex keys must be encoded first (their header carries the hash).
        """
        if type(key) in _PLAIN_KEYS or getattr(key, "type_id", None) is None:
            return java_hash(key, hint)
        cache_map = self.tracker.maps.get(cache_id)
        key_config = cache_map.affinity.key_config if cache_map is not None else {}
        type_id = key.type_id
        if (
            type_id not in self.types
            and type_id not in self._looked_up
            and type_id not in key_config
        ):
            # Its affinity field may be in the cluster's binary metadata: ask once.
            self._types_wanted.add(type_id)

        def affinity_field(type_id: int) -> int | None:
            configured = key_config.get(type_id)
            if configured is not None:
                return configured
            known = self.types.get(type_id)
            if known is not None and known.affinity_key_field:
                return field_id(known.affinity_key_field)
            return None

        return affinity_hash(key, hint, affinity_field)

    def primary(self, cache_id: int, key_hash: int | None, partition: int | None) -> Route:
        """The node a key (or partition) of a cache should go to, and why (and, for a
        cache with hedged reads, the partition's owners)."""
        route = self._locate(cache_id, key_hash, partition)[0]
        cache_map = self.tracker.maps.get(cache_id)
        if route.partition is None or cache_map is None:
            return route
        primaries = cache_map.affinity.primaries
        owners = self.replicas.owners_of(cache_id, primaries, route.partition)
        return Route(route.partition, route.node_id, route.endpoint, route.reason, owners or ())

    def _locate(
        self, cache_id: int, key_hash: int | None, partition: int | None
    ) -> tuple[Route, Node | None]:
        """The route, and the primary's node when the request can go to it."""
        if not self.partition_aware:
            return Route(None, None, None, "partition-awareness-off"), None
        tracker = self.tracker
        cache_map = tracker.maps.get(cache_id)
        if cache_map is None:
            tracker.want(cache_id)
            return Route(None, None, None, "no-map"), None
        if not tracker.is_fresh(cache_map):
            tracker.want(cache_id)
        affinity = cache_map.affinity
        if not affinity.applicable:
            return Route(None, None, None, "not-applicable"), None
        if partition is None:
            if key_hash is None:
                return Route(None, None, None, "no-map"), None
            partition = affinity.partition_of(key_hash)
        if not 0 <= partition < len(affinity.primaries):
            return Route(None, None, None, "no-map"), None
        node_id = affinity.primaries[partition]
        node = self.registry.by_id.get(node_id) if node_id is not None else None
        if node is None:
            return Route(partition, node_id, None, "unknown-node"), None
        if not node.up:
            return Route(partition, node_id, node.endpoint, "primary-down"), None
        return Route(partition, node_id, node.endpoint, "primary"), node

    def split_by_node(
        self, cache_id: int, items: Sequence[tuple[int, Any]]
    ) -> dict[Node | None, list[tuple[int, Any]]]:
        """Group ``(key hash, payload)`` items by primary node (None: no primary known)."""
        cache_map = self.tracker.maps.get(cache_id)
        if cache_map is None:
            self.tracker.want(cache_id)
            return {None: list(items)}
        if not self.tracker.is_fresh(cache_map):
            self.tracker.want(cache_id)
        affinity = cache_map.affinity
        if not affinity.applicable:
            return {None: list(items)}
        partition_of = affinity.partition_of
        primaries = affinity.primaries
        by_id = self.registry.by_id
        groups: dict[Node | None, list[tuple[int, Any]]] = {}
        for item in items:
            node = by_id.get(primaries[partition_of(item[0])])  # type: ignore[arg-type]
            if node is not None and not node.up:
                node = None
            group = groups.get(node)
            if group is None:
                groups[node] = [item]
            else:
                group.append(item)
        return groups

    def split_by_owners(
        self, cache_id: int, items: Sequence[tuple[int, Any]]
    ) -> dict[tuple[Node | None, Node | None], list[tuple[int, Any]]]:
        """Group ``(key hash, payload)`` items by primary and the first live backup owner
        (the node a hedge goes to; None when unknown), so that each group can be hedged
        as one request."""
        groups: dict[tuple[Node | None, Node | None], list[tuple[int, Any]]] = {}
        cache_map = self.tracker.maps.get(cache_id)
        by_primary = self.split_by_node(cache_id, items)
        if cache_map is None or not cache_map.affinity.applicable:
            return {(node, None): group for node, group in by_primary.items()}
        affinity = cache_map.affinity
        by_id = self.registry.by_id
        for primary, group in by_primary.items():
            for item in group:
                owners = None
                if primary is not None:
                    partition = affinity.partition_of(item[0])
                    owners = self.replicas.owner_nodes(
                        cache_id, affinity.primaries, partition, by_id
                    )
                backup = None if owners is None else _live_backup(owners)
                groups.setdefault((primary, backup), []).append(item)
        return groups

    def batch_step(self, batch: ReadBatch) -> Step:
        """A read batch run the ordinary way: its requests in parallel, merged."""
        return batch.merge((yield from parallel([self.execute(r) for r in batch.requests])))

    # -- execution ------------------------------------------------------------------------

    def fast_node(self, request: Request) -> Node | None:
        """The primary a routine single-key request can be sent to directly, else None.

        Routine: partition-aware routing with a fresh map, the primary up, no
        type to register, no listener to tell, nothing the topology wants.
        The shell then sends the frame itself and decodes a plain answer; any
        other outcome goes to :meth:`execute` as its first attempt, so
        failover, refreshes and errors stay in one place.
        """
        cache_id = request.cache_id
        if cache_id is None or self.events.wants_queries or not self._routine(request):
            return None
        affinity = self._fresh_affinity(cache_id)
        if affinity is None:
            return None
        partition = request.partition
        if partition is None:
            if request.key_hash is None or not affinity.applicable:
                return None
            partition = affinity.partition_of(request.key_hash)
        elif not (affinity.applicable and 0 <= partition < len(affinity.primaries)):
            return None
        node_id = affinity.primaries[partition]
        node = self.registry.by_id.get(node_id) if node_id is not None else None
        if node is None or not node.up or not self.partition_aware:
            return None
        if request.spread is not None:
            return self._replica(request, partition, node, affinity.primaries)
        return node

    def fast_to(self, request: Request, node: Node) -> Node | None:
        """``node`` (a backup owner :meth:`hedge_plan` pointed the read at) when the shell
        may send the request there itself, as :meth:`fast_node` would; else None."""
        routine = node.up and not self.events.wants_queries and self._routine(request)
        return node if routine else None

    def _routine(self, request: Request) -> bool:
        """Nothing about the request or the client asks for the ordinary path (a listener
        that wants query events aside: a hedged read tells them itself)."""
        return not (
            request.register
            or request.node is not None
            or self._discovery_due
            or self._types_wanted
        )

    def _fresh_affinity(self, cache_id: int) -> CacheAffinity | None:
        """The cache's placement when its map is as new as the topology and no refresh is
        wanted (else None: the ordinary path fetches one)."""
        tracker = self.tracker
        cache_map = tracker.maps.get(cache_id)
        if cache_map is None or tracker.wanted or not tracker.is_fresh(cache_map):
            return None
        return cache_map.affinity

    def _replica(
        self, request: Request, partition: int, primary: Node, primaries: Sequence[Any]
    ) -> Node:
        """The owner a replica read goes to (the primary when the owners are not known)."""
        by_id = self.registry.by_id
        owners = self.replicas.owner_nodes(request.cache_id, primaries, partition, by_id)  # type: ignore[arg-type]
        if owners is None or request_op_code(request.frame) not in _HEDGEABLE:
            return primary
        live = [node for node in owners if node is not None and node.up]
        chosen: Node = choose_replica(
            request.spread,  # type: ignore[arg-type]
            live,
            self._replica_turns,
            _in_flight,
            self._replica_rng,
        )
        self._replica_turns += 1
        if chosen is not primary:
            request.replica = True
            request.prefer = chosen  # also where execute() starts, if the shell calls it
        return chosen

    def fast_answer(self, request: Request, outcome: Outcome) -> Any:
        """The result of a request the shell sent on :meth:`fast_node`'s word.

        A plain answer (success, no topology news, a known schema) is decoded
        here; anything else returns ``NOT_ROUTINE``, and the shell hands the
        outcome to :meth:`execute` as its first attempt. Touches no shared state
        (the shell counts the request with :meth:`fast_counted`), so it may decode
        outside its lock.
        """
        if type(outcome) is not Answer:
            return NOT_ROUTINE
        header = outcome.header
        if header.status or header.topology_version is not None:
            return NOT_ROUTINE
        try:
            result = request.decode(outcome.payload, header.body_offset)
        except UnknownSchemaError:
            return NOT_ROUTINE
        return result

    def fast_counted(self, node: Node, request: Request) -> None:
        """Count a request :meth:`fast_answer` settled (the shell's lock held, if it has one)."""
        metrics = node.metrics
        metrics.requests += 1
        if request.replica:
            self.metrics.replica_reads += 1
        else:
            metrics.to_primary += 1

    # -- hedged reads ----------------------------------------------------------------------

    def enable_replicas(self, cache_id: int, backups: int) -> None:
        """Reads of ``cache_id`` may go to its backup owners (the caller checked its
        configuration): the owner lists are kept from now on."""
        if cache_id not in self.replicas.caches:
            self.replicas.caches[cache_id] = CacheReplicas(backups)

    def replicas_outdated(self) -> bool:
        """Whether the server node list (for owner lists) must be read again first."""
        replicas = self.replicas
        if not replicas.caches:
            return False
        version = self.tracker.version
        return replicas.nodes_version != (version[0] if version is not None else None)

    def load_replicas(self) -> Step:
        """Read the server nodes (5100/5101) for the owner lists. On failure the old list
        stays until the next topology change (owner lists that disagree with the server's
        map are not used, so a stale list only leaves partitions unhedged)."""
        replicas = self.replicas
        version = self.tracker.version
        major = version[0] if version is not None else None
        try:
            details = yield from self.cluster_nodes()
        except IgniteError:
            replicas.nodes_version = major
            return
        nodes = [
            (node.order, node.consistent_id, node.node_id)
            for node in details
            if not node.client and node.consistent_id is not None
        ]
        replicas.set_nodes(nodes, major)

    def hedge_plan(self, request: Request) -> tuple[Node, Node, float | None] | None:
        """Where a read may be hedged: ``(primary, backup owner, delay in seconds)``; a
        None delay: not yet (the adaptive delay has too few answer times), only measure;
        0: the primary is known slow, the read goes to the backup alone (``prefer``).

        None when the read goes the ordinary way: not a hedged cache, not a
        single-key read outside a transaction, no fresh map, owners that
        disagree with the server's map, no live backup owner, or work the
        topology wants first.
        """
        replicas = self.replicas
        cache_id = request.cache_id
        if (
            not request.hedge
            or not self.hedging
            or cache_id not in replicas.caches
            or request.key_hash is None
            or request.in_transaction
            or not self.partition_aware
            or not self._routine(request)
            or request_op_code(request.frame) not in _HEDGEABLE
        ):
            return None
        affinity = self._fresh_affinity(cache_id)
        if affinity is None or not affinity.applicable:
            return None
        partition = affinity.partition_of(request.key_hash)
        owners = replicas.owner_nodes(cache_id, affinity.primaries, partition, self.registry.by_id)
        if owners is None:
            return None
        primary, backup = owners[0], _live_backup(owners)
        if primary is None or not primary.up or backup is None:
            return None
        replicas.budget.deposit()
        self.metrics.hedgeable_reads += 1
        delay = replicas.delay(primary, self.clock())
        if delay == 0:  # the primary is known slow: the read goes to the backup alone
            request.replica = True
            request.prefer = backup
        return primary, backup, delay

    def hedge_permit(self) -> bool:
        """Whether the budget allows a hedge now (counted as sent or denied)."""
        if self.replicas.budget.withdraw():
            self.metrics.hedges_sent += 1
            return True
        self.metrics.hedges_denied += 1
        return False

    def hedge_answered(self, primary: Node, node: Node, seconds: float) -> None:
        """A hedged-path read of ``primary`` was answered first by ``node`` (the primary or
        the backup the hedge went to), ``seconds`` after it was sent there."""
        self.replicas.answered(primary, node, seconds)
        if node is not primary:
            self.metrics.hedges_won += 1

    def execute(self, request: Request, first: tuple[Node, Outcome] | None = None) -> Step:
        """Send ``request`` along its plan until a node answers; returns the decoded body.

        ``first`` is an attempt the shell already made (a fast-path send to
        :meth:`fast_node`'s node) and its outcome: the plan starts there.
        """
        if request.register:
            yield from self._register_types(request)
        routed = request.key_hash is not None or request.partition is not None
        primary = request.prefer
        if first is not None:
            primary = first[0]  # tried already, whatever its state is now
            rest = (node for node in self.registry.plan(None) if node is not primary)
            plan: Iterator[Node] = itertools.chain((primary,), rest)
        elif request.node is not None:
            plan = iter((request.node,))
        else:
            if primary is not None:
                routed = True
            elif routed and request.cache_id is not None:
                primary = self._locate(request.cache_id, request.key_hash, request.partition)[1]
            plan = self.registry.plan(primary)
        errors: dict[Endpoint, BaseException] = {}
        maybe_applied = False
        attempt = 0
        pauses = iter(REFUSAL_PAUSES)
        while True:
            refused = given_up = False
            for node in plan:
                attempt += 1
                frame = request.frame
                if attempt > 1:
                    patch_request_id(frame, self.next_request_id())
                    node.metrics.retries += 1
                    self.events.retry(request.name, node.endpoint, attempt)
                node.metrics.requests += 1
                if routed:
                    if node is not primary:
                        node.metrics.fallback += 1
                    elif request.replica:
                        self.metrics.replica_reads += 1
                    else:
                        node.metrics.to_primary += 1
                side = self._side_work(node) if first is None else None
                query = None
                if self.events.wants_queries:
                    to_primary = node is primary if routed else None
                    query = self.events.query_start(request, node, to_primary, attempt)
                if first is not None:
                    outcome = first[1]
                    first = None
                elif side:
                    outcomes = yield [(node, frame), *[(target, body) for target, body, _ in side]]
                    for (target, _, settle), outcome in zip(side, outcomes[1:], strict=True):
                        if type(outcome) is Answer and outcome.header.topology_version:
                            self.observe(target, outcome.header.topology_version)
                        settle(outcome)
                    outcome = outcomes[0]
                else:
                    (outcome,) = yield [(node, frame)]
                if isinstance(outcome, Answer):
                    header = outcome.header
                    status = header.status
                    message = header.message
                    if not status or request.node is not None or not is_refusal(status, message):
                        request.answered_by = node
                        if query is None:
                            return (yield from self._decode(node, request, outcome))
                        try:
                            result = yield from self._decode(node, request, outcome)
                        except IgniteError as failed_decode:
                            self.events.query_fail(query, failed_decode, None)
                            raise
                        self.events.query_success(query)
                        return result
                    if header.topology_version is not None:
                        self.observe(node, header.topology_version)
                    error: BaseException = ServerError(status, message)
                    failure = FailureClass.REFUSED
                    refused = True
                else:
                    error = outcome
                    failure = failure_of(outcome)
                if query is not None:
                    self.events.query_fail(query, error, failure)
                self._check_fatal(request, error)
                errors[node.endpoint] = error
                maybe_applied = maybe_applied or failure in _DELIVERED
                node.metrics.failovers += 1
                self.events.failover(request.name, node.endpoint, error, attempt, failure)
                if request.node is not None:
                    raise error
                op_code = request_op_code(frame)
                failed = FailedAttempt(
                    request.name, op_code, retry_safety(op_code), failure, error, attempt
                )
                if not self.retry_policy.should_retry(failed):
                    if failure in _DELIVERED:
                        raise OutcomeUnknownError(request.name, node.endpoint, failure) from error
                    given_up = True
                    break
            pause = next(pauses, None) if refused and not given_up else None
            if pause is None:
                raise NoNodeAvailableError(request.name, errors, maybe_applied)
            yield Pause(pause)  # a topology change under way: walk the plan again after it
            if routed and request.cache_id is not None and request.prefer is None:
                primary = self._locate(request.cache_id, request.key_hash, request.partition)[1]
            plan = self.registry.plan(primary)

    def _check_fatal(self, request: Request, error: BaseException) -> None:
        if isinstance(error, AuthenticationError | HandshakeError):
            raise error
        if request.in_transaction:
            raise TransactionLostError(
                "Transaction context has been lost: its connection broke",
                request.node.endpoint if request.node is not None else None,
            ) from error

    def _decode(self, node: Node, request: Request, answer: Answer) -> Step:
        header = answer.header
        if header.topology_version is not None:
            self.observe(node, header.topology_version)
        header.raise_for_status()
        for _ in range(_SCHEMA_FETCHES):
            try:
                return request.decode(answer.payload, header.body_offset)
            except UnknownSchemaError as error:
                yield from self._fetch_type(node, error.type_id)
        return request.decode(answer.payload, header.body_offset)

    def _fetch_type(self, node: Node, type_id: int) -> Step:
        frame = bytearray()
        encode_binary_type_get(frame, self.next_request_id(), type_id)
        (outcome,) = yield [(node, frame)]
        if isinstance(outcome, BaseException):
            raise outcome
        outcome.header.raise_for_status()
        found = decode_binary_type_answer(outcome.payload, outcome.header.body_offset)
        if found is None:
            raise UnknownSchemaError(type_id, 0, 0)
        self.types.add(found)
        self._looked_up.add(type_id)

    def registered(self, binary_type: BinaryType) -> None:
        """``binary_type`` is known to the cluster: never send it again, decode with it."""
        self._registered.update((binary_type.type_id, schema) for schema in binary_type.schemas)
        self.types.add(binary_type)

    def _register_types(self, request: Request) -> Step:
        """Register binary types before the first request that writes them (OP 3003).

        The cluster's metadata of a type is read first (OP 3002): the server
        refuses a registration whose affinity key field differs from the one it
        has (``BinaryUtils.mergeMetadata``), so an object built here inherits
        that field, and a schema the cluster knows is not sent again.
        """
        for binary_type in request.register:
            keys = {(binary_type.type_id, schema) for schema in binary_type.schemas}
            if keys <= self._registered:
                continue
            frame = bytearray()
            encode_binary_type_get(frame, self.next_request_id(), binary_type.type_id)
            known = yield from self._send_once(request, frame, decode_binary_type_answer)
            self._looked_up.add(binary_type.type_id)
            if known is not None:
                self.types.add(known)
                if binary_type.affinity_key_field is None:
                    binary_type.affinity_key_field = known.affinity_key_field
                if all(schema in known.schemas for schema in binary_type.schemas):
                    self._registered |= keys
                    continue
            frame = bytearray()
            encode_binary_type_put(frame, self.next_request_id(), binary_type)
            yield from self._send_once(request, frame, decode_empty_lenient)
            self.registered(binary_type)

    def _send_once(self, request: Request, frame: bytearray, decode: Decoder) -> Step:
        """A metadata request on ``request``'s node, or on the first live node that answers."""
        node = request.node
        errors: dict[Endpoint, BaseException] = {}
        for candidate in [node] if node is not None else self.registry.plan(None):
            (outcome,) = yield [(candidate, frame)]
            if isinstance(outcome, Answer):
                outcome.header.raise_for_status()
                return decode(outcome.payload, outcome.header.body_offset)
            self._check_fatal(request, outcome)
            errors[candidate.endpoint] = outcome
            patch_request_id(frame, self.next_request_id())
        raise NoNodeAvailableError(request.name, errors)

    # -- explicit topology requests ----------------------------------------------------------

    def refresh(self, cache_ids: Sequence[int]) -> Step:
        """Fetch partition maps now; returns the first cache's map (None if not served)."""
        context = self.context or ProtocolContext()
        frame = bytearray()
        encode_partitions_request(frame, context, self.next_request_id(), cache_ids)

        def decode(view: memoryview, pos: int) -> Any:
            return decode_partitions_response(view, pos, context).to_partition_map()

        request = Request("partitions", frame, decode)
        partition_map = yield from self.execute(request)
        if request.answered_by is not None:  # before install: a newer version is news
            self.observe(request.answered_by, partition_map.version)
        if self.tracker.install(partition_map, [], self.clock()):
            self.metrics.map_refreshes += 1
        return self.tracker.maps.get(cache_ids[0]) if cache_ids else None

    def cluster_nodes(self) -> Step:
        """Server nodes and their details (5100 then 5101)."""
        frame = bytearray()
        encode_node_ids_request(frame, self.next_request_id(), -1, [ServerNodesFilter(True)])
        answer = yield from self.execute(Request("cluster_nodes", frame, decode_node_ids))
        if answer is None or not answer.node_ids:
            return []
        frame = bytearray()
        encode_node_info_request(frame, self.next_request_id(), answer.node_ids)
        return (yield from self.execute(Request("cluster_nodes", frame, decode_node_info)))

    # -- heartbeats (feature 11) -----------------------------------------------------------

    def heartbeats_due(self, now: float) -> list[Node]:
        """Live nodes that have sent nothing for their heartbeat interval."""
        if self.heartbeat_interval is None or not (
            self.context is not None and self.context.supports(Feature.HEARTBEAT)
        ):
            return []
        due = []
        for node in self.registry.nodes:
            every = node.heartbeat_every or self.heartbeat_interval
            if node.up and now - node.last_sent >= every:
                due.append(node)
        return due

    def heartbeat(self, node: Node) -> Step:
        """Op 1 to ``node``; the first time, op 2 first to learn the server's idle timeout:
        the interval is then min(configured, max(idle / 3, 0.5 s)), as the Java client does."""
        configured = self.heartbeat_interval or 0.0
        if node.heartbeat_every is None:
            frame = bytearray()
            encode_idle_timeout_request(frame, self.next_request_id())
            idle_ms = yield from self.execute(
                Request("heartbeat", frame, decode_idle_timeout, node=node)
            )
            idle = idle_ms / 1000
            node.heartbeat_every = configured if idle <= 0 else min(configured, max(idle / 3, 0.5))
        frame = bytearray()
        encode_heartbeat(frame, self.next_request_id())
        yield from self.execute(Request("heartbeat", frame, decode_empty_lenient, node=node))

    # -- work that rides along -------------------------------------------------------------

    def _side_work(self, node: Node) -> list[tuple[Node, bytearray, Callable[[Outcome], None]]]:
        """Key-type metadata, a partition-map refresh, a discovery: what to send with a
        request to ``node``."""
        context = self.context
        if context is None or not node.up:
            return []
        if not (self.tracker.wanted or self._discovery_due or self._types_wanted):
            return []
        side: list[tuple[Node, bytearray, Callable[[Outcome], None]]] = []
        while self._types_wanted:
            type_id = self._types_wanted.pop()
            self._looked_up.add(type_id)
            frame = bytearray()
            encode_binary_type_get(frame, self.next_request_id(), type_id)
            side.append((node, frame, self._metadata_settler))
        if self.partition_aware:
            cache_ids = self.tracker.begin_refresh(self.clock())
            if cache_ids is not None:
                target = self._refresh_target(node)
                frame = bytearray()
                encode_partitions_request(frame, context, self.next_request_id(), cache_ids)
                side.append((target, frame, self._refresh_settler(target, cache_ids)))
        if self._discovery_due and context.supports(Feature.CLUSTER_GROUP_GET_NODES_ENDPOINTS):
            self._discovery_due = False
            frame = bytearray()
            encode_endpoints_request(frame, self.next_request_id())
            side.append((node, frame, self._discovery_settler(node)))
        return side

    def _metadata_settler(self, outcome: Outcome) -> None:
        """A key type's metadata arrived: its affinity field now applies to routing."""
        if isinstance(outcome, BaseException) or outcome.header.status:
            return  # routing by the whole key is only slower, never wrong
        try:
            found = decode_binary_type_answer(outcome.payload, outcome.header.body_offset)
        except ProtocolError:
            return
        if found is not None:
            self.types.add(found)

    def _refresh_target(self, fallback: Node) -> Node:
        """A live node that reported the newest version (it has its map), else ``fallback``."""
        newest = self.tracker.version
        if fallback.reported_version == newest:
            return fallback
        for node in self.registry.nodes:
            if node.up and node.reported_version == newest:
                return node
        return fallback

    def _refresh_settler(self, node: Node, cache_ids: list[int]) -> Callable[[Outcome], None]:
        def settle(outcome: Outcome) -> None:
            if isinstance(outcome, BaseException):
                self.tracker.refresh_failed(cache_ids)
                return
            header = outcome.header
            if header.status:
                self.tracker.refresh_failed(cache_ids)
                return
            try:
                response = decode_partitions_response(
                    outcome.payload, header.body_offset, self.context
                )
                partition_map = response.to_partition_map()
            except ProtocolError:  # the operation it rode with is not at fault
                self.tracker.refresh_failed(cache_ids)
                return
            # The map's version may be the first news of a change (the header that
            # carried it answered a request nobody waited for any more).
            self.observe(node, partition_map.version)
            if self.tracker.install(partition_map, cache_ids, self.clock()):
                self.metrics.map_refreshes += 1
                caches = list(partition_map.caches)
                self.events.map_refreshed(partition_map.version, caches)

        return settle

    def _discovery_settler(self, node: Node) -> Callable[[Outcome], None]:
        def settle(outcome: Outcome) -> None:
            if isinstance(outcome, BaseException) or outcome.header.status:
                self._discovery_due = self.discovery
                return
            answer = decode_endpoints(outcome.payload, outcome.header.body_offset)
            self.metrics.discoveries += 1
            for added in answer.added:
                if added.addresses and added.node_id not in self.registry.by_id:
                    self.registry.add((added.addresses[0], added.port))

        return settle


def _live_backup(owners: Sequence[Node | None]) -> Node | None:
    """The first backup owner (after the primary, ``owners[0]``) that is up, if any: where a
    hedge of a read goes."""
    for node in owners[1:]:
        if node is not None and node.up:
            return node
    return None


def _in_flight(node: Node) -> int:
    """Requests sent to ``node`` and not answered yet (0 without a connection)."""
    connection = node.connection
    return 0 if connection is None else connection.in_flight


def parallel(steps: Sequence[Step]) -> Step:
    """Run several steps together: their batches are merged into one per round.

    Returns their results in order; the first exception ends them all. When
    other steps had finished or were still under way then, what they sent may
    have been applied: a ``NoNodeAvailableError`` says so (``maybe_applied``).
    """
    results: list[Any] = [None] * len(steps)
    waiting: dict[int, list[Attempt] | Pause] = {}
    finished: set[int] = set()

    def advance(index: int, outcomes: list[Outcome]) -> None:
        try:
            waiting[index] = steps[index].send(outcomes)
        except StopIteration as stop:
            del waiting[index]
            results[index] = stop.value
            finished.add(index)
        except NoNodeAvailableError as error:
            others = (finished | waiting.keys()) - {index}
            if others:  # a multi-key write may be partly applied
                error.maybe_applied = True
            raise

    try:
        for index, step in enumerate(steps):
            try:
                waiting[index] = next(step)
            except StopIteration as stop:
                results[index] = stop.value
                finished.add(index)
        while waiting:
            pauses = {index: b for index, b in waiting.items() if isinstance(b, Pause)}
            if pauses:  # the others' batches wait for the longest pause
                yield Pause(max(pauses.values()))
                for index in pauses:
                    advance(index, [])
                continue
            rounds = [(index, batch) for index, batch in waiting.items() if isinstance(batch, list)]
            outcomes = yield [attempt for _, batch in rounds for attempt in batch]
            position = 0
            for index, batch in rounds:
                advance(index, outcomes[position : position + len(batch)])
                position += len(batch)
    finally:
        for step in steps:
            step.close()
    return results
