"""Regenerate ``vectors.json`` from the live JDK oracle.

    .venv/bin/python -m property_tests.generate_vectors

The vectors let ``tests/test_affinity_vectors.py`` check the placement math
where no JDK exists. Inputs are drawn from a fixed seed plus known edge
cases; every expected value comes from the JVM.
"""

from __future__ import annotations

import json
import random
import struct
import uuid
from pathlib import Path

from property_tests.oracle import JavaOracle, assign_request, parse_assignment, uuid_halves

VECTORS = Path(__file__).resolve().parent / "vectors.json"
SEED = 20261122


def _strings(rng: random.Random) -> list[str]:
    fixed = ["", "my cache", "Hello", "😀", "a😀b", "\ud800", "x\udfff", "日本語キー", "İx"]
    fixed.append("f5a5a608")  # lower-case id 0, which Ignite refuses
    alphabet = [chr(c) for c in (*range(32, 127), 0xE9, 0x4E2D, 0x1F600, 0x10FFFF, 0xD83D)]
    return fixed + ["".join(rng.choices(alphabet, k=rng.randint(1, 70))) for _ in range(40)]


def _cases(rng: random.Random) -> list[tuple[str, list]]:
    """(kind, inputs) pairs; inputs are JSON-friendly and map 1:1 to oracle requests."""
    i64 = [0, 1, -1, 1 << 32, 123456789012, -(1 << 63), (1 << 63) - 1]
    i64 += [rng.randint(-(1 << 63), (1 << 63) - 1) for _ in range(20)]
    i32 = [0, -1, -(1 << 31), (1 << 31) - 1] + [
        rng.randint(-(1 << 31), (1 << 31) - 1) for _ in range(20)
    ]
    doubles = [0.0, -0.0, 1.0, 3.14159, float("inf"), -1e300, 5e-324]
    doubles += [rng.uniform(-1e12, 1e12) for _ in range(10)]
    return [
        ("string", [s.encode("utf-16-be", "surrogatepass").hex() for s in _strings(rng)]),
        ("lower", [s.encode("utf-16-be", "surrogatepass").hex() for s in _strings(rng)[:25]]),
        ("long", i64),
        ("int", i32),
        ("short", [-(1 << 15), -2, 0, (1 << 15) - 1]),
        ("byte", [-128, -1, 0, 127]),
        (
            "double",
            [struct.unpack("<Q", struct.pack("<d", d))[0] for d in doubles] + [0x7FF8000000000001],
        ),
        (
            "float",
            [struct.unpack("<I", struct.pack("<f", f))[0] for f in (0.0, -0.0, 1.5, -3.25e8)]
            + [0x7FC00001],
        ),
        ("char", [0, 65, 0xE9, 0xD800, 0xFFFF]),
        (
            "uuid",
            [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(15)]
            + ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6"],
        ),
        (
            "date",
            [0, 1600000000123, -1, -62135596800000]
            + [rng.randint(-(10**13), 10**13) for _ in range(10)],
        ),
        ("timestamp", [[1600000000123, 456789], [-5, 999999], [0, 1]]),
        ("time", [0, 45296789, 86399999, -1]),
        (
            "decimal",
            [
                [15, 1],
                [-15, 1],
                [1, -2],
                [1 << 64, 0],
                [(1 << 63) - 1, 0],
                [1 << 63, 3],
                [-18446744073709551621, 2],
                [12345678901234567890123, 3],
            ]
            + [[rng.randint(-(1 << 130), 1 << 130), rng.randint(-30, 30)] for _ in range(15)],
        ),
        ("enum", [[123, 4], [-1, 0], [(1 << 31) - 1, 7]]),
        (
            "bytes",
            [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))).hex() for _ in range(12)],
        ),
        (
            "schema",
            [[], [3355, -934795532], [rng.randint(-(1 << 31), (1 << 31) - 1) for _ in range(5)]],
        ),
        (
            "part",
            [
                [h, p]
                for h in [*i32[:10], 2012078094, 70000, -123456]
                for p in (1, 17, 512, 1000, 1024, 65000)
            ],
        ),
        (
            "mix",
            [[h, p] for h in (-1040172202, -1111323819, 0, -1) for p in (0, 1, 2, 1023, 64999)],
        ),
    ]


def _request(kind: str, item) -> str:
    if kind == "uuid":
        return "uuid {} {}".format(*uuid_halves(uuid.UUID(item)))
    if isinstance(item, list):
        return " ".join([kind, *map(str, item)]).rstrip()
    return f"{kind} {item}"


def _assign_cases(rng: random.Random) -> list[dict]:
    cases = []
    for nodes, parts, backups in ((3, 8, 1), (1, 4, 0), (5, 1024, 2), (4, 1000, 0), (7, 64, 10)):
        ids = [f"node-{rng.randrange(10**6)}-{i}" for i in range(nodes)]
        node_ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(nodes)]
        cases.append(
            {"consistent_ids": ids, "node_ids": node_ids, "parts": parts, "backups": backups}
        )
    cases.append(
        {
            "consistent_ids": ["node-a", "node-b", "node-c"],
            "node_ids": [str(uuid.UUID(int=n)) for n in (10, 11, 12)],
            "parts": 8,
            "backups": 1,
        }
    )
    # Replicated caches (backups = Integer.MAX_VALUE): primary, then topology order.
    for names in (["node-a", "node-b", "node-c", "node-d"], [f"n{i}" for i in range(7)]):
        cases.append(
            {
                "consistent_ids": names,
                "node_ids": [str(uuid.UUID(int=n + 1)) for n in range(len(names))],
                "parts": 32,
                "backups": (1 << 31) - 1,
            }
        )
    # java.util.UUID consistent ids (persistent nodes), written as {"uuid": "..."}.
    cases.append(
        {
            "consistent_ids": [{"uuid": str(uuid.UUID(int=rng.getrandbits(128)))} for _ in range(4)]
            + ["node-x"],
            "node_ids": [str(uuid.UUID(int=n + 1)) for n in range(5)],
            "parts": 64,
            "backups": 1,
        }
    )
    return cases


def consistent_id(item: str | dict) -> str | uuid.UUID:
    """A vectors-file consistent id: a String, or {"uuid": ...} for a java.util.UUID."""
    return uuid.UUID(item["uuid"]) if isinstance(item, dict) else item


def generate() -> dict:
    rng = random.Random(SEED)
    oracle = JavaOracle()
    try:
        vectors: dict = {}
        for kind, inputs in _cases(rng):
            answers = oracle.ask([_request(kind, item) for item in inputs])
            vectors[kind] = [
                [item, int(answer)] for item, answer in zip(inputs, answers, strict=True)
            ]
        assignments = []
        for case in _assign_cases(rng):
            node_ids = [uuid.UUID(n) for n in case["node_ids"]]
            ids = [consistent_id(item) for item in case["consistent_ids"]]
            request = assign_request(ids, node_ids, case["parts"], case["backups"])
            case["owners"] = [list(p) for p in parse_assignment(oracle.ask([request])[0])]
            assignments.append(case)
        vectors["assign"] = assignments
        return vectors
    finally:
        oracle.close()


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(generate(), indent=0) + "\n", encoding="utf-8")
    print(f"wrote {VECTORS}")
