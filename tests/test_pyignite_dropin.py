"""pyignite 0.6.1's documented usage runs unchanged on our Client and AioClient.

Each scenario is pyignite's own example code (``examples/*.py`` of
apache/ignite-python-thin-client, which its documentation includes), written
as it is written there; what "changing the import" changes comes in as
``api``: the client classes and the datatypes, exceptions and monitoring
modules. Every scenario runs on one LocalCluster three times:

* with pyignite's own client: its observations are the expected values;
* with our clients and pyignite's datatypes and monitoring classes (only the
  client import changed, plus ``pyignite.exceptions``, which cannot work:
  our errors do not derive from pyignite's classes);
* with our clients and ``ignite_router.datatypes`` / ``.exceptions`` /
  ``.monitoring`` (every import changed).

The deliberate differences of docs/migrating-from-pyignite.md are asserted as
such (a Timestamp comes back as one datetime; TLS verifies certificates).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import itertools
import subprocess
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyignite
import pyignite.datatypes
import pyignite.datatypes.cache_config
import pyignite.datatypes.prop_codes
import pyignite.exceptions
import pyignite.monitoring
import pytest
import trustme

import ignite_router
import ignite_router.datatypes
import ignite_router.exceptions
import ignite_router.monitoring
from ignite_router.affinity.types import hint_type
from ignite_router.core.events import EventDispatcher
from ignite_router.protocol.messages.queries import decode_resource_id
from ignite_router.protocol.messages.sql import (
    SqlFieldsPage,
    decode_sql_fields_request,
    encode_sql_fields_page,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.testing import LocalCluster, handlers
from ignite_router.testing.tls import server_context

pytestmark = pytest.mark.timeout(120)


@dataclass(frozen=True)
class Api:
    """What a pyignite application imports, from pyignite or from us."""

    label: str
    Client: Any
    AioClient: Any
    types: Any  # pyignite.datatypes
    props: Any  # pyignite.datatypes.prop_codes
    cache_config: Any  # pyignite.datatypes.cache_config
    errors: Any  # pyignite.exceptions
    monitoring: Any  # pyignite.monitoring
    GenericObjectMeta: Any


PYIGNITE = Api(
    "pyignite",
    pyignite.Client,
    pyignite.AioClient,
    pyignite.datatypes,
    pyignite.datatypes.prop_codes,
    pyignite.datatypes.cache_config,
    pyignite.exceptions,
    pyignite.monitoring,
    pyignite.GenericObjectMeta,
)
OURS = Api(
    "ours",
    ignite_router.Client,
    ignite_router.AioClient,
    ignite_router.datatypes,
    ignite_router.datatypes,
    ignite_router.datatypes,
    ignite_router.exceptions,
    ignite_router.monitoring,
    pyignite.GenericObjectMeta,
)
OURS_WITH_PYIGNITE_TYPES = Api(
    "ours, pyignite's datatypes",
    ignite_router.Client,
    ignite_router.AioClient,
    pyignite.datatypes,
    pyignite.datatypes.prop_codes,
    pyignite.datatypes.cache_config,
    ignite_router.exceptions,
    pyignite.monitoring,
    pyignite.GenericObjectMeta,
)
VARIANTS = [OURS, OURS_WITH_PYIGNITE_TYPES]
_names = itertools.count()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(nodes=3, backups=1) as running:
        yield running


@pytest.fixture(scope="module")
def reference(cluster: LocalCluster) -> Callable[[Callable[..., Any]], Any]:
    """pyignite's own observations of a scenario, computed once."""
    seen: dict[str, Any] = {}

    def of(scenario: Callable[..., Any]) -> Any:
        if scenario.__name__ not in seen:
            seen[scenario.__name__] = run(scenario, PYIGNITE, cluster)
        return seen[scenario.__name__]

    return of


def run(scenario: Callable[..., Any], api: Api, cluster: LocalCluster) -> Any:
    context = SimpleNamespace(
        host=cluster.endpoints[0][0],
        port=cluster.endpoints[0][1],
        endpoints=cluster.endpoints,
        name=f"{scenario.__name__}-{next(_names)}",
        cluster=cluster,
    )
    outcome = scenario(api, context)
    if asyncio.iscoroutine(outcome):
        return asyncio.run(outcome)
    return outcome


