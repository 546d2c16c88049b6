"""Key-value operations 1000-1021 against pyignite 0.6.1, in both directions.

For every operation: pyignite's own API function writes a request that must
equal ours byte for byte, our server decoder must find the arguments in it,
and pyignite must parse our server's answer into the expected result (as must
our client decoder).
"""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyignite import api
from pyignite.datatypes import ExpiryPolicy as PyExpiry
from pyignite.datatypes import IntObject, ShortObject, String

from ignite_router.affinity import IgniteType
from ignite_router.protocol.context import LATEST, ProtocolContext, ProtocolVersion
from ignite_router.protocol.errors import ProtocolError, ServerError
from ignite_router.protocol.header import decode_request_header, decode_response_header
from ignite_router.protocol.messages.cache_keys import (
    BODY_SHAPES,
    KEY_ROUTED_OPS,
    RESPONSE_SHAPES,
    CacheTarget,
    ExpiryPolicy,
    decode_cache_request,
    decode_cache_response,
    encode_cache_request,
    encode_cache_response,
)
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import RawValue, read_value, write_value
from tests.protocol_harness import (
    KEYS,
    MY_CACHE,
    PYIGNITE_VERSIONS,
    TEXT,
    VALUES,
    Loopback,
    answer,
    context_for,
    request_id_of,
)

Op = OpCode

# op -> pyignite API call with our argument tuple (hint-free form).
PYIGNITE_CALLS = {
    Op.CACHE_GET: lambda c, i, a: api.cache_get(c, i, *a),
    Op.CACHE_PUT: lambda c, i, a: api.cache_put(c, i, *a),
    Op.CACHE_PUT_IF_ABSENT: lambda c, i, a: api.cache_put_if_absent(c, i, *a),
    Op.CACHE_GET_ALL: lambda c, i, a: api.cache_get_all(c, i, *a),
    Op.CACHE_PUT_ALL: lambda c, i, a: api.cache_put_all(c, i, dict(a[0])),
    Op.CACHE_GET_AND_PUT: lambda c, i, a: api.cache_get_and_put(c, i, *a),
    Op.CACHE_GET_AND_REPLACE: lambda c, i, a: api.cache_get_and_replace(c, i, *a),
    Op.CACHE_GET_AND_REMOVE: lambda c, i, a: api.cache_get_and_remove(c, i, *a),
    Op.CACHE_GET_AND_PUT_IF_ABSENT: lambda c, i, a: api.cache_get_and_put_if_absent(c, i, *a),
    Op.CACHE_REPLACE: lambda c, i, a: api.cache_replace(c, i, *a),
    Op.CACHE_REPLACE_IF_EQUALS: lambda c, i, a: api.cache_replace_if_equals(c, i, *a),
    Op.CACHE_CONTAINS_KEY: lambda c, i, a: api.cache_contains_key(c, i, *a),
    Op.CACHE_CONTAINS_KEYS: lambda c, i, a: api.cache_contains_keys(c, i, *a),
    Op.CACHE_CLEAR: lambda c, i, a: api.cache_clear(c, i),
    Op.CACHE_CLEAR_KEY: lambda c, i, a: api.cache_clear_key(c, i, *a),
    Op.CACHE_CLEAR_KEYS: lambda c, i, a: api.cache_clear_keys(c, i, *a),
    Op.CACHE_REMOVE_KEY: lambda c, i, a: api.cache_remove_key(c, i, *a),
    Op.CACHE_REMOVE_IF_EQUALS: lambda c, i, a: api.cache_remove_if_equals(c, i, *a),
    Op.CACHE_REMOVE_KEYS: lambda c, i, a: api.cache_remove_keys(c, i, *a),
    Op.CACHE_REMOVE_ALL: lambda c, i, a: api.cache_remove_all(c, i),
    Op.CACHE_GET_SIZE: lambda c, i, a: api.cache_get_size(c, i, list(a[0])),
    Op.CACHE_LOCAL_PEEK: lambda c, i, a: api.cache_local_peek(c, i, a[0], None, list(a[1])),
}
KV_OPS = sorted(PYIGNITE_CALLS)


def test_every_kv_op_is_covered() -> None:
    assert set(KV_OPS) == set(RESPONSE_SHAPES) == set(BODY_SHAPES) - {Op.CACHE_GET_CONFIGURATION}


