"""pyignite's API shape on both clients, checked against pyignite 0.6.1 itself.

The constructor takes every pyignite argument (names read from pyignite's own code), with
pyignite's meaning where it can be observed (compact footers, credentials, when TLS files
are read, ``ssl_*`` without ``use_ssl``); SQL runs when ``sql()`` is called; cursors, the
cluster facade, binary types, ``protocol_context``, ``get_best_node`` and ``local_peek(key)``
answer what pyignite answers on the same cluster.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import ssl
from typing import Any, ClassVar

import pytest
from pyignite import Client as PyigniteClient
from pyignite.aio_client import AioClient as PyigniteAioClient
from pyignite.connection import Connection
from pyignite.connection.handshake import HandshakeRequest as PyigniteHandshake
from pyignite.connection.protocol_context import ProtocolContext as PyigniteContext
from pyignite.connection.ssl import check_ssl_params
from pyignite.datatypes import IntObject, String
from pyignite.exceptions import SQLError

from ignite_router import (
    AioClient,
    CallTimeoutError,
    Client,
    ClusterState,
    OutcomeUnknownError,
    ServerError,
)
from ignite_router.protocol.messages.cache_properties import CacheProperty
from ignite_router.testing import LocalCluster
from ignite_router.tls import TlsOptions
from tests.client_harness import SHELLS, connected

# Ours only: everything else a Client takes is a pyignite argument.
TRANSACTIONAL = 0  # CACHE_ATOMICITY_MODE
OURS = {"ssl_context", "retry_policy", "reconnect", "discovery", "heartbeat_interval", "hedge"}


@dataclasses.dataclass(frozen=True)
class User:
    id: int
    name: str


@dataclasses.dataclass(frozen=True)
class Person:
    type_name: ClassVar[str] = "demo.Person"  # what pyignite's classes carry
    id: int
    name: str


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=3) as cluster:  # no backups: a node holds only its primaries
        yield cluster


def pyignite_arguments() -> set[str]:
    """Every keyword argument pyignite's Client hands on (its ``__init__`` and its
    connection's, plus the TLS options its ``check_ssl_params`` accepts)."""
    names = set(inspect.signature(PyigniteClient.__init__).parameters)
    names |= set(inspect.signature(Connection.__init__).parameters)
    for constant in check_ssl_params.__code__.co_consts:
        if isinstance(constant, tuple):
            names |= set(constant)
    return names - {"self", "client", "host", "port", "kwargs", "ssl_params"}


def test_both_clients_take_every_pyignite_argument_by_name() -> None:
    ours = inspect.signature(Client).parameters
    assert inspect.signature(AioClient).parameters == ours
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in ours.values())
    assert pyignite_arguments() <= set(ours)
    assert set(ours) - pyignite_arguments() == OURS
    with pytest.raises(TypeError, match="bogus"):
        Client(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="bogus"):
        AioClient(bogus=1)  # type: ignore[call-arg]


@pytest.mark.parametrize("compact_footer", [None, True, False])
def test_compact_footer_means_what_it_means_in_pyignite(compact_footer: bool | None) -> None:
    expected = PyigniteClient(compact_footer=compact_footer).compact_footer
    client = Client(compact_footer=compact_footer)
    assert client.compact_footer == expected
    client.session.codec.add(User, client.session.codec.describe(User))
    assert client.session.codec.to_wire(User(1, "a")).compact_footer == expected


@pytest.mark.parametrize(
    ("username", "password"), [("ignite", None), (None, "secret"), ("ignite", "secret")]
)
def test_credentials_are_sent_only_as_a_pair_as_in_pyignite(username, password) -> None:
    theirs = PyigniteHandshake(PyigniteContext((1, 7, 0)), username, password)
    ours = Client(username=username, password=password).core.handshake
    assert (ours.username, ours.password) == (theirs.username, theirs.password)


