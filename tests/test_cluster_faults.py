"""LocalCluster's faults, seen on the wire: per-node copies, slow and frozen nodes,
blackholes, late failure detection, exchange refusals, readFromBackup, partial writes.

Requests are built and answers parsed with the ``protocol`` client side over plain
sockets (``tests/raw_client.py``). Which node owns a key comes from ``affinity.assign``
over the nodes the cluster reports, computed here; what a node holds comes from
``OP_CACHE_LOCAL_PEEK`` on that node (its own copy); expected error texts are
Ignite's own (``CachePartialUpdateCheckedException``, ``NodeStoppingException``).
Timed behaviour is awaited with deadlines, never measured.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from pyignite import Client

from ignite_router.affinity import assign, cache_id, java_hash, partition
from ignite_router.protocol.errors import StatusCode
from ignite_router.protocol.handshake import HandshakeRequest, encode_handshake_request
from ignite_router.protocol.header import ResponseHeader, decode_response_header
from ignite_router.protocol.messages.cache_config import decode_cache_configuration
from ignite_router.protocol.messages.cache_keys import CacheTarget, decode_value
from ignite_router.protocol.messages.cache_keys import encode_cache_request as encode_kv
from ignite_router.protocol.messages.cache_properties import (
    CacheProperty,
    WriteSynchronizationMode,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.testing import LocalCluster
from tests.raw_client import RawClient
from tests.test_cluster_behaviour import create, kv, partitions

pytestmark = pytest.mark.timeout(60)

PARTS = 1024
FULL_SYNC = WriteSynchronizationMode.FULL_SYNC
PRIMARY_SYNC = WriteSynchronizationMode.PRIMARY_SYNC
# Ignite's texts: CachePartialUpdateCheckedException, NodeStoppingException.
UPDATE_RETRY = "Failed to update keys (retry update if possible)."
NODE_STOPPING = "Operation has been cancelled (node is stopping)."


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.01)


def owners(cluster: LocalCluster, key: int, backups: int) -> tuple[int, ...]:
    """Node indices owning ``key`` (primary first): rendezvous over the topology's nodes."""
    nodes = cluster.nodes
    members = [i for i, node in enumerate(nodes) if node.in_topology]
    ranked = assign(
        [nodes[i].consistent_id for i in members],
        PARTS,
        backups,
        [nodes[i].node_id for i in members],
    )[partition(java_hash(key), PARTS)]
    return tuple(members[i] for i in ranked)


def keys_owned_by(
    cluster: LocalCluster, wanted: tuple[int, ...], backups: int, count: int = 1
) -> list[int]:
    found = (key for key in range(100_000) if owners(cluster, key, backups) == wanted)
    return [next(found) for _ in range(count)]


def peek(client: RawClient, cache: str, key: int):
    header, payload = kv(client, OpCode.CACHE_LOCAL_PEEK, cache, key, [])
    header.raise_for_status()
    return decode_value(payload, header.body_offset)


def get(client: RawClient, cache: str, key: int):
    header, payload = kv(client, OpCode.CACHE_GET, cache, key)
    header.raise_for_status()
    return decode_value(payload, header.body_offset)


def send(client: RawClient, op: int, cache: str, request_id: int, *args) -> None:
    """Send a request without waiting for its answer."""
    buf = bytearray()
    encode_kv(buf, client.context, op, request_id, CacheTarget(cache_id(cache)), *args)
    client.sock.sendall(buf)


def answer(client: RawClient, timeout: float = 20.0) -> ResponseHeader:
    client.sock.settimeout(timeout)
    try:
        return decode_response_header(client.context, memoryview(client.receive()))
    finally:
        client.sock.settimeout(10)


def silent(client: RawClient, seconds: float = 0.3) -> bool:
    """Nothing arrives on the connection, and it stays open, for ``seconds``."""
    client.sock.settimeout(seconds)
    try:
        client.sock.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return True
    finally:
        client.sock.settimeout(10)
    return False


def connect_all(cluster: LocalCluster) -> list[RawClient]:
    return [RawClient(endpoint) for endpoint in cluster.endpoints]


def close_all(connections: list[RawClient]) -> None:
    for connection in connections:
        connection.close()


# -- per-node copies and write synchronization -----------------------------------------------


