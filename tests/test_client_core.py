"""The sans-I/O core without sockets: scripted answers, a fake clock.

Answers are built with the server-side encoders of ``protocol`` (the same
ones LocalCluster uses), so these tests check the core's decisions, not the
byte layout (the protocol tests check that against pyignite).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ignite_router import Client
from ignite_router.affinity import cache_id, java_hash, partition
from ignite_router.core.engine import ClientCore, Request
from ignite_router.core.events import ClientListener
from ignite_router.core.nodes import Node, NodeRegistry
from ignite_router.core.topology import TopologyTracker
from ignite_router.cursors import SqlFieldsCursorState
from ignite_router.errors import (
    ConnectionLostError,
    NoNodeAvailableError,
    OutcomeUnknownError,
    ServerError,
)
from ignite_router.policies import ExponentialReconnect
from ignite_router.protocol import HandshakeRequest, ProtocolContext
from ignite_router.protocol.connection import Answer, Handshaken
from ignite_router.protocol.header import (
    begin_response,
    decode_response_header,
    encode_error_response,
    finish_frame,
)
from ignite_router.protocol.messages.cache_keys import CacheTarget, encode_cache_request
from ignite_router.protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    encode_partitions_response,
)
from ignite_router.protocol.messages.queries import decode_resource_id
from ignite_router.protocol.messages.sql import (
    SqlFieldsPage,
    SqlFieldsQuery,
    encode_sql_fields_page,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import write_value
from ignite_router.protocol.wire import I64

CONTEXT = ProtocolContext()
CACHE = cache_id("people")
PARTS = 8


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fixed_schedule() -> ExponentialReconnect:
    return ExponentialReconnect(initial=1.0, cap=4.0, jitter=lambda low, high: high)


def make_core(nodes: int = 3, clock: Clock | None = None, **options: Any) -> ClientCore:
    core = ClientCore(
        HandshakeRequest(), clock or Clock(), reconnect=fixed_schedule(), discovery=False, **options
    )
    for index in range(nodes):
        node = core.registry.add(("10.0.0.1", 10800 + index))
        core.connected(node, Handshaken(CONTEXT, uuid.UUID(int=index + 1)))
    return core


def answer(request_id: int, body: bytes = b"", version: tuple[int, int] | None = None) -> Answer:
    buf = bytearray()
    start = begin_response(buf, CONTEXT, request_id, version)
    buf += body
    finish_frame(buf, start)
    view = memoryview(bytes(buf[4:]))
    return Answer(decode_response_header(CONTEXT, view), view)


def error_answer(request_id: int, status: int, message: str) -> Answer:
    buf = bytearray()
    encode_error_response(buf, CONTEXT, request_id, status, message)
    view = memoryview(bytes(buf[4:]))
    return Answer(decode_response_header(CONTEXT, view), view)


def request_id_of(frame: bytes | bytearray) -> int:
    return I64.unpack_from(frame, 6)[0]


def op_of(frame: bytes | bytearray) -> int:
    return int.from_bytes(frame[4:6], "little")


def drive(step, respond: Callable[[Node, bytes | bytearray], Any]) -> tuple[Any, list]:
    """Run a step to its end; ``respond(node, frame)`` gives each attempt's outcome."""
    batches = []
    try:
        attempts = next(step)
        while True:
            batches.append(attempts)
            attempts = step.send([respond(node, frame) for node, frame in attempts])
    except StopIteration as stop:
        return stop.value, batches


def get_request(core: ClientCore, key: int, name: str = "get", op: int = OpCode.CACHE_GET):
    frame = bytearray()
    args = (key,) if op == OpCode.CACHE_GET else (key, "v")
    encode_cache_request(frame, CONTEXT, op, core.next_request_id(), CacheTarget(CACHE), *args)
    return Request(
        name, frame, lambda view, pos: bytes(view[pos:]), cache_id=CACHE, key_hash=java_hash(key)
    )