def variants(*scenarios: Callable[..., Any]) -> Any:
    return pytest.mark.parametrize(
        ("scenario", "api"),
        [(s, api) for s in scenarios for api in VARIANTS],
        ids=[f"{s.__name__}[{api.label}]" for s in scenarios for api in VARIANTS],
    )


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def wait_until_async(check: Callable[[], Any], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# -- key-value: examples/get_and_put.py, type_hints.py, get_and_put_complex.py --------------


def get_and_put(api: Api, at: Any) -> list[Any]:
    client = api.Client()
    with client.connect(at.host, at.port):
        my_cache = client.create_cache(at.name)
        my_cache.put("my key", 42)
        seen = [my_cache.get("my key"), my_cache.get("non-existent key")]
        seen.append(my_cache.get_all(["my key", "non-existent key", "other-key"]))
        my_cache.clear_key("my key")
        seen.append(my_cache.get("my key"))
        my_cache.destroy()
        seen.append(at.name in client.get_cache_names())
    return seen


def type_hints(api: Api, at: Any) -> list[Any]:
    CharObject, ShortObject = api.types.CharObject, api.types.ShortObject
    client = api.Client()
    seen = []
    with client.connect(at.host, at.port):
        my_cache = client.get_or_create_cache(at.name)
        my_cache.put("my key", 42)
        my_cache.put("my key", 42, value_hint=ShortObject)
        seen.append(my_cache.get("my key"))
        my_cache.put("a", 1)
        my_cache.put("a", 2, key_hint=CharObject)
        seen += [my_cache.get("a"), my_cache.get("a", key_hint=CharObject)]
        seen.append(my_cache.get_size())
        my_cache.remove_keys(["a", ("a", CharObject)])
        seen += [my_cache.get("a"), my_cache.get("a", key_hint=CharObject)]
        # A hint changes what is stored: 0.1 as a float32 reads back rounded.
        my_cache.put("f", 0.1, value_hint=api.types.FloatObject)
        my_cache.put("i", 2**31 - 1, key_hint=CharObject, value_hint=api.types.IntObject)
        seen += [my_cache.get("f"), my_cache.get("i", key_hint=CharObject)]
        my_cache.destroy()
    return seen


def get_and_put_complex(api: Api, at: Any) -> list[Any]:
    CollectionObject, MapObject = api.types.CollectionObject, api.types.MapObject
    ObjectArrayObject = api.types.ObjectArrayObject
    client = api.Client()
    seen = []
    with client.connect(at.host, at.port):
        my_cache = client.get_or_create_cache(at.name)
        value = {1: "test", "key": 2.0}
        type_id = MapObject.LINKED_HASH_MAP
        my_cache.put("my dict", (type_id, value))
        seen.append(my_cache.get("my dict"))  # (2, {1: 'test', 'key': 2.0})
        type_id = MapObject.HASH_MAP
        my_cache.put("my dict", (type_id, value))
        seen.append(my_cache.get("my dict"))  # (1, {1: 'test', 'key': 2.0})
        type_id = CollectionObject.LINKED_LIST
        value = [1, "2", 3.0]
        my_cache.put("my list", (type_id, value))
        seen.append(my_cache.get("my list"))  # (2, [1, '2', 3.0])
        type_id = CollectionObject.HASH_SET
        value = [4, 4, "test", 5.6]
        my_cache.put("my set", (type_id, value))
        seen.append(my_cache.get("my set"))  # (3, [5.6, 4, 'test'])
        type_id = ObjectArrayObject.OBJECT
        value = [7, "8", 9.0]
        my_cache.put(
            "my array of objects",
            (type_id, value),
            value_hint=ObjectArrayObject,  # this hint is mandatory!
        )
        seen.append(my_cache.get("my array of objects"))  # (-1, [7, '8', 9.0])
        my_cache.destroy()
    return seen


# (value, name of the hint in pyignite.datatypes / ignite_router.datatypes)
VALUES = [
    (42, None),
    (-(2**63), None),
    (7, "ByteObject"),
    (-300, "ShortObject"),
    (2**31 - 1, "IntObject"),
    (1.5, "FloatObject"),
    (3.14159, None),
    ("é", "CharObject"),
    (True, None),
    ("héllo 😀", None),
    (uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), None),
    (datetime.datetime(2020, 9, 13, 12, 26, 40, 123000), None),
    (datetime.datetime(1999, 12, 31, 23, 59, 59, 999000), "DateObject"),
    (datetime.timedelta(hours=12, minutes=34, seconds=56, milliseconds=789), None),
    (decimal.Decimal("-1.5"), None),
    (decimal.Decimal("12345678901234567890.000001"), None),
    (b"\x00\x01\xff", "ByteArrayObject"),
    ([1, 2, 3], "IntArrayObject"),
    ([1, 2, 2**40], "LongArrayObject"),
    ([0.5, -1.0], "DoubleArrayObject"),
    ([True, False], "BoolArrayObject"),
    (["a", None, "b"], "StringArrayObject"),
    ([uuid.UUID(int=1), None], "UUIDArrayObject"),
    ([1, -2], "ShortArrayObject"),
    ([0.5, 2.0], "FloatArrayObject"),
    (["a", "é"], "CharArrayObject"),
    ([decimal.Decimal("1.5"), decimal.Decimal("-12345678901234567890.5")], "DecimalArrayObject"),
    ([datetime.datetime(2001, 2, 3, 4, 5, 6)], "DateArrayObject"),
    ([datetime.timedelta(seconds=5)], "TimeArrayObject"),
    ((1, [1, "a"]), "CollectionObject"),
    ((3, [1, 2]), None),
    ((1, {"a": 1, "b": "x"}), "MapObject"),
    ((2, {"z": [1, 2], "a": None}), None),
    ((-1, [1, "two", 3.0, None]), "ObjectArrayObject"),
    ((123, 4), "EnumObject"),
    ((123, 4), "BinaryEnumObject"),
    ("", None),
    (b"", "ByteArrayObject"),
]
# pyignite reads a Timestamp as (datetime, nanos); we read one datetime (the deliberate
# difference): these are checked apart.
TIMESTAMPS = [
    ((datetime.datetime(2020, 9, 13, 12, 26, 40, 123000), 456789), "TimestampObject"),
    ([(datetime.datetime(2001, 2, 3, 4, 5, 6), 7000)], "TimestampArrayObject"),
]