@pytest.mark.parametrize("mode", [FULL_SYNC, PRIMARY_SYNC])
def test_backup_copies_follow_the_write_synchronization_mode(mode: int) -> None:
    with LocalCluster(nodes=2, backups=1, replication_delay=2.0) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "sync", WRITE_SYNCHRONIZATION_MODE=mode)
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            kv(conns[0], OpCode.CACHE_PUT, "sync", key, "v")[0].raise_for_status()
            assert peek(conns[0], "sync", key) == "v"  # the primary has it when it answers
            if mode == FULL_SYNC:
                assert peek(conns[1], "sync", key) == "v"  # the answer waited for the backup
            else:
                assert peek(conns[1], "sync", key) is None  # it follows 2 s later
                wait_for(lambda: peek(conns[1], "sync", key) == "v")
        finally:
            close_all(conns)


@pytest.mark.parametrize(("realistic", "mode"), [(False, FULL_SYNC), (True, PRIMARY_SYNC)])
def test_caches_created_by_name_report_the_write_mode_they_get(realistic, mode) -> None:
    with LocalCluster(nodes=1, realistic=realistic) as cluster:
        conn = RawClient(cluster.endpoints[0])
        try:
            create(conn, "plain")
            header, payload = conn.call(
                OpCode.CACHE_GET_CONFIGURATION, struct.pack("<ib", cache_id("plain"), 0)
            )
            header.raise_for_status()
            config = decode_cache_configuration(conn.context, payload, header.body_offset)
        finally:
            conn.close()
    assert config[CacheProperty.WRITE_SYNCHRONIZATION_MODE] == mode


def test_a_killed_primary_takes_its_copy_the_backup_keeps_acknowledged_writes() -> None:
    with LocalCluster(nodes=3, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "kept")  # FULL_SYNC: the cluster's default
            (key,) = keys_owned_by(cluster, (1, 2), 1)
            kv(conns[1], OpCode.CACHE_PUT, "kept", key, "acknowledged")[0].raise_for_status()
            cluster.kill_node(1)
            assert peek(conns[2], "kept", key) == "acknowledged"
            assert get(conns[0], "kept", key) == "acknowledged"
        finally:
            close_all(conns)


def test_a_killed_primary_loses_primary_sync_writes_it_had_not_replicated() -> None:
    with LocalCluster(nodes=2, backups=1, replication_delay=30.0) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "lossy", WRITE_SYNCHRONIZATION_MODE=PRIMARY_SYNC)
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            kv(conns[0], OpCode.CACHE_PUT, "lossy", key, "acknowledged")[0].raise_for_status()
            cluster.kill_node(0)
            assert peek(conns[1], "lossy", key) is None  # acknowledged, yet gone
        finally:
            close_all(conns)


def test_a_joining_node_fills_its_copies_by_rebalancing() -> None:
    with LocalCluster(nodes=2, backups=1, late_affinity=True, rebalance_delay=1.0) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "join")
            for key in range(60):
                kv(conns[0], OpCode.CACHE_PUT, "join", key, key)[0].raise_for_status()
            new = cluster.add_node()
            conns.append(RawClient(cluster.endpoints[new]))
            mine = [key for key in range(60) if new in owners(cluster, key, 1)]
            assert mine
            assert [peek(conns[new], "join", key) for key in mine] == [None] * len(mine)
            # updates during the stage reach the filling copy
            kv(conns[0], OpCode.CACHE_PUT, "join", mine[0], "during")[0].raise_for_status()
            assert peek(conns[new], "join", mine[0]) == "during"
            cluster.wait_for_rebalance()
            assert [peek(conns[new], "join", key) for key in mine] == ["during", *mine[1:]]
        finally:
            close_all(conns)


# -- readFromBackup ----------------------------------------------------------------------------


@pytest.mark.parametrize("from_backup", [True, False])
def test_a_backup_owner_serves_reads_from_its_own_copy_with_read_from_backup(from_backup) -> None:
    with LocalCluster(nodes=2, backups=1, replication_delay=30.0) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "rfb", READ_FROM_BACKUP=from_backup,
                   WRITE_SYNCHRONIZATION_MODE=PRIMARY_SYNC)  # fmt: skip
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            kv(conns[0], OpCode.CACHE_PUT, "rfb", key, "new")[0].raise_for_status()
            cluster.reset_stats()
            seen = get(conns[1], "rfb", key)  # node 1 is the key's backup
            stats = cluster.stats()[1]
            assert stats["key_requests"] == 1
            if from_backup:  # its own copy, which the update has not reached yet
                assert (seen, stats["forwarded"]) == (None, 0)
            else:  # forwarded to the primary
                assert (seen, stats["forwarded"]) == ("new", 1)
            cluster.reset_stats()
            kv(conns[1], OpCode.CACHE_PUT, "rfb", key, "again")[0].raise_for_status()
            assert cluster.stats()[1]["forwarded"] == 1  # writes always go to the primary
        finally:
            close_all(conns)


