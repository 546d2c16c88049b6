"""LocalCluster as unkind as a real cluster: reordered answers, late affinity, lagging
nodes, exchanges, and the server's own error behaviour, seen on the wire.

Expected maps come from ``affinity.assign`` over the consistent ids and node ids
the cluster reports, computed here; expected error bytes are built by hand from
the layouts of ``ClientResponse`` and ``ClientListenerNioListener`` and Ignite's message texts.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest

from ignite_router.affinity import assign, cache_id, type_id
from ignite_router.protocol.context import ProtocolVersion
from ignite_router.protocol.errors import StatusCode
from ignite_router.protocol.handshake import HandshakeRequest, encode_handshake_request
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.binary_types import encode_binary_type_put
from ignite_router.protocol.messages.cache_keys import CacheTarget, ExpiryPolicy, decode_value
from ignite_router.protocol.messages.cache_keys import encode_cache_request as encode_kv
from ignite_router.protocol.opcodes import OpCode, PeekMode
from ignite_router.protocol.values import BinaryType, read_string
from ignite_router.testing import LocalCluster
from tests.raw_client import RawClient
from tests.test_cluster_behaviour import create, kv, partitions

pytestmark = pytest.mark.timeout(60)


def primary_map(cluster: LocalCluster, parts: int = 1024) -> list[object]:
    """Partition -> node id of the primary, from rendezvous over the live nodes."""
    alive = [node for node in cluster.nodes if node.alive]
    owners = assign([n.consistent_id for n in alive], parts, 0, [n.node_id for n in alive])
    return [alive[ranked[0]].node_id for ranked in owners]


def map_of(answer) -> list[object]:
    (group,) = answer.groups
    table: list[object] = [None] * 1024
    for node_id, parts in group.node_partitions.items():
        for part in parts:
            table[part] = node_id
    return table


# -- out-of-order answers ------------------------------------------------------------------


def pipelined_ids(cluster: LocalCluster) -> list[tuple[int, int]]:
    client = RawClient(cluster.endpoints[0])
    try:
        create(client, "r")
        for key in range(20):
            kv(client, OpCode.CACHE_PUT, "r", key, key * 10)[0].raise_for_status()
        buf = bytearray()
        for key in range(20):
            target = CacheTarget(cache_id("r"))
            encode_kv(buf, client.context, OpCode.CACHE_GET, 1000 + key, target, key)
        client.sock.sendall(buf)
        answers = []
        for _ in range(20):
            payload = memoryview(client.receive())
            (request_id,) = struct.unpack_from("<q", payload)
            header_end = 8 + 2 + (12 if payload[8] & 2 else 0)
            answers.append((request_id, decode_value(payload, header_end)))
        return answers
    finally:
        client.close()


@pytest.mark.parametrize("reorder", [False, True])
def test_reorder_shuffles_answers_that_still_match_their_request_ids(reorder: bool) -> None:
    with LocalCluster(nodes=1, reorder=reorder, seed=7) as cluster:
        answers = pipelined_ids(cluster)
    ids = [request_id for request_id, _ in answers]
    assert sorted(ids) == list(range(1000, 1020))
    assert all(value == (request_id - 1000) * 10 for request_id, value in answers)
    assert (ids != sorted(ids)) is reorder


# -- late affinity assignment ----------------------------------------------------------------


@pytest.mark.parametrize("late", [False, True])
def test_a_join_publishes_n0_with_old_primaries_then_n1_with_the_ideal_map(late: bool) -> None:
    with LocalCluster(nodes=2, late_affinity=late, rebalance_delay=0.3) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            create(client, "late")
            for key in range(200):
                kv(client, OpCode.CACHE_PUT, "late", key, key)[0].raise_for_status()
            before = primary_map(cluster)
            cluster.add_node()
            ideal = primary_map(cluster)
            assert ideal != before  # some partitions must move to the new node
            header, answer = partitions(client, "late")
            assert header.topology_version == answer.version == (3, 0)
            # (3, 0): with late affinity every partition keeps the primary that holds it
            assert map_of(answer) == (before if late else ideal)
            assert all(_get(client, key) == key for key in range(200))  # nothing lost
            settled = cluster.wait_for_rebalance()
            header, answer = partitions(client, "late")
            assert settled == answer.version == (header.topology_version or answer.version)
            assert answer.version == ((3, 1) if late else (3, 0))
            assert map_of(answer) == ideal
            assert all(_get(client, key) == key for key in range(200))
        finally:
            client.close()


def _get(client: RawClient, key: int):
    header, payload = kv(client, OpCode.CACHE_GET, "late", key)
    header.raise_for_status()
    return decode_value(payload, header.body_offset)


def test_old_primary_keeps_serving_its_partitions_until_n1() -> None:
    with LocalCluster(nodes=2, late_affinity=True, rebalance_delay=0.5) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            create(client, "late")
            for key in range(100):
                kv(client, OpCode.CACHE_PUT, "late", key, key)[0].raise_for_status()
            before = primary_map(cluster)
            index = cluster.add_node()
            new_id = cluster.nodes[index].node_id
            moving = [p for p, owner in enumerate(primary_map(cluster)) if owner == new_id]
            assert moving
            assert cluster.call(
                lambda model: all(
                    model.nodes[model.caches[cache_id("late")].owners[p][0]].node_id == before[p]
                    for p in moving
                )
            )
            cluster.wait_for_rebalance()
            assert cluster.call(
                lambda model: all(model.caches[cache_id("late")].owners[p][0] == index
                                  for p in moving)
            )  # fmt: skip
        finally:
            client.close()


# -- nodes learn versions one by one -------------------------------------------------------


def test_a_lagging_node_reports_the_older_version_and_map() -> None:
    with LocalCluster(nodes=3, version_lag=2.0) as cluster:
        assert cluster.reported_versions() == [(3, 0)] * 3  # start() waits until settled
        before = primary_map(cluster)
        cluster.add_node()
        oldest, youngest = RawClient(cluster.endpoints[0]), RawClient(cluster.endpoints[2])
        try:
            header, answer = partitions(oldest, "none")
            assert header.topology_version == answer.version == (4, 0)
            # node 2 learns (4, 0) only after 2/3 of the lag (1.33 s): still (3, 0) now
            assert cluster.reported_versions()[2] == (3, 0)
            header, answer = partitions(youngest, "none")
            assert header.topology_version == answer.version == (3, 0)
            create(oldest, "lag")  # the creating node knows (4, 1) at once
            _, answer = partitions(youngest, "lag")
            assert answer.groups == ()  # the lagging node does not know the cache yet
            assert cluster.wait_for_rebalance() == (4, 1)
            header, answer = partitions(youngest, "lag")
            assert header.topology_version == answer.version == (4, 1)
            assert map_of(answer) == primary_map(cluster) != before
        finally:
            oldest.close()
            youngest.close()


# -- exchanges hold cache requests ---------------------------------------------------------


def test_cache_requests_wait_for_the_exchange_others_do_not() -> None:
    with LocalCluster(nodes=2, exchange_delay=0.6) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            create(client, "x")
            cluster.wait_for_rebalance()
            cluster.add_node()
            started = time.monotonic()
            buf = bytearray()
            encode_kv(buf, client.context, OpCode.CACHE_PUT, 71, CacheTarget(cache_id("x")), 1, 1)
            client.sock.sendall(buf)
            client.sock.sendall(struct.pack("<ihq", 10, OpCode.GET_IDLE_TIMEOUT, 72))
            first = struct.unpack_from("<q", client.receive())[0]
            second = struct.unpack_from("<q", client.receive())[0]
            assert (first, second) == (72, 71)  # the put was held, the other op was not
            assert time.monotonic() - started >= 0.4  # a lower bound only
        finally:
            client.close()


@pytest.mark.parametrize("hold", ["exchange", "hang"])
def test_a_stopping_node_answers_held_requests_with_an_error(hold: str) -> None:
    with LocalCluster(nodes=2, exchange_delay=0.05 if hold == "exchange" else 0) as cluster:
        client = RawClient(cluster.endpoints[1])
        try:
            create(client, "x")
            cluster.wait_for_rebalance()
            if hold == "exchange":
                cluster.exchange_delay = 30.0  # the next change holds cache requests long
                cluster.add_node()
            else:
                cluster.hang_node(1)
            buf = bytearray()
            encode_kv(buf, client.context, OpCode.CACHE_GET, 81, CacheTarget(cache_id("x")), 1)
            client.sock.sendall(buf)
            while not cluster.call(
                lambda model: any(c._held or c._queue for c in cluster._servers[1].connections)
            ):
                time.sleep(0.01)  # until the node holds the request
            cluster.stop_node(1)
            header = decode_response_header(client.context, memoryview(client.receive()))
            assert (header.request_id, header.status) == (81, StatusCode.FAILED)
            assert header.message == "Operation has been cancelled (node is stopping)."
            assert client.sock.recv(10) == b""
            cluster.exchange_delay = 0.0
        finally:
            client.close()


# -- the server's error behaviour -------------------------------------------------------------


def error_frame(request_id: int, status: int, message: str, topology=None) -> bytes:
    text = message.encode()
    flags = 1 | (2 if topology else 0)
    body = struct.pack("<qh", request_id, flags)
    if topology:
        body += struct.pack("<qi", *topology)
    body += struct.pack("<i", status) + b"\x09" + struct.pack("<i", len(text)) + text
    return struct.pack("<i", len(body)) + body


def raw_exchange(client: RawClient, frame: bytes) -> bytes:
    client.sock.sendall(frame)
    payload = client.receive()
    return struct.pack("<i", len(payload)) + payload


def test_unknown_op_and_unknown_tx_answers_byte_for_byte() -> None:
    with LocalCluster(nodes=1) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            partitions(client, "none")  # the first answer carries the topology
            frame = struct.pack("<ihq", 10, 4242, 9)
            assert raw_exchange(client, frame) == error_frame(9, 2, "Invalid request op code: 4242")
            commit = struct.pack("<ihqi?", 15, OpCode.TX_END, 10, 77, True)
            assert raw_exchange(client, commit) == error_frame(
                10, 1021, "Transaction with id 77 not found."
            )
            rollback = struct.pack("<ihqi?", 15, OpCode.TX_END, 11, 77, False)
            assert raw_exchange(client, rollback) == struct.pack("<iqh", 10, 11, 0)  # success
        finally:
            client.close()


def test_trailing_bytes_are_ignored_and_flags_are_read_at_any_version() -> None:
    with LocalCluster(nodes=1) as cluster:
        client = RawClient(cluster.endpoints[0], version=ProtocolVersion(1, 2, 0))
        try:
            create(client, "t")
            # 1.2.0 has no expiry policies, but the server reads the 0x04 flag anyway
            body = struct.pack("<ibqqq", cache_id("t"), 4, -1, -2, -2)
            body += b"\x04" + struct.pack("<q", 5) + b"\x09\x01\x00\x00\x00v"
            header, _ = client.call(OpCode.CACHE_PUT, body)
            header.raise_for_status()
            get = struct.pack("<ib", cache_id("t"), 0) + b"\x04" + struct.pack("<q", 5)
            header, payload = client.call(OpCode.CACHE_GET, get + b"trailing junk")
            assert decode_value(payload, header.body_offset) == "v"
            header, payload = client.call(OpCode.CACHE_PARTITIONS, struct.pack("<ii", 0, 99))
            assert header.status == 0  # an empty cache list followed by junk
        finally:
            client.close()


def test_a_transactional_flag_with_an_unknown_id_runs_without_a_transaction() -> None:
    with LocalCluster(nodes=1) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            create(client, "t", CACHE_ATOMICITY_MODE=0)
            target = CacheTarget(cache_id("t"), tx_id=12345)
            buf = bytearray()
            encode_kv(buf, client.context, OpCode.CACHE_PUT, client.next_id(), target, 1, "x")
            client.send(buf)[0].raise_for_status()
            header, payload = kv(client, OpCode.CACHE_GET, "t", 1)
            assert decode_value(payload, header.body_offset) == "x"  # applied at once
        finally:
            client.close()


def put_type(client: RawClient, binary_type: BinaryType):
    buf = bytearray()
    encode_binary_type_put(buf, client.next_id(), binary_type)
    return client.send(buf)[0]


def test_binary_metadata_conflicts_are_refused_with_ignites_messages() -> None:
    with LocalCluster(nodes=1) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            base = BinaryType.of("Person", {"id": 4, "name": 9}, affinity_key_field="id")
            put_type(client, base).raise_for_status()
            more = BinaryType.of("Person", {"id": 4, "age": 3}, affinity_key_field="id")
            put_type(client, more).raise_for_status()  # a new field merges
            clash = BinaryType.of("Person", {"id": 3}, affinity_key_field="id")
            header = put_type(client, clash)
            assert (header.status, header.message) == (
                1,
                "Binary type has different field types [typeName=Person, fieldName=id, "
                "fieldTypeName1=long, fieldTypeName2=int]",
            )
            other_key = BinaryType.of("Person", {"id": 4}, affinity_key_field="name")
            header = put_type(client, other_key)
            assert header.message == (
                "Binary type has different affinity key fields [typeName=Person, "
                "affKeyFieldName1=id, affKeyFieldName2=name]"
            )
            impostor = BinaryType.of("Impostor", {"id": 4})
            impostor.type_id = type_id("Person")
            header = put_type(client, impostor)
            assert header.message == (
                f"Two binary types have duplicate type ID [typeId={type_id('Person')}, "
                "typeName1=Person, typeName2=Impostor]"
            )
            name_put = struct.pack("<bi", 0, 42)
            header, _ = client.call(OpCode.BINARY_TYPE_NAME_PUT, name_put + _string("a.A"))
            header.raise_for_status()
            header, _ = client.call(OpCode.BINARY_TYPE_NAME_PUT, name_put + _string("b.B"))
            assert header.status == 1
            assert header.message.endswith(
                "Duplicate ID [platformId=0, typeId=42, oldCls=a.A, newCls=b.B]"
            )
        finally:
            client.close()


def _string(text: str) -> bytes:
    data = text.encode()
    return b"\x09" + struct.pack("<i", len(data)) + data


def test_a_bad_client_type_is_refused_before_the_version_check() -> None:
    with LocalCluster(nodes=1) as cluster:
        request = bytearray(encode_handshake_request(HandshakeRequest()))
        struct.pack_into("<hhhb", request, 5, 9, 9, 9, 7)  # version 9.9.9, client type 7
        with socket.create_connection(cluster.endpoints[0], timeout=5) as sock:
            sock.sendall(request)
            answer = sock.recv(1024)
        text = b"Unknown client type: 7"
        body = b"\x00" + struct.pack("<hhh", 0, 0, 0) + b"\x09" + struct.pack("<i", len(text))
        body += text + struct.pack("<i", 1)
        assert answer == struct.pack("<i", len(body)) + body


def test_the_deprecated_node_partitions_request_is_served() -> None:
    with LocalCluster(nodes=2) as cluster:
        client = RawClient(cluster.endpoints[1])
        try:
            create(client, "old")
            header, payload = client.call(
                OpCode.CACHE_NODE_PARTITIONS, struct.pack("<ib", cache_id("old"), 0)
            )
            header.raise_for_status()
            pos = header.body_offset
            (n,) = struct.unpack_from("<i", payload, pos)
            pos += 4
            by_port = {}
            for _ in range(n):
                port, addresses = struct.unpack_from("<ii", payload, pos)
                pos += 8
                hosts = []
                for _ in range(addresses):
                    host, pos = read_string(payload, pos)
                    hosts.append(host)
                (count,) = struct.unpack_from("<i", payload, pos)
                parts = struct.unpack_from(f"<{count}i", payload, pos + 4)
                pos += 4 + 4 * count
                by_port[port] = (hosts, set(parts))
            expected = primary_map(cluster)
            for node in cluster.nodes:
                mine = {p for p, owner in enumerate(expected) if owner == node.node_id}
                assert by_port[node.port] == ([cluster.host], mine)
        finally:
            client.close()


def test_expiry_policies_expire_entries() -> None:
    with LocalCluster(nodes=2, backups=1) as cluster:
        client = RawClient(cluster.endpoints[0])
        try:
            create(client, "e")

            def call(op, *args, expiry=None):
                buf = bytearray()
                target = CacheTarget(cache_id("e"), expiry=expiry)
                encode_kv(buf, client.context, op, client.next_id(), target, *args)
                header, payload = client.send(buf)
                header.raise_for_status()
                return payload[header.body_offset :]

            call(OpCode.CACHE_PUT, 1, "short", expiry=ExpiryPolicy(create=300))
            call(OpCode.CACHE_PUT, 2, "gone", expiry=ExpiryPolicy(create=0))
            call(OpCode.CACHE_PUT, 3, "eternal", expiry=ExpiryPolicy(create=-1))
            call(OpCode.CACHE_PUT, 4, "touched", expiry=ExpiryPolicy(create=300))
            assert decode_value(call(OpCode.CACHE_GET, 1), 0) == "short"
            assert decode_value(call(OpCode.CACHE_GET, 2), 0) is None  # zero: at once
            # an update with -2 keeps the TTL; an access with -1 makes it eternal
            call(OpCode.CACHE_PUT, 1, "short2", expiry=ExpiryPolicy(update=-2))
            call(OpCode.CACHE_GET, 4, expiry=ExpiryPolicy(access=-1))
            time.sleep(0.5)
            assert decode_value(call(OpCode.CACHE_GET, 1), 0) is None
            assert decode_value(call(OpCode.CACHE_GET, 3), 0) == "eternal"
            assert decode_value(call(OpCode.CACHE_GET, 4), 0) == "touched"
            size = call(OpCode.CACHE_GET_SIZE, [PeekMode.ALL])
            assert struct.unpack_from("<q", size)[0] == 4  # two live keys, two copies each
        finally:
            client.close()