def _hint(api: Api, name: str | None) -> Any:
    return None if name is None else getattr(api.types, name)


def values_of_every_type(api: Api, at: Any) -> list[Any]:
    """Each value put with its hint and read back, by this client and by pyignite."""
    client = api.Client()
    reader = pyignite.Client()
    seen = []
    with client.connect(at.endpoints), reader.connect(at.endpoints):
        cache = client.get_or_create_cache(at.name)
        theirs = reader.get_cache(at.name)
        for index, (value, hint) in enumerate(VALUES + TIMESTAMPS):
            cache.put(index, value, value_hint=_hint(api, hint))
            seen.append((cache.get(index), theirs.get(index)))
        cache.destroy()
    return seen


def cluster_and_protocol(api: Api, at: Any) -> list[Any]:
    """Sizes, the cluster API, the protocol context."""
    client = api.Client()
    seen: list[Any] = []
    with client.connect(at.endpoints):
        cache = client.get_or_create_cache(at.name)
        cache.put_all({key: f"v{key}" for key in range(20)})
        seen.append(cache.get_size())
        cluster = client.get_cluster()
        seen.append(cluster.get_state())
        cluster.set_state(api.types.ClusterState.ACTIVE)
        seen.append(cluster.get_state() == api.types.ClusterState.ACTIVE)
        context = client.protocol_context
        seen.append(tuple(context.version))
        seen += [
            context.is_partition_awareness_supported(),
            context.is_transactions_supported(),
            context.is_expiry_policy_supported(),
            context.is_cluster_api_supported(),
            client.partition_awareness_supported_by_protocol,
        ]
        cache.destroy()
    return seen


@variants(get_and_put, type_hints, get_and_put_complex, cluster_and_protocol)
def test_key_value_examples(cluster, reference, scenario, api) -> None:
    assert run(scenario, api, cluster) == reference(scenario)


