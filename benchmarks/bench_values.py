"""Encode/decode cost of the value codec against pyignite 0.6.1, measured in one run.

    .venv/bin/python benchmarks/bench_values.py [--loops N]

Prints a Markdown table (ns per operation, best of 5 repeats). Our encoder
writes into a reused ``bytearray``; pyignite encodes through its
``BinaryStream``, as its client does for every request. Decoding starts from
the encoded bytes in both cases.
"""

from __future__ import annotations

import argparse
import time
from collections import OrderedDict
from collections.abc import Callable

from pyignite import Client, GenericObjectMeta
from pyignite import datatypes as pt
from pyignite.datatypes.internal import AnyDataObject
from pyignite.stream import BinaryStream
from pyignite.utils import entity_id

from ignite_router.protocol.values import BinaryTypeRegistry, ComplexObject, read_value, write_value

FIELDS = [f"field{i}" for i in range(10)]


class OfflineClient(Client):
    """pyignite client whose binary-type registry stays local (no server needed)."""

    def register_binary_type(self, data_class, affinity_key_field=None):
        self._registry[data_class.type_id][data_class.schema_id] = data_class

    def query_binary_type(self, binary_type, schema=None):
        return self._get_from_registry(entity_id(binary_type), schema)


def best_ns(operation: Callable[[], object], loops: int) -> float:
    """Best-of-5 mean time of one call, in nanoseconds."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(loops):
            operation()
        best = min(best, (time.perf_counter() - started) / loops)
    return best * 1e9


def field_value(index: int) -> object:
    return index * 1_000_003 if index % 2 else f"value-{index}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20_000)
    loops = parser.parse_args().loops
    client = OfflineClient()

    def py_encode(data_type, value) -> Callable[[], bytes]:
        def run() -> bytes:
            with BinaryStream(client) as stream:
                data_type.from_python(stream, value)
                return stream.getvalue()

        return run

    def py_decode(data: bytes) -> Callable[[], object]:
        def run() -> object:
            with BinaryStream(client, data) as stream:
                c_type = AnyDataObject.parse(stream)
                return AnyDataObject.to_python(stream.read_ctype(c_type, position=0), client=client)

        return run

    buf = bytearray()

    def our_encode(value) -> Callable[[], None]:
        def run() -> None:
            buf.clear()
            write_value(buf, value)

        return run

    def our_decode(data: bytes, registry=None) -> Callable[[], object]:
        view = memoryview(data)
        return lambda: read_value(view, 0, registry)

    text = "x" * 100
    schema = OrderedDict(
        (name, pt.LongObject if i % 2 else pt.String) for i, name in enumerate(FIELDS)
    )
    person_class = GenericObjectMeta("Person", (), {}, schema=schema)
    their_person = person_class(**{name: field_value(i) for i, name in enumerate(FIELDS)})
    person = ComplexObject("Person", {name: field_value(i) for i, name in enumerate(FIELDS)})
    registry = BinaryTypeRegistry([BinaryTypeRegistry().binary_type_for(person)])
    person_bytes = py_encode(pt.BinaryObject, their_person)()
    buf.clear()
    write_value(buf, person)
    assert bytes(buf) == person_bytes, "the benchmark objects must encode identically"

    def fresh_person() -> None:
        person.invalidate()
        buf.clear()
        write_value(buf, person)

    rows = [
        ("encode long", our_encode(12345), py_encode(pt.LongObject, 12345)),
        (
            "decode long",
            our_decode(py_encode(pt.LongObject, 12345)()),
            py_decode(py_encode(pt.LongObject, 12345)()),
        ),
        ("encode 100-char string", our_encode(text), py_encode(pt.String, text)),
        (
            "decode 100-char string",
            our_decode(py_encode(pt.String, text)()),
            py_decode(py_encode(pt.String, text)()),
        ),
        ("encode 10-field object", fresh_person, py_encode(pt.BinaryObject, their_person)),
        ("encode 10-field object (unchanged, cached bytes)", our_encode(person), None),
        ("decode 10-field object", our_decode(person_bytes, registry), py_decode(person_bytes)),
    ]
    print("| operation | ignite-router (ns) | pyignite 0.6.1 (ns) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, ours, theirs in rows:
        our_ns = best_ns(ours, loops)
        if theirs is None:
            print(f"| {name} | {our_ns:,.0f} | n/a | |")
            continue
        their_ns = best_ns(theirs, max(loops // 10, 100))
        print(f"| {name} | {our_ns:,.0f} | {their_ns:,.0f} | {their_ns / our_ns:.1f}x |")


if __name__ == "__main__":
    main()
