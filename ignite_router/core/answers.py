"""Decoders of answer bodies, lenient as the Java client: bytes after the body are ignored.

A newer server may append fields the client does not know; only missing or
malformed bytes are an error (``ProtocolError``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values import BinaryTypeRegistry, read_value
from ignite_router.protocol.wire import BOOL, I64, count, take

__all__ = ["nothing", "read_bool", "read_long", "reader_of_pairs", "reader_of_value"]


def nothing(view: memoryview, pos: int) -> None:
    return None


def read_bool(view: memoryview, pos: int) -> bool:
    (value,), _ = take(BOOL, view, pos)
    return bool(value)


def read_long(view: memoryview, pos: int) -> int:
    (value,), _ = take(I64, view, pos)
    return int(value)


Decoder = Callable[[memoryview, int], Any]
Convert = Callable[[Any], Any]


def reader_of_value(registry: BinaryTypeRegistry, convert: Convert | None = None) -> Decoder:
    """A decoder of one typed value (None when absent) that knows ``registry``'s types;
    ``convert`` maps decoded binary objects to Python classes."""

    def read(view: memoryview, pos: int) -> Any:
        value = read_value(view, pos, registry)[0]
        return value if convert is None else convert(value)

    return read


def reader_of_pairs(registry: BinaryTypeRegistry, convert: Convert | None = None) -> Decoder:
    """A decoder of ``i32 n`` + n (key, value) pairs, as a dict."""

    def read(view: memoryview, pos: int) -> dict[Any, Any]:
        n, pos = count(view, pos, 2)
        result: dict[Any, Any] = {}
        for _ in range(n):
            key, pos = read_value(view, pos, registry)
            value, pos = read_value(view, pos, registry)
            if convert is not None:
                value = convert(value)
                converted = convert(key)
                if converted.__hash__ is not None:  # an unhashable dataclass stays an object
                    key = converted
            try:
                result[key] = value
            except TypeError:
                raise ProtocolError(f"unhashable key {type(key).__name__} in an answer") from None
        return result

    return read