@pytest.mark.parametrize("api", VARIANTS, ids=lambda api: api.label)
def test_values_of_every_type_read_as_pyignite_reads_them(cluster, reference, api) -> None:
    ours, expected = run(values_of_every_type, api, cluster), reference(values_of_every_type)
    plain = len(VALUES)
    assert ours[:plain] == expected[:plain]
    # What we wrote, pyignite reads as what it wrote itself.
    assert [theirs for _, theirs in ours] == [theirs for _, theirs in expected]
    (stamp, their_stamp), (stamps, their_stamps) = ours[plain:]
    moment, nanos = TIMESTAMPS[0][0]
    assert their_stamp == (moment, nanos) and their_stamps == TIMESTAMPS[1][0]
    assert stamp == moment + timedelta(microseconds=nanos // 1000)  # one datetime, µs kept
    assert stamps == [TIMESTAMPS[1][0][0][0] + timedelta(microseconds=7)]


# -- scans: examples/scans.py ---------------------------------------------------------------


def scans(api: Api, at: Any) -> list[Any]:
    client = api.Client()
    seen = []
    with client.connect(at.host, at.port):
        my_cache = client.create_cache(at.name)
        my_cache.put_all({f"key_{v}": v for v in range(20)})
        with my_cache.scan() as cursor:
            seen.append(sorted((k, v) for k, v in cursor))
        with my_cache.scan() as cursor:
            seen.append(dict(cursor))
        with my_cache.scan(page_size=3) as cursor:
            seen.append(next(cursor) in seen[1].items())
        my_cache.destroy()
    return seen


async def async_key_value(api: Api, at: Any) -> list[Any]:
    client = api.AioClient()
    seen = []
    async with client.connect(at.host, at.port):
        cache = await client.get_or_create_cache(at.name)
        await asyncio.gather(*[cache.put(f"key_{i}", f"value_{i}") for i in range(0, 20)])
        seen.append(await cache.get("key_10"))
        seen.append(await cache.get_all([f"key_{i}" for i in range(0, 10)]))
        async with cache.scan() as cursor:
            seen.append(sorted([(k, v) async for k, v in cursor]))
        seen.append(await (await client.get_cache(at.name)).get_size())
        await cache.destroy()
    return seen


@variants(scans, async_key_value)
def test_scan_and_async_examples(cluster, reference, scenario, api) -> None:
    assert run(scenario, api, cluster) == reference(scenario)


# -- transactions: examples/transactions.py (shorter timeouts) ------------------------------


def transactions(api: Api, at: Any) -> list[Any]:
    TransactionConcurrency = api.types.TransactionConcurrency
    TransactionIsolation = api.types.TransactionIsolation
    client = api.Client()
    seen: list[Any] = []
    with client.connect(at.host, at.port):
        CacheAtomicityMode = api.cache_config.CacheAtomicityMode
        cache = client.get_or_create_cache(
            {
                api.props.PROP_NAME: at.name,
                api.props.PROP_CACHE_ATOMICITY_MODE: CacheAtomicityMode.TRANSACTIONAL,
            }
        )
        key = 1
        with client.tx_start(
            isolation=TransactionIsolation.REPEATABLE_READ,
            concurrency=TransactionConcurrency.PESSIMISTIC,
        ) as tx:
            cache.put(key, "success")
            tx.commit()
        seen.append(cache.get(key))
        try:
            with client.tx_start(
                isolation=TransactionIsolation.REPEATABLE_READ,
                concurrency=TransactionConcurrency.PESSIMISTIC,
            ):
                cache.put(key, "fail")
                raise RuntimeError("test")
        except RuntimeError:
            pass
        seen.append(cache.get(key))
        try:
            with client.tx_start(timeout=300, label="long-tx") as tx:
                cache.put(key, "fail")
                time.sleep(0.6)
                tx.commit()
        except api.errors.CacheError as e:
            seen.append(("CacheError", "timed out" in str(e)))
        seen.append(cache.get(key))
        cache.destroy()
    return seen


async def async_transactions(api: Api, at: Any) -> list[Any]:
    TransactionConcurrency = api.types.TransactionConcurrency
    TransactionIsolation = api.types.TransactionIsolation
    client = api.AioClient()
    seen: list[Any] = []
    async with client.connect(at.host, at.port):
        CacheAtomicityMode = api.cache_config.CacheAtomicityMode
        cache = await client.get_or_create_cache(
            {
                api.props.PROP_NAME: at.name,
                api.props.PROP_CACHE_ATOMICITY_MODE: CacheAtomicityMode.TRANSACTIONAL,
            }
        )
        key = 1
        async with client.tx_start(
            isolation=TransactionIsolation.REPEATABLE_READ,
            concurrency=TransactionConcurrency.PESSIMISTIC,
        ) as tx:
            await cache.put(key, "success")
            await tx.commit()
        seen.append(await cache.get(key))
        try:
            async with client.tx_start(
                isolation=TransactionIsolation.REPEATABLE_READ,
                concurrency=TransactionConcurrency.PESSIMISTIC,
            ):
                await cache.put(key, "fail")
                raise RuntimeError("test")
        except RuntimeError:
            pass
        seen.append(await cache.get(key))
        try:
            async with client.tx_start(timeout=300, label="long-tx") as tx:
                await cache.put(key, "fail")
                await asyncio.sleep(0.6)
                await tx.commit()
        except api.errors.CacheError as e:
            seen.append(("CacheError", "timed out" in str(e)))
        seen.append(await cache.get(key))
        await cache.destroy()
    return seen


@variants(transactions, async_transactions)
def test_transaction_examples(cluster, reference, scenario, api) -> None:
    expected = reference(scenario)
    assert expected == ["success", "success", ("CacheError", True), "success"]
    assert run(scenario, api, cluster) == expected


# -- expiry policies: examples/expiry_policy.py (shorter durations) --------------------------


def expiry_policy(api: Api, at: Any) -> list[Any]:
    ExpiryPolicy, props = api.types.ExpiryPolicy, api.props
    client = api.Client()
    seen: list[Any] = []
    with client.connect(at.host, at.port):
        ttl_cache = client.create_cache(
            {
                props.PROP_NAME: at.name,
                props.PROP_EXPIRY_POLICY: ExpiryPolicy(create=timedelta(seconds=0.4)),
            }
        )
        seen.append(ttl_cache.settings[props.PROP_EXPIRY_POLICY])
        ttl_cache.put(1, 1)
        seen.append(ttl_cache.get(1))
        seen.append(wait_until(lambda: ttl_cache.get(1) is None))
        ttl_cache.destroy()
        simple_cache = client.create_cache(at.name + "-simple")
        ttl_cache = simple_cache.with_expire_policy(access=timedelta(seconds=0.4))
        ttl_cache.put(1, 1)
        seen.append(ttl_cache.get(1))  # an access: expires 0.4 s from now
        seen.append(wait_until(lambda: simple_cache.get(1) is None))  # reads without the policy
        # The policy object itself, as pyignite also takes it.
        ttl_cache = simple_cache.with_expire_policy(
            expiry_policy=ExpiryPolicy(create=timedelta(milliseconds=400))
        )
        ttl_cache.put(2, 2)
        seen.append(simple_cache.get(2))
        seen.append(wait_until(lambda: simple_cache.get(2) is None))
        simple_cache.destroy()
    return seen


async def async_expiry_policy(api: Api, at: Any) -> list[Any]:
    ExpiryPolicy, props = api.types.ExpiryPolicy, api.props
    client = api.AioClient()
    seen: list[Any] = []
    async with client.connect(at.host, at.port):
        ttl_cache = await client.create_cache(
            {
                props.PROP_NAME: at.name,
                props.PROP_EXPIRY_POLICY: ExpiryPolicy(create=timedelta(seconds=0.4)),
            }
        )
        seen.append((await ttl_cache.settings())[props.PROP_EXPIRY_POLICY])
        await ttl_cache.put(1, 1)
        seen.append(await ttl_cache.get(1))

        async def gone() -> bool:
            return await ttl_cache.get(1) is None

        seen.append(await wait_until_async(gone))
        await ttl_cache.destroy()
    return seen


@variants(expiry_policy, async_expiry_policy)
def test_expiry_policy_examples(cluster, reference, scenario, api) -> None:
    expected = reference(scenario)
    assert expected[0] == pyignite.datatypes.ExpiryPolicy(create=400)
    assert all(seen is True for seen in expected[2::2])  # everything expired with pyignite
    assert run(scenario, api, cluster) == expected


# -- SQL: examples/sql.py, against a scripted SQL answer (LocalCluster runs no SQL) ---------

COUNTRIES = [["USA", "United States", 278357000], ["IND", "India", 1013662000]]
CITIES = [["Mumbai (Bombay)", 10500000], ["Shanghai", 9696300], ["New York", 8008278]]
SCRIPT = {
    "SELECT name, population FROM City ORDER BY population DESC LIMIT 10": (
        ["NAME", "POPULATION"],
        CITIES,
    ),
    "SELECT * FROM City WHERE id = ?": (
        ["ID", "NAME", "COUNTRYCODE", "DISTRICT", "POPULATION"],
        [[3802, "Detroit", "USA", "Michigan", 951270]],
    ),
}


class ScriptedSql:
    """Answers SQL fields queries from ``SCRIPT`` (DDL/DML: one UPDATED row) and records them."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, ...]] = []
        self.pending: dict[int, tuple[list[list[Any]], int, int]] = {}
        self.ids = itertools.count(1_000_000)

    def handle(self, session: Any, op: int, view: memoryview, pos: int, out: bytearray) -> None:
        if op == OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE:
            cursor_id = decode_resource_id(view, pos)
            rows, page_size, width = self.pending.pop(cursor_id)
            self._page(out, rows, page_size, width, None, [], cursor_id)
            return
        query = decode_sql_fields_request(session.negotiated, view, pos)
        self.requests.append(
            (
                " ".join(query.query.split()),
                list(query.args),
                query.schema,
                query.page_size,
                query.include_field_names,
                query.statement_type,
                query.max_rows,
            )
        )
        names, rows = SCRIPT.get(" ".join(query.query.split()), (["UPDATED"], [[1]]))
        shown = names if query.include_field_names else []
        self._page(out, rows, query.page_size, len(names), next(self.ids), shown, None)

    def _page(self, out, rows, page_size, width, cursor_id, names, continued) -> None:
        page, rest = rows[:page_size], rows[page_size:]
        key = cursor_id if cursor_id is not None else continued
        if rest:
            self.pending[key] = (rest, page_size, width)
        encode_sql_fields_page(out, SqlFieldsPage(page, bool(rest), cursor_id, names), width)


@pytest.fixture
def scripted_sql(monkeypatch: pytest.MonkeyPatch) -> ScriptedSql:
    script = ScriptedSql()
    for op in (OpCode.QUERY_SQL_FIELDS, OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE):
        monkeypatch.setitem(handlers.HANDLERS, op, script.handle)
    return script


CREATE = "CREATE TABLE Country (Code CHAR(3) PRIMARY KEY, Name CHAR(52), Population INT(11))"
INSERT = "INSERT INTO Country(Code, Name, Population) VALUES (?, ?, ?)"


def sql(api: Api, at: Any) -> list[Any]:
    client = api.Client()
    seen: list[Any] = []
    with client.connect(at.host, at.port):
        client.sql(CREATE)
        for row in COUNTRIES:
            client.sql(INSERT, query_args=row)
        with client.sql(
            "SELECT name, population FROM City ORDER BY population DESC LIMIT 10", page_size=2
        ) as cursor:
            seen.append([row for row in cursor])
        with client.sql(
            "SELECT * FROM City WHERE id = ?", query_args=[3802], include_field_names=True
        ) as cursor:
            field_names = next(cursor)
            field = list(*cursor)
            seen.append(list(zip(field_names * len(field), field, strict=False)))
    return seen


async def async_sql(api: Api, at: Any) -> list[Any]:
    client = api.AioClient()
    seen: list[Any] = []
    async with client.connect(at.host, at.port):
        await client.sql(CREATE)
        await asyncio.gather(*[client.sql(INSERT, query_args=row) for row in COUNTRIES])
        async with client.sql(
            "SELECT name, population FROM City ORDER BY population DESC LIMIT 10", page_size=2
        ) as cursor:
            seen.append([row async for row in cursor])
        async with client.sql(
            "SELECT * FROM City WHERE id = ?", query_args=[3802], include_field_names=True
        ) as cursor:
            seen.append(await cursor.__anext__())
            seen.append([row async for row in cursor])
    return seen


@variants(sql, async_sql)
def test_sql_examples(cluster, scripted_sql, scenario, api) -> None:
    expected = run(scenario, PYIGNITE, cluster)  # with this test's script in place
    their_requests = sorted(scripted_sql.requests)
    scripted_sql.requests.clear()
    assert run(scenario, api, cluster) == expected
    # The same queries reached the server: text, arguments, schema, paging, flags.
    assert sorted(scripted_sql.requests) == their_requests
    assert len(their_requests) == 1 + len(COUNTRIES) + 2
    assert not scripted_sql.pending  # every cursor was read to its end


# -- binary types: examples/binary_basics.py -------------------------------------------------


def binary_basics(api: Api, at: Any) -> list[Any]:
    String, IntObject = api.types.String, api.types.IntObject

    class Person(
        metaclass=api.GenericObjectMeta,
        type_name=at.name + ".Person",
        schema=OrderedDict([("first_name", String), ("last_name", String), ("age", IntObject)]),
    ):
        pass

    client = api.Client()
    with client.connect(at.host, at.port):
        person_cache = client.get_or_create_cache(at.name)
        person_cache.put(1, Person(first_name="Ivan", last_name="Ivanov", age=33))
        person = person_cache.get(1)
        seen = [
            person.__class__.__name__,
            person.__class__ is Person,
            (person.first_name, person.last_name, person.age),
        ]
        with person_cache.scan() as cursor:
            seen.append([(k, v.first_name) for k, v in cursor])
        person_cache.destroy()
    return seen


def test_binary_type_example(cluster, reference) -> None:
    """pyignite's GenericObjectMeta classes (whose schemas take pyignite's types only)."""
    expected = reference(binary_basics)
    assert expected[:2] == ["Person", True]
    assert run(binary_basics, OURS_WITH_PYIGNITE_TYPES, cluster) == expected


# -- errors ---------------------------------------------------------------------------------


def errors(api: Api, at: Any) -> list[Any]:
    props, errs = api.props, api.errors
    client = api.Client()
    seen = []
    with client.connect(at.host, at.port):
        client.create_cache(at.name)
        for attempt in (
            lambda: client.create_cache(at.name),
            lambda: client.get_cache(at.name + "-missing").put(1, 1),
            lambda: client.create_cache({props.PROP_BACKUPS_NUMBER: 1}),
            lambda: client.create_cache({props.PROP_NAME: at.name + "-x", 12345: 1}),
        ):
            try:
                attempt()
                seen.append(None)
            except (errs.CacheError, errs.ParameterError) as error:
                seen.append(_family(errs, error))
        client.get_cache(at.name).destroy()
    return seen


def _family(errs: Any, error: BaseException) -> list[str]:
    names = ["CacheCreationError", "CacheError", "ParameterError", "SQLError"]
    return [name for name in names if isinstance(error, getattr(errs, name))]


@pytest.mark.parametrize("api", VARIANTS, ids=lambda api: api.label)
def test_errors_are_caught_by_pyignites_exception_names(cluster, reference, api) -> None:
    expected = reference(errors)
    assert expected == [
        ["CacheCreationError", "CacheError"],
        ["CacheError"],
        ["ParameterError"],
        ["ParameterError"],
    ]
    ours = run(errors, api, cluster)
    # A server refusal is each of pyignite's server-error classes (SQLError included).
    assert all(
        set(seen) >= set(theirs) for seen, theirs in zip(ours[:2], expected[:2], strict=True)
    )
    assert ours[2:] == expected[2:]


# -- events: tests/common/test_query_listener.py, tests/affinity/test_affinity_request_routing.py


def query_events(api: Api, at: Any) -> list[Any]:
    events: list[Any] = []
    monitoring = api.monitoring

    class QueryRouteListener(monitoring.QueryEventListener):
        def on_query_start(self, event):
            if event.op_code != 1101:  # OP_CACHE_PARTITIONS
                events.append(event)

        def on_query_fail(self, event):
            if event.op_code != 1101:
                events.append(event)

        def on_query_success(self, event):
            if event.op_code != 1101:
                events.append(event)

    client = api.Client(event_listeners=[QueryRouteListener()])
    seen = []
    with client.connect(at.host, at.port):
        client.get_cache_names()
        seen.append(_described(events, monitoring))
        events.clear()
        with contextlib.suppress(api.errors.CacheError):
            client.get_cache(at.name).put(1, 1)
        seen.append(_described(events, monitoring))
        seen.append(all("Cache does not exist" in e.err_msg for e in events[1:]))
        uuids = {(c.host, c.port): str(c.uuid) for c in _connections(client)}
        seen.append(all(e.node_uuid == uuids[(e.host, e.port)] for e in events))
    return seen


def _described(events: list[Any], monitoring: Any) -> list[tuple[Any, ...]]:
    """What pyignite's listener tests check; the node is checked against the connections."""
    kinds = ("QueryStartEvent", "QuerySuccessEvent", "QueryFailEvent")
    return [
        (
            next(kind for kind in kinds if isinstance(e, getattr(monitoring, kind))),
            e.op_code,
            e.op_name,
            getattr(e, "duration", 0) >= 0,
            isinstance(e.query_id, int),
        )
        for e in events
    ]


