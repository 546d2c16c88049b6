"""Request encode + response decode per operation, ours vs pyignite 0.6.1, in one run.

    .venv/bin/python benchmarks/bench_codec.py [--rounds N] [--markdown FILE]

Both sides do the full in-process work of one call, no network: build the
request frame, then parse the server's response frame (the same bytes for
both) into Python values. pyignite's side is its own ``Query.from_python``
and ``Response.parse``/``to_python``, what its ``Cache`` methods run around
the socket. Before timing, the script checks that both sides write the same
request bytes and read the same values.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyignite import Client, GenericObjectMeta
from pyignite.connection.protocol_context import ProtocolContext as PyContext
from pyignite.datatypes import AnyDataArray, AnyDataObject, IntObject, Map, String
from pyignite.queries import Query
from pyignite.queries.cache_info import CacheInfo
from pyignite.queries.response import Response
from pyignite.stream import READ_BACKWARD, BinaryStream

from ignite_router.affinity import IgniteType, cache_id
from ignite_router.protocol import (
    LATEST,
    BinaryType,
    BinaryTypeRegistry,
    CacheTarget,
    ComplexObject,
    OpCode,
    ProtocolContext,
    decode_cache_response,
    decode_response_header,
    encode_cache_request,
    encode_cache_response,
    encode_response_header,
    finish_frame,
)

CONTEXT = ProtocolContext(LATEST, frozenset({2}))
TARGET = CacheTarget(cache_id("bench"))
VALUE = "v" * 100
KEYS = list(range(100))
FIELDS = OrderedDict((f"f{i}", IntObject if i % 2 else String) for i in range(10))
RECORD_VALUES = {f"f{i}": (i if i % 2 else f"text-{i}") for i in range(10)}
RECORD_HINTS = {f"f{i}": IgniteType.INT for i in range(1, 10, 2)}


class Record(metaclass=GenericObjectMeta, type_name="Record", schema=FIELDS):
    pass


def record() -> ComplexObject:
    """The same object pyignite's ``Record`` class writes (INT and String fields)."""
    return ComplexObject("Record", RECORD_VALUES, field_hints=RECORD_HINTS)


def answer_frame(op: int, result: object) -> bytes:
    out = bytearray()
    start = encode_response_header(out, CONTEXT, 1)
    encode_cache_response(out, op, result)
    finish_frame(out, start)
    return bytes(out)


@dataclass
class Case:
    name: str
    op: int
    args: Callable[[], tuple]  # built per call: objects are new each time on both sides
    py_following: list
    py_params: Callable[[], dict]
    py_response: list
    answer: bytes


def cases(info: CacheInfo) -> list[Case]:
    kv = [("cache_info", CacheInfo), ("key", AnyDataObject), ("value", AnyDataObject)]
    return [
        Case(
            "put(long, 100-char str)",
            OpCode.CACHE_PUT,
            lambda: (1, VALUE),
            kv,
            lambda: {"cache_info": info, "key": 1, "value": VALUE},
            [],
            answer_frame(OpCode.CACHE_PUT, None),
        ),
        Case(
            "get(long) -> 100-char str",
            OpCode.CACHE_GET,
            lambda: (1,),
            kv[:2],
            lambda: {"cache_info": info, "key": 1},
            [("value", AnyDataObject)],
            answer_frame(OpCode.CACHE_GET, VALUE),
        ),
        Case(
            "get_all(100 longs) -> 100 str",
            OpCode.CACHE_GET_ALL,
            lambda: (KEYS,),
            [("cache_info", CacheInfo), ("keys", AnyDataArray())],
            lambda: {"cache_info": info, "keys": KEYS},
            [("data", Map)],
            answer_frame(OpCode.CACHE_GET_ALL, {key: VALUE for key in KEYS}),
        ),
        Case(
            "put(long, 10-field object)",
            OpCode.CACHE_PUT,
            lambda: (1, record()),
            kv,
            lambda: {"cache_info": info, "key": 1, "value": Record(**RECORD_VALUES)},
            [],
            answer_frame(OpCode.CACHE_PUT, None),
        ),
        Case(
            "get(long) -> 10-field object",
            OpCode.CACHE_GET,
            lambda: (1,),
            kv[:2],
            lambda: {"cache_info": info, "key": 1},
            [("value", AnyDataObject)],
            answer_frame(OpCode.CACHE_GET, record()),
        ),
    ]