def _equal(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def _decoded(raw: bytes) -> object:
    return read_value(memoryview(raw), 0)[0]


def _draw_args(op: int, draw) -> tuple:
    args = []
    for part in BODY_SHAPES[op]:
        if part == "keys":
            args.append(draw(st.lists(KEYS, max_size=6, unique=True)))
        elif part == "pairs":
            args.append(
                draw(st.lists(st.tuples(KEYS, VALUES), max_size=6, unique_by=lambda p: p[0]))
            )
        elif part == "modes":
            args.append(draw(st.lists(st.integers(0, 5), max_size=4)))
        elif part == "key":
            args.append(draw(KEYS))
        else:
            args.append(draw(VALUES))
    return tuple(args)


def _draw_result(op: int, draw) -> object:
    kind = RESPONSE_SHAPES[op]
    if kind == "value":
        return draw(VALUES)
    if kind == "bool":
        return draw(st.booleans())
    if kind == "long":
        return draw(st.integers(-(2**63), 2**63 - 1))
    if kind == "pairs":
        return dict(draw(st.lists(st.tuples(KEYS, VALUES), max_size=5)))
    return None


def _server_body(op: int, result: object):
    """Answer bodies as a server writes them: stored values are raw typed bytes."""

    def raw(value: object) -> bytes:
        out = bytearray()
        write_value(out, value)
        return bytes(out)

    def write(out: bytearray) -> None:
        if RESPONSE_SHAPES[op] == "value":
            encode_cache_response(out, op, raw(result))
        elif RESPONSE_SHAPES[op] == "pairs":
            encode_cache_response(out, op, [(raw(k), RawValue(raw(v))) for k, v in result.items()])
        else:
            encode_cache_response(out, op, result)

    return write


def _plain_responder(context: ProtocolContext):
    """Answers any KV request with an empty-ish result of the right shape."""
    defaults = {"value": None, "bool": False, "long": 0, "pairs": {}, "none": None}

    def respond(request: bytes) -> bytes:
        op = decode_request_header(memoryview(request)[4:]).op_code
        return answer(context, request, _server_body(op, defaults[RESPONSE_SHAPES[op]]))

    return respond


@settings(max_examples=60)
@given(
    st.sampled_from(KV_OPS),
    st.sampled_from(PYIGNITE_VERSIONS),
    st.data(),
    st.sampled_from([None, (12, 3)]),
)
def test_pyignite_agrees_in_both_directions(op, version, data, topology) -> None:
    context = context_for(version)
    args = _draw_args(op, data.draw)
    result = _draw_result(op, data.draw)
    conn = Loopback(context)
    seen = {}

    def respond(request: bytes) -> bytes:
        payload = memoryview(request)[4:]
        header = decode_request_header(payload)
        seen["request"] = decode_cache_request(context, header.op_code, payload, header.body_offset)
        seen["op"] = header.op_code
        return answer(context, request, _server_body(op, result), topology)

    conn.respond = respond
    py_result = PYIGNITE_CALLS[op](conn, conn.cache_info(), args)
    # 1. pyignite's request bytes are ours.
    (theirs,) = conn.requests
    ours = bytearray()
    encode_cache_request(ours, context, op, request_id_of(theirs), CacheTarget(MY_CACHE), *args)
    assert bytes(ours) == theirs
    # 2. Our server decoder finds every argument.
    request = seen["request"]
    assert seen["op"] == op and request.target == CacheTarget(MY_CACHE)
    for part, arg in zip(BODY_SHAPES[op], args, strict=True):
        if part == "keys":
            assert [_decoded(k) for k in request.keys] == arg
        elif part == "pairs":
            assert all(
                _equal(_decoded(k), a) and _equal(_decoded(v), b)
                for (k, v), (a, b) in zip(request.pairs, arg, strict=True)
            )
        elif part == "modes":
            assert request.modes == arg
        else:
            assert _equal(_decoded(getattr(request, part)), arg)
    # 3. pyignite parses our answer; so does our client decoder.
    assert py_result.status == 0
    reply = memoryview(answer(context, theirs, _server_body(op, result), topology))[4:]
    header = decode_response_header(context, reply)
    assert header.topology_version == (topology if version >= (1, 4, 0) else None)
    ours_result = header.decode_body(reply, lambda v, p: decode_cache_response(op, v, p))
    if RESPONSE_SHAPES[op] == "none":
        assert ours_result is None
    elif RESPONSE_SHAPES[op] == "pairs":
        assert ours_result.keys() == result.keys() == py_result.value.keys()
        for key, value in result.items():
            assert _equal(ours_result[key], value) and _equal(py_result.value[key], value)
    else:
        assert _equal(ours_result, result)
        assert _equal(py_result.value, result)


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**15), 2**15 - 1), TEXT)
def test_type_hints_match_pyignite(key, value, other) -> None:
    context = context_for(LATEST)
    conn = Loopback(context)
    conn.respond = _plain_responder(context)
    api.cache_put(conn, conn.cache_info(), key, value, IntObject, ShortObject)
    api.cache_replace_if_equals(conn, conn.cache_info(), key, other, value, IntObject, String)
    ours = bytearray()
    target = CacheTarget(MY_CACHE)
    rid = request_id_of(conn.requests[0])
    encode_cache_request(
        ours, context, Op.CACHE_PUT, rid, target, (key, IgniteType.INT), (value, IgniteType.SHORT)
    )
    assert bytes(ours) == conn.requests[0]
    ours.clear()
    rid = request_id_of(conn.requests[1])
    encode_cache_request(
        ours,
        context,
        Op.CACHE_REPLACE_IF_EQUALS,
        rid,
        target,
        (key, IgniteType.INT),
        (other, IgniteType.STRING),
        value,
    )
    assert bytes(ours) == conn.requests[1]


