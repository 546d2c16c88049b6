"""A long-lived JVM running ``java/HashOracle.java``: the independent reference for hashes.

The oracle is compiled with ``javac`` into a temporary directory and fed
requests in batches over stdin/stdout, so thousands of examples cost one
JVM start and a few round trips.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "HashOracle.java"


def jdk_available() -> bool:
    return shutil.which("javac") is not None and shutil.which("java") is not None


class JavaOracle:
    """Compiles and runs the oracle; ``ask`` sends request lines, returns answer lines."""

    def __init__(self) -> None:
        self._build = tempfile.TemporaryDirectory(prefix="hash-oracle-")
        subprocess.run(
            ["javac", "-d", self._build.name, str(JAVA_SOURCE)],
            check=True,
            capture_output=True,
        )
        self._process = subprocess.Popen(
            ["java", "-Xshare:auto", "-cp", self._build.name, "HashOracle"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, requests: Sequence[str]) -> list[str]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("".join(f"{line}\n" for line in requests))
        self._process.stdin.flush()
        answers = [self._process.stdout.readline().rstrip("\n") for _ in requests]
        for request, answer in zip(requests, answers, strict=True):
            if not answer or answer.startswith("error"):
                raise RuntimeError(f"oracle failed on {request!r}: {answer!r}")
        return answers

    def ask_ints(self, requests: Sequence[str]) -> list[int]:
        return [int(answer) for answer in self.ask(requests)]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        self._build.cleanup()


def utf16_hex(text: str) -> str:
    """The string's UTF-16 code units as hex (lone surrogates kept)."""
    return text.encode("utf-16-be", "surrogatepass").hex()


def signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def uuid_halves(value: uuid.UUID) -> tuple[int, int]:
    """(msb, lsb) as Java's signed longs."""
    return signed64(value.int >> 64), signed64(value.int)


def _consistent_id_token(consistent_id: str | uuid.UUID) -> str:
    if isinstance(consistent_id, uuid.UUID):
        return "u{}_{}".format(*uuid_halves(consistent_id))
    return utf16_hex(consistent_id)


def assign_request(
    consistent_ids: Sequence[str | uuid.UUID],
    node_ids: Sequence[uuid.UUID],
    parts: int,
    backups: int,
) -> str:
    """Consistent ids are Strings, or java.util.UUIDs when given as ``uuid.UUID``."""
    nodes = " ".join(
        "{}:{}:{}".format(_consistent_id_token(cid), *uuid_halves(node_id))
        for cid, node_id in zip(consistent_ids, node_ids, strict=True)
    )
    return f"assign {parts} {backups} {nodes}"


def parse_assignment(answer: str) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in part.split(",")) for part in answer.split(";")]
