"""The placement math against vectors the JDK oracle generated (no JDK needed).

`property_tests/vectors.json` is written by `python -m property_tests.generate_vectors`;
the live checks in `property_tests/` compare against the running JVM.
"""

from __future__ import annotations

import datetime
import decimal
import json
import struct
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from ignite_router.affinity import (
    EnumValue,
    IgniteType,
    assign,
    binary_object_hash,
    java_hash,
    partition,
    schema_id,
    string_hash,
    type_id,
)
from ignite_router.affinity.rendezvous import mix_key
from property_tests.generate_vectors import consistent_id
from property_tests.implementations import BYTE_ARRAY_HASHES, STRING_HASHES

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "property_tests" / "vectors.json").read_text()
)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _text(hex_units: str) -> str:
    return bytes.fromhex(hex_units).decode("utf-16-be", "surrogatepass")


def _decimal(unscaled: int, scale: int) -> decimal.Decimal:
    return decimal.Decimal(f"{unscaled}E{-scale}")  # exact: no context rounding


def _id_or_zero(name: str) -> int:
    # BinaryBasicIdMapper refuses a zero id: for those names (the oracle answers 0) we raise.
    try:
        return type_id(name)
    except ValueError:
        return 0


OURS = {
    "string": lambda x: string_hash(_text(x)),
    "lower": lambda x: _id_or_zero(_text(x)),
    "long": java_hash,
    "int": lambda x: java_hash(x, IgniteType.INT),
    "short": lambda x: java_hash(x, IgniteType.SHORT),
    "byte": lambda x: java_hash(x, IgniteType.BYTE),
    "double": lambda x: java_hash(struct.unpack("<d", struct.pack("<Q", x))[0]),
    "float": lambda x: java_hash(struct.unpack("<f", struct.pack("<I", x))[0], IgniteType.FLOAT),
    "char": lambda x: java_hash(chr(x), IgniteType.CHAR),
    "uuid": lambda x: java_hash(uuid.UUID(x)),
    "date": lambda x: java_hash(EPOCH + datetime.timedelta(milliseconds=x)),
    "timestamp": lambda x: java_hash(
        EPOCH + datetime.timedelta(milliseconds=x[0], microseconds=x[1] // 1000),
        IgniteType.TIMESTAMP,
    ),
    "time": lambda x: java_hash(datetime.timedelta(milliseconds=x)),
    "decimal": lambda x: java_hash(_decimal(*x)),
    "enum": lambda x: java_hash(EnumValue(*x)),
    "bytes": lambda x: binary_object_hash(bytes.fromhex(x)),
    "schema": schema_id,
    "part": lambda x: partition(*x),
    "mix": lambda x: mix_key(*x),
}


@pytest.mark.parametrize("kind", sorted(OURS))
def test_vectors(kind: str) -> None:
    cases = VECTORS[kind]
    assert cases, f"no {kind} vectors"
    mismatches = [(given, java) for given, java in cases if OURS[kind](given) != java]
    assert mismatches == []


@pytest.mark.parametrize("string_hash", STRING_HASHES)
def test_string_vectors_with_each_implementation(string_hash: Callable[[str], int]) -> None:
    cases = VECTORS["string"]
    assert [string_hash(_text(given)) for given, _ in cases] == [java for _, java in cases]


@pytest.mark.parametrize("binary_object_hash", BYTE_ARRAY_HASHES)
def test_byte_array_vectors_with_each_implementation(
    binary_object_hash: Callable[[bytes | bytearray | memoryview], int],
) -> None:
    # As the object writer passes them: a memoryview slice of a larger bytearray.
    cases = VECTORS["bytes"]
    ours = [
        binary_object_hash(memoryview(bytearray(b"header" + bytes.fromhex(given)))[6:])
        for given, _ in cases
    ]
    assert ours == [java for _, java in cases]


def test_every_vector_kind_is_checked() -> None:
    assert set(VECTORS) == set(OURS) | {"assign"}


@pytest.mark.parametrize("case", VECTORS["assign"], ids=lambda c: f"{len(c['node_ids'])}n")
def test_assignment_vectors(case: dict) -> None:
    node_ids = [uuid.UUID(n) for n in case["node_ids"]]
    ids = [consistent_id(item) for item in case["consistent_ids"]]
    ours = assign(ids, case["parts"], case["backups"], node_ids)
    assert [list(owners) for owners in ours] == case["owners"]
