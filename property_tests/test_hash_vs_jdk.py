"""Every hash, partition and assignment function against the live JDK oracle.

Each hypothesis example is a batch of values sent to the JVM in one round
trip, so thousands of values are compared per test.
"""

from __future__ import annotations

import datetime
import decimal
import struct
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ignite_router.affinity import (
    CollectionKind,
    EnumValue,
    IgniteCollection,
    IgniteType,
    assign,
    java_hash,
    partition,
    schema_id,
    type_id,
)
from ignite_router.affinity.rendezvous import REPLICATED_BACKUPS, mix_key
from ignite_router.affinity.temporal import date_epoch_ms, date_epoch_us, time_ms
from property_tests.implementations import BYTE_ARRAY_HASHES, STRING_HASHES
from property_tests.oracle import (
    JavaOracle,
    assign_request,
    parse_assignment,
    utf16_hex,
    uuid_halves,
)

BATCH = st.integers(min_value=1, max_value=200)
INT32 = st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1)
INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
# Any UTF-16 content: BMP, astral characters, and lone surrogates (Java strings may hold them).
_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
JAVA_STRINGS = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), _SURROGATES)
)
DATETIMES = st.datetimes(
    min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)
)


def batches(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(strategy, min_size=1, max_size=200)


def _check(oracle: JavaOracle, requests: list[str], ours: list[int]) -> None:
    expected = oracle.ask_ints(requests)
    mismatches = [(r, o, e) for r, o, e in zip(requests, ours, expected, strict=True) if o != e]
    assert mismatches == []


@given(batches(st.integers(min_value=-128, max_value=127)))
def test_byte(oracle, values):
    _check(oracle, [f"byte {v}" for v in values], [java_hash(v, IgniteType.BYTE) for v in values])


@given(batches(st.integers(min_value=-(1 << 15), max_value=(1 << 15) - 1)))
def test_short(oracle, values):
    _check(oracle, [f"short {v}" for v in values], [java_hash(v, IgniteType.SHORT) for v in values])


@given(batches(INT32))
def test_int(oracle, values):
    _check(oracle, [f"int {v}" for v in values], [java_hash((v, IgniteType.INT)) for v in values])


@given(batches(INT64))
@example([0, 1, -1, 1 << 32, 123456789012, -(1 << 63), (1 << 63) - 1])
def test_long_is_truncated_to_int32(oracle, values):
    # pyignite leaves Long hashes untruncated (-1 -> -4294967296); Java folds to an int.
    _check(oracle, [f"long {v}" for v in values], [java_hash(v) for v in values])


@given(batches(st.floats(width=32, allow_nan=True)))
@example([0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1.5])
def test_float(oracle, values):
    requests = [f"float {struct.unpack('<I', struct.pack('<f', v))[0]}" for v in values]
    _check(oracle, requests, [java_hash(v, IgniteType.FLOAT) for v in values])


@given(batches(st.floats(allow_nan=True)))
@example([0.0, -0.0, float("nan"), 3.14159, 1.0, float("inf")])
def test_double(oracle, values):
    requests = [f"double {struct.unpack('<Q', struct.pack('<d', v))[0]}" for v in values]
    _check(oracle, requests, [java_hash(v) for v in values])


@given(batches(st.integers(min_value=0, max_value=0xFFFF)))
def test_char(oracle, units):
    _check(
        oracle, [f"char {u}" for u in units], [java_hash(chr(u), IgniteType.CHAR) for u in units]
    )


def test_bool(oracle):
    _check(oracle, ["bool 1", "bool 0"], [java_hash(True), java_hash(False)])


@pytest.mark.parametrize("string_hash", STRING_HASHES)
@given(batches(JAVA_STRINGS))
@example(["😀", "my cache", "Hello", "", "\ud800", "a\udfffb", "x" * 5000, "é😀\udc00" * 3000])
def test_string_hashes_utf16_code_units(oracle, string_hash, texts):
    # pyignite hashes code points, so every non-BMP string differs from Java there.
    _check(oracle, [f"string {utf16_hex(t)}" for t in texts], [string_hash(t) for t in texts])


@given(batches(st.uuids()))
def test_uuid(oracle, values):
    requests = ["uuid {} {}".format(*uuid_halves(v)) for v in values]
    _check(oracle, requests, [java_hash(v) for v in values])


@given(batches(st.one_of(DATETIMES, st.dates())))
@example([datetime.date(2020, 9, 13), datetime.date(1, 1, 1), datetime.datetime(1969, 12, 31)])
def test_date_including_python_date_keys(oracle, values):
    # pyignite crashes on datetime.date keys (no timestamp()); they are DATE at midnight UTC.
    requests = [f"date {date_epoch_ms(v)}" for v in values]
    _check(oracle, requests, [java_hash(v) for v in values])


@given(batches(DATETIMES))
def test_timestamp_ignores_nanos(oracle, values):
    requests = []
    for value in values:
        micros = date_epoch_us(value)
        requests.append(f"timestamp {micros // 1000} {micros % 1000 * 1000}")
    _check(oracle, requests, [java_hash(v, IgniteType.TIMESTAMP) for v in values])


@given(batches(st.one_of(st.timedeltas(), st.times())))
def test_time(oracle, values):
    _check(oracle, [f"time {time_ms(v)}" for v in values], [java_hash(v) for v in values])


DECIMALS = st.builds(
    lambda unscaled, scale: decimal.Decimal(f"{unscaled}E{-scale}"),
    st.one_of(
        INT64,
        st.integers(min_value=-(1 << 200), max_value=1 << 200),
        st.sampled_from([1 << 63, -(1 << 63), (1 << 63) - 1, 1 << 64, -(1 << 64), 1 << 96]),
    ),
    st.integers(min_value=-40, max_value=40),
)


def _decimal_request(value: decimal.Decimal) -> str:
    sign, digits, exponent = value.as_tuple()
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return f"decimal {unscaled} {-exponent}"


@given(batches(DECIMALS))
@example(
    [
        decimal.Decimal("1.5"),
        decimal.Decimal("-1.5"),
        decimal.Decimal("1.50"),
        decimal.Decimal("1E+2"),
        decimal.Decimal(2**64),
        decimal.Decimal("-184467440737095516.21"),
        decimal.Decimal("12345678901234567890.123"),
    ]
)
def test_decimal_any_scale_and_magnitude(oracle, values):
    # pyignite's magnitude loop drops a top word of 1: 2**64 hashes to 0 there, 29791 in Java.
    _check(oracle, [_decimal_request(v) for v in values], [java_hash(v) for v in values])


@given(batches(st.builds(EnumValue, INT32, st.integers(min_value=0, max_value=1 << 16))))
def test_binary_enum(oracle, values):
    # pyignite has no enum hash (always 0 -> partition 0).
    _check(
        oracle,
        [f"enum {v.type_id} {v.ordinal}" for v in values],
        [java_hash(v) for v in values],
    )


@given(batches(st.lists(st.one_of(INT64, st.none()), max_size=20)))
def test_list_and_set_of_longs(oracle, lists):
    requests, ours = [], []
    for items in lists:
        encoded = " ".join("null" if i is None else str(i) for i in items)
        requests += [f"list {encoded}".rstrip(), f"set {encoded}".rstrip()]
        ours.append(java_hash(IgniteCollection(CollectionKind.ARR_LIST, items)))
        ours.append(
            java_hash(IgniteCollection(CollectionKind.HASH_SET, list(dict.fromkeys(items))))
        )
    _check(oracle, requests, ours)


@given(batches(st.dictionaries(JAVA_STRINGS.filter(lambda s: s.isprintable()), INT64, max_size=8)))
def test_map_of_string_to_long(oracle, maps):
    requests = [
        "map " + " ".join(f"{utf16_hex(k)} {v}" for k, v in m.items()) if m else "map" for m in maps
    ]
    _check(oracle, requests, [java_hash(m) for m in maps])


@pytest.mark.parametrize("binary_object_hash", BYTE_ARRAY_HASHES)
@given(batches(st.binary(max_size=300)))
@example([b"", b"\x80", b"\xff" * 4097])
def test_binary_object_hash_is_arrays_hashcode(oracle, binary_object_hash, blobs):
    _check(oracle, [f"bytes {b.hex()}" for b in blobs], [binary_object_hash(b) for b in blobs])


NAMES = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=1, max_codepoint=0xFFFF), _SURROGATES)
)


