"""Encoding of ``ComplexObject`` values (code 0x67, ``BinaryWriterExImpl``)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ignite_router.affinity.ids import binary_object_hash
from ignite_router.affinity.types import IgniteType
from ignite_router.protocol.values._wire import I32, OBJECT_HEADER
from ignite_router.protocol.values.complex import (
    COMPACT_FOOTER,
    HAS_RAW_DATA,
    HAS_SCHEMA,
    HEADER_SIZE,
    OFFSET_ONE_BYTE,
    OFFSET_TWO_BYTES,
    PROTOCOL_VERSION,
    USER_TYPE,
    ComplexObject,
    schema_of,
)

WriteField = Callable[[bytearray, Any, IgniteType | None, int], None]

_BLANK_HEADER = bytes(HEADER_SIZE)
_CODE = int(IgniteType.COMPLEX_OBJECT)


def _offset_width(last_offset: int) -> tuple[int, str]:
    """Offset width flag and struct letter: Java's thresholds on the last field offset."""
    if last_offset < 0x100:
        return OFFSET_ONE_BYTE, "B"
    if last_offset < 0x10000:
        return OFFSET_TWO_BYTES, "H"
    return 0, "I"


def write_object(buf: bytearray, obj: Any, depth: int, write_field: WriteField) -> None:
    """Append ``obj``; sets ``obj.hash_code`` and caches the bytes on the object."""
    if not isinstance(obj, ComplexObject):
        raise TypeError(f"COMPLEX_OBJECT needs a ComplexObject, got {type(obj).__name__}")
    cached = obj.encoded
    if cached is not None:
        buf += cached
        return
    start = len(buf)
    buf += _BLANK_HEADER
    hints = obj.field_hints
    offsets = []
    for name, value in obj.fields.items():
        offsets.append(len(buf) - start)
        # A (value, hint) tuple's own hint wins over field_hints.
        hint = hints.get(name) if hints and type(value) is not tuple else None
        try:
            write_field(buf, value, hint, depth)
        except (TypeError, ValueError) as exc:
            error = TypeError if isinstance(exc, TypeError) else ValueError
            raise error(f"field {name!r} of {obj.type_name or obj.type_id}: {exc}") from exc
    raw = obj.raw_data
    raw_offset = len(buf) - start
    if raw is not None:
        buf += raw
    # Hash over field and raw data, header and footer excluded (``BinaryArrayIdentityResolver``).
    hash_code = binary_object_hash(memoryview(buf)[start + HEADER_SIZE :])
    flags = USER_TYPE | (COMPACT_FOOTER if obj.compact_footer else 0)
    if offsets:
        width_flag, letter = _offset_width(offsets[-1])
        flags |= HAS_SCHEMA | width_flag
        schema_offset = len(buf) - start
        field_ids, schema = schema_of(tuple(obj.fields))
        if obj.compact_footer:
            buf += struct.pack(f"<{len(offsets)}{letter}", *offsets)
        else:
            entries = [item for pair in zip(field_ids, offsets, strict=True) for item in pair]
            try:
                buf += struct.pack("<" + ("i" + letter) * len(offsets), *entries)
            except struct.error:
                raise ValueError(f"field ids must be int32: {field_ids}") from None
        if raw is not None:
            flags |= HAS_RAW_DATA
            buf += I32.pack(raw_offset)
    else:
        schema = 0
        schema_offset = 0
        if raw is not None:
            # Without a schema the header's schema-offset slot holds the raw offset.
            flags |= HAS_RAW_DATA
            schema_offset = raw_offset
    total = len(buf) - start
    try:
        header = OBJECT_HEADER.pack(
            _CODE, PROTOCOL_VERSION, flags, obj.type_id, hash_code, total, schema, schema_offset
        )
    except struct.error:
        raise ValueError(f"complex object type id must be an int32: {obj.type_id}") from None
    buf[start : start + HEADER_SIZE] = header
    obj.remember_encoding(memoryview(buf)[start:].tobytes(), hash_code)
