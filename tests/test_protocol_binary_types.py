"""Binary type operations 3000-3003: envelopes against pyignite 0.6.1 and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite import api
from pyignite.datatypes import BoolObject, DoubleObject, IntObject, LongObject, String

from ignite_router.affinity import type_id
from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.binary_types import (
    decode_binary_type_answer,
    decode_binary_type_get_request,
    decode_binary_type_put_request,
    decode_type_name,
    decode_type_name_request,
    encode_binary_type_get,
    encode_binary_type_put,
    encode_type_name,
    encode_type_name_request,
)
from ignite_router.protocol.messages.scalars import decode_bool, decode_empty, encode_bool
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import BinaryType, encode_binary_type_response
from tests.protocol_harness import PYIGNITE_VERSIONS, TEXT, Loopback, answer, context_for

# pyignite lower-cases names with str.lower() and hashes code points, which differs
# from Java for some non-ASCII names (its lower-casing differs): compare on ASCII identifiers.
IDENTIFIERS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)
PY_TYPES = {3: IntObject, 4: LongObject, 9: String, 8: BoolObject, 6: DoubleObject}
FIELDS = st.dictionaries(IDENTIFIERS, st.sampled_from(sorted(PY_TYPES)), max_size=4)


@given(st.sampled_from(PYIGNITE_VERSIONS), IDENTIFIERS, FIELDS, st.none() | IDENTIFIERS)
def test_put_and_get_agree_with_pyignite(version, name, fields, affinity_field) -> None:
    context = context_for(version)
    binary_type = BinaryType.of(name, fields, affinity_key_field=affinity_field)
    conn = Loopback(context)
    conn.respond = lambda request: answer(context, request)
    schema = {field: PY_TYPES[code] for field, code in fields.items()}
    assert api.put_binary_type(conn, name, affinity_field, False, schema).status == 0
    (theirs,) = conn.requests
    ours = bytearray()
    encode_binary_type_put(ours, int.from_bytes(theirs[6:14], "little"), binary_type)
    assert bytes(ours) == theirs
    assert decode_binary_type_put_request(memoryview(theirs)[4:], 10) == binary_type

    conn.respond = lambda request: answer(
        context, request, lambda out: encode_binary_type_response(out, binary_type)
    )
    result = api.get_binary_type(conn, name)
    ours.clear()
    encode_binary_type_get(ours, int.from_bytes(conn.requests[-1][6:14], "little"), type_id(name))
    assert bytes(ours) == conn.requests[-1]
    assert decode_binary_type_get_request(memoryview(ours)[4:], 10) == type_id(name)
    value = result.value
    assert value["type_exists"] and value["type_name"] == name
    assert value["type_id"] == type_id(name) and value["affinity_key_field"] == affinity_field
    assert [(f["field_name"], f["type_id"]) for f in value["binary_fields"]] == list(fields.items())
    assert value["schema"] == {s.schema_id: list(s.field_ids) for s in binary_type.schemas.values()}
    reply = memoryview(conn.respond(conn.requests[-1]))[4:]
    decoded = decode_response_header(context, reply).decode_body(reply, decode_binary_type_answer)
    assert decoded == binary_type


def test_unknown_types_answer_false() -> None:
    context = context_for(LATEST)
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_binary_type_response(out, None)
    )
    assert api.get_binary_type(conn, 12345).value == {"type_exists": False}
    reply = memoryview(conn.respond(conn.requests[-1]))[4:]
    header = decode_response_header(context, reply)
    assert header.decode_body(reply, decode_binary_type_answer) is None


@given(st.integers(-(2**31), 2**31 - 1), st.none() | TEXT.filter(bool), st.integers(0, 1))
def test_type_name_requests_round_trip(type_id_, name, platform) -> None:
    # pyignite has no 3000/3001; layouts from the server's ClientBinaryTypeName*Request.
    buf = bytearray()
    encode_type_name_request(buf, 7, type_id_, name, platform)
    op = int.from_bytes(buf[4:6], "little")
    expected_op = OpCode.BINARY_TYPE_NAME_GET if name is None else OpCode.BINARY_TYPE_NAME_PUT
    assert op == expected_op
    assert decode_type_name_request(op, memoryview(bytes(buf))[4:], 10) == (
        platform,
        type_id_,
        name,
    )
    context = ProtocolContext(LATEST)
    if name is None:
        frame = answer(context, bytes(buf), lambda out: encode_type_name(out, "com.x.Type"))
        payload = memoryview(frame)[4:]
        assert (
            decode_response_header(context, payload).decode_body(payload, decode_type_name)
            == "com.x.Type"
        )
    else:
        frame = answer(context, bytes(buf), lambda out: encode_bool(out, True))
        payload = memoryview(frame)[4:]
        assert decode_response_header(context, payload).decode_body(payload, decode_bool)


def test_malformed_bodies() -> None:
    with pytest.raises(ProtocolError):  # registering without a name
        decode_type_name_request(OpCode.BINARY_TYPE_NAME_PUT, memoryview(bytes(5) + b"\x65"), 0)
    with pytest.raises(ProtocolError):
        decode_binary_type_answer(memoryview(b"\x00extra"), 0)
    with pytest.raises(ProtocolError):
        decode_empty(memoryview(b"\x00"), 0)
