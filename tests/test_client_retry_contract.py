"""The retry contract: what is sent again after a failed attempt, and what is raised.

One regression test per defect the contract fixes, each of which failed before:
1. a write that timed out was retried while its first attempt could still land;
2. a connection given up while another thread was blocked reading it was not
   closed at once (the server saw no FIN until that read returned);
3. an idle blocking client sent its next request on a socket the node had
   closed long before;
4. a graceful stop answered in-flight requests "node is stopping", and the
   client raised that instead of sending them to another node.
Plus the policy table itself, per operation kind and failure class.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

import ignite_router.client as client_module
from ignite_router import Client, OutcomeUnknownError, RequestTimeoutError, ServerError, StatusCode
from ignite_router.errors import FailureClass
from ignite_router.policies import DefaultRetryPolicy, FailedAttempt, RetryAllPolicy
from ignite_router.protocol.connection import Answer
from ignite_router.protocol.handshake import (
    accept_handshake,
    decode_handshake_request,
    encode_handshake_success,
)
from ignite_router.protocol.opcodes import OpCode, RetrySafety, retry_safety
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected
from tests.test_client_failover import key_on


def wait_for(predicate, limit: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {limit} s")


# -- the policy table -------------------------------------------------------------------------

KINDS = {
    OpCode.CACHE_GET: RetrySafety.READ,
    OpCode.CACHE_GET_ALL: RetrySafety.READ,
    OpCode.CACHE_CONTAINS_KEYS: RetrySafety.READ,
    OpCode.CACHE_GET_OR_CREATE_WITH_NAME: RetrySafety.IDEMPOTENT,
    OpCode.BINARY_TYPE_PUT: RetrySafety.IDEMPOTENT,
    OpCode.CACHE_PUT: RetrySafety.WRITE,
    OpCode.CACHE_PUT_ALL: RetrySafety.WRITE,
    OpCode.CACHE_REMOVE_KEYS: RetrySafety.WRITE,
    OpCode.CACHE_GET_AND_PUT: RetrySafety.CONDITIONAL,
    OpCode.CACHE_PUT_IF_ABSENT: RetrySafety.CONDITIONAL,
    OpCode.CACHE_REPLACE_IF_EQUALS: RetrySafety.CONDITIONAL,
    OpCode.CACHE_REMOVE_KEY: RetrySafety.CONDITIONAL,
    OpCode.QUERY_SQL_FIELDS: RetrySafety.CONDITIONAL,
}
# (safety, failure) -> retried by DefaultRetryPolicy. Written out in full: this is the
# contract the guide documents, row by row.
CONTRACT = {
    (RetrySafety.READ, FailureClass.NOT_DELIVERED): True,
    (RetrySafety.READ, FailureClass.REFUSED): True,
    (RetrySafety.READ, FailureClass.PEER_GONE): True,
    (RetrySafety.READ, FailureClass.OUTCOME_UNKNOWN): True,
    (RetrySafety.IDEMPOTENT, FailureClass.NOT_DELIVERED): True,
    (RetrySafety.IDEMPOTENT, FailureClass.REFUSED): True,
    (RetrySafety.IDEMPOTENT, FailureClass.PEER_GONE): True,
    (RetrySafety.IDEMPOTENT, FailureClass.OUTCOME_UNKNOWN): True,
    (RetrySafety.WRITE, FailureClass.NOT_DELIVERED): True,
    (RetrySafety.WRITE, FailureClass.REFUSED): True,
    (RetrySafety.WRITE, FailureClass.PEER_GONE): False,
    (RetrySafety.WRITE, FailureClass.OUTCOME_UNKNOWN): False,
    (RetrySafety.CONDITIONAL, FailureClass.NOT_DELIVERED): True,
    (RetrySafety.CONDITIONAL, FailureClass.REFUSED): True,
    (RetrySafety.CONDITIONAL, FailureClass.PEER_GONE): False,
    (RetrySafety.CONDITIONAL, FailureClass.OUTCOME_UNKNOWN): False,
}


@pytest.mark.parametrize("op_code", list(KINDS))
def test_retry_safety_comes_from_the_op_code(op_code: OpCode) -> None:
    assert retry_safety(op_code) is KINDS[op_code]


def test_unknown_op_codes_are_never_retried_after_delivery() -> None:
    assert retry_safety(12345) is RetrySafety.CONDITIONAL


@pytest.mark.parametrize(("safety", "failure"), list(CONTRACT))
def test_default_policy_follows_the_contract(safety: RetrySafety, failure: FailureClass) -> None:
    attempt = FailedAttempt("op", 0, safety, failure, OSError("x"), 1)
    assert DefaultRetryPolicy().should_retry(attempt) is CONTRACT[(safety, failure)]
    assert RetryAllPolicy().should_retry(attempt) is True
    assert DefaultRetryPolicy(max_attempts=1).should_retry(attempt) is False


# -- 1. a timed-out write is never sent again ---------------------------------------------------


@pytest.mark.parametrize("kind", SHELLS)
def test_timed_out_write_raises_outcome_unknown_and_is_not_resent(kind: str) -> None:
    """The first attempt is held by a hung node: a retry could be overtaken by it."""
    with LocalCluster(nodes=3, backups=1) as cluster, connected(
        kind, cluster.endpoints, timeout=0.4
    ) as shell:
        cache = shell.do(shell.client.get_or_create_cache("timeouts"))
        shell.do(cache.get(0))
        key = key_on(shell, cache, cluster.nodes[2].node_id)
        cluster.reset_stats()
        cluster.hang_node(2)
        with pytest.raises(OutcomeUnknownError) as caught:
            shell.do(cache.put(key, "first"))
        error = caught.value
        assert error.operation == "put"
        assert error.may_still_land
        assert error.failure is FailureClass.OUTCOME_UNKNOWN
        assert error.endpoint == cluster.endpoints[2]
        assert isinstance(error.__cause__, RequestTimeoutError)
        # Sent once: no other node received the write.
        stats = cluster.stats()
        assert [node["requests"] for node in stats[:2]] == [0, 0]
        cluster.heal_node(2)
        # Reads fail over after the same kind of failure.
        cluster.hang_node(1)
        other = key_on(shell, cache, cluster.nodes[1].node_id)
        assert shell.do(cache.get(other)) is None
        cluster.heal_node(1)


# -- 2. a connection given up is closed at once ------------------------------------------------


class SilentNode:
    """A thin-protocol node that shakes hands, then reads requests and never answers.

    ``closed_at`` is when it saw the client's FIN (or reset).
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = self.listener.getsockname()[:2]
        self.received = 0
        self.closed_at: float | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            head = self._read(conn, 4)
            request = decode_handshake_request(self._read(conn, struct.unpack("<i", head)[0]))
            context = accept_handshake(request, frozenset())
            conn.sendall(encode_handshake_success(context, uuid.uuid4()))
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self.closed_at = time.monotonic()
                    return
                self.received += len(data)

    @staticmethod
    def _read(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("how", ["client-close", "connection-fail"])
def test_abandoned_connection_sends_fin_while_a_thread_reads(how: str) -> None:
    """Another thread is blocked in recv() on the socket; the FIN must not wait for it."""
    node = SilentNode()
    client = Client(timeout=30.0, discovery=False, partition_aware=False).connect([node.endpoint])
    try:
        cache = client.get_cache("silent")
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(cache.get, 1)
            wait_for(lambda: node.received > 0, what="request received")
            time.sleep(0.2)  # the reading thread is blocked in recv() by now
            given_up = time.monotonic()
            if how == "client-close":
                client.close()
            else:
                connection = client.core.registry.nodes[0].connection
                connection.fail(RequestTimeoutError("no answer in time", node.endpoint))
            closed_at = wait_for(lambda: node.closed_at, limit=10.0, what="FIN at the server")
            # Far sooner than the 30 s the reader could stay blocked (its kernel timeout).
            assert closed_at - given_up < 5.0
            with pytest.raises(Exception):  # noqa: B017 - whichever error, it must end
                waiting.result(timeout=30)
    finally:
        client.close()
        node.close()


# -- 3. an idle blocking client notices a closed socket before it sends --------------------------


@pytest.mark.parametrize("operation", ["get_and_put", "put_if_absent", "replace"])
def test_idle_client_reconnects_before_sending(operation: str) -> None:
    """The node restarted while the client was idle: nothing reached a live server."""
    with LocalCluster(nodes=3, backups=1) as cluster, connected(
        "sync", cluster.endpoints, heartbeat_interval=None
    ) as shell:
        cache = shell.client.get_or_create_cache("idle")
        cache.get(0)
        key = key_on(shell, cache, cluster.nodes[1].node_id)
        cache.put(key, "before")
        node = shell.client.core.registry.nodes[1]
        old_connection = node.connection
        cluster.kill_node(1)
        cluster.start_node(1)
        time.sleep(0.5)  # idle: nobody reads the client's socket to that node
        assert node.connection is old_connection  # the client has not noticed yet
        result = getattr(cache, operation)(key, "after")
        assert node.connection is not old_connection
        assert result is not None  # each of them answers something; it did not raise
        assert cache.get(key) is not None


@pytest.mark.parametrize("race", ["answer-arrives", "thread-waits"])
def test_idle_probe_keeps_other_threads_answers(race: str, monkeypatch) -> None:
    """The probe of an idle connection races with another thread's request on it.

    The probe found no request in flight, then took the read turn; meanwhile
    another thread sent one. Its answer must reach it ("answer-arrives": the
    probe reads it) and the thread must not sleep on a turn the probe gave
    back ("thread-waits"). Before the fix the probe dropped the answer, or
    left the thread asleep, and the request timed out (a refused put sent
    elsewhere then became "outcome unknown").
    """
    with LocalCluster(nodes=1) as cluster, connected(
        "sync", cluster.endpoints, timeout=2.0
    ) as shell:
        cache = shell.client.get_or_create_cache("probe-race")
        cache.put(1, "one")
        connection = shell.client.core.registry.nodes[0].connection
        request = cache.steps.get(1, None)
        real_select = select.select
        outcome: list[object] = []
        reader: list[threading.Thread] = []

        def send_and_wait() -> None:
            slot = connection.submit(request.frame)
            outcome.append(connection.wait(slot, time.monotonic() + 2.0))

        def racing_select(readers, writers, errors, timeout=None):  # the probe's look
            monkeypatch.setattr(client_module, "select", select)
            if race == "answer-arrives":
                slot = connection.submit(request.frame)
                assert real_select(readers, [], [], 2.0)[0]  # the answer is in the socket
                deadline = time.monotonic() + 2.0
                reader.append(
                    threading.Thread(target=lambda: outcome.append(connection.wait(slot, deadline)))
                )
                return real_select(readers, writers, errors, 0)
            reader.append(threading.Thread(target=send_and_wait))
            reader[0].start()
            wait_for(lambda: connection._followers == 1, what="the thread waits for the turn")
            return [], [], []  # nothing to read yet: the probe gives the turn back

        monkeypatch.setattr(client_module, "select", SimpleNamespace(select=racing_select))
        assert connection.probe()
        if race == "answer-arrives":
            reader[0].start()
        reader[0].join(timeout=10)
        (answer,) = outcome
        assert isinstance(answer, Answer), answer
        assert connection.alive


# -- 4. a graceful stop's refusals are sent elsewhere ------------------------------------------


@pytest.mark.parametrize("kind", SHELLS)
def test_graceful_stop_refusals_fail_over(kind: str) -> None:
    """In-flight requests answered "node is stopping" go to another node, reads and writes."""
    with LocalCluster(nodes=3, backups=1) as cluster, connected(
        kind, cluster.endpoints, timeout=5.0
    ) as shell:
        cache = shell.do(shell.client.get_or_create_cache("stopping"))
        shell.do(cache.get(0))
        stopping = cluster.nodes[2].node_id
        keys = [key for key in range(2000) if shell.client.route(cache, key).node_id == stopping]
        read_key, write_key = keys[0], keys[1]
        shell.do(cache.put(read_key, "kept"))
        cluster.hang_node(2)  # requests pile up unanswered, then the node stops
        with ThreadPoolExecutor(2) as pool:
            read = pool.submit(lambda: shell.do(cache.get(read_key)))
            write = pool.submit(lambda: shell.do(cache.put(write_key, "new")))
            time.sleep(0.5)  # both requests reach the hung node (it queues them unanswered)
            cluster.stop_node(2)
            assert read.result(timeout=20) == "kept"
            assert write.result(timeout=20) is None
        assert shell.do(cache.get(write_key)) == "new"


# -- refusals: the answers Ignite gives for requests it did not apply --------------------------


@pytest.mark.parametrize("kind", sorted(LocalCluster.REFUSAL_MESSAGES))
def test_the_clusters_refusals_are_recognised(kind: str) -> None:
    """The client's markers match what the local cluster answers (in Ignite's words)."""
    error = ServerError(StatusCode.FAILED, LocalCluster.REFUSAL_MESSAGES[kind] + ": [7]")
    # A forward that timed out may still be applied by the node it waited for.
    assert error.refused is (kind != "forward_timeout")
    assert not ServerError(StatusCode.CACHE_DOES_NOT_EXIST, "node is stopping").refused


@pytest.mark.parametrize("kind", SHELLS)
def test_exchange_refusals_are_sent_again(kind: str) -> None:
    """During a topology change the cluster refuses key requests; they are sent again."""
    with LocalCluster(nodes=3, backups=1, exchange_refusals=True) as cluster, connected(
        kind, cluster.endpoints, timeout=5.0
    ) as shell:
        cache = shell.do(shell.client.get_or_create_cache("exchange"))
        errors: list[BaseException] = []
        written: dict[int, int] = {}
        stop = threading.Event()

        def work() -> None:
            i = 0
            while not stop.is_set():
                key = i % 50
                try:
                    shell.do(cache.put(key, i))
                    written[key] = i
                    shell.do(cache.replace_if_equals(key, i, i))
                    batch = {50 + (i + j) % 50: i for j in range(3)}
                    shell.do(cache.put_all(batch))  # split by node: refusals pause in parallel
                    written.update(batch)
                except Exception as error:  # every error fails the test
                    errors.append(error)
                i += 1

        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(work)
            time.sleep(0.3)
            cluster.add_node()
            cluster.wait_for_rebalance()
            time.sleep(0.3)
            stop.set()
            running.result(timeout=30)
        assert errors == []
        assert all(shell.do(cache.get(key)) == value for key, value in written.items())
