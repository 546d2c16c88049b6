"""LocalCluster behaviour a client can observe over raw protocol, and fault injection."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest
from pyignite import Client
from pyignite.exceptions import SQLError

from affinity import cache_id
from ignite_router.testing import LocalCluster
from protocol.context import ProtocolVersion
from protocol.errors import ServerError, StatusCode
from protocol.messages.cache_config import encode_name_request
from protocol.messages.cache_keys import CacheTarget, decode_value, encode_cache_request
from protocol.messages.partitions import decode_partitions_response, encode_partitions_request
from protocol.opcodes import OpCode
from tests.raw_client import RawClient

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cluster():
    with LocalCluster(nodes=2) as local:
        yield local


def partitions(client: RawClient, *names: str):
    buf = bytearray()
    encode_partitions_request(buf, client.context, client.next_id(), [cache_id(n) for n in names])
    header, payload = client.send(buf)
    header.raise_for_status()
    return header, decode_partitions_response(payload, header.body_offset)


def create(client: RawClient, name: str):
    buf = bytearray()
    encode_name_request(buf, OpCode.CACHE_GET_OR_CREATE_WITH_NAME, client.next_id(), name)
    header, _ = client.send(buf)
    header.raise_for_status()
    return header


def test_first_response_carries_the_topology_and_changes_are_flagged(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        first = create(client, "a")  # creating bumps the minor version...
        assert first.topology_version == (2, 1)  # ...and the first answer always carries it
        header, answer = partitions(client, "a")
        assert header.topology_version is None  # nothing moved since the last report
        assert answer.version == (2, 1)
        other = RawClient(cluster.endpoints[1])
        assert create(other, "b").topology_version == (2, 2)
        other.close()
        header, answer = partitions(client, "a", "b")
        assert header.topology_version == (2, 2)
        cluster.add_node()
        header, answer = partitions(client, "a", "b")
        assert header.topology_version == (3, 0) == answer.version
        pmap = answer.to_partition_map()
        assert pmap.cache(cache_id("a")).partitions == 1024
        assert pmap.node_ids() == {node.node_id for node in cluster.nodes}
    finally:
        client.close()


def test_replicated_caches_are_not_applicable(cluster) -> None:
    client = Client(partition_aware=True, timeout=10)
    with client.connect(cluster.endpoints):
        client.create_cache({0: "repl", 1: 1})  # PROP_NAME, PROP_CACHE_MODE=REPLICATED
        raw = RawClient(cluster.endpoints[0])
        _, answer = partitions(raw, "repl")
        raw.close()
        assert [g.applicable for g in answer.groups] == [False]
        assert answer.to_partition_map().cache(cache_id("repl")).applicable is False


@pytest.mark.parametrize("version", [ProtocolVersion(1, m, 0) for m in range(8)])
def test_every_protocol_version_serves_key_value_requests(cluster, version) -> None:
    client = RawClient(cluster.endpoints[1], version=version)
    try:
        assert (client.handshake.node_id is not None) == (version >= (1, 4, 0))
        create(client, "versions")
        target = CacheTarget(cache_id("versions"))
        buf = bytearray()
        encode_cache_request(
            buf, client.context, OpCode.CACHE_PUT, client.next_id(), target, 7, "x"
        )
        client.send(buf)[0].raise_for_status()
        buf.clear()
        encode_cache_request(buf, client.context, OpCode.CACHE_GET, client.next_id(), target, 7)
        header, payload = client.send(buf)
        assert decode_value(payload, header.body_offset) == "x"
    finally:
        client.close()


def test_unsupported_version_is_refused_with_the_servers_version(cluster) -> None:
    from protocol.handshake import (
        HandshakeFailure,
        HandshakeRequest,
        decode_handshake_response,
        encode_handshake_request,
    )

    with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
        sock.sendall(encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 7, 0))))
        sock.recv(1024)
    with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
        bad = bytearray(encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 7, 0))))
        bad[7:9] = (8).to_bytes(2, "little")  # ask for 1.8.0
        sock.sendall(bad)
        answer = decode_handshake_response(sock.recv(1024)[4:], ProtocolVersion(1, 8, 0))
    assert isinstance(answer, HandshakeFailure)
    assert answer.server_version == (1, 7, 0)
    assert answer.message == "Unsupported version: 1.8.0"


def test_errors_carry_status_and_message(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        header, _ = client.call(OpCode.CACHE_GET, b"\x01\x00\x00\x00\x00\x04" + bytes(8))
        assert header.status == StatusCode.CACHE_DOES_NOT_EXIST
        assert "Cache does not exist" in header.message
        header, _ = client.call(4242)
        assert header.status == StatusCode.INVALID_OP_CODE
        with pytest.raises(ServerError) as raised:
            header.raise_for_status()
        assert raised.value.status == StatusCode.INVALID_OP_CODE
    finally:
        client.close()


def test_sql_is_refused_with_a_server_error(cluster) -> None:
    client = Client(timeout=10)
    with client.connect(cluster.endpoints), pytest.raises(SQLError, match="does not run SQL"):
        list(client.sql("SELECT 1"))


def test_garbage_on_one_connection_does_not_disturb_others(cluster) -> None:
    good = RawClient(cluster.endpoints[0])
    try:
        create(good, "calm")
        with socket.create_connection(cluster.endpoints[0], timeout=5) as bad:
            bad.sendall(b"\xff\xff\xff\x7f garbage")  # absurd frame length
            assert bad.recv(100) == b""  # the node closes that connection
        half_open = socket.create_connection(cluster.endpoints[0], timeout=5)
        half_open.sendall(b"\x10\x00\x00\x00\x01")  # a frame that never completes
        _, answer = partitions(good, "calm")
        assert answer.version == cluster.topology_version
        half_open.close()
    finally:
        good.close()


def test_latency_delays_answers(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "slow")
        cluster.set_latency(0, 0.3)
        started = time.monotonic()
        partitions(client, "slow")
        assert time.monotonic() - started >= 0.3  # a lower bound only: never a speed test
    finally:
        client.close()


def test_hung_node_times_out_a_client_and_heals(cluster) -> None:
    client = Client(timeout=0.5)
    client.connect([cluster.endpoints[0]])
    try:
        cache = client.get_or_create_cache("hang")
        cache.put(1, 1)
        cluster.hang_node(0)
        with pytest.raises((socket.timeout, TimeoutError, OSError)):
            cache.get(1)
        cluster.heal_node(0)
    finally:
        client.close()
    client = Client(timeout=5)
    with client.connect([cluster.endpoints[0]]):
        assert client.get_cache("hang").get(1) == 1


def test_cluster_command_prints_endpoints_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "2", "--backups", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = json.loads(process.stdout.readline())["endpoints"]
        assert len(endpoints) == 2
        host, port = endpoints[1].rsplit(":", 1)
        client = Client(timeout=5)
        with client.connect([(host, int(port))]):
            cache = client.get_or_create_cache("cli")
            cache.put("k", "v")
            assert cache.get("k") == "v"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()


def test_binary_object_keys_match_whether_sent_plain_or_wrapped(cluster) -> None:
    from protocol.values import ComplexObject, RawValue, write_value

    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "objects")
        target = CacheTarget(cache_id("objects"))
        key = ComplexObject("OrderKey", {"id": 7, "region": "eu"}, compact_footer=False)
        plain = bytearray()
        write_value(plain, key)
        wrapped = RawValue(b"\x1b" + len(plain).to_bytes(4, "little") + plain + bytes(4))
        buf = bytearray()
        encode_cache_request(
            buf, client.context, OpCode.CACHE_PUT, client.next_id(), target, key, 1
        )
        client.send(buf)[0].raise_for_status()
        buf.clear()
        encode_cache_request(
            buf, client.context, OpCode.CACHE_GET, client.next_id(), target, wrapped
        )
        header, payload = client.send(buf)
        assert decode_value(payload, header.body_offset) == 1
    finally:
        client.close()
