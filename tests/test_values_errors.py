"""Targeted malformations and bad arguments: each gives the right error with a useful message.

Reader side: ProtocolError naming what is wrong and where (truncation,
counts, type codes, UTF-8, depth, handles, complex-object layout, wrapped
data). Writer side: TypeError for a wrong Python type, ValueError for an
out-of-range value, and the buffer left as it was.
"""

from __future__ import annotations

import datetime
import decimal
import struct
import time
import uuid

import pytest

from ignite_router.affinity.types import (
    CollectionKind,
    EnumValue,
    IgniteCollection,
    IgniteMap,
    IgniteType,
    MapKind,
)
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import (
    MAX_DEPTH,
    BinaryTypeRegistry,
    ComplexObject,
    RawValue,
    read_value,
    skip_value,
    write_value,
)

T = IgniteType


def encode(value, hint=None) -> bytes:
    buf = bytearray()
    write_value(buf, value, hint)
    return bytes(buf)


def both_fail(data: bytes, match: str, pos: int = 0) -> None:
    with pytest.raises(ProtocolError, match=match):
        read_value(memoryview(data), pos)
    with pytest.raises(ProtocolError, match=match):
        skip_value(memoryview(data), pos)


def obj_array(items: bytes, count: int) -> bytes:
    return b"\x17" + struct.pack("<ii", -1, count) + items


# ------------------------------------------------------------------ reader


def test_position_outside_the_data() -> None:
    both_fail(b"", "no value at offset 0")
    both_fail(b"\x65", "no value at offset 1", pos=1)
    both_fail(b"\x65", "no value at offset -1", pos=-1)


@pytest.mark.parametrize("code", [0x00, 0x1A, 0x20, 0x23, 0x27, 0x64, 0x68, 0xFE, 0xFF])
def test_unknown_or_unsupported_type_codes(code: int) -> None:
    both_fail(bytes([code]) + bytes(16), f"type code {code}")


@pytest.mark.parametrize(
    "value,hint",
    [
        (1, T.BYTE),
        (1, T.SHORT),
        (1, T.INT),
        (1, T.LONG),
        (1.0, T.FLOAT),
        (1.0, T.DOUBLE),
        ("a", T.CHAR),
        (True, None),
        (uuid.uuid4(), None),
        (datetime.datetime.now(datetime.UTC), None),
        (datetime.datetime.now(datetime.UTC), T.TIMESTAMP),
        (datetime.timedelta(1), None),
        ("text", None),
        (decimal.Decimal("1.5"), None),
        (EnumValue(3, 1), None),
        ([1, 2], None),
        (["a"], None),
        (b"xy", None),
    ],
)
def test_every_strict_prefix_of_a_fixed_value_is_truncated(value, hint) -> None:
    data = encode(value, hint)
    for cut in range(1, len(data)):
        both_fail(data[:cut], "truncated|declares|past the end|ends at")


def test_string_lengths_and_utf8() -> None:
    both_fail(b"\x09" + struct.pack("<i", -1), "negative|-1")
    both_fail(b"\x09" + struct.pack("<i", 10) + b"abc", "STRING at offset 0 declares 10 bytes")
    with pytest.raises(ProtocolError, match="not valid UTF-8"):
        read_value(b"\x09\x02\x00\x00\x00\xc3\x28", 0)
    with pytest.raises(ProtocolError, match="not valid UTF-8"):
        read_value(b"\x14\x01\x00\x00\x00\x09\x01\x00\x00\x00\xff", 0)


def test_decimal_needs_a_magnitude_byte() -> None:
    both_fail(b"\x1e" + struct.pack("<ii", 0, 0), "DECIMAL")


def test_negative_zero_decimal_reads_as_zero() -> None:
    value, _ = read_value(b"\x1e\x02\x00\x00\x00\x01\x00\x00\x00\x80", 0)
    assert value == 0 and not value.is_signed() and value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "code", [T.BYTE_ARRAY, T.INT_ARRAY, T.LONG_ARRAY, T.STRING_ARRAY, T.UUID_ARRAY, T.DECIMAL_ARRAY]
)
@pytest.mark.parametrize("count", [2**31 - 1, -1, -(2**31)])
def test_counts_are_checked_before_allocating(code: int, count: int) -> None:
    started = time.perf_counter()
    both_fail(bytes([code]) + struct.pack("<i", count) + bytes(8), "elements")
    assert time.perf_counter() - started < 5  # generous: a 2**31 allocation would not finish