def _connections(client: Any) -> list[Any]:
    """(host, port) -> node uuid of each connection (pyignite: client._nodes; ours: nodes())."""
    if hasattr(client, "_nodes"):
        return [SimpleNamespace(host=c.host, port=c.port, uuid=c.uuid) for c in client._nodes]
    return [
        SimpleNamespace(host=n["endpoint"][0], port=n["endpoint"][1], uuid=n["node_id"])
        for n in client.nodes()
    ]


def routing_events(api: Api, at: Any) -> list[Any]:
    """The node of each key operation, as pyignite's own routing tests record it."""
    requests: list[int] = []

    class QueryRouteListener(api.monitoring.QueryEventListener):
        def on_query_start(self, event):
            if 1000 <= event.op_code < 1100:
                requests.append(event.port)

    client = api.Client(partition_aware=True, event_listeners=[QueryRouteListener()])
    with client.connect(at.endpoints):
        cache = client.get_or_create_cache(
            {api.props.PROP_NAME: at.name, api.props.PROP_BACKUPS_NUMBER: 1}
        )
        cache.put(0, 0)  # the partition map is fetched
        cache.get(0)
        ports = []
        for key in range(40):
            cache.get(key)
            ports.append(requests.pop())
        cache.destroy()
    return ports


def connection_events(api: Api, at: Any) -> list[Any]:
    events: list[Any] = []
    monitoring = api.monitoring

    class Recording(monitoring.ConnectionEventListener):
        def on_handshake_start(self, event):
            events.append(event)

        def on_handshake_success(self, event):
            events.append(event)

        def on_handshake_fail(self, event):
            events.append(event)

        def on_authentication_fail(self, event):
            events.append(event)

        def on_connection_closed(self, event):
            events.append(event)

        def on_connection_lost(self, event):
            events.append(event)

    client = api.Client(event_listeners=[Recording()])
    with client.connect(at.endpoints):
        client.get_cache_names()
        uuids = {(c.host, c.port): str(c.uuid) for c in _connections(client)}
        protocol_context = client.protocol_context
    kinds = ("HandshakeStartEvent", "HandshakeSuccessEvent", "ConnectionClosedEvent")
    counted = {kind: 0 for kind in kinds}
    for event in events:
        kind = next(k for k in kinds if type(event) is getattr(monitoring, k))
        counted[kind] += 1
        if kind != "HandshakeStartEvent":
            assert event.node_uuid == uuids[(event.host, event.port)]
        if kind == "HandshakeSuccessEvent":  # as pyignite's own test checks it
            assert event.protocol_context == protocol_context
    return [counted, sorted({(e.host, e.port) for e in events})]