def partitions_body(core: ClientCore, version: tuple[int, int], owners: list[int]) -> bytes:
    """A partitions answer: partition p's primary is node ``owners[p]``."""
    node_partitions: dict[uuid.UUID, list[int]] = {}
    for part, owner in enumerate(owners):
        node_partitions.setdefault(core.registry.nodes[owner].node_id, []).append(part)
    group = PartitionGroup(True, {CACHE: {}}, {k: tuple(v) for k, v in node_partitions.items()})
    buf = bytearray()
    encode_partitions_response(buf, PartitionsResponse(version, (group,)))
    return bytes(buf)


def responder(core: ClientCore, owners: list[int], version=(3, 0), value=b"\x65", broken=()):
    def respond(node: Node, frame):
        if node.endpoint in broken:
            return ConnectionLostError("reset", node.endpoint)
        rid = request_id_of(frame)
        if op_of(frame) == OpCode.CACHE_PARTITIONS:
            return answer(rid, partitions_body(core, version, owners))
        return answer(rid, value)

    return respond


OWNERS = [0, 1, 2, 0, 1, 2, 0, 1]


def primary_index(key: int) -> int:
    return OWNERS[partition(java_hash(key), PARTS)]


# -- routing and refreshes ------------------------------------------------------------------


def test_first_key_op_fetches_the_map_alongside_and_then_routes() -> None:
    core = make_core()
    result, batches = drive(core.execute(get_request(core, 5)), responder(core, OWNERS))
    assert result == b"\x65"
    assert [op_of(frame) for _, frame in batches[0]] == [OpCode.CACHE_GET, OpCode.CACHE_PARTITIONS]
    for key in range(40):
        _, batches = drive(core.execute(get_request(core, key)), responder(core, OWNERS))
        assert len(batches) == 1 and len(batches[0]) == 1  # no refresh rides along any more
        node, _ = batches[0][0]
        assert node is core.registry.nodes[primary_index(key)]
    assert core.metrics.map_refreshes == 1


def test_newer_version_in_a_header_triggers_one_refresh() -> None:
    core = make_core()
    drive(core.execute(get_request(core, 1)), responder(core, OWNERS))

    def newer_header(node, frame):
        return answer(request_id_of(frame), b"\x65", version=(4, 0))

    drive(core.execute(get_request(core, 1)), newer_header)
    assert core.tracker.version == (4, 0)
    moved = [2, 2, 2, 2, 2, 2, 2, 2]
    _, batches = drive(core.execute(get_request(core, 1)), responder(core, moved, version=(4, 0)))
    assert [op_of(frame) for _, frame in batches[0]] == [OpCode.CACHE_GET, OpCode.CACHE_PARTITIONS]
    _, batches = drive(core.execute(get_request(core, 1)), responder(core, moved, version=(4, 0)))
    assert batches[0][0][0] is core.registry.nodes[2]


@pytest.mark.parametrize("how", ["refresh", "alongside"])
def test_a_newer_version_seen_first_in_a_map_is_a_topology_change(how: str) -> None:
    """The header that carried a change may have answered a request nobody waited for any
    more (a timed-out or hedged one): the version of a map fetched later is then the first
    news of it, and listeners and metrics hear of it all the same."""
    changes: list[tuple] = []

    class Listener(ClientListener):
        def on_topology_changed(self, event) -> None:
            changes.append((event.old, event.new))

    core = make_core(event_listeners=[Listener()])
    drive(core.execute(get_request(core, 1)), responder(core, OWNERS, version=(3, 0)))
    assert core.tracker.version == (3, 0) and changes == []
    moved = [2] * len(OWNERS)
    if how == "refresh":  # client.refresh_partitions(cache)
        drive(core.refresh([CACHE]), responder(core, moved, version=(4, 0)))
    else:  # a refresh that rides along with a key request
        core.tracker.want(CACHE)
        drive(core.execute(get_request(core, 1)), responder(core, moved, version=(4, 0)))
    assert changes == [((3, 0), (4, 0))]
    assert core.metrics.topology_changes == 2  # (3, 0) first seen, then the change
    assert core.tracker.version == (4, 0)