@pytest.mark.parametrize("count", [2**31 - 1, -5])
def test_container_counts_are_checked_before_allocating(count: int) -> None:
    both_fail(obj_array(b"\x65", count), "elements")
    both_fail(b"\x18" + struct.pack("<ib", count, 1) + b"\x65", "elements")
    both_fail(b"\x19" + struct.pack("<ib", count, 1) + b"\x65\x65", "elements")
    both_fail(b"\x1d" + struct.pack("<ii", 5, count) + b"\x65", "elements")


def test_typed_array_elements_must_have_the_element_type() -> None:
    both_fail(b"\x14\x01\x00\x00\x00" + encode(5), "type code 4")
    both_fail(b"\x15\x01\x00\x00\x00" + encode("a"), "type code 9")
    both_fail(b"\x1d\xff\xff\xff\xff\x01\x00\x00\x00" + encode(5), "type code 4")


def test_collection_and_map_kinds() -> None:
    both_fail(b"\x18" + struct.pack("<ib", 0, 9), "unknown kind 9")
    both_fail(b"\x19" + struct.pack("<ib", 0, 3), "unknown kind 3")
    empty, end = read_value(b"\x19" + struct.pack("<ib", 0, 0), 0)
    assert (empty, end) == (IgniteMap(MapKind.HASH_MAP, {}), 6)  # kind 0 = hash map


def test_unhashable_map_key_is_reported() -> None:
    data = b"\x19" + struct.pack("<ib", 1, 1) + encode([1, 2]) + encode(1)
    with pytest.raises(ProtocolError, match="unhashable list"):
        read_value(data, 0)
    assert skip_value(data, 0) == len(data)


def test_dates_outside_pythons_range() -> None:
    for data in (b"\x0b" + struct.pack("<q", 2**63 - 1), b"\x21" + struct.pack("<qi", -(2**63), 0)):
        with pytest.raises(ProtocolError, match="outside Python's datetime range"):
            read_value(data, 0)
        assert skip_value(data, 0) == len(data)
    with pytest.raises(ProtocolError, match="TIME"):
        read_value(b"\x24" + struct.pack("<q", 2**63 - 1), 0)


def _nested_arrays(levels: int) -> bytes:
    return obj_array(b"", 1) * levels + b"\x65"


def test_depth_limit() -> None:
    value, end = read_value(_nested_arrays(MAX_DEPTH), 0)
    for _ in range(MAX_DEPTH):
        (value,) = value.items
    assert value is None and end == len(_nested_arrays(MAX_DEPTH))
    assert skip_value(_nested_arrays(MAX_DEPTH), 0) == end
    both_fail(_nested_arrays(MAX_DEPTH + 1), "deeper than 64")
    bomb = (b"\x18" + struct.pack("<ib", 1, 1)) * 100_000 + b"\x65"
    both_fail(bomb, "deeper than 64")


def test_depth_limit_on_the_writer() -> None:
    value: list = [1]
    for _ in range(MAX_DEPTH + 1):
        value = [value]
    with pytest.raises(ValueError, match="deeper than 64"):
        encode(value)
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="cyclic"):
        encode(cyclic)


# ------------------------------------------------------------------ handles


def test_handles_resolve_to_earlier_values() -> None:
    inner = encode(["x", "y"])  # STRING_ARRAY at offset 9
    data = obj_array(inner + b"\x66" + struct.pack("<i", 9 + len(inner) - 9), 2)
    value, end = read_value(data, 0)
    assert value == (-1, [["x", "y"], ["x", "y"]]) and end == len(data) == skip_value(data, 0)


def test_handle_to_a_container_keeps_identity_and_cycles() -> None:
    # A collection whose only element is a handle back to itself.
    data = b"\x18" + struct.pack("<ib", 1, 1) + b"\x66" + struct.pack("<i", 6)
    value, _ = read_value(data, 0)
    assert isinstance(value, IgniteCollection) and value.items[0] is value
    # An object array holding one list twice: same Python object.
    shared = obj_array(b"\x65", 1)
    data = obj_array(shared + b"\x66" + struct.pack("<i", len(shared)), 2)
    value, _ = read_value(data, 0)
    assert value.items[0] is value.items[1]