@variants(query_events, connection_events)
def test_listener_examples(cluster, reference, scenario, api) -> None:
    assert run(scenario, api, cluster) == reference(scenario)


@pytest.mark.parametrize("api", VARIANTS, ids=lambda api: api.label)
def test_routing_check_with_query_events(cluster, reference, api) -> None:
    """pyignite routes int keys right; ours sends each to the node pyignite sends it to,
    which is the primary: the cluster forwarded none of them."""
    cluster.reset_stats()
    ports = run(routing_events, api, cluster)
    assert sum(node["forwarded"] for node in cluster.stats()) == 0
    assert ports == reference(routing_events)
    assert len(set(ports)) == 3


def test_our_query_events_say_where_a_key_went(cluster) -> None:
    events: list[Any] = []

    class Listener(ignite_router.monitoring.QueryEventListener):
        def on_query_start(self, event):
            events.append(event)

    client = ignite_router.Client(event_listeners=[Listener()])
    with client.connect(cluster.endpoints):
        cache = client.get_or_create_cache("routed-events")
        cache.put(0, 0)
        for key in range(20):
            cache.get(key)
            route = client.route(cache, key)
            event = events[-1]
            assert (event.operation, event.partition, event.to_primary) == (
                "get",
                route.partition,
                True,
            )
            assert (event.node_id, (event.host, event.port)) == (route.node_id, route.endpoint)
        cache.destroy()


