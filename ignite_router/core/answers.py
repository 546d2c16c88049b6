"""Decoders of answer bodies, lenient as the Java client: bytes after the body are ignored.

A newer server may append fields the client does not know; only missing or
malformed bytes are an error (``ProtocolError``).
"""

from __future__ import annotations

from typing import Any

from protocol.errors import ProtocolError
from protocol.values import BinaryTypeRegistry, read_value
from protocol.wire import BOOL, I64, count, take

__all__ = ["nothing", "read_bool", "read_long", "reader_of_pairs", "reader_of_value"]


def nothing(view: memoryview, pos: int) -> None:
    return None


def read_bool(view: memoryview, pos: int) -> bool:
    (value,), _ = take(BOOL, view, pos)
    return bool(value)


def read_long(view: memoryview, pos: int) -> int:
    (value,), _ = take(I64, view, pos)
    return int(value)


def reader_of_value(registry: BinaryTypeRegistry):  # type: ignore[no-untyped-def]
    """A decoder of one typed value (None when absent) that knows ``registry``'s types."""

    def read(view: memoryview, pos: int) -> Any:
        return read_value(view, pos, registry)[0]

    return read


def reader_of_pairs(registry: BinaryTypeRegistry):  # type: ignore[no-untyped-def]
    """A decoder of ``i32 n`` + n (key, value) pairs, as a dict."""

    def read(view: memoryview, pos: int) -> dict[Any, Any]:
        n, pos = count(view, pos, 2)
        result: dict[Any, Any] = {}
        for _ in range(n):
            key, pos = read_value(view, pos, registry)
            value, pos = read_value(view, pos, registry)
            try:
                result[key] = value
            except TypeError:
                raise ProtocolError(f"unhashable key {type(key).__name__} in an answer") from None
        return result

    return read