def test_handles_pointing_forward_or_outside() -> None:
    for distance in (0, -3):
        both_fail(obj_array(b"\x66" + struct.pack("<i", distance), 1), "forward")
    both_fail(obj_array(b"\x66" + struct.pack("<i", 100), 1), "before the start")
    data = b"\x65" + obj_array(b"\x66" + struct.pack("<i", 10), 1)  # target is before the value
    both_fail(data, "before the start", pos=1)


def test_handle_bomb_is_bounded() -> None:
    """Distinct handle targets hidden in nested byte arrays, each re-reading a shared null run.

    Without a bound this re-reads ``levels * nulls`` elements (quadratic in the
    input); the decoder stops once re-reading exceeds a few times the input size.
    """
    levels, nulls = 1500, 1500
    body = obj_array(b"", nulls)
    starts = []
    for _ in range(levels):
        # Each level: an object array whose first element is a byte[] holding the next level;
        # its other elements are the nulls after the innermost level, shared by all levels.
        header = obj_array(b"", 1 + nulls)
        body = header + b"\x0c" + struct.pack("<i", len(body)) + body
    # Positions of each level start inside ``body``: every header is 9 + 5 bytes long.
    starts = [i * 14 for i in range(levels)]
    tail = b"\x65" * nulls
    prefix = obj_array(b"", levels)  # outer array: [level 0, handles to levels 1..]
    data = bytearray(prefix + body + tail)
    base = len(prefix)
    for start in starts[1:]:
        handle_pos = len(data)
        data += b"\x66" + struct.pack("<i", handle_pos - (base + start))
    started = time.perf_counter()
    with pytest.raises(ProtocolError, match="expand"):
        read_value(bytes(data), 0)
    assert time.perf_counter() - started < 30
    assert skip_value(bytes(data), 0) == len(data)


# ------------------------------------------------------------------ wrapped data


def test_wrapped_data() -> None:
    inner = encode([1, "a"])
    data = b"\x1b" + struct.pack("<i", len(inner)) + inner + struct.pack("<i", 0)
    assert read_value(data, 0) == ((-1, [1, "a"]), len(data)) and skip_value(data, 0) == len(data)
    both_fail(b"\x1b" + struct.pack("<i", 0) + struct.pack("<i", 0), "WRAPPED_DATA")
    both_fail(b"\x1b" + struct.pack("<i", len(inner)) + inner + struct.pack("<i", 99), "root")
    both_fail(b"\x1b" + struct.pack("<i", 50) + inner, "WRAPPED_DATA")
    # A handle inside the payload may not reach out of it.
    escaping = b"\x66" + struct.pack("<i", 6)
    data = b"\x65" + b"\x1b" + struct.pack("<i", 5) + escaping + struct.pack("<i", 0)
    both_fail(data, "before the start", pos=1)


# ------------------------------------------------------------------ complex objects


def _object(**overrides) -> bytearray:
    obj = ComplexObject("Person", {"id": (1, T.INT), "name": "ab"}, compact_footer=False)
    data = bytearray(encode(obj))
    for offset, packed in overrides.values():
        data[offset : offset + len(packed)] = packed
    return data


def test_complex_object_header_checks() -> None:
    both_fail(bytes(_object(version=(1, b"\x02"))), "version 2")
    both_fail(bytes(_object(length=(12, struct.pack("<i", 10)))), "length 10")
    both_fail(bytes(_object(length=(12, struct.pack("<i", 500)))), "length 500")
    both_fail(bytes(_object(schema=(20, struct.pack("<i", 3)))), "schema offset")
    both_fail(bytes(_object(schema=(20, struct.pack("<i", 34)))), "whole number")
    both_fail(bytes(_object())[:23], "truncated complex object header")


