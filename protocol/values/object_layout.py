"""Header and footer of a complex object, parsed and bounds-checked (``BinaryObjectOffheapImpl``).

Shared by the reader (which then decodes the fields) and ``skip_value``
(which only needs the end). Every offset is validated so the field decoder
can trust them: fields lie inside the field area, in strictly increasing
order, so no two fields overlap (which also rules out decompression bombs
made of fields that all point at the same nested object).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ignite_router.affinity.ids import type_id as type_id_of
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values._wire import I32, OBJECT_HEADER
from ignite_router.protocol.values.complex import (
    COMPACT_FOOTER,
    HAS_RAW_DATA,
    HAS_SCHEMA,
    HEADER_SIZE,
    OFFSET_ONE_BYTE,
    OFFSET_TWO_BYTES,
    PROTOCOL_VERSION,
)
from ignite_router.protocol.values.envelope import read_string


@dataclass(slots=True)
class ObjectLayout:
    """Where things are in one encoded complex object (absolute positions)."""

    flags: int
    type_id: int
    class_name: str | None
    hash_code: int
    schema_id: int
    end: int
    data_start: int
    fields_end: int
    raw_start: int | None
    footer_start: int
    offsets: list[int]  # relative to the object start, strictly increasing
    field_ids: list[int] | None  # None for a compact footer

    @property
    def compact_footer(self) -> bool:
        return bool(self.flags & COMPACT_FOOTER)


def _offset_letter(flags: int) -> str:
    if flags & OFFSET_ONE_BYTE:
        return "B"
    if flags & OFFSET_TWO_BYTES:
        return "H"
    return "I"


def parse_layout(view: memoryview, pos: int) -> ObjectLayout:
    """Parse the object starting at ``pos`` (its type code byte)."""
    if pos + HEADER_SIZE > len(view):
        raise ProtocolError(f"truncated complex object header at offset {pos}")
    _, version, flags, type_id, hash_code, length, schema_id, schema_offset = (
        OBJECT_HEADER.unpack_from(view, pos)
    )
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"complex object at offset {pos} has unsupported version {version}")
    end = pos + length
    if length < HEADER_SIZE or end > len(view):
        raise ProtocolError(
            f"complex object at offset {pos} declares length {length}, "
            f"{len(view) - pos} bytes available"
        )
    data_start = pos + HEADER_SIZE
    class_name = None
    if type_id == 0:
        # Unregistered type: a class-name String precedes the field data.
        class_name, data_start = read_string(view[:end], data_start)
        if class_name is None:
            raise ProtocolError(f"complex object at offset {pos} has type id 0 and no class name")
        type_id = type_id_of(class_name)
    offsets: list[int] = []
    field_ids = None
    raw_start = None
    if flags & HAS_SCHEMA:
        footer_start = pos + schema_offset
        footer_end = end
        if flags & HAS_RAW_DATA:
            footer_end -= 4
            if footer_end < data_start:
                raise ProtocolError(f"complex object at offset {pos} too short for raw offset")
            raw_start = pos + I32.unpack_from(view, footer_end)[0]
        if not data_start <= footer_start <= footer_end:
            raise ProtocolError(
                f"complex object at offset {pos}: schema offset {schema_offset} outside the object"
            )
        fields_end = footer_start
        if raw_start is not None:
            if not data_start <= raw_start <= footer_start:
                raise ProtocolError(f"complex object at offset {pos}: raw offset outside the data")
            fields_end = raw_start
        letter = _offset_letter(flags)
        compact = bool(flags & COMPACT_FOOTER)
        entry = struct.calcsize("<" + letter) + (0 if compact else 4)
        span = footer_end - footer_start
        if span % entry:
            raise ProtocolError(
                f"complex object at offset {pos}: footer of {span} bytes is not a whole "
                f"number of {entry}-byte entries"
            )
        count = span // entry
        if compact:
            offsets = list(struct.unpack_from(f"<{count}{letter}", view, footer_start))
        else:
            flat = struct.unpack_from("<" + ("i" + letter) * count, view, footer_start)
            field_ids = list(flat[0::2])
            offsets = list(flat[1::2])
        _check_offsets(offsets, data_start - pos, fields_end - pos, pos)
    else:
        footer_start = end
        fields_end = end
        if flags & HAS_RAW_DATA:
            raw_start = pos + schema_offset
            if not data_start <= raw_start <= end:
                raise ProtocolError(f"complex object at offset {pos}: raw offset outside the data")
            fields_end = raw_start
    return ObjectLayout(
        flags,
        type_id,
        class_name,
        hash_code,
        schema_id,
        end,
        data_start,
        fields_end,
        raw_start,
        footer_start,
        offsets,
        field_ids,
    )


def _check_offsets(offsets: list[int], first: int, limit: int, pos: int) -> None:
    previous = first - 1
    for offset in offsets:
        if not previous < offset < limit:
            raise ProtocolError(
                f"complex object at offset {pos}: field offset {offset} is out of order or "
                f"outside the field area [{first}, {limit})"
            )
        previous = offset
