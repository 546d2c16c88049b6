"""Edges of the placement math that need no JDK: refusals, ties, the one-partition path.

Hash values are checked against the live JDK in ``property_tests/``; here the
checks are about what must be refused, and that shortcuts agree with the full
computation.
"""

from __future__ import annotations

import decimal
import random
import sys
import uuid

import pytest

from ignite_router.affinity import assign, field_id, java_hash, node_order, string_hash, type_id
from ignite_router.affinity.rendezvous import (
    REPLICATED_BACKUPS,
    AmbiguousOrderError,
    partition_owners,
)
from ignite_router.protocol.values import write_value


@pytest.mark.parametrize("name", ["", "f5a5a608"])
def test_ids_of_zero_are_refused_like_binary_basic_id_mapper(name) -> None:
    # Both names hash to 0 lower-cased (the JDK agrees: property_tests vectors "lower").
    assert string_hash(name.lower()) == 0
    for ids in (type_id, field_id):
        with pytest.raises(ValueError, match="id 0"):
            ids(name)


@pytest.mark.parametrize("value", ["1E-2147483648", "1E+2147483649", "1E-3000000000"])
def test_decimal_scale_outside_int32_is_refused_like_the_codec(value) -> None:
    decimal_value = decimal.Decimal(value)
    with pytest.raises(ValueError, match="scale") as codec:
        write_value(bytearray(), decimal_value)
    with pytest.raises(ValueError, match="scale") as ours:
        java_hash(decimal_value)
    assert str(ours.value) == str(codec.value)


def test_decimal_scale_at_the_int32_edges_is_hashed() -> None:
    for value in ("1E-2147483647", "1E+2147483648"):
        write_value(bytearray(), decimal.Decimal(value))
        java_hash(decimal.Decimal(value))


def test_huge_decimals_hash_without_raising_the_int_str_limit() -> None:
    limit = sys.get_int_max_str_digits()
    value = decimal.Decimal((0, (7,) * (limit + 1000), -5))
    write_value(bytearray(), value)  # the codec accepts it ...
    java_hash(value)  # ... so the hash must too
    assert sys.get_int_max_str_digits() == limit


def test_ties_without_node_ids_are_refused_with_the_colliding_ids() -> None:
    assert java_hash("Aa") == java_hash("BB")
    with pytest.raises(AmbiguousOrderError) as error:
        assign(["Aa", "BB", "node-c"], 64, 1)
    assert error.value.colliding == [["Aa", "BB"]]
    assert "'Aa' and 'BB'" in str(error.value) and "node_ids" in str(error.value)
    with pytest.raises(AmbiguousOrderError):
        node_order(["node-c", "BB", "Aa"], 3)
    node_ids = [uuid.UUID(int=n) for n in (2, 1, 3)]
    # With node ids the order is decided (by UUID.compareTo, checked against the JDK).
    assert len(assign(["Aa", "BB", "node-c"], 64, 1, node_ids)) == 64


def test_a_tie_outside_the_owners_does_not_matter() -> None:
    ids = ["Aa", "BB", *(f"node-{i}" for i in range(30))]
    # A partition whose primary is neither tied node is answered; the others are refused.
    answered = 0
    for part in range(256):
        try:
            owners = partition_owners(ids, part, 0)
        except AmbiguousOrderError:
            continue
        answered += 1
        assert owners[0] not in (0, 1)
    assert 200 < answered < 256


def test_replicated_backups_list_the_others_in_topology_order() -> None:
    ids = [f"node-{i}" for i in range(6)]
    for part, owners in enumerate(assign(ids, 32, REPLICATED_BACKUPS)):
        primary = node_order(ids, part)[0]
        assert owners == (primary, *(i for i in range(6) if i != primary))
    # Any smaller count, even >= nodes - 1, is hash order (only MAX_VALUE takes the other path).
    for part, owners in enumerate(assign(ids, 32, 5)):
        assert list(owners) == node_order(ids, part)


@pytest.mark.parametrize("backups", [-1, REPLICATED_BACKUPS + 1, True])
def test_backups_must_be_a_java_int(backups) -> None:
    with pytest.raises((ValueError, TypeError)):
        assign(["a", "b"], 4, backups)


def test_node_ids_must_be_distinct_uuids() -> None:
    with pytest.raises(ValueError):
        assign(["a", "b"], 4, 0, [uuid.UUID(int=1)] * 2)
    with pytest.raises(TypeError):
        assign(["a", "b"], 4, 0, ["x", "y"])  # type: ignore[list-item]


def test_one_partition_is_computed_without_the_table() -> None:
    rng = random.Random(9)
    ids = [f"node-{rng.getrandbits(40)}" for _ in range(64)]
    table = assign(ids, 2000, 2)
    for part in rng.sample(range(2000), 50):
        assert partition_owners(ids, part, 2) == table[part]


def test_string_memo_is_bounded_and_transparent() -> None:
    from ignite_router.affinity import ids as ids_module

    texts = [f"key-{i}" for i in range(3 * ids_module._MEMO_SIZE)]
    first = [string_hash(t) for t in texts]
    assert [string_hash(t) for t in texts] == first
    assert [ids_module._compute_string_hash(t) for t in texts] == first
    memo_size = len(ids_module._young) + len(ids_module._old)
    assert memo_size <= 2 * ids_module._MEMO_SIZE