def test_complex_object_field_offsets() -> None:
    data = _object()
    footer = struct.unpack_from("<i", data, 20)[0]
    # Full footer, 1-byte offsets: (i32 id, u8 offset) per field.
    same = bytearray(data)
    same[footer + 9] = same[footer + 4]  # second field at the first field's offset
    both_fail(bytes(same), "out of order")
    outside = bytearray(data)
    outside[footer + 9] = footer  # offset at the footer
    both_fail(bytes(outside), "outside the field area")
    overrun = bytearray(data)
    overrun[footer + 9] = 25  # second field starts inside the first INT
    with pytest.raises(ProtocolError, match=r"field 3355 .* overruns its slot"):
        read_value(bytes(overrun), 0)


def test_complex_object_with_raw_data_and_class_name() -> None:
    obj = ComplexObject("Person", {"id": 1}, raw_data=b"\x01\x02\x03", compact_footer=False)
    data = encode(obj)
    decoded, _ = read_value(data, 0)
    assert decoded.raw_data == b"\x01\x02\x03"
    bad_raw = bytearray(data)
    bad_raw[-4:] = struct.pack("<i", 2)
    both_fail(bytes(bad_raw), "raw offset")
    # Unregistered type: type id 0 and a class-name String after the header.
    name = encode("org.example.Person")
    fields = encode(7, T.INT)
    total = 24 + len(name) + len(fields) + 5
    header = struct.pack(
        "<BBhiiiii", 0x67, 1, 0x0003 | 0x0008, 0, 1, total, 1, 24 + len(name) + len(fields)
    )
    data = header + name + fields + struct.pack("<iB", 3355, 24 + len(name))
    decoded, end = read_value(data, 0)
    assert end == len(data) == skip_value(data, 0)
    assert decoded.type_name == "org.example.Person" and decoded.fields == {3355: 7}


# ------------------------------------------------------------------ writer


@pytest.mark.parametrize(
    "value,hint,error,match",
    [
        (300, T.BYTE, ValueError, "BYTE"),
        (-129, T.BYTE, ValueError, "BYTE"),
        (2**15, T.SHORT, ValueError, "SHORT"),
        (2**31, T.INT, ValueError, "INT"),
        (2**63, T.LONG, ValueError, "LONG"),
        (2**63, None, ValueError, "LONG"),
        ("x", T.INT, TypeError, "INT"),
        (True, T.LONG, TypeError, "LONG"),
        (1.5, T.LONG, TypeError, "LONG"),
        (1e300, T.FLOAT, ValueError, "FLOAT"),
        (10**400, T.DOUBLE, ValueError, "DOUBLE"),
        ("ab", T.CHAR, ValueError, "CHAR"),
        ("😀", T.CHAR, ValueError, "CHAR"),
        (65, T.CHAR, TypeError, "CHAR"),
        (1, T.BOOL, TypeError, "BOOL"),
        (5, T.STRING, TypeError, "STRING"),
        ("\ud800", None, ValueError, "surrogate"),
        ("x", T.UUID, TypeError, "UUID"),
        (5, T.DATE, TypeError, "DATE"),
        (5, T.TIME, TypeError, "TIME"),
        (decimal.Decimal("NaN"), None, ValueError, "NaN"),
        (decimal.Decimal("1E-3000000000"), None, ValueError, "scale"),
        (1.5, T.DECIMAL, TypeError, "DECIMAL"),
        (EnumValue(0, 1), None, ValueError, "type id 0"),
        (EnumValue(2**40, 1), None, ValueError, "int32"),
        ((1, "a"), T.ENUM, TypeError, "ENUM"),
        ({"a": 1}, T.LONG, TypeError, "LONG"),
        ([1, 2**40], T.INT_ARRAY, ValueError, "INT_ARRAY"),
        ([1.5], T.INT_ARRAY, TypeError, "INT_ARRAY"),
        ([1e300], T.FLOAT_ARRAY, ValueError, "FLOAT_ARRAY"),
        ([1, 2], T.BOOL_ARRAY, TypeError, "BOOL_ARRAY"),
        ([300], T.BYTE_ARRAY, ValueError, "BYTE_ARRAY"),
        (5, T.STRING_ARRAY, TypeError, "STRING_ARRAY"),
        ([5], T.STRING_ARRAY, TypeError, "STRING"),
        (5, T.COLLECTION, TypeError, "COLLECTION"),
        (IgniteCollection(9, []), None, ValueError, "collection kind"),
        (5, T.MAP, TypeError, "MAP"),
        (5, T.COMPLEX_OBJECT, TypeError, "ComplexObject"),
        (5, T.NULL, TypeError, "NULL"),
        (5, T.HANDLE, ValueError, "HANDLE"),
        (object(), None, TypeError, "object"),
        (RawValue(b"\x65"), T.LONG, ValueError, "RawValue"),
    ],
)
def test_writer_rejects(value, hint, error, match) -> None:
    buf = bytearray(b"prefix")
    with pytest.raises(error, match=match):
        write_value(buf, value, hint)
    assert buf == b"prefix"