# -- slow request paths and partial writes -----------------------------------------------------


def test_a_request_delay_applies_late_an_answer_delay_answers_late() -> None:
    with LocalCluster(nodes=2, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "slow")
            first, second = keys_owned_by(cluster, (0, 1), 1, count=2)
            cluster.set_latency(0, 1.0, where="answer")
            send(conns[0], OpCode.CACHE_PUT, "slow", 11, first, "early")
            wait_for(lambda: peek(conns[1], "slow", first) == "early")  # applied...
            assert silent(conns[0], 0.2)  # ...not answered yet
            assert answer(conns[0]).request_id == 11
            cluster.set_latency(0, 0.0, where="answer")
            cluster.set_latency(0, 1.0, where="request")
            send(conns[0], OpCode.CACHE_PUT, "slow", 12, second, "late")
            assert silent(conns[0], 0.3)
            assert peek(conns[1], "slow", second) is None  # read, not applied yet
            assert answer(conns[0]).request_id == 12
            assert peek(conns[1], "slow", second) == "late"  # applied before the answer
        finally:
            close_all(conns)


def test_requests_read_before_the_client_left_are_still_applied() -> None:
    # Ignite runs a request it has read without checking that its client is still there.
    with LocalCluster(nodes=2, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "gone")
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            cluster.set_latency(0, 1.0, where="request")
            leaving = conns.pop(0)
            send(leaving, OpCode.CACHE_PUT, "gone", 13, key, "orphan")
            wait_for(lambda: cluster.call(  # the node has read it, and waits
                lambda model: any(c._queue for c in cluster._servers[0].connections)
            ))  # fmt: skip
            leaving.close()
            wait_for(lambda: peek(conns[0], "gone", key) == "orphan")
        finally:
            close_all(conns)


def test_a_kill_during_a_slow_put_all_leaves_some_keys_written() -> None:
    # Ignite ATOMIC caches apply a putAll key by key: a failure in the middle is partial.
    with LocalCluster(nodes=3) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "partial")
            keys = [k for k in range(400) if owners(cluster, k, 0)[0] != 0][:12]
            cluster.set_latency(0, 0.6, where="request")  # then one key every 50 ms
            send(conns[0], OpCode.CACHE_PUT_ALL, "partial", 5, {key: key for key in keys})

            def written() -> int:
                return sum(peek(conns[owners(cluster, key, 0)[0]], "partial", key) is not None
                           for key in keys)  # fmt: skip

            wait_for(lambda: written() > 0)
            cluster.kill_node(0)
            done = written()
            time.sleep(0.3)
            assert 0 < done == written() < len(keys)
        finally:
            close_all(conns)


# -- pauses, hangs and blackholes ----------------------------------------------------------


def test_a_paused_node_applies_a_request_of_a_client_that_left_when_it_resumes() -> None:
    with LocalCluster(nodes=2, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "pause")
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            cluster.pause_node(0)
            leaving = conns.pop(0)
            send(leaving, OpCode.CACHE_PUT, "pause", 3, key, "held")
            assert silent(leaving, 0.5)  # the client times out...
            leaving.close()  # ...and gives up
            time.sleep(0.2)
            assert peek(conns[0], "pause", key) is None
            cluster.resume_node(0)
            wait_for(lambda: peek(conns[0], "pause", key) == "held")  # the backup has it
        finally:
            close_all(conns)


def test_a_paused_node_accepts_connections_but_answers_nothing_until_resumed() -> None:
    with LocalCluster(nodes=1) as cluster:
        conn = RawClient(cluster.endpoints[0])
        try:
            create(conn, "frozen")
            cluster.pause_node(0)
            cluster.pause_node(0)  # idempotent
            send(conn, OpCode.CACHE_PUT, "frozen", 9, 1, "x")
            assert silent(conn)
            late = socket.create_connection(cluster.endpoints[0], timeout=5)  # the kernel accepts
            cluster.resume_node(0)
            assert answer(conn).request_id == 9
            assert get(conn, "frozen", 1) == "x"
            late.close()
        finally:
            conn.close()