def test_tls_files_are_read_at_connect_and_only_with_use_ssl(cluster: LocalCluster) -> None:
    missing = "/nonexistent/ca.pem"
    # pyignite accepts both at construction; ssl_* without use_ssl connects in plaintext.
    PyigniteClient(use_ssl=True, ssl_ca_certfile=missing)
    with PyigniteClient(ssl_ca_certfile=missing).connect(cluster.endpoints):
        pass
    client = Client(use_ssl=True, ssl_ca_certfile=missing)
    with pytest.raises(FileNotFoundError):
        client.connect(cluster.endpoints)
    with Client(ssl_ca_certfile=missing).connect(cluster.endpoints) as plain:
        assert plain.get_cache_names() is not None


def test_pyignite_ssl_version_constants_are_understood() -> None:
    """pyignite passes an ``SSLContext`` protocol as ``ssl_version`` (``PROTOCOL_TLSv1_2`` by
    default): per the ssl module's documentation that is TLS 1.2 only; ``PROTOCOL_TLS`` any
    version (here: from 1.2 on); TLS 1.1 is refused."""
    pinned = TlsOptions(version=ssl.PROTOCOL_TLSv1_2).context()
    assert (pinned.minimum_version, pinned.maximum_version) == (
        ssl.TLSVersion.TLSv1_2,
        ssl.TLSVersion.TLSv1_2,
    )
    negotiated = TlsOptions(version=ssl.PROTOCOL_TLS).context()
    assert negotiated.minimum_version == ssl.TLSVersion.TLSv1_2
    assert negotiated.maximum_version == ssl.TLSVersion.MAXIMUM_SUPPORTED
    with pytest.raises(ValueError, match=r"1\.2"):
        Client(use_ssl=True, ssl_version=ssl.PROTOCOL_TLSv1_1)


def test_connect_takes_one_host_port_string(cluster: LocalCluster) -> None:
    host, port = cluster.endpoints[0]
    for arguments in ((f"{host}:{port}",), (host, port), ([f"{host}:{port}"],)):
        with Client(discovery=False).connect(*arguments) as client:
            assert [node["endpoint"] for node in client.nodes()] == [(host, port)]


def test_sql_runs_when_called_as_in_pyignite(cluster: LocalCluster) -> None:
    """The bundled cluster refuses SQL: the refusal shows when the query is sent."""
    theirs = PyigniteClient()
    with theirs.connect(cluster.endpoints), pytest.raises(SQLError):
        theirs.sql("CREATE TABLE t (id INT PRIMARY KEY)")  # no iteration
    with Client().connect(cluster.endpoints) as client:
        client.get_cache_names()  # discovery done: nothing else rides along from here on
        cluster.reset_stats()
        with pytest.raises(ServerError, match="SQL"):
            client.sql("CREATE TABLE t (id INT PRIMARY KEY)")
        assert sum(node["requests"] for node in cluster.stats()) == 1

    async def asynchronous() -> None:
        async with AioClient().connect(cluster.endpoints) as client:
            await client.get_cache_names()
            cursor = client.sql("INSERT INTO t VALUES (1)")
            cluster.reset_stats()
            with pytest.raises(ServerError, match="SQL"):
                await cursor  # pyignite's AioClient also runs the query when awaited
            assert sum(node["requests"] for node in cluster.stats()) == 1

    asyncio.run(asynchronous())


@pytest.mark.parametrize("kind", SHELLS)
def test_scan_yields_registered_dataclasses_as_get_does(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints) as shell:
        client = shell.client
        cache = shell.do(client.get_or_create_cache(f"users-{kind}"))
        shell.do(client.register_dataclass(User))
        shell.do(cache.put_all({i: User(i, f"user {i}") for i in range(5)}))
        read = shell.do(cache.get_all(range(5)))
        assert all(isinstance(value, User) for value in read.values())
        assert dict(shell.rows(cache.scan(page_size=2))) == read


def test_blocking_cursor_works_with_next_and_frees_itself_early(cluster: LocalCluster) -> None:
    with Client().connect(cluster.endpoints) as client:
        cache = client.get_or_create_cache("cursor-sync")
        cache.put_all({i: i for i in range(6)})
        cursor = cache.scan(page_size=2)
        rows = [next(cursor), next(cursor), next(cursor)]  # across a page boundary
        assert sorted(rows + list(cursor)) == [(i, i) for i in range(6)]
        with pytest.raises(StopIteration):
            next(cursor)
        cluster.reset_stats()
        with cache.scan(page_size=2) as cursor:
            next(cursor)
        assert sum(node["requests"] for node in cluster.stats()) == 2  # the scan, the close