def ours(case: Case, registry: BinaryTypeRegistry) -> Callable[[], object]:
    buf = bytearray()
    payload = memoryview(case.answer)[4:]
    op, args = case.op, case.args

    def decode(view: memoryview, pos: int) -> object:
        return decode_cache_response(op, view, pos, registry)

    def run() -> object:
        buf.clear()
        encode_cache_request(buf, CONTEXT, op, 1, TARGET, *args())
        header = decode_response_header(CONTEXT, payload)
        return header.decode_body(payload, decode)

    run.request = buf  # type: ignore[attr-defined]
    return run


def theirs(case: Case, client: Client) -> Callable[[], object]:
    def run() -> object:
        query = Query(case.op, case.py_following, query_id=1)
        with BinaryStream(client) as stream:
            query.from_python(stream, case.py_params())
            run.request = stream.getvalue()  # type: ignore[attr-defined]
        response = Response(protocol_context=client.protocol_context, following=case.py_response)
        with BinaryStream(client, case.answer) as stream:
            parsed = stream.read_ctype(response.parse(stream), direction=READ_BACKWARD)
        return response.to_python(parsed, client=client)

    return run


def check(case: Case, our_run: Callable[[], object], their_run: Callable[[], object]) -> None:
    """Same request bytes, same decoded values; else the comparison is meaningless."""
    our_value, their_value = our_run(), their_run()
    if bytes(our_run.request) != their_run.request:  # type: ignore[attr-defined]
        raise SystemExit(f"{case.name}: request bytes differ from pyignite's")
    if their_value is not None:
        their_value = next(iter(their_value.values()))
        if isinstance(our_value, ComplexObject):
            our_value = dict(our_value.fields)
            their_value = {name: getattr(their_value, name) for name in FIELDS}
    if our_value != their_value:
        raise SystemExit(f"{case.name}: decoded values differ: {our_value!r} / {their_value!r}")


def best_us(function: Callable[[], object], rounds: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            function()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    options = parser.parse_args()

    client = Client()
    client.protocol_context = PyContext((1, 7, 0))
    # Registered up front, as after a first round trip, so no lookup goes to a server.
    client._registry[Record.type_id] = {Record.schema_id: Record}
    registry = BinaryTypeRegistry()
    registry.add(BinaryType.of("Record", {f"f{i}": (3 if i % 2 else 9) for i in range(10)}))
    info = CacheInfo(cache_id=TARGET.cache_id, protocol_context=client.protocol_context)

    lines = [
        "| operation (encode request + decode response) | ignite-router µs | pyignite 0.6.1 µs "
        "| speed-up |",
        "|---|---:|---:|---:|",
    ]
    for case in cases(info):
        our_run, their_run = ours(case, registry), theirs(case, client)
        check(case, our_run, their_run)
        our_us = best_us(our_run, options.rounds, options.repeats)
        their_us = best_us(their_run, max(1, options.rounds // 10), options.repeats)
        lines.append(f"| {case.name} | {our_us:.2f} | {their_us:.2f} | {their_us / our_us:.1f}x |")
    command = "`.venv/bin/python benchmarks/bench_codec.py" + (
        f" --markdown {options.markdown}`" if options.markdown else "`"
    )
    header = (
        f"Command: {command}. Python {sys.version.split()[0]} on {platform.machine()}, "
        f"best of {options.repeats} runs, µs per call (lower is better). Both sides write "
        "identical request bytes and read identical values (checked first)."
    )
    table = "\n".join([header, "", *lines, ""])
    print(table)
    if options.markdown:
        options.markdown.write_text("# Codec benchmark (generated)\n\n" + table)


if __name__ == "__main__":
    main()