@given(
    st.sampled_from([v for v in PYIGNITE_VERSIONS if v >= (1, 6, 0)]),
    st.integers(-2, 2**40),
    st.integers(-2, 2**40),
    st.integers(-2, 2**40),
)
def test_expiry_policy_prefix_matches_pyignite(version, create, update, access) -> None:
    context = context_for(version)
    conn = Loopback(context)
    conn.respond = _plain_responder(context)
    py_expiry = PyExpiry(create=create, update=update, access=access)
    api.cache_put(conn, conn.cache_info(expiry=py_expiry), 1, "x")
    ours = bytearray()
    target = CacheTarget(MY_CACHE, expiry=ExpiryPolicy(create, update, access))
    encode_cache_request(
        ours, context, Op.CACHE_PUT, request_id_of(conn.requests[0]), target, 1, "x"
    )
    assert bytes(ours) == conn.requests[0]
    payload = memoryview(bytes(ours))[4:]
    assert decode_cache_request(context, Op.CACHE_PUT, payload, 10).target == target


def test_verified_dumps() -> None:
    # pyignite 0.6.1's Query.from_python output.
    context = ProtocolContext(LATEST, frozenset({2}))
    buf = bytearray()
    encode_cache_request(buf, context, Op.CACHE_PUT, 1, CacheTarget(MY_CACHE), 1, "x")
    assert buf.hex() == "1e000000e90301000000000000000ee0ed7700040100000000000000090100000078"
    buf.clear()
    target = CacheTarget(MY_CACHE, expiry=ExpiryPolicy(create=1000))
    encode_cache_request(buf, context, Op.CACHE_PUT, 5, target, 1, "x")
    assert buf.hex() == (
        "36000000"
        "e903"
        "0500000000000000"
        "0ee0ed77"
        "04"
        "e803000000000000"
        "feffffffffffffff"
        "feffffffffffffff"
        "040100000000000000"
        "090100000078"
    )
    buf.clear()
    encode_cache_request(buf, context, Op.CACHE_GET_ALL, 3, CacheTarget(MY_CACHE), [1, "a"])
    assert buf.hex() == (
        "22000000eb0303000000000000000ee0ed770002000000040100000000000000090100000061"
    )
    buf.clear()
    encode_cache_request(buf, context, Op.CACHE_GET_SIZE, 4, CacheTarget(MY_CACHE), [0])
    assert buf.hex() == "14000000fc0304000000000000000ee0ed77000100000000"


@given(
    st.sampled_from(KV_OPS),
    st.data(),
    st.sampled_from([ProtocolVersion(1, m, 0) for m in range(8)]),
)
def test_every_request_round_trips_through_the_server_decoder(op, data, version) -> None:
    context = ProtocolContext(version)
    args = _draw_args(op, data.draw)
    expiry = ExpiryPolicy(1, -1, -2) if version >= (1, 6, 0) and data.draw(st.booleans()) else None
    tx_id = data.draw(st.integers(-(2**31), 2**31 - 1)) if version >= (1, 5, 0) else None
    target = CacheTarget(data.draw(st.integers(-(2**31), 2**31 - 1)), 1, expiry, tx_id)
    buf = bytearray(b"junk before")
    encode_cache_request(buf, context, op, 9, target, *args)
    payload = memoryview(bytes(buf))[len(b"junk before") + 4 :]
    header = decode_request_header(payload)
    assert (header.op_code, header.request_id) == (op, 9)
    request = decode_cache_request(context, op, payload, header.body_offset)
    assert request.target == target