def test_lagging_answer_never_replaces_a_newer_map() -> None:
    clock = Clock()
    core = make_core(clock=clock)
    drive(core.execute(get_request(core, 1)), responder(core, OWNERS, version=(5, 0)))
    old = core.tracker.maps[CACHE]
    assert (
        core.tracker.install(PartitionsResponse((4, 0), ()).to_partition_map(), [CACHE], clock.now)
        is False
    )
    assert core.tracker.maps[CACHE] is old


def test_refresh_is_single_flight_and_backs_off_after_a_lagging_answer() -> None:
    tracker = TopologyTracker()
    tracker.observe((7, 1))
    tracker.want(CACHE)
    assert tracker.begin_refresh(0.0) == [CACHE]
    tracker.want(CACHE)
    assert tracker.begin_refresh(0.0) is None  # one in flight
    core = make_core()
    body = partitions_body(core, (7, 0), OWNERS)  # the answering node lags behind (7, 1)
    from ignite_router.protocol.messages.partitions import decode_partitions_response

    response = decode_partitions_response(memoryview(body), 0)
    assert tracker.install(response.to_partition_map(), [CACHE], 10.0)
    assert not tracker.is_fresh(tracker.maps[CACHE])
    assert tracker.begin_refresh(10.01) is None  # backing off
    assert tracker.begin_refresh(10.1) == [CACHE]


# -- failover -----------------------------------------------------------------------------------


def test_connection_loss_fails_over_to_the_next_live_node() -> None:
    core = make_core()
    drive(core.execute(get_request(core, 0)), responder(core, OWNERS))
    primary = core.registry.nodes[primary_index(3)]
    respond = responder(core, OWNERS, broken={primary.endpoint})

    def shell_marks_down(node, frame):
        outcome = respond(node, frame)
        if isinstance(outcome, BaseException):
            core.connection_failed(node, outcome, handshake=False)
        return outcome

    result, batches = drive(core.execute(get_request(core, 3)), shell_marks_down)
    assert result == b"\x65"
    assert [node for batch in batches for node, _ in batch][:2][0] is primary
    assert batches[1][0][0] is not primary
    assert primary.metrics.failovers == 1
    assert not primary.up
    # the retried frame got a new request id
    assert request_id_of(batches[0][0][1]) != 0


def test_unsafe_operation_is_not_retried() -> None:
    core = make_core()
    drive(core.execute(get_request(core, 0)), responder(core, OWNERS))
    primary = core.registry.nodes[primary_index(3)]
    request = get_request(core, 3, name="get_and_put", op=OpCode.CACHE_GET_AND_PUT)
    with pytest.raises(OutcomeUnknownError):
        drive(core.execute(request), responder(core, OWNERS, broken={primary.endpoint}))


def test_server_errors_are_raised_not_retried() -> None:
    core = make_core()
    calls = []

    def refuse(node, frame):
        calls.append(node)
        return error_answer(request_id_of(frame), 1000, "Cache does not exist [cacheId= 1]")

    core.partition_aware = False
    with pytest.raises(ServerError) as caught:
        drive(core.execute(get_request(core, 1)), refuse)
    assert caught.value.status == 1000
    assert len(calls) == 1


def test_every_node_failing_is_a_no_node_error_with_each_cause() -> None:
    core = make_core()
    core.partition_aware = False
    endpoints = {node.endpoint for node in core.registry.nodes}

    def fail(node, frame):
        error = ConnectionLostError("refused", node.endpoint)
        core.connection_failed(node, error, handshake=False)
        return error

    with pytest.raises(NoNodeAvailableError) as caught:
        drive(core.execute(get_request(core, 1)), fail)
    assert set(caught.value.errors) == endpoints


# -- nodes and reconnection ------------------------------------------------------------------------


def test_plan_is_primary_then_round_robin_over_live_nodes() -> None:
    registry = NodeRegistry(fixed_schedule())
    nodes = [registry.add(("h", port)) for port in range(4)]
    for index, node in enumerate(nodes):
        registry.mark_up(node, uuid.UUID(int=index + 1))
    registry.mark_down(nodes[3], ConnectionLostError("x"), 0.0)
    plan = list(registry.plan(nodes[1]))
    assert plan[0] is nodes[1]
    assert set(plan[:3]) == {nodes[0], nodes[1], nodes[2]}
    assert plan[3:] == [nodes[3]]  # a down node only after every live one, to reconnect
    starts = [next(registry.plan(None)) for _ in range(6)]
    assert set(starts) == {nodes[0], nodes[1], nodes[2]}  # the fallback rotates