def _id_or_refused(name: str) -> int | None:
    try:
        return type_id(name)
    except ValueError:
        return None


@given(batches(NAMES))
@example(["İx", "TestKey", "ΣΑΣ", "ǅ", "ẞ", "K", "", "f5a5a608", "\u2c2f", "\ua7c0"])
def test_type_and_field_ids_lower_case_per_code_unit(oracle, names):
    # pyignite lower-cases with Python's full case mapping ("İx" -> 125050, Java 3375).
    # An id of 0 is refused by BinaryBasicIdMapper, so ours must raise for it.
    expected = oracle.ask_ints([f"lower {utf16_hex(n)}" for n in names])
    expected_or_refused = [None if java == 0 else java for java in expected]
    assert [_id_or_refused(n) for n in names] == expected_or_refused


@given(batches(st.lists(INT32, max_size=12)))
def test_schema_id_fnv1(oracle, field_lists):
    _check(
        oracle,
        [" ".join(["schema", *map(str, ids)]) for ids in field_lists],
        [schema_id(ids) for ids in field_lists],
    )


PART_COUNTS = st.one_of(
    st.sampled_from([1, 2, 17, 512, 1000, 1024, 65000]),
    st.integers(min_value=1, max_value=65000),
)


@given(batches(st.tuples(INT32, PART_COUNTS)))
@example([(-(1 << 31), 1000), (2012078094, 1000), (-1, 1000), (70000, 17), (-123456, 17)])
def test_partition_both_variants(oracle, cases):
    # pyignite divides instead of taking the remainder for non-power-of-two counts.
    _check(oracle, [f"part {h} {p}" for h, p in cases], [partition(h, p) for h, p in cases])


