"""Transactions (1.5.0+): OP_TX_START (4000) and OP_TX_END (4001), client and server side.

4000: i8 concurrency, i8 isolation, i64 timeout ms, String label -> i32 tx id.
4001: i32 tx id, bool commit -> empty. Cache requests inside a transaction
carry the id in their prefix (``CacheTarget.tx_id``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ignite_router.protocol.context import ProtocolContext
from ignite_router.protocol.header import begin_request, finish_frame
from ignite_router.protocol.opcodes import OpCode
from ignite_router.protocol.values import read_string, write_string
from ignite_router.protocol.wire import I32, finish, take

__all__ = [
    "TxConcurrency",
    "TxIsolation",
    "TxStart",
    "decode_tx_end",
    "decode_tx_id",
    "decode_tx_start",
    "encode_tx_end",
    "encode_tx_id",
    "encode_tx_start",
]

_TX_START = struct.Struct("<bbq")  # concurrency, isolation, timeout ms
_TX_END = struct.Struct("<i?")


class TxConcurrency(IntEnum):
    OPTIMISTIC = 0
    PESSIMISTIC = 1


class TxIsolation(IntEnum):
    READ_COMMITTED = 0
    REPEATABLE_READ = 1
    SERIALIZABLE = 2


@dataclass(frozen=True, slots=True)
class TxStart:
    """A decoded OP_TX_START request."""

    concurrency: int
    isolation: int
    timeout_ms: int
    label: str | None


def _check(context: ProtocolContext | None) -> None:
    if context is not None and not context.transactions:
        raise ValueError(f"transactions need protocol 1.5.0, have {context.version}")


def encode_tx_start(
    buf: bytearray,
    request_id: int,
    concurrency: int,
    isolation: int,
    timeout_ms: int = 0,
    label: str | None = None,
    context: ProtocolContext | None = None,
) -> None:
    """4000; pass ``context`` to have the version checked."""
    _check(context)
    start = begin_request(buf, OpCode.TX_START, request_id)
    try:
        buf += _TX_START.pack(concurrency, isolation, timeout_ms)
        write_string(buf, label)
    except BaseException:
        del buf[start:]
        raise
    finish_frame(buf, start)


def decode_tx_start(view: memoryview, pos: int) -> TxStart:
    """Server side."""
    (concurrency, isolation, timeout), pos = take(_TX_START, view, pos)
    label, pos = read_string(view, pos)
    finish(view, pos, "the transaction start")
    return TxStart(concurrency, isolation, timeout, label)


def encode_tx_id(buf: bytearray, tx_id: int) -> None:
    """Server side: the 4000 answer body."""
    buf += I32.pack(tx_id)


def decode_tx_id(view: memoryview, pos: int) -> int:
    """Client side: the 4000 answer body."""
    (tx_id,), pos = take(I32, view, pos)
    finish(view, pos, "the transaction id")
    return tx_id


def encode_tx_end(
    buf: bytearray,
    request_id: int,
    tx_id: int,
    commit: bool,
    context: ProtocolContext | None = None,
) -> None:
    """4001: commit (True) or roll back (False); the answer is empty."""
    _check(context)
    start = begin_request(buf, OpCode.TX_END, request_id)
    buf += _TX_END.pack(tx_id, commit)
    finish_frame(buf, start)


def decode_tx_end(view: memoryview, pos: int) -> tuple[int, bool]:
    """Server side: (tx id, commit)."""
    fields, pos = take(_TX_END, view, pos)
    finish(view, pos, "the transaction end")
    return fields
