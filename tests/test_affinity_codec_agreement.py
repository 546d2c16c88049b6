"""Routing and wire bytes never disagree: the hash of a Python key equals the hash of
what the server deserialises from the bytes the codec writes for it."""

from __future__ import annotations

import datetime
import decimal

from hypothesis import given
from hypothesis import strategies as st

from ignite_router.affinity import EnumValue, IgniteType, field_id, java_hash
from ignite_router.protocol.values import ComplexObject, read_value, write_value

INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
KEYS = st.one_of(
    INT64,
    st.tuples(st.integers(min_value=-128, max_value=127), st.just(IgniteType.BYTE)),
    st.tuples(
        st.integers(min_value=-(1 << 15), max_value=(1 << 15) - 1), st.just(IgniteType.SHORT)
    ),
    st.tuples(st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1), st.just(IgniteType.INT)),
    st.floats(allow_nan=False),
    st.tuples(st.floats(width=32, allow_nan=False), st.just(IgniteType.FLOAT)),
    st.tuples(
        st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), st.just(IgniteType.CHAR)
    ),
    st.booleans(),
    st.text(),
    st.uuids(),
    st.datetimes(timezones=st.none() | st.just(datetime.UTC)),
    st.dates(),
    st.tuples(st.datetimes(), st.just(IgniteType.TIMESTAMP)),
    st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=1000)),
    st.times(),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.builds(EnumValue, st.integers(min_value=1, max_value=(1 << 31) - 1), st.integers(0, 1000)),
)


@given(KEYS)
def test_hash_of_value_equals_hash_of_decoded_wire_value(key) -> None:
    buf = bytearray()
    write_value(buf, key)
    decoded, end = read_value(memoryview(bytes(buf)), 0)
    assert end == len(buf)
    wire_type = IgniteType(buf[0])
    assert java_hash(key) == java_hash(decoded, wire_type)


def _allowed_field_name(name: str) -> bool:
    """Ignite refuses names whose field id is 0 (e.g. "\\0"); the codec does too."""
    try:
        field_id(name)
    except ValueError:
        return False
    return True


FIELD_NAMES = st.text(min_size=1, max_size=8).filter(_allowed_field_name)


@given(st.dictionaries(FIELD_NAMES, st.one_of(INT64, st.text()), max_size=6))
def test_complex_key_hash_is_the_header_hash(fields) -> None:
    obj = ComplexObject("KeyType", fields, compact_footer=False)
    buf = bytearray()
    write_value(buf, obj)
    header_hash = int.from_bytes(buf[8:12], "little", signed=True)
    assert java_hash(obj) == header_hash
    decoded, _ = read_value(memoryview(bytes(buf)), 0)
    assert java_hash(decoded) == header_hash


def test_decimal_scale_survives_the_wire() -> None:
    # 1.50 and 1.5 are different BigDecimal keys; the codec must not normalise them.
    for text in ("1.50", "1.5", "1E+2", "100"):
        value = decimal.Decimal(text)
        buf = bytearray()
        write_value(buf, value)
        decoded, _ = read_value(memoryview(bytes(buf)), 0)
        assert decoded.as_tuple() == value.as_tuple()
        assert java_hash(decoded) == java_hash(value)
