"""Request encode + response decode per operation, ours vs pyignite 0.6.1, in one run.

    .venv/bin/python benchmarks/bench_codec.py

Both sides do the full in-process work of one call, no network: build the
request frame, then parse the server's response frame (the same bytes for
both) into Python values. pyignite's side uses its own ``Query.from_python``
and ``Response.parse``/``to_python``, as its ``Cache`` methods do.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable

from pyignite import Client, GenericObjectMeta
from pyignite.connection.protocol_context import ProtocolContext as PyContext
from pyignite.datatypes import AnyDataArray, AnyDataObject, IntObject, Map, String
from pyignite.queries import Query
from pyignite.queries.cache_info import CacheInfo
from pyignite.queries.response import Response
from pyignite.stream import READ_BACKWARD, BinaryStream

from affinity import IgniteType, cache_id
from protocol.context import LATEST, ProtocolContext
from protocol.header import begin_response, decode_response_header, finish_frame
from protocol.messages.cache_keys import (
    CacheTarget,
    decode_pairs,
    decode_value,
    encode_cache_request,
)
from protocol.opcodes import OpCode
from protocol.values import BinaryType, BinaryTypeRegistry, ComplexObject, write_value

ROUNDS = 3000
REPEATS = 5
CONTEXT = ProtocolContext(LATEST, frozenset({2}))
TARGET = CacheTarget(cache_id("bench"))
VALUE = "v" * 100
FIELDS = OrderedDict((f"f{i}", IntObject if i % 2 else String) for i in range(10))


class Record(metaclass=GenericObjectMeta, type_name="Record", schema=FIELDS):
    pass


RECORD_VALUES = {f"f{i}": (i if i % 2 else f"text-{i}") for i in range(10)}
RECORD_HINTS = {f"f{i}": IgniteType.INT for i in range(1, 10, 2)}


def record() -> ComplexObject:
    """The same object pyignite's ``Record`` class writes (INT and String fields)."""
    return ComplexObject("Record", RECORD_VALUES, field_hints=RECORD_HINTS)


def best_us(function: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            function()
        best = min(best, (time.perf_counter() - start) / ROUNDS)
    return best * 1e6


def response_frame(*values) -> bytes:
    out = bytearray()
    start = begin_response(out, CONTEXT, 1)
    for value in values:
        write_value(out, value)
    finish_frame(out, start)
    return bytes(out)


def get_all_frame(keys: list[int]) -> bytes:
    out = bytearray()
    start = begin_response(out, CONTEXT, 1)
    out += len(keys).to_bytes(4, "little")
    for key in keys:
        write_value(out, key)
        write_value(out, VALUE)
    finish_frame(out, start)
    return bytes(out)


def pyignite_client() -> Client:
    client = Client()
    client.protocol_context = PyContext((1, 7, 0))
    # Registered up front, as after a first round trip, so no lookup goes to a server.
    client._registry[Record.type_id] = {Record.schema_id: Record}
    return client


def main() -> None:
    py = pyignite_client()
    info = CacheInfo(cache_id=TARGET.cache_id, protocol_context=py.protocol_context)
    keys = list(range(100))
    registry = BinaryTypeRegistry()
    registry.add(BinaryType.of("Record", {f"f{i}": (3 if i % 2 else 9) for i in range(10)}))
    registry_record_frame = response_frame(record())
    frames = {
        "put": response_frame(),
        "get": response_frame(VALUE),
        "get_all": get_all_frame(keys),
        "complex": registry_record_frame,
    }
    buf = bytearray()

    def ours(op: int, args: tuple, frame: bytes, decode) -> Callable[[], object]:
        def run() -> object:
            buf.clear()
            encode_cache_request(buf, CONTEXT, op, 1, TARGET, *args)
            payload = memoryview(frame)[4:]
            header = decode_response_header(CONTEXT, payload)
            header.raise_for_status()
            return decode(payload, header.body_offset)

        return run

    def theirs(op: int, following, params, frame: bytes, response_config) -> Callable[[], object]:
        def run() -> object:
            query = Query(op, following, query_id=1)
            with BinaryStream(py) as stream:
                query.from_python(stream, params)
                stream.getvalue()
            response = Response(protocol_context=py.protocol_context, following=response_config)
            with BinaryStream(py, frame) as stream:
                ctype = response.parse(stream)
                parsed = stream.read_ctype(ctype, direction=READ_BACKWARD)
            return response.to_python(parsed, client=py)

        return run

    kv = [("cache_info", CacheInfo), ("key", AnyDataObject), ("value", AnyDataObject)]
    cases = [
        (
            "put(long, 100-char str)",
            ours(OpCode.CACHE_PUT, (1, VALUE), frames["put"], lambda v, p: None),
            theirs(
                OpCode.CACHE_PUT,
                kv,
                {"cache_info": info, "key": 1, "value": VALUE},
                frames["put"],
                [],
            ),
        ),
        (
            "get(long) -> 100-char str",
            ours(OpCode.CACHE_GET, (1,), frames["get"], decode_value),
            theirs(
                OpCode.CACHE_GET,
                kv[:2],
                {"cache_info": info, "key": 1},
                frames["get"],
                [("value", AnyDataObject)],
            ),
        ),
        (
            "get_all(100 longs)",
            ours(OpCode.CACHE_GET_ALL, (keys,), frames["get_all"], decode_pairs),
            theirs(
                OpCode.CACHE_GET_ALL,
                [("cache_info", CacheInfo), ("keys", AnyDataArray())],
                {"cache_info": info, "keys": keys},
                frames["get_all"],
                [("data", Map)],
            ),
        ),
        (
            "put + get of a 10-field object",
            ours(
                OpCode.CACHE_PUT,
                (1, record()),
                frames["complex"],
                lambda v, p: decode_value(v, p, registry),
            ),
            theirs(
                OpCode.CACHE_PUT,
                kv,
                {"cache_info": info, "key": 1, "value": Record(**RECORD_VALUES)},
                frames["complex"],
                [("value", AnyDataObject)],
            ),
        ),
    ]
    version = sys.version.split()[0]
    print(f"Python {version}, best of {REPEATS} x {ROUNDS} calls, µs per call (lower is better)\n")
    print("| operation (request + response) | ignite-router | pyignite 0.6.1 | speed-up |")
    print("|---|---:|---:|---:|")
    for name, our_run, their_run in cases:
        our_us, their_us = best_us(our_run), best_us(their_run)
        print(f"| {name} | {our_us:.2f} | {their_us:.2f} | {their_us / our_us:.1f}x |")


if __name__ == "__main__":
    main()