def test_async_cursor_offers_what_pyignites_offers(cluster: LocalCluster) -> None:
    async def asynchronous() -> None:
        async with AioClient().connect(cluster.endpoints) as client:
            cache = await client.get_or_create_cache("cursor-async")
            await cache.put_all({i: i for i in range(6)})
            cursor = await cache.scan(page_size=4)
            first = [await cursor.__anext__(), await anext(cursor)]
            rest = [row async for row in cursor]
            assert sorted(first + rest) == [(i, i) for i in range(6)]
            async with cache.scan(page_size=4) as entered:
                assert len([row async for row in entered]) == 6
            lazy = cache.scan(page_size=4)  # async for alone runs the scan too
            assert len([row async for row in lazy]) == 6
            cluster.reset_stats()
            async with cache.scan(page_size=2) as early:
                await anext(early)
            assert sum(node["requests"] for node in cluster.stats()) == 2  # the scan, the close
        theirs = PyigniteAioClient()
        async with theirs.connect(cluster.endpoints):
            cursor = (await theirs.get_cache("cursor-async")).scan(page_size=4)
            async with cursor:
                pyignite_rows = [row async for row in cursor]
            assert sorted(tuple(row) for row in pyignite_rows) == [(i, i) for i in range(6)]

    asyncio.run(asynchronous())


def test_protocol_context_and_support_answer_as_pyignite(cluster: LocalCluster) -> None:
    client, theirs = Client(), PyigniteClient()
    assert client.protocol_context is None and theirs.protocol_context is None
    assert client.partition_awareness_supported_by_protocol is False
    assert theirs.partition_awareness_supported_by_protocol is False
    with client.connect(cluster.endpoints), theirs.connect(cluster.endpoints):
        ours, reference = client.protocol_context, theirs.protocol_context
        assert ours is not None
        assert tuple(ours.version) == reference.version
        for question in (
            "is_partition_awareness_supported",
            "is_status_flags_supported",
            "is_feature_flags_supported",
            "is_cluster_api_supported",
            "is_expiry_policy_supported",
        ):
            assert bool(getattr(ours, question)()) == bool(getattr(reference, question)())
        assert client.partition_awareness_supported_by_protocol is True
        assert client.partition_aware == theirs.partition_aware


def test_cluster_facade_reads_and_sets_the_state(cluster: LocalCluster) -> None:
    theirs = PyigniteClient()
    with (
        Client().connect(cluster.endpoints) as client,
        theirs.connect(cluster.endpoints),
    ):
        assert client.get_cluster().get_state() == theirs.get_cluster().get_state()
        client.get_cluster().set_state(ClusterState.ACTIVE_READ_ONLY)
        try:
            assert theirs.get_cluster().get_state() == ClusterState.ACTIVE_READ_ONLY
        finally:
            client.get_cluster().set_state(ClusterState.ACTIVE)
        assert theirs.get_cluster().get_state() == ClusterState.ACTIVE


@pytest.mark.parametrize("kind", SHELLS)
def test_binary_type_api_answers_as_pyignite(cluster: LocalCluster, kind: str) -> None:
    name = f"Shape{kind.title()}"
    theirs = PyigniteClient()
    with (
        connected(kind, cluster.endpoints) as shell,
        theirs.connect(cluster.endpoints),
    ):
        client = shell.client
        put = shell.do(client.put_binary_type(name, "id", schema={"id": IntObject, "tag": String}))
        described = shell.do(client.get_binary_type(name))
        reference = theirs.get_binary_type(name)
        assert put["type_id"] == described["type_id"] == reference["type_id"]
        assert {k: v for k, v in described.items() if k != "schemas"} == {
            k: v for k, v in reference.items() if k != "schemas"
        }
        assert [
            {field: int(hint) for field, hint in schema.items()} for schema in described["schemas"]
        ] == [
            {field: int.from_bytes(hint.type_code, "little") for field, hint in schema.items()}
            for schema in reference["schemas"]
        ]
        assert shell.do(client.get_binary_type("NoSuchType")) == {"type_exists": False}
        classes = shell.do(client.query_binary_type(name))
        assert set(classes) == set(theirs.query_binary_type(name))
        shape = next(iter(classes.values()))
        cache = shell.do(client.get_or_create_cache(f"shapes-{kind}"))
        shell.do(cache.put(1, shape(id=7, tag="x")))
        assert shell.do(cache.get(1)) == shape(id=7, tag="x")
        value = theirs.get_cache(f"shapes-{kind}").get(1)
        assert (value.id, value.tag) == (7, "x")
        schema = {"id": IntObject, "tag": String}
        assert shell.do(client.query_binary_type(name, schema)) is shape
        assert shell.do(client.query_binary_type(name, {"other": String})) is None