def test_a_blackholed_node_never_answers_nor_applies_and_stays_in_the_topology() -> None:
    with LocalCluster(nodes=2, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "hole")
            (key,) = keys_owned_by(cluster, (0, 1), 1)
            version = cluster.topology_version
            cluster.blackhole_node(0)
            send(conns[0], OpCode.CACHE_PUT, "hole", 4, key, "dropped")
            assert silent(conns[0], 0.5)
            with socket.create_connection(cluster.endpoints[0], timeout=5) as fresh:
                fresh.sendall(encode_handshake_request(HandshakeRequest()))
                fresh.settimeout(0.5)
                with pytest.raises(TimeoutError):
                    fresh.recv(1)  # the handshake gets no answer
            assert cluster.topology_version == version
            assert cluster.nodes[0].alive
            cluster.heal_node(0)
            assert silent(conns[0], 0.3)  # what it dropped stays dropped
            assert peek(conns[1], "hole", key) is None
            kv(conns[0], OpCode.CACHE_PUT, "hole", key, "after")[0].raise_for_status()
            assert peek(conns[1], "hole", key) == "after"
        finally:
            close_all(conns)


@pytest.mark.parametrize("fault", ["pause", "hang", "blackhole"])
def test_a_request_forwarded_to_a_node_that_cannot_act_waits_for_it(fault: str) -> None:
    with LocalCluster(nodes=2) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "wait")
            (key,) = keys_owned_by(cluster, (1,), 0)
            getattr(cluster, f"{fault}_node")(1)
            cluster.reset_stats()
            send(conns[0], OpCode.CACHE_PUT, "wait", 21, key, "forwarded")
            assert silent(conns[0], 0.5)
            assert cluster.stats()[0]["forwarded"] == 1
            assert kv(conns[0], OpCode.CACHE_GET_SIZE, "wait", [])[0].status == 0  # not stuck
            cluster.heal_node(1)
            header = answer(conns[0])
            assert (header.request_id, header.status) == (21, 0)
            assert peek(conns[1], "wait", key) == "forwarded"
            assert cluster.stats()[0]["forwarded"] == 1
        finally:
            close_all(conns)


@pytest.mark.parametrize("fault", ["pause", "kill"])
def test_a_full_sync_update_waits_for_a_backup_that_cannot_act(fault: str) -> None:
    with LocalCluster(nodes=3, backups=1, failure_detection=1.0) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "full")  # FULL_SYNC
            (key,) = keys_owned_by(cluster, (0, 2), 1)
            getattr(cluster, f"{fault}_node")(2)
            send(conns[0], OpCode.CACHE_PUT, "full", 23, key, "synced")
            assert silent(conns[0], 0.3)
            assert peek(conns[0], "full", key) == "synced"  # the primary applied it first
            if fault == "pause":
                cluster.resume_node(2)
            header = answer(conns[0])  # after the resume, or once the dead backup left
            assert (header.request_id, header.status) == (23, 0)
            if fault == "pause":
                assert peek(conns[2], "full", key) == "synced"
            else:
                assert not cluster.nodes[2].in_topology
        finally:
            close_all(conns)


def test_pyignite_works_against_a_realistic_cluster_between_topology_changes() -> None:
    with LocalCluster(nodes=3, backups=1, realistic=True) as cluster:
        client = Client(partition_aware=True, timeout=10)
        with client.connect(cluster.endpoints):
            cache = client.get_or_create_cache("real")
            cache.put_all({i: str(i) for i in range(200)})
            assert all(cache.get(i) == str(i) for i in range(200))
            assert cache.get_all(list(range(200))) == {i: str(i) for i in range(200)}
            assert cache.get_size() == 200
        assert sum(node["forwarded"] for node in cluster.stats()) <= 1  # the first get


def test_a_forward_gives_up_after_forward_timeout_without_applying() -> None:
    with LocalCluster(nodes=2, forward_timeout=0.5) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "bounded")
            (key,) = keys_owned_by(cluster, (1,), 0)
            cluster.pause_node(1)
            send(conns[0], OpCode.CACHE_PUT, "bounded", 22, key, "never")
            header = answer(conns[0])
            assert (header.request_id, header.status) == (22, StatusCode.FAILED)
            assert header.message.startswith(LocalCluster.REFUSAL_MESSAGES["forward_timeout"])
            assert "forward_timeout" in header.message and "not applied" in header.message
            cluster.resume_node(1)
            assert peek(conns[1], "bounded", key) is None
        finally:
            close_all(conns)


# -- failure detection, exchanges and stops ----------------------------------------------------


