"""LocalCluster as a client sees it on the wire: handshake, headers, versions, maps, faults.

Requests are built and answers parsed with the ``protocol`` client side over
plain sockets (``tests/raw_client.py``); OP 5102 answers are parsed here
straight from ``ClientClusterGroupGetNodesEndpointsResponse``'s layout, not from ``protocol``.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid

import pytest
from pyignite import Client
from pyignite.exceptions import AuthenticationError, SQLError

from ignite_router.affinity import cache_id, field_id, type_id
from ignite_router.protocol.context import LATEST, ProtocolVersion
from ignite_router.protocol.errors import StatusCode
from ignite_router.protocol.handshake import (
    HandshakeFailure,
    HandshakeRequest,
    HandshakeSuccess,
    decode_handshake_response,
    encode_handshake_request,
)
from ignite_router.protocol.messages.cache_config import (
    CacheMode,
    CacheProperty,
    encode_configuration_request,
    encode_destroy_request,
    encode_name_request,
)
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    decode_value,
    encode_cache_request,
)
from ignite_router.protocol.messages.cluster import (
    ServerNodesFilter,
    decode_node_ids,
    decode_node_info,
    encode_node_ids_request,
    encode_node_info_request,
)
from ignite_router.protocol.messages.partitions import (
    decode_partitions_response,
    encode_partitions_request,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import read_string
from ignite_router.testing import LocalCluster
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


def create(client: RawClient, name: str, **properties):
    buf = bytearray()
    if properties:
        config = {CacheProperty.NAME: name} | {CacheProperty[k]: v for k, v in properties.items()}
        op = OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION
        encode_configuration_request(buf, client.context, op, client.next_id(), config)
    else:
        encode_name_request(buf, OpCode.CACHE_GET_OR_CREATE_WITH_NAME, client.next_id(), name)
    header, _ = client.send(buf)
    header.raise_for_status()
    return header


def kv(client: RawClient, op: int, cache: str, *args):
    buf = bytearray()
    encode_cache_request(
        buf, client.context, op, client.next_id(), CacheTarget(cache_id(cache)), *args
    )
    return client.send(buf)


def handshake(endpoint, request: HandshakeRequest):
    with socket.create_connection(endpoint, timeout=5) as sock:
        sock.sendall(encode_handshake_request(request))
        payload = sock.recv(4096)[4:]
    return decode_handshake_response(payload, request.version)


# -- handshake -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [ProtocolVersion(1, m, 0) for m in range(8)])
def test_every_protocol_version_serves_key_value_requests(cluster, version) -> None:
    client = RawClient(cluster.endpoints[1], version=version)
    try:
        assert client.handshake.node_id == (
            cluster.nodes[1].node_id if version >= (1, 4, 0) else None
        )
        create(client, "versions")
        kv(client, OpCode.CACHE_PUT, "versions", 7, "x")[0].raise_for_status()
        header, payload = kv(client, OpCode.CACHE_GET, "versions", 7)
        assert decode_value(payload, header.body_offset) == "x"
    finally:
        client.close()


@pytest.mark.parametrize("asked", [(1, 8, 0), (1, 7, 1), (2, 0, 0), (0, 9, 0)])
def test_other_versions_are_refused_with_the_latest(cluster, asked) -> None:
    request = bytearray(encode_handshake_request(HandshakeRequest(LATEST)))
    struct.pack_into("<hhh", request, 5, *asked)
    with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
        sock.sendall(request)
        answer = decode_handshake_response(sock.recv(1024)[4:], ProtocolVersion(*asked))
        assert isinstance(answer, HandshakeFailure)
        assert answer.server_version == LATEST
        assert answer.message == f"Unsupported version: {'.'.join(map(str, asked))}"
        # The socket stays usable: a retry with a supported version succeeds on it.
        sock.sendall(encode_handshake_request(HandshakeRequest(LATEST)))
        assert isinstance(decode_handshake_response(sock.recv(1024)[4:], LATEST), HandshakeSuccess)


def test_every_known_feature_asked_for_is_granted_and_attributes_are_accepted(cluster) -> None:
    # ClientConnectionContext: the client's bits that the server knows (0-18 in
    # Ignite 2.x), TX_AWARE_QUERIES (18) only when enabled, which it is not by default.
    asked = frozenset({0, 2, 3, 5, 14, 18, 25, 40})
    answer = handshake(
        cluster.endpoints[0], HandshakeRequest(LATEST, asked, user_attributes={"app": "tests"})
    )
    assert isinstance(answer, HandshakeSuccess)
    assert answer.features == {0, 2, 3, 5, 14}
    assert handshake(cluster.endpoints[0], HandshakeRequest(LATEST)).features == frozenset()


def test_credentials_are_checked_when_configured() -> None:
    with LocalCluster(nodes=1, credentials=("ignite", "secret")) as cluster:
        endpoint = cluster.endpoints[0]
        good = HandshakeRequest(LATEST, username="ignite", password="secret")
        assert isinstance(handshake(endpoint, good), HandshakeSuccess)
        for request in (
            HandshakeRequest(LATEST, username="ignite", password="wrong"),
            HandshakeRequest(LATEST),
        ):
            answer = handshake(endpoint, request)
            assert isinstance(answer, HandshakeFailure)
            assert (answer.status, answer.server_version) == (StatusCode.AUTH_FAILED, (0, 0, 0))
        client = Client(username="ignite", password="secret", timeout=5)
        with client.connect([endpoint]):
            client.get_or_create_cache("auth").put(1, 1)
        with pytest.raises(AuthenticationError):
            Client(username="ignite", password="nope", timeout=5).connect([endpoint])


# -- topology versions -----------------------------------------------------------------------


def test_first_response_carries_the_topology_and_changes_are_flagged(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        header, answer = partitions(client, "none")
        assert header.topology_version == (2, 0) == answer.version  # 2 joins; first answer
        header, _ = partitions(client, "none")
        assert header.topology_version is None  # nothing moved since the last report
        assert create(client, "a").topology_version == (2, 1)  # reports what it changed
        other = RawClient(cluster.endpoints[1])
        assert create(other, "b").topology_version == (2, 2)  # first answer on `other`
        other.close()
        header, _ = partitions(client, "a")
        assert header.topology_version == (2, 2)
        cluster.add_node()
        assert partitions(client, "a")[0].topology_version == (3, 0)  # join: major + 1
        cluster.stop_node(2)
        assert partitions(client, "a")[0].topology_version == (4, 0)  # leave: major + 1
        cluster.kill_node(1)
        header, answer = partitions(client, "a")
        assert header.topology_version == (5, 0) == answer.version
        buf = bytearray()
        encode_destroy_request(buf, client.next_id(), cache_id("b"))
        assert client.send(buf)[0].topology_version == (5, 1)  # destroy: minor + 1
    finally:
        client.close()


def test_partition_map_groups_caches_as_the_server_does(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "a")
        create(client, "b", BACKUPS_NUMBER=1)  # same primaries as "a": same group
        key_config = [{"type_name": "Person", "affinity_key_field_name": "city"}]
        create(client, "k", CACHE_KEY_CONFIGURATION=key_config)
        create(client, "r1", CACHE_MODE=CacheMode.REPLICATED)
        create(client, "r2", CACHE_MODE=CacheMode.REPLICATED)
        _, answer = partitions(client, "a")
        (group,) = answer.groups  # unrequested compatible caches join; replicated ones not
        assert group.applicable
        assert set(group.caches) == {cache_id(n) for n in ("a", "b", "k")}
        assert group.caches[cache_id("k")] == {type_id("Person"): field_id("city")}
        assert set(group.node_partitions) == {node.node_id for node in cluster.nodes}
        listed = sorted(p for parts in group.node_partitions.values() for p in parts)
        assert listed == list(range(1024))  # every partition has a listed primary
        _, answer = partitions(client, "r1", "a")
        by_kind = {g.applicable: set(g.caches) for g in answer.groups}
        assert by_kind[False] == {cache_id("r1"), cache_id("r2")}
        assert by_kind[True] == {cache_id(n) for n in ("a", "b", "k")}
    finally:
        client.close()


def test_endpoint_discovery_lists_nodes_added_and_removed(cluster) -> None:
    def endpoints(client: RawClient, start: int):
        header, payload = client.call(
            OpCode.CLUSTER_GROUP_GET_NODE_ENDPOINTS, struct.pack("<qq", start, -1)
        )
        header.raise_for_status()
        pos = header.body_offset
        version, added = struct.unpack_from("<qi", payload, pos)
        pos += 12
        nodes = {}
        for _ in range(added):
            msb, lsb, port, count = struct.unpack_from("<qqii", payload, pos)
            pos += 24
            addresses = []
            for _ in range(count):
                address, pos = read_string(payload, pos)
                addresses.append(address)
            nodes[uuid.UUID(int=(msb % 2**64) << 64 | lsb % 2**64)] = (port, addresses)
        (removed,) = struct.unpack_from("<i", payload, pos)
        gone = {
            uuid.UUID(int=(msb % 2**64) << 64 | lsb % 2**64)
            for msb, lsb in struct.iter_unpack("<qq", payload[pos + 4 : pos + 4 + 16 * removed])
        }
        return version, nodes, gone

    client = RawClient(cluster.endpoints[0], features=frozenset({3}))
    try:
        assert client.context.features == {3}
        version, nodes, gone = endpoints(client, -1)
        expected = {n.node_id: (n.port, [cluster.host]) for n in cluster.nodes}
        assert (version, nodes, gone) == (2, expected, set())
        leaving = cluster.nodes[1].node_id
        cluster.kill_node(1)
        index = cluster.add_node()
        version, nodes, gone = endpoints(client, 2)
        new = cluster.nodes[index]
        assert (version, nodes, gone) == (4, {new.node_id: (new.port, [cluster.host])}, {leaving})
    finally:
        client.close()


def test_cluster_groups_list_and_describe_the_live_nodes(cluster) -> None:
    client = RawClient(cluster.endpoints[1], features=frozenset({4}))
    try:
        assert client.context.features == {4}

        def node_ids(known: int, projection=None):
            buf = bytearray()
            encode_node_ids_request(buf, client.next_id(), known, projection)
            header, payload = client.send(buf)
            return header.decode_body(payload, decode_node_ids)

        everyone = {node.node_id for node in cluster.nodes}
        answer = node_ids(-1)
        assert (answer.topology_version, set(answer.node_ids)) == (2, everyone)
        assert node_ids(2) is None  # the client is up to date
        assert set(node_ids(-1, [ServerNodesFilter(True)]).node_ids) == everyone
        assert node_ids(-1, [ServerNodesFilter(False)]).node_ids == ()  # no client nodes
        buf = bytearray()
        encode_node_info_request(buf, client.next_id(), [n.node_id for n in cluster.nodes])
        header, payload = client.send(buf)
        described = header.decode_body(payload, decode_node_info)
        assert [(n.node_id, n.consistent_id, n.local, n.order) for n in described] == [
            (node.node_id, node.consistent_id, index == 1, index + 1)
            for index, node in enumerate(cluster.nodes)
        ]
    finally:
        client.close()


# -- errors and robustness -------------------------------------------------------------------


def test_errors_carry_status_and_message(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        header, _ = kv(client, OpCode.CACHE_GET, "missing", 1)
        assert header.status == StatusCode.CACHE_DOES_NOT_EXIST
        assert header.message == f"Cache does not exist [cacheId= {cache_id('missing')}]"
        header, _ = client.call(4242)
        assert header.status == StatusCode.INVALID_OP_CODE
        header, _ = client.call(OpCode.TX_END, struct.pack("<i?", 99, True))
        assert header.status == StatusCode.TX_NOT_FOUND
        header, _ = client.call(OpCode.RESOURCE_CLOSE, struct.pack("<q", 12345))
        assert header.status == StatusCode.RESOURCE_DOES_NOT_EXIST
    finally:
        client.close()


def test_a_body_that_cannot_be_parsed_closes_the_connection_without_an_answer(cluster) -> None:
    # ClientListenerNioListener.onMessage: the parser throws -> ses.close(), no answer.
    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "m")
        body = struct.pack("<ib", cache_id("m"), 0) + b"\x09\xff\x00\x00\x00ab"  # string too short
        client.sock.sendall(_frame(OpCode.CACHE_PUT, 5, body))
        assert client.sock.recv(100) == b""
        assert cluster.stats()[0]["errors"] == 0
    finally:
        client.close()
    client = RawClient(cluster.endpoints[0])  # the node itself carries on
    try:
        header, _ = client.call(
            OpCode.CACHE_GET,
            struct.pack("<ib", cache_id("m"), 0) + b"\x0c" + struct.pack("<i", 1) + b"\x01",
        )
        assert header.status == StatusCode.FAILED  # arrays cannot be keys: parsed, then refused
        kv(client, OpCode.CACHE_PUT, "m", 1, "fine")[0].raise_for_status()
        header, payload = kv(client, OpCode.CACHE_GET, "m", 1)
        assert decode_value(payload, header.body_offset) == "fine"
    finally:
        client.close()


def _frame(op: int, request_id: int, body: bytes) -> bytes:
    return struct.pack("<ihq", 10 + len(body), op, request_id) + body


def test_garbage_on_one_connection_does_not_disturb_others(cluster) -> None:
    good = RawClient(cluster.endpoints[0])
    try:
        create(good, "calm")
        with socket.create_connection(cluster.endpoints[0], timeout=5) as bad:
            bad.sendall(b"\xff\xff\xff\x7f garbage")  # absurd frame length
            assert bad.recv(100) == b""  # the node closes that connection
        with socket.create_connection(cluster.endpoints[0], timeout=5) as bad:
            bad.sendall(b"\x05\x00\x00\x00\x07\x01\x00\x07\x00")  # not a handshake
            assert bad.recv(100) == b""
        half_open = socket.create_connection(cluster.endpoints[0], timeout=5)
        half_open.sendall(b"\x10\x00\x00\x00\x01")  # a frame that never completes
        _, answer = partitions(good, "calm")
        assert answer.version == cluster.topology_version
        kv(good, OpCode.CACHE_PUT, "calm", 1, 1)[0].raise_for_status()
        half_open.close()
    finally:
        good.close()


def test_sql_is_refused_with_a_server_error(cluster) -> None:
    client = Client(timeout=10)
    with client.connect(cluster.endpoints), pytest.raises(SQLError, match="does not run SQL"):
        list(client.sql("SELECT 1"))
    raw = RawClient(cluster.endpoints[0])
    try:
        header, _ = raw.call(OpCode.QUERY_SQL_FIELDS, b"anything")
        assert header.status == StatusCode.FAILED
        assert "local cluster does not run SQL" in header.message
    finally:
        raw.close()


# -- fault injection -------------------------------------------------------------------------


def test_kill_resets_connections_and_stop_closes_them(cluster) -> None:
    victims = [RawClient(cluster.endpoints[i]) for i in (0, 1)]
    cluster.kill_node(0)
    with pytest.raises(ConnectionResetError):
        victims[0].sock.recv(10)
    cluster.stop_node(1)
    assert victims[1].sock.recv(10) == b""  # orderly shutdown
    for victim in victims:
        victim.close()
    assert [node.alive for node in cluster.nodes] == [False, False]
    cluster.start_node(0)
    again = RawClient(cluster.endpoints[0])  # same port, new node id
    assert again.handshake.node_id == cluster.nodes[0].node_id
    again.close()


def test_latency_delays_answers_in_order(cluster) -> None:
    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "slow")
        cluster.set_latency(0, 0.3)
        started = time.monotonic()
        partitions(client, "slow")
        assert time.monotonic() - started >= 0.3  # a lower bound only: never a speed test
        for request_id in (101, 102):
            seen = cluster.stats()[0]["requests"]
            buf = bytearray()
            encode_partitions_request(buf, client.context, request_id, [cache_id("slow")])
            client.sock.sendall(buf)
            while cluster.stats()[0]["requests"] == seen:
                time.sleep(0.01)  # until the node has taken the request in
            cluster.set_latency(0, 0)  # the second answer is ready first...
        answers = [struct.unpack_from("<q", client.receive())[0] for _ in range(2)]
        assert answers == [101, 102]  # ...but never overtakes the first
    finally:
        client.close()


def test_hung_node_answers_nothing_until_healed(cluster) -> None:
    raw = RawClient(cluster.endpoints[0])
    client = Client(timeout=0.5, handshake_timeout=0.5)
    client.connect([cluster.endpoints[0]])
    try:
        cache = client.get_or_create_cache("hang")
        cache.put(1, 1)
        cluster.hang_node(0)
        with pytest.raises((socket.timeout, TimeoutError, OSError)):
            cache.get(1)
        buf = bytearray()
        encode_partitions_request(buf, raw.context, 7, [cache_id("hang")])
        raw.sock.sendall(buf)
        raw.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            raw.receive()  # read, but not answered
        cluster.heal_node(0)
        raw.sock.settimeout(5)
        assert struct.unpack_from("<q", raw.receive())[0] == 7  # the held request, answered now
    finally:
        client.close()
        raw.close()
    client = Client(timeout=5)
    with client.connect([cluster.endpoints[0]]):
        assert client.get_cache("hang").get(1) == 1


# -- entry points ----------------------------------------------------------------------------


@pytest.mark.ignite_cluster(nodes=2, backups=1)
def test_pytest_fixture_takes_cluster_options_from_the_marker(ignite_cluster) -> None:
    assert len(ignite_cluster.nodes) == 2
    client = Client(timeout=5)
    with client.connect(ignite_cluster.endpoints):
        settings = client.get_or_create_cache("fixture").settings
    assert settings[CacheProperty.BACKUPS_NUMBER] == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cluster_command_prints_endpoints_and_stops_on_a_signal(stop_signal) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "2", "--backups", "1",
         "--partitions", "100", "--consistent-ids", "east,west"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        endpoints = json.loads(process.stdout.readline())["endpoints"]
        assert len(endpoints) == 2
        host, port = endpoints[1].rsplit(":", 1)
        client = RawClient((host, int(port)))
        create(client, "cli")
        kv(client, OpCode.CACHE_PUT, "cli", "k", "v")[0].raise_for_status()
        _, answer = partitions(client, "cli")
        (group,) = answer.groups
        assert sorted(p for ps in group.node_partitions.values() for p in ps) == list(range(100))
        client.close()
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.stdout.close()


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--nodes", "2", "--consistent-ids", "a"], "consistent_ids"),
        (["--partitions", "0"], "partition count"),
        (["--credentials", "no-colon"], "USER:PASSWORD"),
    ],
)
def test_cluster_command_rejects_bad_arguments(arguments, complaint) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ignite_router", "cluster", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
