"""The edges of placement against the live JDK: collapsing collections, case tables, ties.

Every expected value comes from the JVM: ``obj`` builds real ``ArrayList`` /
``HashSet`` / ``HashMap`` values element by element, ``lowerall`` is
``Character.toLowerCase`` of the running JDK, ``assign`` the oracle's
statement of ``RendezvousAffinityFunction`` (``replicatedAssign`` included).
"""

from __future__ import annotations

import datetime
import decimal
import struct
import sys
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ignite_router.affinity import (
    CollectionKind,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    MapKind,
    java_hash,
)
from ignite_router.affinity.ids import java_lower
from ignite_router.affinity.rendezvous import (
    REPLICATED_BACKUPS,
    AmbiguousOrderError,
    assign,
    node_order,
    partition_owners,
)
from property_tests.oracle import JavaOracle, assign_request, parse_assignment, utf16_hex

EPOCH = datetime.datetime(1970, 1, 1)
MS = datetime.timedelta(milliseconds=1)


def test_every_bmp_char_lower_cases_like_the_jdk(oracle: JavaOracle) -> None:
    # Python 3.11 (Unicode 14) and JDK 17 (Unicode 13) differ for a few letters.
    table = oracle.ask(["lowerall"])[0]
    expected = [int(table[4 * c : 4 * c + 4], 16) for c in range(0x10000)]
    ours = [ord(java_lower(chr(c))) for c in range(0x10000)]
    pairs = enumerate(zip(ours, expected, strict=True))
    assert [(hex(c), hex(o), hex(e)) for c, (o, e) in pairs if o != e] == []


# -- collections: Java equality decides which elements collapse -------------------------


def _double_bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _ms(value: datetime.datetime) -> int:
    return (value - EPOCH) // MS


_BASE = EPOCH + datetime.timedelta(seconds=1_600_000_000)
_SAME_MS = [_BASE + datetime.timedelta(microseconds=us) for us in (0, 1, 999)]
_NEXT_MS = _BASE + datetime.timedelta(microseconds=1000)

# (Python value, oracle token) pairs, drawn from small pools so that equal values recur.
LEAVES = st.one_of(
    st.integers(min_value=-2, max_value=2).map(lambda v: (v, f"l:{v}")),
    st.integers(min_value=-2, max_value=2).map(lambda v: ((v, IgniteType.INT), f"i:{v}")),
    st.sampled_from([0.0, -0.0, 1.5, float("nan"), float("inf")]).map(
        lambda v: (v, f"d:{_double_bits(v)}")
    ),
    st.sampled_from(["", "a", "Aa", "BB"]).map(lambda v: (v, f"S:{utf16_hex(v)}")),
    st.sampled_from([*_SAME_MS, _NEXT_MS]).map(lambda v: (v, f"D:{_ms(v)}")),
    st.sampled_from([*_SAME_MS, _NEXT_MS]).map(
        lambda v: (
            (v, IgniteType.TIMESTAMP),
            f"P:{_ms(v)}:{(v - EPOCH) % MS // datetime.timedelta(microseconds=1) * 1000}",
        )
    ),
    st.sampled_from([0, 1_600_000_000_000]).map(
        lambda v: (datetime.timedelta(milliseconds=v), f"T:{v}")
    ),
    st.sampled_from(["1.5", "1.50", "-0", "0", "15E-1"]).map(
        lambda v: (decimal.Decimal(v), _decimal_token(decimal.Decimal(v)))
    ),
    st.just((None, "n")),
)


def _decimal_token(value: decimal.Decimal) -> str:
    sign, digits, exponent = value.as_tuple()
    unscaled = int("".join(map(str, digits))) * (-1 if sign else 1)
    return f"M:{unscaled:x}:{-exponent}"


def _collection(kind: CollectionKind, java: str):
    def build(children: list[tuple[object, str]]) -> tuple[object, str]:
        value = IgniteCollection(kind, [child for child, _ in children])
        return value, " ".join([java, str(len(children)), *(token for _, token in children)])

    return build


def _map(pairs: list[tuple[tuple[object, str], tuple[object, str]]]) -> tuple[object, str]:
    # A Python dict keeps one of Python-equal keys (the first key, the last value);
    # the oracle is sent exactly the entries the dict holds, in its order.
    entries: dict = {}
    for (key, key_token), (value, value_token) in pairs:
        _, previous_token, _ = entries.get(key, (None, key_token, None))
        entries[key] = (value, previous_token, value_token)
    value = IgniteMap(MapKind.HASH_MAP, {key: item for key, (item, _, _) in entries.items()})
    tokens = [f"map {len(entries)}"]
    for _, key_token, value_token in entries.values():
        tokens += [key_token, value_token]
    return value, " ".join(tokens)


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.lists(children, max_size=6).map(_collection(CollectionKind.HASH_SET, "set")),
        st.lists(children, max_size=6).map(_collection(CollectionKind.LINKED_HASH_SET, "set")),
        st.lists(children, max_size=6).map(_collection(CollectionKind.ARR_LIST, "list")),
        st.lists(st.tuples(LEAVES, children), max_size=6).map(_map),
    )


NESTED = _containers(st.recursive(LEAVES, _containers, max_leaves=8))


@settings(max_examples=60)
@given(st.lists(NESTED, min_size=1, max_size=40))
def test_collections_and_maps_hash_like_the_deserialised_java_object(oracle, cases):
    requests = [f"obj {token}" for _, token in cases]
    assert [java_hash(value) for value, _ in cases] == oracle.ask_ints(requests)