def test_a_killed_node_stays_in_the_topology_until_failure_detection() -> None:
    with LocalCluster(nodes=3, backups=1, failure_detection=1.5) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "fd")
            (key,) = keys_owned_by(cluster, (2, 0), 1)
            version = cluster.topology_version
            victim = cluster.nodes[2].node_id
            cluster.kill_node(2)
            assert cluster.topology_version == version
            assert (cluster.nodes[2].alive, cluster.nodes[2].in_topology) == (False, True)
            _, answer_1101 = partitions(conns[0], "fd")
            (group,) = answer_1101.groups
            assert victim in group.node_partitions  # still named as a primary
            send(conns[0], OpCode.CACHE_PUT, "fd", 31, key, "meanwhile")  # for the dead primary
            header = answer(conns[0])  # answered once the topology moves on
            assert cluster.topology_version == (version[0] + 1, 0)
            assert (header.request_id, header.status) == (31, StatusCode.FAILED)
            assert header.message == f"{UPDATE_RETRY}: [{key}]"
            assert get(conns[0], "fd", key) is None  # refused, not applied
        finally:
            close_all(conns)


def test_exchange_refusals_answer_ignites_retry_error_and_apply_nothing() -> None:
    with LocalCluster(nodes=2, exchange_refusals=True, exchange_delay=0.6) as cluster:
        conn = RawClient(cluster.endpoints[0])
        try:
            create(conn, "x")  # a cache start is an exchange too, but moves no partition
            kv(conn, OpCode.CACHE_PUT, "x", 1, "before")[0].raise_for_status()
            cluster.wait_for_rebalance()
            cluster.add_node()
            header, _ = kv(conn, OpCode.CACHE_PUT, "x", 7, "refused")
            assert (header.status, header.message) == (StatusCode.FAILED, f"{UPDATE_RETRY}: [7]")
            header, _ = kv(conn, OpCode.CACHE_GET, "x", 1)
            assert header.status == StatusCode.FAILED
            assert header.message.startswith(
                "class org.apache.ignite.cluster.ClusterTopologyException: "
            )
            assert partitions(conn, "x")[0].status == 0  # not a key operation: answered
            cluster.wait_for_rebalance()
            assert get(conn, "x", 7) is None
            assert get(conn, "x", 1) == "before"
        finally:
            conn.close()


def test_a_stopping_node_refuses_what_it_has_not_applied() -> None:
    with LocalCluster(nodes=2, backups=1) as cluster:
        conns = connect_all(cluster)
        try:
            create(conns[0], "stop")
            (key,) = keys_owned_by(cluster, (1, 0), 1)
            cluster.set_latency(1, 30.0, where="request")
            send(conns[1], OpCode.CACHE_PUT, "stop", 41, key, "in flight")
            assert silent(conns[1], 0.3)
            cluster.stop_node(1)
            header = answer(conns[1])
            assert (header.request_id, header.status, header.message) == (
                41,
                StatusCode.FAILED,
                NODE_STOPPING,
            )
            assert peek(conns[0], "stop", key) is None
        finally:
            close_all(conns)


def test_fault_methods_check_their_node() -> None:
    with LocalCluster(nodes=2) as cluster:
        with pytest.raises(ValueError, match="where"):
            cluster.set_latency(0, 1.0, where="sideways")
        for method in (cluster.pause_node, cluster.resume_node, cluster.blackhole_node):
            with pytest.raises(IndexError, match=r"^no node 2$"):
                method(2)
        cluster.kill_node(1)
        for method in (cluster.pause_node, cluster.blackhole_node):
            with pytest.raises(RuntimeError, match="not running"):
                method(1)
        cluster.resume_node(1)  # nothing to resume: no error
        cluster.heal_node(1)


@pytest.mark.parametrize(
    ("flags", "mode"),
    [(["--realistic"], PRIMARY_SYNC), (["--realistic", "--write-mode", "0"], FULL_SYNC)],
)
def test_cluster_command_takes_the_fault_options(flags: list[str], mode: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "2", *flags,
         "--replication-delay", "0.01", "--failure-detection", "0.5", "--forward-timeout", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        host, port = json.loads(process.stdout.readline())["endpoints"][0].rsplit(":", 1)
        conn = RawClient((host, int(port)))
        try:
            create(conn, "cli")
            header, payload = conn.call(
                OpCode.CACHE_GET_CONFIGURATION, struct.pack("<ib", cache_id("cli"), 0)
            )
            config = decode_cache_configuration(conn.context, payload, header.body_offset)
        finally:
            conn.close()
        assert config[CacheProperty.WRITE_SYNCHRONIZATION_MODE] == mode
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--forward-timeout", "0"], "forward_timeout"),
        (["--exchange-refusals", "--exchange-delay", "0"], "exchange window"),
        (["--failure-detection", "-1"], "failure_detection"),
    ],
)
def test_cluster_command_refuses_bad_fault_options(arguments: list[str], complaint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ignite_router", "cluster", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
