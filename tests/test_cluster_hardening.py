"""One client must not hurt the others: bounded handshakes, backpressure, timeouts, caps.

Time bounds here are the issue's own generous ones (a stall of other nodes is
measured against a fraction of a second, never against a speed); memory is the
server process's RSS from /proc.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from ignite_router.affinity import cache_id
from ignite_router.protocol.context import LATEST
from ignite_router.protocol.errors import StatusCode
from ignite_router.protocol.handshake import (
    HandshakeFailure,
    HandshakeRequest,
    decode_handshake_response,
    encode_handshake_request,
)
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    decode_value,
    encode_cache_request,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import write_value
from ignite_router.testing import LocalCluster
from ignite_router.testing.server import AUTH_FAILURE_DELAY
from tests.raw_client import RawClient
from tests.test_cluster_behaviour import create, kv

pytestmark = pytest.mark.timeout(120)


def closed_by_server(sock: socket.socket, within: float = 5.0) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def timed_get(client: RawClient, cache: str, key) -> float:
    started = time.monotonic()
    kv(client, OpCode.CACHE_GET, cache, key)[0].raise_for_status()
    return time.monotonic() - started


def test_a_huge_feature_bitmask_is_refused_without_stalling_other_nodes() -> None:
    with LocalCluster(nodes=2) as cluster:
        other = RawClient(cluster.endpoints[1])
        try:
            create(other, "calm")
            handshake = bytearray(b"\x01" + struct.pack("<hhhb", 1, 7, 0, 2))
            write_value(handshake, b"\xff" * 65536)  # a 64 KiB feature bitmask
            frame = struct.pack("<i", len(handshake)) + handshake
            answers: list[bytes] = []

            def attack() -> None:
                for _ in range(3):
                    with socket.create_connection(cluster.endpoints[0], timeout=10) as sock:
                        try:
                            sock.sendall(frame)
                            answers.append(sock.recv(10))
                        except OSError:
                            answers.append(b"")  # reset while sending: refused as well

            attacker = threading.Thread(target=attack)
            attacker.start()
            worst = 0.0
            deadline = time.monotonic() + 1.0
            while attacker.is_alive() or time.monotonic() < deadline:
                worst = max(worst, timed_get(other, "calm", 1))
            attacker.join()
            assert answers == [b"", b"", b""]  # closed without an answer
            assert worst < 0.2
        finally:
            other.close()


def test_frames_before_the_handshake_are_capped() -> None:
    with LocalCluster(nodes=1) as cluster:
        with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
            sock.sendall(struct.pack("<i", 64 * 1024 * 1024) + b"\x01")  # declares 64 MiB
            assert closed_by_server(sock)
        request = HandshakeRequest(LATEST, frozenset({0}), user_attributes={"k": "v" * 9000})
        with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
            sock.sendall(encode_handshake_request(request))  # > 8 KiB of attributes
            assert closed_by_server(sock)
        small = HandshakeRequest(LATEST, frozenset({0}), user_attributes={"k": "v" * 100})
        with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
            sock.sendall(encode_handshake_request(small))
            assert sock.recv(1)  # an answer: normal handshakes are unaffected


def test_connections_that_never_shake_hands_are_closed_after_the_timeout() -> None:
    assert LocalCluster().__dict__["_options"].handshake_timeout == 10.0  # Ignite's default
    with LocalCluster(nodes=1, handshake_timeout=0.3) as cluster:
        idle = socket.create_connection(cluster.endpoints[0])
        started = time.monotonic()
        assert closed_by_server(idle, within=10)
        assert time.monotonic() - started >= 0.25
        idle.close()
        client = RawClient(cluster.endpoints[0])  # a handshake in time stays open
        try:
            time.sleep(0.6)
            create(client, "still-here")
        finally:
            client.close()


def test_idle_timeout_closes_quiet_connections_and_is_reported() -> None:
    with LocalCluster(nodes=1, idle_timeout=0.4) as cluster:
        client = RawClient(cluster.endpoints[0], features=frozenset({11}))
        try:
            header, payload = client.call(OpCode.GET_IDLE_TIMEOUT)
            assert struct.unpack_from("<q", payload, header.body_offset)[0] == 400
            for _ in range(4):  # activity keeps it open
                time.sleep(0.2)
                client.call(OpCode.HEARTBEAT)[0].raise_for_status()
            assert closed_by_server(client.sock, within=10)
        finally:
            client.close()
    with LocalCluster(nodes=1) as cluster:  # Ignite's default: never
        client = RawClient(cluster.endpoints[0], features=frozenset({11}))
        try:
            header, payload = client.call(OpCode.GET_IDLE_TIMEOUT)
            assert struct.unpack_from("<q", payload, header.body_offset)[0] == 0
        finally:
            client.close()


def test_the_connection_cap_holds_and_idle_sockets_cannot_lock_clients_out() -> None:
    with LocalCluster(nodes=1, max_connections=3) as cluster:
        endpoint = cluster.endpoints[0]
        idle = [socket.create_connection(endpoint) for _ in range(3)]
        clients = [RawClient(endpoint) for _ in range(3)]  # each evicts an idle socket
        try:
            assert all(closed_by_server(sock, within=5) for sock in idle)
            with socket.create_connection(endpoint, timeout=5) as extra:
                assert closed_by_server(extra)  # full of real clients: refused
            for client in clients:
                create(client, "cap")  # the admitted ones work
            assert cluster.stats()[0]["connections"] == 6
        finally:
            for sock in idle:
                sock.close()
            for client in clients:
                client.close()


def test_a_refused_login_is_answered_late_and_does_not_echo_the_user() -> None:
    with LocalCluster(nodes=1, credentials=("ignite", "secret")) as cluster:
        request = HandshakeRequest(LATEST, username="mallory-was-here", password="guess")
        with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(encode_handshake_request(request))
            answer = sock.recv(4096)
            elapsed = time.monotonic() - started
            failure = decode_handshake_response(answer[4:], LATEST)
            assert isinstance(failure, HandshakeFailure)
            assert failure.status == StatusCode.AUTH_FAILED
            assert b"mallory" not in answer
            assert elapsed >= AUTH_FAILURE_DELAY * 0.9
            good = HandshakeRequest(LATEST, username="ignite", password="secret")
            sock.sendall(encode_handshake_request(good))  # a retry on the same socket works
            assert decode_handshake_response(sock.recv(4096)[4:], LATEST).node_id is not None


def test_a_huge_put_all_does_not_stall_other_nodes() -> None:
    with LocalCluster(nodes=2) as cluster:
        writer, reader = RawClient(cluster.endpoints[0]), RawClient(cluster.endpoints[1])
        try:
            create(writer, "bulk")
            kv(reader, OpCode.CACHE_PUT, "bulk", "probe", 1)[0].raise_for_status()
            buf = bytearray()
            pairs = {i: i for i in range(200_000)}
            target = CacheTarget(cache_id("bulk"))
            encode_cache_request(buf, writer.context, OpCode.CACHE_PUT_ALL, 5, target, pairs)
            done = threading.Event()

            def write() -> None:
                writer.sock.sendall(buf)
                writer.receive()
                done.set()

            thread = threading.Thread(target=write)
            thread.start()
            worst, probes = 0.0, 0
            while not done.is_set():
                worst = max(worst, timed_get(reader, "bulk", "probe"))
                probes += 1
            thread.join()
            header, payload = kv(reader, OpCode.CACHE_GET, "bulk", 199_999)
            assert decode_value(payload, header.body_offset) == 199_999
            assert probes > 1 and worst < 0.5
        finally:
            writer.close()
            reader.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_client_that_never_reads_cannot_bloat_the_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        host, port = json.loads(process.stdout.readline())["endpoints"][0].rsplit(":", 1)
        client = RawClient((host, int(port)), timeout=30)
        create(client, "big")
        kv(client, OpCode.CACHE_PUT, "big", 1, b"\x01" * (8 << 20))[0].raise_for_status()
        baseline = rss_kib(process.pid)
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        buf = bytearray()
        for request_id in range(40):  # 320 MiB of answers if nothing held them back
            target = CacheTarget(cache_id("big"))
            encode_cache_request(buf, client.context, OpCode.CACHE_GET, request_id, target, 1)
        client.sock.sendall(buf)
        peak = baseline
        for _ in range(30):
            time.sleep(0.05)
            peak = max(peak, rss_kib(process.pid))
        assert peak - baseline < 64 * 1024
        other = RawClient((host, int(port)))  # and the node still serves others
        assert timed_get(other, "big", 2) < 5
        other.close()
        client.close()
    finally:
        process.kill()
        process.wait(timeout=20)
        process.stdout.close()