def test_reconnection_schedule_backs_off_and_is_capped() -> None:
    registry = NodeRegistry(fixed_schedule())
    node = registry.add(("h", 1))
    registry.mark_up(node, uuid.UUID(int=1))
    due_times = []
    now = 0.0
    for _ in range(5):
        registry.mark_down(node, ConnectionLostError("x"), now)
        due_times.append(node.next_attempt - now)
        assert registry.due(node.next_attempt - 0.001) == []
        assert registry.due(node.next_attempt) == [node]
        now = node.next_attempt
    assert due_times == [1.0, 2.0, 4.0, 4.0, 4.0]
    registry.mark_up(node, uuid.UUID(int=2))  # a restart: same endpoint, new id
    assert registry.due(1e9) == []
    assert uuid.UUID(int=1) not in registry.by_id and registry.by_id[uuid.UUID(int=2)] is node


def test_unknown_response_flags_and_trailing_bytes_are_ignored() -> None:
    buf = bytearray()
    start = begin_response(buf, CONTEXT, 9, None)
    write_value(buf, 42)
    buf += b"\x01\x02"  # a newer server's extra field
    finish_frame(buf, start)
    payload = bytearray(buf[4:])
    payload[8] |= 0x40  # a flag bit this client does not know
    view = memoryview(bytes(payload))
    header = decode_response_header(CONTEXT, view, strict=False)
    from ignite_router.core.answers import reader_of_value
    from ignite_router.protocol.values import BinaryTypeRegistry

    assert reader_of_value(BinaryTypeRegistry())(view, header.body_offset) == 42


def test_plan_offers_a_node_that_came_back_during_the_plan() -> None:
    """Found by the state machine: a node skipped while down must be offered once it is up."""
    registry = NodeRegistry(fixed_schedule())
    nodes = [registry.add(("h", port)) for port in range(3)]
    registry.mark_up(nodes[0], uuid.UUID(int=1))
    plan = registry.plan(None)
    assert next(plan) is nodes[0]
    registry.mark_down(nodes[0], ConnectionLostError("timed out"), 0.0)
    registry.mark_up(nodes[2], uuid.UUID(int=3))  # reconnected meanwhile
    assert next(plan) is nodes[2]
    assert list(plan) == [nodes[1]]  # then the one still down, once


def test_sql_cursor_pages_through_scripted_answers() -> None:
    """The SQL fields cursor against answers made by the server-side page encoder: the
    first page (cursor id, field names) anywhere, later pages from the cursor's node."""
    client = Client()
    core = client.core
    for index in range(2):
        node = core.registry.add(("10.0.0.2", 10800 + index))
        core.connected(node, Handshaken(CONTEXT, uuid.UUID(int=index + 1)))
    query = SqlFieldsQuery(CacheTarget(0), "SELECT id, name FROM t", include_field_names=True)
    state = SqlFieldsCursorState(client.session, query)
    asked_for: list[int] = []

    def respond(node, frame):
        body = bytearray()
        if op_of(frame) == OpCode.QUERY_SQL_FIELDS:
            page = SqlFieldsPage([[1, "a"], [2, "b"]], True, 77, ["ID", "NAME"])
        else:
            asked_for.append(decode_resource_id(memoryview(bytes(frame[4:])), 10))
            page = SqlFieldsPage([[3, "c"]], False)
        encode_sql_fields_page(body, page, 2)
        return answer(request_id_of(frame), bytes(body))

    _, first = drive(state.fetch(), respond)
    assert list(state.rows) == [["ID", "NAME"], [1, "a"], [2, "b"]]
    assert state.more and state.cursor_id == 77
    state.rows.clear()
    _, later = drive(state.fetch(), respond)
    assert list(state.rows) == [[3, "c"]] and not state.more
    assert state.fetch() is None  # no page left
    assert asked_for == [77]
    assert later[0][0][0] is first[0][0][0]  # the page request went to the cursor's node