@given(batches(st.tuples(INT32, st.integers(min_value=0, max_value=64999))))
def test_wang_jenkins_mix(oracle, cases):
    _check(oracle, [f"mix {h} {p}" for h, p in cases], [mix_key(h, p) for h, p in cases])


@settings(max_examples=25)
@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=12, unique=True),
    st.integers(min_value=1, max_value=300),
    st.one_of(st.integers(min_value=0, max_value=13), st.just(REPLICATED_BACKUPS)),
    st.data(),
)
def test_rendezvous_assignment(oracle, consistent_ids, parts, backups, data):
    node_ids = data.draw(
        st.lists(st.uuids(), min_size=len(consistent_ids), max_size=len(consistent_ids))
    )
    answer = oracle.ask([assign_request(consistent_ids, node_ids, parts, backups)])[0]
    assert assign(consistent_ids, parts, backups, node_ids) == parse_assignment(answer)


def test_rendezvous_ties_use_signed_uuid_order(oracle):
    # Equal consistent ids give equal mixes: only UUID.compareTo (signed) orders them.
    node_ids = [
        uuid.UUID("80000000-0000-0000-0000-000000000000"),
        uuid.UUID("00000000-0000-0000-0000-000000000001"),
        uuid.UUID("00000000-0000-0000-8000-000000000000"),
    ]
    ids = ["same", "same", "same"]
    answer = oracle.ask([assign_request(ids, node_ids, 16, 2)])[0]
    assert assign(ids, 16, 2, node_ids) == parse_assignment(answer)
    assert assign(ids, 16, 2, node_ids)[0] == (0, 2, 1)