def test_failed_nested_write_restores_the_buffer() -> None:
    buf = bytearray(b"keep")
    with pytest.raises(ValueError):
        write_value(buf, [1, "a", (300, T.BYTE)])
    with pytest.raises(TypeError, match="field 'when' of Person"):
        write_value(buf, ComplexObject("Person", {"id": 1, "when": (5, T.DATE)}))
    assert buf == b"keep"


def test_int_subclasses_and_hints_as_tuples_anywhere() -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    assert encode(Level.HIGH, T.INT) == encode(3, T.INT)
    nested = {"k": [(1, T.SHORT), {(2, T.BYTE): (3.5, T.FLOAT)}]}
    value, _ = read_value(encode(nested), 0)
    assert value == (MapKind.HASH_MAP, {"k": (-1, [1, (MapKind.HASH_MAP, {2: 3.5})])})
    data = encode(nested)
    assert encode(1, T.SHORT) in data and encode(2, T.BYTE) in data and encode(3.5, T.FLOAT) in data


def test_raw_values_are_copied_verbatim_anywhere() -> None:
    raw = RawValue(encode(7, T.INT))
    data = encode(IgniteCollection(CollectionKind.ARR_LIST, [raw, raw]))
    assert data.count(encode(7, T.INT)) == 2
    assert read_value(data, 0)[0].items == [7, 7]
    assert encode(raw, T.WRAPPED_DATA) == b"\x1b\x05\x00\x00\x00" + raw.data + bytes(4)
    with pytest.raises(ValueError):
        RawValue(b"")
    with pytest.raises(TypeError):
        RawValue("07")


def test_registry_is_optional_for_full_footer_objects() -> None:
    obj = ComplexObject("Person", {"id": 1}, compact_footer=False)
    registry = BinaryTypeRegistry([BinaryTypeRegistry().binary_type_for(obj)])
    assert read_value(encode(obj), 0, registry)[0].fields == {"id": 1}


def test_decimal_magnitude_limit() -> None:
    """Decimal <-> int conversion is quadratic: magnitudes over 4096 bytes are refused."""
    largest = b"\x1e" + struct.pack("<ii", 0, 4096) + b"\x01" * 4096
    value, end = read_value(largest, 0)
    assert end == len(largest) == skip_value(largest, 0)
    assert value == int.from_bytes(b"\x01" * 4096, "big")
    both_fail(b"\x1e" + struct.pack("<ii", 0, 4097) + b"\x01" * 4097, "4096")
    with pytest.raises(ValueError, match="4096"):
        encode(decimal.Decimal(2 ** (8 * 4096)))
    assert encode(decimal.Decimal(2 ** (8 * 4096 - 2))) == largest[:9] + (
        2 ** (8 * 4096 - 2)
    ).to_bytes(4096, "big")


def test_complex_objects_as_map_keys() -> None:
    first = ComplexObject("Key", {"id": (1, T.INT), "tags": ["a"]})
    second = ComplexObject("Key", {"tags": ["a"], "id": 1}, compact_footer=False)
    assert first == second and hash(first) == hash(second)
    assert ComplexObject("Key", {"id": 2}) != first
    registry = BinaryTypeRegistry([BinaryTypeRegistry().binary_type_for(first)])
    keys = [ComplexObject("Key", {"id": (i, T.INT), "tags": ["a"]}) for i in range(50)]
    value, _ = read_value(encode({key: i for i, key in enumerate(keys)}), 0, registry)
    assert value.items == {key: i for i, key in enumerate(keys)}