@pytest.mark.parametrize("kind", SHELLS)
def test_register_binary_type_uses_the_class_type_name(cluster: LocalCluster, kind: str) -> None:
    theirs = PyigniteClient()
    with connected(kind, cluster.endpoints) as shell, theirs.connect(cluster.endpoints):
        client = shell.client
        shell.do(client.register_binary_type(Person, affinity_key_field="id"))
        reference = theirs.get_binary_type("demo.Person")
        assert (reference["type_name"], reference["affinity_key_field"]) == ("demo.Person", "id")
        cache = shell.do(client.get_or_create_cache(f"people-{kind}"))
        shell.do(cache.put(1, Person(1, "Ada")))
        value = theirs.get_cache(f"people-{kind}").get(1)
        assert (value.id, value.name) == (1, "Ada")


@pytest.mark.parametrize("kind", SHELLS)
def test_best_node_and_local_peek_follow_the_primary(cluster: LocalCluster, kind: str) -> None:
    theirs = PyigniteClient()
    with (
        connected(kind, cluster.endpoints) as shell,
        theirs.connect(cluster.endpoints),
    ):
        client = shell.client
        cache = shell.do(client.get_or_create_cache(f"peek-{kind}"))
        reference = theirs.get_cache(f"peek-{kind}")
        for key in range(40):
            shell.do(cache.put(key, key * 10))
            best = shell.do(client.get_best_node(cache, key))
            their_best = theirs.get_best_node(reference, key)
            assert (best.host, best.port, best.uuid) == (
                their_best.host,
                their_best.port,
                their_best.uuid,
            )
            # No backups: only the primary holds the key in its own storage.
            assert shell.do(cache.local_peek(key)) == key * 10


def test_async_cache_honours_a_per_call_timeout(cluster: LocalCluster) -> None:
    async def asynchronous() -> None:
        async with AioClient(timeout=10.0).connect(cluster.endpoints) as client:
            cache = await client.get_or_create_cache("per-call-timeout")
            await cache.put(1, "slow")
            index = [node.node_id for node in cluster.nodes].index(client.route(cache, 1).node_id)
            cluster.set_latency(index, 1.0)
            try:
                with pytest.raises(TimeoutError) as read:
                    await cache.get(1, timeout=0.1)
                assert not isinstance(read.value, OutcomeUnknownError)  # a read: just late
                # A write cut short may still be applied: outcome unknown, and still the
                # TimeoutError pyignite raises.
                with pytest.raises(CallTimeoutError) as write:
                    await cache.put(1, "late", timeout=0.1)
                assert isinstance(write.value, TimeoutError)
                assert isinstance(write.value, OutcomeUnknownError)
                assert write.value.operation == "put" and write.value.may_still_land
                assert await cache.get(1) in ("slow", "late")  # the connection is still usable
            finally:
                cluster.heal_node(index)

    asyncio.run(asynchronous())


def test_async_transaction_is_started_by_await_and_by_async_with(cluster: LocalCluster) -> None:
    async def asynchronous() -> Any:
        async with AioClient().connect(cluster.endpoints) as client:
            cache = await client.get_or_create_cache(
                {CacheProperty.NAME: "tx-async", CacheProperty.CACHE_ATOMICITY_MODE: TRANSACTIONAL}
            )
            tx = await client.tx_start(timeout=5000)
            await cache.put("a", 1)
            await tx.commit()
            async with client.tx_start(timeout=5000):
                await cache.put("a", 2)  # left without commit: rolled back
            return await cache.get("a")

    assert asyncio.run(asynchronous()) == 1