# -- TLS and authentication: pyignite's documented options ---------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("dropin-pki")
    ca = trustme.CA()
    files = {"ca.pem": str(directory / "ca.pem")}
    ca.cert_pem.write_to_path(files["ca.pem"])
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files["server.pem"], files["server.key"] = str(directory / "s.pem"), str(directory / "s.key")
    for blob in cert.cert_chain_pems:
        blob.write_to_path(files["server.pem"], append=True)
    cert.private_key_pem.write_to_path(files["server.key"])
    return files


def tls_and_auth(api: Api, at: Any) -> list[Any]:
    client = api.Client(
        use_ssl=True, ssl_ca_certfile=at.pki["ca.pem"], username="ignite", password="ignite-pass"
    )
    with client.connect(at.host, at.port):
        cache = client.get_or_create_cache(at.name)
        cache.put("key", "over TLS")
        seen: list[Any] = [cache.get("key")]
        cache.destroy()
    wrong = api.Client(
        use_ssl=True, ssl_ca_certfile=at.pki["ca.pem"], username="ignite", password="wrong"
    )
    try:
        wrong.connect(at.host, at.port)
        seen.append(None)
    except api.errors.AuthenticationError:
        seen.append("AuthenticationError")
    finally:
        wrong.close()
    return seen


def test_tls_and_authentication(pki) -> None:
    context = server_context(pki["server.pem"], pki["server.key"])
    with LocalCluster(nodes=2, ssl_context=context, credentials=("ignite", "ignite-pass")) as tls:

        def at() -> Any:
            host, port = tls.endpoints[0]
            return SimpleNamespace(host=host, port=port, name=f"tls-{next(_names)}", pki=pki)

        assert tls_and_auth(PYIGNITE, at()) == ["over TLS", "AuthenticationError"]
        for api in VARIANTS:
            assert tls_and_auth(api, at()) == ["over TLS", "AuthenticationError"]
        # The deliberate difference: pyignite's default ssl_cert_reqs is CERT_NONE, so it
        # trusts any certificate; we verify against the system's CAs, which do not know ours.
        host, port = tls.endpoints[0]
        theirs = pyignite.Client(use_ssl=True, username="ignite", password="ignite-pass")
        with theirs.connect(host, port):
            assert theirs.get_cache_names() is not None
        ours = ignite_router.Client(use_ssl=True, username="ignite", password="ignite-pass")
        with pytest.raises(ignite_router.exceptions.ReconnectError):
            ours.connect(host, port)