def test_the_issue_examples_collapse_as_in_java(oracle) -> None:
    nan_a, nan_b = float("nan"), float("nan")
    sub_ms = _SAME_MS[:2]
    cases = [
        (IgniteCollection(CollectionKind.HASH_SET, [1, 1]), "set 2 l:1 l:1"),
        ({nan_a, nan_b}, f"set 2 d:{_double_bits(nan_a)} d:{_double_bits(nan_b)}"),
        (
            IgniteCollection(CollectionKind.HASH_SET, sub_ms),
            f"set 2 D:{_ms(sub_ms[0])} D:{_ms(sub_ms[1])}",
        ),
        ({nan_a: 1, nan_b: 2}, f"map 2 d:{_double_bits(nan_a)} l:1 d:{_double_bits(nan_b)} l:2"),
    ]
    assert len(cases[1][0]) == 2  # Python keeps both NaNs; Java's HashSet does not
    expected = oracle.ask_ints([f"obj {token}" for _, token in cases])
    assert [java_hash(value) for value, _ in cases] == expected


# -- decimals beyond Python's int/str conversion limit ---------------------------------


@settings(max_examples=10)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1900, max_size=4000),  # 4,570 to 9,630 decimal digits
            st.booleans(),
            st.integers(min_value=-50, max_value=50),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_decimals_past_the_int_str_limit(oracle, cases):
    limit = sys.get_int_max_str_digits()
    context = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    values, requests = [], []
    for magnitude, negative, scale in cases:
        unscaled = int.from_bytes(b"\x01" + magnitude, "big") * (-1 if negative else 1)
        # Exactly unscaled * 10**-scale, built without str(int) (the limit applies there).
        values.append(context.scaleb(context.create_decimal(unscaled), -scale))
        requests.append(f"decimalhex {unscaled:x} {scale}")
    assert [java_hash(v) for v in values] == oracle.ask_ints(requests)
    assert sys.get_int_max_str_digits() == limit


# -- rendezvous: replicated caches, UUID consistent ids, ties ---------------------------

CONSISTENT_IDS = st.lists(
    st.one_of(st.text(min_size=1, max_size=8), st.uuids()), min_size=1, max_size=9, unique=True
)


@settings(max_examples=30)
@given(
    CONSISTENT_IDS,
    st.integers(min_value=1, max_value=64),
    st.one_of(st.integers(min_value=0, max_value=10), st.just(REPLICATED_BACKUPS)),
    st.data(),
)
@example(["node-a", "node-b", "node-c", "node-d"], 4, REPLICATED_BACKUPS, None)
def test_assignment_with_uuid_ids_and_replicated_caches(oracle, ids, parts, backups, data):
    count = len(ids)
    if data is None:
        node_ids = [uuid.UUID(int=i + 1) for i in range(count)]
    else:
        node_ids = data.draw(st.lists(st.uuids(), min_size=count, max_size=count, unique=True))
    expected = parse_assignment(oracle.ask([assign_request(ids, node_ids, parts, backups)])[0])
    assert assign(ids, parts, backups, node_ids) == expected
    assert [partition_owners(ids, p, backups, node_ids) for p in range(parts)] == expected


def test_uuid_consistent_id_is_not_its_string(oracle) -> None:
    node = uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
    ids = [node, "node-b", "node-c"]
    node_ids = [uuid.UUID(int=i + 1) for i in range(3)]
    text_ids = [str(node), *ids[1:]]
    as_uuid = parse_assignment(oracle.ask([assign_request(ids, node_ids, 64, 0)])[0])
    as_text = parse_assignment(oracle.ask([assign_request(text_ids, node_ids, 64, 0)])[0])
    assert as_uuid != as_text
    assert assign(ids, 64, 0) == as_uuid
    assert assign(text_ids, 64, 0) == as_text


@settings(max_examples=20)
@given(
    st.text(alphabet="xyz", max_size=3),
    st.lists(st.text(alphabet="mn", min_size=1, max_size=3), max_size=3, unique=True),
    st.integers(min_value=0, max_value=3),
    st.lists(st.uuids(), min_size=2, max_size=2, unique=True),
)
def test_ties_are_refused_exactly_when_node_ids_decide(oracle, prefix, others, backups, pair):
    # prefix+"Aa" and prefix+"BB" share a String hashCode (the JDK confirms it below).
    ids = [prefix + "Aa", prefix + "BB", *others]
    hashes = oracle.ask_ints([f"string {utf16_hex(i)}" for i in ids[:2]])
    assert hashes[0] == hashes[1]
    parts = 16
    node_ids = [*pair, *(uuid.UUID(int=i + 1000) for i in range(len(others)))]
    swapped = [pair[1], pair[0], *node_ids[2:]]
    first = parse_assignment(oracle.ask([assign_request(ids, node_ids, parts, backups)])[0])
    second = parse_assignment(oracle.ask([assign_request(ids, swapped, parts, backups)])[0])
    for part in range(parts):
        if first[part] == second[part]:
            assert partition_owners(ids, part, backups) == first[part]
        else:
            with pytest.raises(AmbiguousOrderError, match=r"Aa.*BB.*node ids"):
                partition_owners(ids, part, backups)
    with pytest.raises(AmbiguousOrderError):
        node_order(ids, 0)
    assert node_order(ids, 0, node_ids) == list(
        parse_assignment(oracle.ask([assign_request(ids, node_ids, 1, len(ids))])[0])[0]
    )