@given(st.sampled_from(KV_OPS), st.data(), st.sampled_from([None, (2**40, 7)]))
def test_every_answer_round_trips(op, data, topology) -> None:
    context = ProtocolContext(LATEST)
    result = _draw_result(op, data.draw)
    frame = answer(context, bytes(14), _server_body(op, result), topology)
    payload = memoryview(frame)[4:]
    header = decode_response_header(context, payload)
    decoded = header.decode_body(payload, lambda v, p: decode_cache_response(op, v, p))
    if RESPONSE_SHAPES[op] == "pairs":
        assert decoded.keys() == result.keys()
    else:
        assert _equal(decoded, result)


def test_errors_come_out_of_decode_body() -> None:
    context = ProtocolContext(LATEST)
    frame = answer(context, bytes(14), error=(1000, "Cache does not exist [cacheId= 1]"))
    payload = memoryview(frame)[4:]
    header = decode_response_header(context, payload)
    assert (header.status, header.ok) == (1000, False)
    with pytest.raises(ServerError) as caught:
        header.decode_body(payload, lambda v, p: decode_cache_response(Op.CACHE_GET, v, p))
    assert caught.value.status == 1000 and "cacheId" in caught.value.message


def test_trailing_bytes_after_an_answer_are_refused() -> None:
    body = memoryview(b"\x01\x00")
    with pytest.raises(ProtocolError):
        decode_cache_response(Op.CACHE_CONTAINS_KEY, body, 0)


def test_bad_arguments_raise_python_errors_and_leave_the_buffer_alone() -> None:
    context = ProtocolContext(ProtocolVersion(1, 5, 0))
    buf = bytearray(b"keep")
    with pytest.raises(ValueError):
        encode_cache_request(
            buf, context, Op.CACHE_GET, 1, CacheTarget(1, expiry=ExpiryPolicy()), 1
        )
    with pytest.raises(TypeError):
        encode_cache_request(buf, context, Op.CACHE_PUT, 1, CacheTarget(1), 1)
    with pytest.raises((TypeError, ValueError)):
        encode_cache_request(buf, context, Op.CACHE_PUT, 1, CacheTarget(1), 1, object())
    assert buf == b"keep"
    with pytest.raises(ValueError):
        encode_cache_request(
            buf,
            ProtocolContext(ProtocolVersion(1, 4, 0)),
            Op.CACHE_GET,
            1,
            CacheTarget(1, tx_id=3),
            1,
        )


def test_key_routed_ops_are_the_single_key_ops() -> None:
    """The Java thin client's key-routed set (ReliableChannel / TcpClientCache); a local
    peek reads the node it is sent to and is never rerouted."""
    assert {
        Op.CACHE_GET,
        Op.CACHE_PUT,
        Op.CACHE_PUT_IF_ABSENT,
        Op.CACHE_GET_AND_PUT,
        Op.CACHE_GET_AND_REPLACE,
        Op.CACHE_GET_AND_REMOVE,
        Op.CACHE_GET_AND_PUT_IF_ABSENT,
        Op.CACHE_REPLACE,
        Op.CACHE_REPLACE_IF_EQUALS,
        Op.CACHE_CONTAINS_KEY,
        Op.CACHE_CLEAR_KEY,
        Op.CACHE_REMOVE_KEY,
        Op.CACHE_REMOVE_IF_EQUALS,
    } == KEY_ROUTED_OPS


def test_raw_values_are_sent_verbatim() -> None:
    context = ProtocolContext(LATEST)
    key = RawValue(bytes.fromhex("0a") + uuid.UUID(int=5).bytes)
    buf = bytearray()
    encode_cache_request(buf, context, Op.CACHE_GET, 1, CacheTarget(2), key)
    request = decode_cache_request(context, Op.CACHE_GET, memoryview(bytes(buf))[4:], 10)
    assert request.key == bytes(key.data)