# -- the pieces under the scenarios ---------------------------------------------------------


def test_every_pyignite_hint_class_has_a_twin_naming_the_same_type() -> None:
    # The *Object classes and String are pyignite's hints (ByteArray, IntArray... without
    # "Object" write no type code: they are parts of its structs).
    hint_classes = [
        name
        for name in dir(pyignite.datatypes)
        if (name.endswith("Object") or name == "String")
        and getattr(getattr(pyignite.datatypes, name), "type_code", None) is not None
    ]
    assert len(hint_classes) > 30
    for name in hint_classes:
        theirs = getattr(pyignite.datatypes, name)
        ours = getattr(ignite_router.datatypes, name, None)
        assert ours is not None, name
        assert hint_type(ours) == hint_type(theirs) == theirs.type_code[0], name
    for name in dir(pyignite.datatypes.prop_codes):
        if name.startswith("PROP_"):
            assert getattr(ignite_router.datatypes, name) == getattr(
                pyignite.datatypes.prop_codes, name
            )


def test_the_library_never_imports_pyignite() -> None:
    code = (
        "import sys, ignite_router, ignite_router.datatypes, ignite_router.exceptions, "
        "ignite_router.monitoring; assert 'pyignite' not in sys.modules"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)


def test_listeners_without_query_callbacks_cost_nothing_per_query() -> None:
    class Connections(ignite_router.monitoring.ConnectionEventListener):
        def on_handshake_start(self, event):
            pass

    class TheirsUnused(pyignite.monitoring.ConnectionEventListener):
        pass

    class TheirQueries(pyignite.monitoring.QueryEventListener):
        def on_query_fail(self, event):
            pass

    assert not EventDispatcher([Connections(), TheirsUnused()]).wants_queries
    assert not EventDispatcher([ignite_router.monitoring.QueryEventListener()]).wants_queries
    assert EventDispatcher([TheirQueries()]).wants_queries


def test_a_failing_listener_is_logged_and_the_operation_goes_on(
    cluster, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(pyignite.monitoring.QueryEventListener):
        def on_query_start(self, event):
            raise RuntimeError("listener bug")

    client = ignite_router.Client(event_listeners=[Broken()])
    with client.connect(cluster.endpoints):
        cache = client.get_or_create_cache("broken-listener")
        cache.put(1, "still stored")
        assert cache.get(1) == "still stored"
        cache.destroy()
    assert any("listener bug" in record.exc_text for record in caplog.records if record.exc_text)


def test_parameter_error_is_also_what_bad_arguments_raised_before() -> None:
    errors = ignite_router.exceptions
    assert issubclass(errors.ParameterError, ValueError)
    assert issubclass(errors.ParameterError, TypeError)
    with pytest.raises(errors.ParameterError):
        ignite_router.datatypes.ExpiryPolicy(create=-5)
    assert ignite_router.datatypes.ExpiryPolicy(access=timedelta(seconds=1.5)) == (
        pyignite.datatypes.ExpiryPolicy(access=1500)
    )
