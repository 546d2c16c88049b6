"""Cache management 1050-1056 with every configuration property, against pyignite 0.6.1."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyignite import api
from pyignite.datatypes import ExpiryPolicy as PyExpiry

from ignite_router.affinity import cache_id
from ignite_router.protocol.context import (
    LATEST,
    SUPPORTED_VERSIONS,
    ProtocolContext,
    ProtocolVersion,
)
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.header import decode_response_header
from ignite_router.protocol.messages.cache_config import (
    decode_cache_configuration,
    decode_cache_names,
    decode_configuration_request,
    decode_destroy_request,
    decode_name_request,
    encode_cache_configuration,
    encode_cache_names,
    encode_configuration_request,
    encode_destroy_request,
    encode_get_names_request,
    encode_name_request,
)
from ignite_router.protocol.messages.cache_keys import (
    CacheTarget,
    decode_cache_request,
    encode_cache_request,
)
from ignite_router.protocol.messages.cache_properties import (
    CONFIGURATION_ORDER,
    DEFAULTS,
    CacheProperty,
)
from ignite_router.protocol.messages.scalars import decode_empty
from ignite_router.protocol.opcodes import OpCode
from tests.protocol_harness import (
    PYIGNITE_VERSIONS,
    TEXT,
    VALUES,
    Loopback,
    answer,
    context_for,
    request_id_of,
)

P = CacheProperty
I32S = st.integers(-(2**31), 2**31 - 1)
I64S = st.integers(-(2**63), 2**63 - 1)
NAMES = TEXT.filter(bool)
OPTIONAL_TEXT = st.none() | TEXT
TTL = st.integers(-2, 2**40)

QUERY_FIELD = st.fixed_dictionaries(
    {
        "name": NAMES,
        "type_name": NAMES,
        "is_key_field": st.booleans(),
        "is_notnull_constraint_field": st.booleans(),
        "default_value": VALUES,
        "precision": I32S,
        "scale": I32S,
    }
)
QUERY_INDEX = st.fixed_dictionaries(
    {
        "index_name": NAMES,
        "index_type": st.integers(0, 2),
        "inline_size": I32S,
        "fields": st.lists(
            st.fixed_dictionaries({"name": NAMES, "is_descending": st.booleans()}), max_size=2
        ),
    }
)
QUERY_ENTITY = st.fixed_dictionaries(
    {
        "key_type_name": NAMES,
        "value_type_name": NAMES,
        "table_name": OPTIONAL_TEXT,
        "key_field_name": OPTIONAL_TEXT,
        "value_field_name": OPTIONAL_TEXT,
        "query_fields": st.lists(QUERY_FIELD, max_size=2),
        "field_name_aliases": st.lists(
            st.fixed_dictionaries({"field_name": NAMES, "alias": NAMES}), max_size=2
        ),
        "query_indexes": st.lists(QUERY_INDEX, max_size=2),
    }
)
KEY_CONFIG = st.fixed_dictionaries({"type_name": NAMES, "affinity_key_field_name": NAMES})
_STRINGS = {P.NAME, P.DATA_REGION_NAME, P.SQL_SCHEMA, P.GROUP_NAME}
_BOOLS = {
    P.COPY_ON_READ,
    P.READ_FROM_BACKUP,
    P.IS_ONHEAP_CACHE_ENABLED,
    P.SQL_ESCAPE_ALL,
    P.EAGER_TTL,
    P.STATISTICS_ENABLED,
}
_LONGS = {P.REBALANCE_DELAY, P.REBALANCE_BATCHES_PREFETCH_COUNT, P.REBALANCE_THROTTLE}
# pyignite refuses negative timeouts for these two (its own validation).
_TIMEOUTS = {P.REBALANCE_TIMEOUT, P.DEFAULT_LOCK_TIMEOUT}


def _property(code: CacheProperty) -> st.SearchStrategy:
    if code == P.NAME:
        return NAMES
    if code in _STRINGS:
        return OPTIONAL_TEXT
    if code in _BOOLS:
        return st.booleans()
    if code in _LONGS:
        return I64S
    if code in _TIMEOUTS:
        return st.integers(0, 2**62)
    if code == P.QUERY_ENTITIES:
        return st.lists(QUERY_ENTITY, max_size=2)
    if code == P.CACHE_KEY_CONFIGURATION:
        return st.lists(KEY_CONFIG, max_size=2)
    if code == P.EXPIRY_POLICY:
        return st.builds(_expiry, TTL, TTL, TTL)
    return I32S


def _expiry(create: int, update: int, access: int):
    from ignite_router.protocol.messages.cache_keys import ExpiryPolicy

    return ExpiryPolicy(create, update, access)


def _configuration(version: ProtocolVersion, every: bool = False) -> st.SearchStrategy:
    codes = [code for code in CacheProperty if code != P.EXPIRY_POLICY or version >= (1, 6, 0)]

    @st.composite
    def build(draw):
        chosen = codes if every else [P.NAME, *draw(st.lists(st.sampled_from(codes), unique=True))]
        return {code: draw(_property(code)) for code in dict.fromkeys(chosen)}

    return build()


def _to_pyignite(properties: dict) -> dict:
    converted = dict(properties)
    if converted.get(P.EXPIRY_POLICY) is not None:
        policy = converted[P.EXPIRY_POLICY]
        converted[P.EXPIRY_POLICY] = PyExpiry(
            create=policy.create, update=policy.update, access=policy.access
        )
    return converted


def _from_pyignite(value: object) -> object:
    if isinstance(value, PyExpiry):
        return _expiry(value.create, value.update, value.access)
    if isinstance(value, list):
        return [_from_pyignite(item) for item in value]
    if isinstance(value, dict):
        return {key: _from_pyignite(item) for key, item in value.items()}
    return value


@settings(max_examples=60)
@given(st.sampled_from(PYIGNITE_VERSIONS), st.data(), st.booleans())
def test_create_with_configuration_matches_pyignite(version, data, get_or_create) -> None:
    context = context_for(version)
    properties = data.draw(_configuration(version))
    conn = Loopback(context)
    conn.respond = lambda request: answer(context, request)
    if get_or_create:
        op = OpCode.CACHE_GET_OR_CREATE_WITH_CONFIGURATION
        result = api.cache_get_or_create_with_config(conn, _to_pyignite(properties))
    else:
        op = OpCode.CACHE_CREATE_WITH_CONFIGURATION
        result = api.cache_create_with_config(conn, _to_pyignite(properties))
    assert result.status == 0
    (theirs,) = conn.requests
    ours = bytearray()
    encode_configuration_request(ours, context, op, request_id_of(theirs), properties)
    # Equal except the configuration length: pyignite writes a bogus one
    # the server reads and ignores it; ours is the true length of what follows).
    assert ours[:14] == theirs[:14] and ours[18:] == theirs[18:]
    assert int.from_bytes(ours[14:18], "little") == len(ours) - 18
    payload = memoryview(theirs)[4:]
    assert decode_configuration_request(context, payload, 10) == properties


@settings(max_examples=60)
@given(st.sampled_from(PYIGNITE_VERSIONS), st.data())
def test_pyignite_reads_our_full_configuration(version, data) -> None:
    context = context_for(version)
    properties = data.draw(_configuration(version, every=True))
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_cache_configuration(out, context, properties)
    )
    result = api.cache_get_configuration(conn, conn.cache_info())
    assert result.status == 0
    assert _from_pyignite(result.value) == properties
    # The request is the cache prefix alone, as ours.
    (theirs,) = conn.requests
    ours = bytearray()
    target = CacheTarget(cache_id("my cache"))
    encode_cache_request(
        ours, context, OpCode.CACHE_GET_CONFIGURATION, request_id_of(theirs), target
    )
    assert bytes(ours) == theirs
    assert (
        decode_cache_request(
            context, OpCode.CACHE_GET_CONFIGURATION, memoryview(theirs)[4:], 10
        ).target
        == target
    )


@given(st.sampled_from(SUPPORTED_VERSIONS), st.data())
def test_configurations_round_trip_in_every_version(version, data) -> None:
    context = ProtocolContext(version)
    properties = data.draw(_configuration(version, every=True))
    if version < (1, 2, 0):  # precision and scale do not exist before 1.2.0
        for entity in properties[P.QUERY_ENTITIES]:
            for query_field in entity["query_fields"]:
                query_field.update(precision=-1, scale=-1)
    request = bytearray()
    encode_configuration_request(
        request, context, OpCode.CACHE_CREATE_WITH_CONFIGURATION, 1, properties
    )
    assert decode_configuration_request(context, memoryview(bytes(request))[4:], 10) == properties
    body = bytearray()
    encode_cache_configuration(body, context, properties)
    assert decode_cache_configuration(context, memoryview(bytes(body)), 0) == properties


def test_missing_properties_are_reported_with_defaults() -> None:
    context = ProtocolContext(LATEST)
    body = bytearray()
    encode_cache_configuration(body, context, {P.NAME: "c", P.BACKUPS_NUMBER: 3})
    decoded = decode_cache_configuration(context, memoryview(bytes(body)), 0)
    assert decoded == {**DEFAULTS, P.NAME: "c", P.BACKUPS_NUMBER: 3}
    old = ProtocolContext(ProtocolVersion(1, 5, 0))
    body.clear()
    encode_cache_configuration(body, old, {P.NAME: "c"})
    assert set(decode_cache_configuration(old, memoryview(bytes(body)), 0)) == set(
        CONFIGURATION_ORDER
    )


@given(st.sampled_from(PYIGNITE_VERSIONS), st.lists(NAMES, max_size=5), NAMES, st.booleans())
def test_names_create_destroy_match_pyignite(version, names, name, get_or_create) -> None:
    context = context_for(version)
    conn = Loopback(context)
    conn.respond = lambda request: answer(
        context, request, lambda out: encode_cache_names(out, names)
    )
    assert api.cache_get_names(conn).value == names
    ours = bytearray()
    encode_get_names_request(ours, request_id_of(conn.requests[-1]))
    assert bytes(ours) == conn.requests[-1]
    reply = memoryview(conn.respond(conn.requests[-1]))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_cache_names) == names

    conn.respond = lambda request: answer(context, request)
    if get_or_create:
        op, result = OpCode.CACHE_GET_OR_CREATE_WITH_NAME, api.cache_get_or_create(conn, name)
    else:
        op, result = OpCode.CACHE_CREATE_WITH_NAME, api.cache_create(conn, name)
    assert result.status == 0
    ours.clear()
    encode_name_request(ours, op, request_id_of(conn.requests[-1]), name)
    assert bytes(ours) == conn.requests[-1]
    assert decode_name_request(memoryview(ours)[4:], 10) == name

    # By id: pyignite's own cache id is wrong for non-BMP names (it hashes code points).
    assert api.cache_destroy(conn, cache_id(name)).status == 0
    ours.clear()
    encode_destroy_request(ours, request_id_of(conn.requests[-1]), cache_id(name))
    assert bytes(ours) == conn.requests[-1]
    assert decode_destroy_request(memoryview(ours)[4:], 10) == cache_id(name)
    reply = memoryview(answer(context, conn.requests[-1]))[4:]
    assert decode_response_header(context, reply).decode_body(reply, decode_empty) is None


def test_bad_configurations() -> None:
    context = ProtocolContext(LATEST)
    create = OpCode.CACHE_CREATE_WITH_CONFIGURATION
    buf = bytearray(b"keep")
    with pytest.raises(ValueError):  # a name is required
        encode_configuration_request(buf, context, create, 1, {P.BACKUPS_NUMBER: 1})
    with pytest.raises(TypeError):
        encode_configuration_request(buf, context, create, 1, {P.NAME: "a", P.BACKUPS_NUMBER: "x"})
    with pytest.raises(ValueError):
        encode_configuration_request(buf, context, create, 1, {P.NAME: "a", 999: 1})
    with pytest.raises(ValueError):
        encode_configuration_request(
            buf,
            ProtocolContext(ProtocolVersion(1, 5, 0)),
            create,
            1,
            {P.NAME: "a", P.EXPIRY_POLICY: _expiry(1, 1, 1)},
        )
    assert buf == b"keep"
    body = memoryview(bytes(4) + b"\x01\x00" + b"\xe7\x03")  # property 999
    with pytest.raises(ProtocolError):
        decode_configuration_request(context, body, 0)
