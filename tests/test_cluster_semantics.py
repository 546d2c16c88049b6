"""pyignite 0.6.1 against LocalCluster: nested binary objects, expiry policies, tx timeouts.

Each test would fail against a cluster that answered nested objects raw,
ignored expiry policies or never timed transactions out.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from pyignite import Client, GenericObjectMeta
from pyignite.datatypes import (
    CollectionObject,
    ExpiryPolicy,
    IntObject,
    MapObject,
    ObjectArrayObject,
    String,
)
from pyignite.datatypes.cache_config import CacheAtomicityMode
from pyignite.datatypes.prop_codes import PROP_CACHE_ATOMICITY_MODE, PROP_EXPIRY_POLICY, PROP_NAME
from pyignite.datatypes.transactions import TransactionConcurrency, TransactionIsolation
from pyignite.exceptions import CacheError

from ignite_router.testing import LocalCluster

pytestmark = pytest.mark.timeout(60)


class Point(
    metaclass=GenericObjectMeta,
    type_name="Point",
    schema={"x": IntObject, "label": String},
):
    pass


@pytest.fixture(scope="module")
def client():
    with LocalCluster(nodes=2, backups=1) as cluster:
        pyignite = Client(partition_aware=True, timeout=10)
        with pyignite.connect(cluster.endpoints):
            yield pyignite


def test_binary_objects_nested_in_arrays_collections_and_maps_round_trip(client) -> None:
    cache = client.get_or_create_cache("nested")
    points = [Point(x=i, label=f"p{i}") for i in range(3)]
    cache.put(1, (ObjectArrayObject.OBJECT, points), value_hint=ObjectArrayObject)
    cache.put(2, (CollectionObject.ARR_LIST, points), value_hint=CollectionObject)
    cache.put(3, (MapObject.HASH_MAP, {"a": points[0], "b": points[1]}), value_hint=MapObject)
    cache.put(4, (ObjectArrayObject.OBJECT, [1, (CollectionObject.ARR_LIST, points)]),
              value_hint=ObjectArrayObject)  # fmt: skip

    def labels(items) -> list[str]:
        return [(item.x, item.label) for item in items]

    _, array = cache.get(1)
    assert labels(array) == [(0, "p0"), (1, "p1"), (2, "p2")]
    _, collection = cache.get(2)
    assert labels(collection) == labels(array)
    _, mapping = cache.get(3)
    assert {k: (v.x, v.label) for k, v in mapping.items()} == {"a": (0, "p0"), "b": (1, "p1")}
    _, outer = cache.get(4)
    assert outer[0] == 1 and labels(outer[1][1]) == labels(array)
    assert labels(dict(cache.get_all([2]))[2][1]) == labels(array)


def test_per_request_expiry_policies(client) -> None:
    cache = client.get_or_create_cache("ttl")
    short = cache.with_expire_policy(create=timedelta(milliseconds=300))
    short.put("a", 1)
    cache.put("b", 2)
    cache.with_expire_policy(create=timedelta(0)).put("c", 3)
    assert cache.get("a") == 1 and cache.get("c") is None
    time.sleep(0.5)
    assert cache.get("a") is None
    assert cache.get("b") == 2
    assert cache.get_size() == 1
    touched = cache.with_expire_policy(access=timedelta(milliseconds=200))
    assert touched.get("b") == 2  # an access sets a TTL on an eternal entry
    time.sleep(0.4)
    assert cache.get("b") is None


def test_cache_configured_expiry_policy(client) -> None:
    cache = client.create_cache(
        {
            PROP_NAME: "ttl-config",
            PROP_EXPIRY_POLICY: ExpiryPolicy(create=timedelta(milliseconds=300)),
        }
    )
    cache.put_all({i: i for i in range(10)})
    assert cache.get_size() == 10
    time.sleep(0.5)
    assert cache.get_size() == 0
    assert list(cache.scan()) == []


def test_a_transaction_that_outlives_its_timeout_cannot_commit(client) -> None:
    cache = client.get_or_create_cache(
        {PROP_NAME: "tx-timeouts", PROP_CACHE_ATOMICITY_MODE: CacheAtomicityMode.TRANSACTIONAL}
    )
    pessimistic = TransactionConcurrency.PESSIMISTIC
    with client.tx_start(pessimistic, TransactionIsolation.REPEATABLE_READ, timeout=5000) as tx:
        cache.put("k", "committed")
        tx.commit()
    assert cache.get("k") == "committed"
    short = client.tx_start(pessimistic, TransactionIsolation.READ_COMMITTED, timeout=200)
    with pytest.raises(CacheError, match="Cache transaction timed out"), short as tx:
        cache.put("k", "too late")
        time.sleep(0.4)
        tx.commit()
    assert cache.get("k") == "committed"
