"""Binary type metadata bodies (OP 3003 request, OP 3002 response) and the registry.

pyignite 0.6.1 is the oracle, run live: its ``put_binary_type`` builds the
3003 request (captured by a fake connection) and its ``get_binary_type``
parses a 3002 response that we encode.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyignite import Client
from pyignite import datatypes as pt
from pyignite.api.binary import get_binary_type, put_binary_type
from pyignite.connection.protocol_context import ProtocolContext
from pyignite.utils import schema_id as pyignite_schema_id

from ignite_router.affinity.ids import field_id, schema_id, type_id
from ignite_router.affinity.types import EnumValue, IgniteType
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import (
    BinaryField,
    BinarySchema,
    BinaryType,
    BinaryTypeRegistry,
    ComplexObject,
    RawValue,
    UnknownSchemaError,
    decode_binary_type,
    decode_binary_type_response,
    encode_binary_type,
    encode_binary_type_response,
    read_value,
    write_value,
)

T = IgniteType


class FakeConnection:
    """Just enough of a pyignite connection: records requests, answers with ``body``."""

    def __init__(self, body: bytes = b"") -> None:
        self.client = Client()
        self.protocol_context = ProtocolContext((1, 7, 0))
        self.body = body
        self.sent: list[bytes] = []

    def request(self, data: bytes) -> bytes:
        self.sent.append(data)
        request_id = struct.unpack_from("<q", data, 6)[0]
        # >= 1.4 response header: length, request id, flags (0 = success, no topology change)
        return struct.pack("<iqh", 10 + len(self.body), request_id, 0) + self.body


PYIGNITE_TYPES = {
    pt.ByteObject: T.BYTE,
    pt.ShortObject: T.SHORT,
    pt.IntObject: T.INT,
    pt.LongObject: T.LONG,
    pt.FloatObject: T.FLOAT,
    pt.DoubleObject: T.DOUBLE,
    pt.CharObject: T.CHAR,
    pt.BoolObject: T.BOOL,
    pt.String: T.STRING,
    pt.UUIDObject: T.UUID,
    pt.DateObject: T.DATE,
    pt.TimestampObject: T.TIMESTAMP,
    pt.TimeObject: T.TIME,
    pt.DecimalObject: T.DECIMAL,
    pt.IntArrayObject: T.INT_ARRAY,
    pt.StringArrayObject: T.STRING_ARRAY,
    pt.MapObject: T.MAP,
    pt.CollectionObject: T.COLLECTION,
    pt.BinaryObject: T.COMPLEX_OBJECT,
}
NAMES = ["id", "name", "region", "amount", "created", "flags", "tags", "payload", "score", "ttl"]
type_names = st.sampled_from(["Person", "org.example.Order", "Ключ", "a.b.C$Inner"])
layouts = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(list(PYIGNITE_TYPES))),
    max_size=6,
    unique_by=lambda f: f[0],
)


def encoded(binary_type: BinaryType) -> bytes:
    buf = bytearray()
    encode_binary_type(buf, binary_type)
    return bytes(buf)


@settings(max_examples=100)
@given(type_names, layouts, st.one_of(st.none(), st.sampled_from(NAMES)))
def test_put_body_matches_pyignite(type_name, layout, affinity_field) -> None:
    schema = {name: py_type for name, py_type in layout}
    connection = FakeConnection()
    put_binary_type(connection, type_name, affinity_field, False, schema)
    ours = BinaryType.of(
        type_name,
        {name: PYIGNITE_TYPES[t] for name, t in layout},
        affinity_key_field=affinity_field,
    )
    assert connection.sent[0][14:] == encoded(ours)  # after len, op code, request id
    assert list(ours.schemas) == [pyignite_schema_id(schema)]


binary_types = st.builds(
    lambda name, layout, affinity, extra_schemas: _with_schemas(
        BinaryType.of(name, {n: PYIGNITE_TYPES[t] for n, t in layout}, affinity_key_field=affinity),
        extra_schemas,
    ),
    type_names,
    layouts,
    st.one_of(st.none(), st.sampled_from(NAMES)),
    st.lists(st.lists(st.sampled_from(NAMES), unique=True, max_size=4), max_size=3),
)
enum_types = st.builds(
    BinaryType.enum,
    type_names,
    st.dictionaries(st.sampled_from(["RED", "GREEN", "BLUE", "Ünïcode"]), st.integers(0, 100)),
)


def _with_schemas(binary_type: BinaryType, extra: list[list[str]]) -> BinaryType:
    for names in extra:
        schema = BinarySchema.of(field_id(n) for n in names)
        binary_type.schemas[schema.schema_id] = schema
    return binary_type


@settings(max_examples=100)
@given(st.one_of(binary_types, enum_types))
def test_get_response_is_parsed_by_pyignite(binary_type: BinaryType) -> None:
    buf = bytearray()
    encode_binary_type_response(buf, binary_type)
    connection = FakeConnection(bytes(buf))
    parsed = get_binary_type(connection, binary_type.type_id).value
    assert parsed["type_exists"] is True
    assert parsed["type_id"] == binary_type.type_id
    assert parsed["type_name"] == binary_type.type_name
    assert parsed["affinity_key_field"] == binary_type.affinity_key_field
    assert parsed["is_enum"] == binary_type.is_enum
    assert [(f["field_name"], f["type_id"], f["field_id"]) for f in parsed["binary_fields"]] == [
        (f.name, f.type_code, f.field_id) for f in binary_type.fields.values()
    ]
    assert parsed["schema"] == {
        s.schema_id: list(s.field_ids) for s in binary_type.schemas.values()
    }
    if binary_type.is_enum:
        assert {e["literal"]: e["type_id"] for e in parsed["enums"]} == binary_type.enum_values


def test_absent_type_response() -> None:
    buf = bytearray()
    encode_binary_type_response(buf, None)
    assert bytes(buf) == b"\x00"
    assert get_binary_type(FakeConnection(bytes(buf)), 5).value == {"type_exists": False}
    assert decode_binary_type_response(buf, 0) == (None, 1)


@settings(max_examples=150)
@given(st.one_of(binary_types, enum_types), st.binary(max_size=3))
def test_body_round_trip(binary_type: BinaryType, tail: bytes) -> None:
    data = encoded(binary_type)
    assert decode_binary_type(data + tail, 0) == (binary_type, len(data))
    buf = bytearray()
    encode_binary_type_response(buf, binary_type)
    assert decode_binary_type_response(bytes(buf), 0) == (binary_type, len(buf))


@settings(max_examples=150)
@given(st.one_of(binary_types, enum_types), st.data())
def test_truncated_bodies_fail_cleanly(binary_type: BinaryType, data: st.DataObject) -> None:
    body = encoded(binary_type)
    cut = data.draw(st.integers(0, len(body) - 1))
    with pytest.raises(ProtocolError):
        decode_binary_type(body[:cut], 0)


def test_absurd_counts_fail_before_allocating() -> None:
    head = encoded(BinaryType.of("T"))[:-4]  # everything up to the schema count
    for count in (2**31 - 1, -1):
        with pytest.raises(ProtocolError, match="count"):
            decode_binary_type(head + struct.pack("<i", count), 0)
    fields_at = 4 + 6 + 1  # type id, "T" string, null affinity field
    body = encoded(BinaryType.of("T"))
    with pytest.raises(ProtocolError, match="field count"):
        decode_binary_type(body[:fields_at] + struct.pack("<i", 10**9) + body[fields_at + 4 :], 0)


# ------------------------------------------------------------------ registry


def test_registry_merges_schemas_and_names_fields() -> None:
    registry = BinaryTypeRegistry()
    first = BinaryType.of("Person", {"id": T.INT, "name": T.STRING})
    second = BinaryType.of("Person", {"id": T.INT, "email": T.STRING}, affinity_key_field="id")
    registry.add(first)
    merged = registry.add(second)
    assert registry[type_id("Person")] is merged and len(registry) == 1
    assert set(merged.schemas) == set(first.schemas) | set(second.schemas)
    assert list(merged.fields) == ["id", "name", "email"]
    assert merged.affinity_key_field == "id"
    for schema in (first, second):
        (sid,) = schema.schemas
        assert registry.schema_fields(type_id("Person"), sid) == tuple(schema.fields)
        assert registry.knows_schema(type_id("Person"), sid)
    assert registry.schema_fields(type_id("Person"), 12345) is None
    assert registry.schema_fields(99, 1) is None
    assert registry.field_name(type_id("Person"), field_id("email")) == "email"
    assert registry.field_name(type_id("Person"), 7) is None


def test_binary_type_for_uses_the_shared_mapping_and_hints() -> None:
    obj = ComplexObject(
        "Order",
        {
            "id": 1,
            "qty": (2, T.INT),
            "note": None,
            "tags": ["a"],
            "when": None,
            "raw": RawValue(b"\x08\x01"),
        },
        field_hints={"when": T.TIMESTAMP},
    )
    binary_type = BinaryTypeRegistry().binary_type_for(obj, affinity_key_field="id")
    assert binary_type.type_id == type_id("Order") and binary_type.type_name == "Order"
    assert binary_type.affinity_key_field == "id"
    assert {f.name: f.type_code for f in binary_type.fields.values()} == {
        "id": T.LONG,
        "qty": T.INT,
        "note": T.COMPLEX_OBJECT,
        "tags": T.STRING_ARRAY,
        "when": T.TIMESTAMP,
        "raw": T.BOOL,
    }
    assert list(binary_type.schemas) == [obj.schema_id]
    assert binary_type.schemas[obj.schema_id].field_ids == tuple(
        field_id(n) for n in ["id", "qty", "note", "tags", "when", "raw"]
    )
    assert obj.schema_id == schema_id(field_id(n) for n in obj.fields)


def test_binary_type_for_needs_names() -> None:
    with pytest.raises(ValueError, match="type_name"):
        BinaryTypeRegistry().binary_type_for(ComplexObject(type_id=5, fields={"a": 1}))
    with pytest.raises(ValueError, match="field names"):
        BinaryTypeRegistry().binary_type_for(ComplexObject("T", {5: 1}))


def test_compact_footer_needs_the_schema_and_the_error_says_which() -> None:
    obj = ComplexObject("Person", {"id": 1})
    buf = bytearray()
    write_value(buf, obj)
    with pytest.raises(UnknownSchemaError) as caught:
        read_value(buf, 0)
    assert (caught.value.type_id, caught.value.schema_id) == (obj.type_id, obj.schema_id)
    registry = BinaryTypeRegistry([BinaryTypeRegistry().binary_type_for(obj)])
    decoded, _ = read_value(buf, 0, registry)
    assert decoded.type_name == "Person" and decoded.values() == {"id": 1}
    # A registry whose schema has a different number of fields is a protocol error.
    wrong = BinaryType.of("Person", {"id": T.LONG, "x": T.LONG})
    wrong.schemas = {obj.schema_id: BinarySchema(obj.schema_id, (field_id("id"), field_id("x")))}
    with pytest.raises(ProtocolError, match="fields"):
        read_value(buf, 0, BinaryTypeRegistry([wrong]))


def test_enum_values_round_trip_alongside_their_type() -> None:
    color = BinaryType.enum("Color", {"RED": 0, "GREEN": 1})
    assert color.type_id == type_id("Color") and color.is_enum
    buf = bytearray()
    write_value(buf, EnumValue(color.type_id, 1))
    assert read_value(buf, 0)[0] == EnumValue(color.type_id, 1)
    assert decode_binary_type(encoded(color), 0)[0].enum_values == {"RED": 0, "GREEN": 1}


def test_binary_field_defaults_its_id() -> None:
    assert BinaryField("Name", 9).field_id == field_id("Name") == field_id("name")
