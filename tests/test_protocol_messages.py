"""The message layer: verified dumps, byte equality with pyignite's own encoders, round trips."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyignite import Client
from pyignite.connection.handshake import HandshakeRequest as PyHandshakeRequest
from pyignite.connection.protocol_context import ProtocolContext as PyProtocolContext
from pyignite.datatypes import AnyDataArray, AnyDataObject, Int
from pyignite.datatypes.cache_properties import prop_map
from pyignite.queries import Query
from pyignite.queries.cache_info import CacheInfo
from pyignite.queries.op_codes import OP_CACHE_GET, OP_CACHE_GET_ALL, OP_CACHE_PUT
from pyignite.queries.response import Response
from pyignite.stream import READ_BACKWARD, BinaryStream

from affinity import cache_id
from protocol.context import LATEST, ProtocolContext, ProtocolVersion
from protocol.errors import AuthenticationError, HandshakeError
from protocol.handshake import (
    HandshakeFailure,
    HandshakeRequest,
    decode_handshake_request,
    encode_handshake_request,
    next_handshake_version,
)
from protocol.header import decode_response_header
from protocol.messages.cache_config import (
    CacheProperty,
    decode_cache_configuration,
    decode_configuration_request,
    encode_cache_configuration,
    encode_configuration_request,
)
from protocol.messages.cache_keys import (
    BODY_SHAPES,
    CacheTarget,
    ExpiryPolicy,
    decode_cache_request,
    encode_cache_request,
)
from protocol.messages.partitions import (
    PartitionGroup,
    PartitionsResponse,
    decode_partitions_response,
    encode_partitions_request,
    encode_partitions_response,
)
from protocol.opcodes import OpCode
from protocol.values import read_value

CONTEXT = ProtocolContext(LATEST, frozenset({2}))
MY_CACHE = cache_id("my cache")


def pyignite_bytes(op_code: int, following: list, params: dict, query_id: int) -> bytes:
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    with BinaryStream(client) as stream:
        Query(op_code, following, query_id=query_id).from_python(stream, params)
        return stream.getvalue()


def py_cache_info(expiry=None) -> CacheInfo:
    return CacheInfo(
        cache_id=MY_CACHE, expiry_policy=expiry, protocol_context=PyProtocolContext((1, 7, 0))
    )


# -- handshake ---------------------------------------------------------------------------


def test_handshake_requests_match_the_verified_dumps() -> None:
    # Fact sheet §2.6 (pyignite output, verified).
    assert encode_handshake_request(HandshakeRequest(LATEST, frozenset({2}))).hex() == (
        "0e00000001010007000000020c0100000004"
    )
    assert encode_handshake_request(HandshakeRequest(ProtocolVersion(1, 4, 0))).hex() == (
        "080000000101000400000002"
    )


@pytest.mark.parametrize(("user", "password"), [("ignite", "ignite"), ("jürgen", "pä")])
def test_handshake_credentials_count_utf8_bytes(user: str, password: str) -> None:
    ours = encode_handshake_request(HandshakeRequest(LATEST, frozenset({2}), user, password))
    request = PyHandshakeRequest(PyProtocolContext((1, 7, 0), b"\x04"), user, password)
    with BinaryStream(Client()) as stream:
        request.from_python(stream)
        theirs = stream.getvalue()
    assert int.from_bytes(ours[:4], "little") == len(ours) - 4  # always the true length
    if user.isascii() and password.isascii():
        assert ours == theirs
    else:
        # pyignite counts characters, not UTF-8 bytes (fact sheet §9.7): its length is short.
        assert ours[4:] == theirs[4:]
        assert int.from_bytes(theirs[:4], "little") < len(theirs) - 4
    assert decode_handshake_request(ours[4:]).username == user


def test_negotiation_never_loops() -> None:
    proposed = ProtocolVersion(1, 7, 0)
    retry = HandshakeFailure(ProtocolVersion(1, 4, 0), "Unsupported version", 1)
    assert next_handshake_version(proposed, retry) == (1, 4, 0)
    with pytest.raises(HandshakeError):  # same version back (e.g. thin client disabled)
        next_handshake_version(proposed, HandshakeFailure(proposed, "disabled", 1))
    with pytest.raises(HandshakeError):
        next_handshake_version(proposed, HandshakeFailure(ProtocolVersion(2, 0, 0), "?", 1))
    with pytest.raises(AuthenticationError):
        next_handshake_version(proposed, HandshakeFailure(ProtocolVersion(0, 0, 0), "no", 2000))


def test_feature_13_is_never_sent() -> None:
    with pytest.raises(ValueError):
        encode_handshake_request(HandshakeRequest(LATEST, frozenset({13})))


# -- key-value requests --------------------------------------------------------------------


def test_put_matches_the_verified_dump_and_pyignite() -> None:
    buf = bytearray()
    encode_cache_request(buf, CONTEXT, OpCode.CACHE_PUT, 1, CacheTarget(MY_CACHE), 1, "x")
    assert buf.hex() == ("1e000000e90301000000000000000ee0ed7700040100000000000000090100000078")
    theirs = pyignite_bytes(
        OP_CACHE_PUT,
        [("cache_info", CacheInfo), ("key", AnyDataObject), ("value", AnyDataObject)],
        {"cache_info": py_cache_info(), "key": 1, "value": "x"},
        1,
    )
    assert bytes(buf) == theirs


def test_expiry_policy_prefix_matches_pyignite() -> None:
    from pyignite.datatypes import ExpiryPolicy as PyExpiry

    buf = bytearray()
    target = CacheTarget(MY_CACHE, expiry=ExpiryPolicy(create=1000))
    encode_cache_request(buf, CONTEXT, OpCode.CACHE_PUT, 5, target, 1, "x")
    theirs = pyignite_bytes(
        OP_CACHE_PUT,
        [("cache_info", CacheInfo), ("key", AnyDataObject), ("value", AnyDataObject)],
        {"cache_info": py_cache_info(PyExpiry(create=1000)), "key": 1, "value": "x"},
        5,
    )
    assert bytes(buf) == theirs


# pyignite truncates strings at NUL (a ctypes artefact), so comparisons avoid it.
KEYS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.text(st.characters(exclude_characters="\x00"), max_size=20),
    st.uuids(),
    st.booleans(),
)


@given(st.lists(KEYS, max_size=20), st.integers(1, 2**62))
def test_get_all_matches_pyignite(keys, request_id) -> None:
    buf = bytearray()
    encode_cache_request(
        buf, CONTEXT, OpCode.CACHE_GET_ALL, request_id, CacheTarget(MY_CACHE), keys
    )
    theirs = pyignite_bytes(
        OP_CACHE_GET_ALL,
        [("cache_info", CacheInfo), ("keys", AnyDataArray())],
        {"cache_info": py_cache_info(), "keys": keys},
        request_id,
    )
    assert bytes(buf) == theirs


@given(KEYS, st.integers(1, 2**62))
def test_get_matches_pyignite(key, request_id) -> None:
    buf = bytearray()
    encode_cache_request(buf, CONTEXT, OpCode.CACHE_GET, request_id, CacheTarget(MY_CACHE), key)
    theirs = pyignite_bytes(
        OP_CACHE_GET,
        [("cache_info", CacheInfo), ("key", AnyDataObject)],
        {"cache_info": py_cache_info(), "key": key},
        request_id,
    )
    assert bytes(buf) == theirs


def _args_for(op: int, draw) -> tuple:
    args = []
    for part in BODY_SHAPES[op]:
        if part == "keys":
            args.append(draw(st.lists(KEYS, max_size=5)))
        elif part == "pairs":
            args.append(draw(st.lists(st.tuples(KEYS, KEYS), max_size=5)))
        elif part == "modes":
            args.append(draw(st.lists(st.integers(0, 5), max_size=3)))
        else:
            args.append(draw(KEYS))
    return tuple(args)


@given(st.sampled_from(sorted(BODY_SHAPES)), st.data(), st.sampled_from([3, 4, 5, 6, 7]))
def test_every_cache_request_round_trips_through_the_server_decoder(op, data, minor) -> None:
    context = ProtocolContext(ProtocolVersion(1, minor, 0))
    args = _args_for(op, data.draw)
    expiry = ExpiryPolicy(1, -1, -2) if minor >= 6 and data.draw(st.booleans()) else None
    tx_id = 77 if minor >= 5 and data.draw(st.booleans()) else None
    target = CacheTarget(MY_CACHE, 0, expiry, tx_id)
    buf = bytearray()
    encode_cache_request(buf, context, op, 9, target, *args)
    payload = memoryview(bytes(buf))[4:]
    request = decode_cache_request(context, op, payload, 10)
    assert request.target.cache_id == MY_CACHE
    assert (request.target.expiry, request.target.tx_id) == (expiry, tx_id)

    def decoded(raw: bytes):
        return read_value(memoryview(raw), 0)[0]

    for part, arg in zip(BODY_SHAPES[op], args, strict=True):
        if part == "keys":
            assert [decoded(k) for k in request.keys] == arg
        elif part == "pairs":
            assert [(decoded(k), decoded(v)) for k, v in request.pairs] == arg
        elif part == "modes":
            assert request.modes == arg
        else:
            assert decoded(getattr(request, part)) == arg


def test_expiry_needs_protocol_1_6() -> None:
    old = ProtocolContext(ProtocolVersion(1, 5, 0))
    with pytest.raises(ValueError):
        encode_cache_request(
            bytearray(), old, OpCode.CACHE_GET, 1, CacheTarget(1, expiry=ExpiryPolicy()), 1
        )


# -- partitions ------------------------------------------------------------------------------


def test_partitions_request_matches_the_verified_dump() -> None:
    buf = bytearray()
    encode_partitions_request(buf, CONTEXT, 3, [MY_CACHE])
    # Fact sheet §4.1 (pyignite output, verified).
    assert bytes(buf) == bytes.fromhex("12000000 4d04 0300000000000000 01000000 0ee0ed77")


def test_partitions_answer_round_trips_into_a_partition_map() -> None:
    # The crafted answer of fact sheet §4.2: groups {100 (key cfg 777->888), 200 on N1/N2}, {300}.
    # (pyignite parsing our answers is exercised end to end in tests/test_cluster_pyignite.py.)
    n1, n2 = uuid.UUID(int=1), uuid.UUID(int=2)
    response = PartitionsResponse(
        (12, 3),
        (
            PartitionGroup(True, {100: {777: 888}, 200: {}}, {n1: (0, 2), n2: (1, 3)}),
            PartitionGroup(False, {300: {}}),
        ),
    )
    body = bytearray()
    encode_partitions_response(body, response)
    assert decode_partitions_response(memoryview(bytes(body)), 0) == response
    pmap = response.to_partition_map()
    assert pmap.version == (12, 3)
    assert pmap.node_for(100, 2) == n1 and pmap.cache(100).key_config == {777: 888}
    assert pmap.cache(300).applicable is False


def test_configuration_request_round_trip_and_pyignite_bytes() -> None:
    properties = {
        CacheProperty.NAME: "cfg",
        CacheProperty.CACHE_MODE: 1,
        CacheProperty.BACKUPS_NUMBER: 2,
        CacheProperty.CACHE_KEY_CONFIGURATION: [
            {"type_name": "Person", "affinity_key_field_name": "city"}
        ],
        CacheProperty.EXPIRY_POLICY: ExpiryPolicy(1000, -1, -2),
    }
    buf = bytearray()
    encode_configuration_request(
        buf, CONTEXT, OpCode.CACHE_CREATE_WITH_CONFIGURATION, 4, properties
    )
    decoded = decode_configuration_request(CONTEXT, memoryview(bytes(buf))[4:], 10)
    assert decoded == properties
    # pyignite writes the same properties identically, except its bogus length field.
    from pyignite.datatypes import ExpiryPolicy as PyExpiry
    from pyignite.datatypes import Short
    from pyignite.queries.query import ConfigQuery

    py_props = dict(properties)
    py_props[CacheProperty.EXPIRY_POLICY] = PyExpiry(create=1000, update=-1)
    following = [("param_count", Short)] + [
        (f"p{i}", prop_map(code)) for i, code in enumerate(py_props)
    ]
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    with BinaryStream(client) as stream:
        params = {f"p{i}": v for i, v in enumerate(py_props.values())}
        params["param_count"] = len(py_props)
        ConfigQuery(OpCode.CACHE_CREATE_WITH_CONFIGURATION, following, query_id=4).from_python(
            stream, params
        )
        theirs = stream.getvalue()
    assert theirs[:14] == bytes(buf[:14]) and theirs[18:] == bytes(buf[18:])


def test_full_configuration_answer_round_trips() -> None:
    body = bytearray()
    encode_cache_configuration(
        body, CONTEXT, {CacheProperty.NAME: "c", CacheProperty.BACKUPS_NUMBER: 3}
    )
    decoded = decode_cache_configuration(CONTEXT, memoryview(bytes(body)), 0)
    assert decoded[CacheProperty.NAME] == "c" and decoded[CacheProperty.BACKUPS_NUMBER] == 3
    assert decoded[CacheProperty.QUERY_ENTITIES] == []


# -- responses parsed by pyignite -------------------------------------------------------------


def test_pyignite_parses_our_error_and_topology_headers() -> None:
    from protocol.header import begin_response, encode_error_response, finish_frame
    from protocol.values import write_value

    out = bytearray()
    start = begin_response(out, CONTEXT, 7, (12, 3))
    write_value(out, 5)
    finish_frame(out, start)
    # Fact sheet §3.4 GET response dump (verified with pyignite).
    assert out.hex() == ("1f000000070000000000000002000c0000000000000003000000040500000000000000")
    header = decode_response_header(CONTEXT, memoryview(bytes(out))[4:])
    assert (header.request_id, header.topology_version) == (7, (12, 3))

    error = bytearray()
    encode_error_response(error, CONTEXT, 8, 1000, "Cache does not exist [cacheId= 2012078094]")
    client = Client()
    client.protocol_context = PyProtocolContext((1, 7, 0))
    response = Response(protocol_context=client.protocol_context, following=[("value", Int)])
    with BinaryStream(client, bytes(error)) as stream:
        parsed = stream.read_ctype(response.parse(stream), direction=READ_BACKWARD)
    assert parsed.status_code == 1000
    assert bytes(parsed.error_message.data) == b"Cache does not exist [cacheId= 2012078094]"
