"""Answer bodies that are a single untyped scalar (bool, i32, i64) or nothing."""

from __future__ import annotations

from ignite_router.protocol.header import decode_empty
from ignite_router.protocol.wire import BOOL, I32, I64, finish, take

__all__ = [
    "decode_bool",
    "decode_empty",
    "decode_int",
    "decode_long",
    "encode_bool",
    "encode_int",
    "encode_long",
]


def encode_bool(buf: bytearray, value: bool) -> None:
    buf += BOOL.pack(bool(value))


def decode_bool(view: memoryview, pos: int) -> bool:
    (value,), pos = take(BOOL, view, pos)
    finish(view, pos, "a bool answer")
    return value


def encode_int(buf: bytearray, value: int) -> None:
    buf += I32.pack(value)


def decode_int(view: memoryview, pos: int) -> int:
    (value,), pos = take(I32, view, pos)
    finish(view, pos, "an int answer")
    return value


def encode_long(buf: bytearray, value: int) -> None:
    buf += I64.pack(value)


def decode_long(view: memoryview, pos: int) -> int:
    (value,), pos = take(I64, view, pos)
    finish(view, pos, "a long answer")
    return value
