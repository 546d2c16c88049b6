"""Decoding of complex objects (code 0x67) into ``ComplexObject`` values.

Field names: a full footer carries field ids (names come from the registry
when it knows them, otherwise the int ids are the keys); a compact footer
carries only offsets, so the registry must know the schema, else
``UnknownSchemaError``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from ignite_router.affinity.types import IgniteType
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values._wire import I32
from ignite_router.protocol.values.complex import ComplexObject, UnknownSchemaError
from ignite_router.protocol.values.object_layout import ObjectLayout, parse_layout

NO_TARGET = sys.maxsize

_HANDLE = int(IgniteType.HANDLE)
# Hint recorded for a decoded field, by the type code found on the wire.
_FIELD_HINTS = {
    int(code): code for code in IgniteType if code not in (IgniteType.NULL, IgniteType.HANDLE)
}


class Registry(Protocol):
    def get(self, type_id: int) -> Any: ...

    def schema_fields(self, type_id: int, schema_id: int) -> tuple[str | int, ...] | None: ...

    def field_name(self, type_id: int, field_id: int) -> str | None: ...


class ReadContext(Protocol):
    @property
    def registry(self) -> Registry | None: ...

    memo: dict[int, Any]
    lowest_target: int


ReadField = Callable[[memoryview, int, Any, int], tuple[Any, int]]


def _field_names(layout: ObjectLayout, registry: Registry | None, pos: int) -> list[str | int]:
    if layout.field_ids is not None:
        if registry is None:
            return list(layout.field_ids)
        names: list[str | int] = []
        for fid in layout.field_ids:
            name = registry.field_name(layout.type_id, fid)
            names.append(fid if name is None else name)
        return names
    if not layout.offsets:
        return []
    known = registry.schema_fields(layout.type_id, layout.schema_id) if registry else None
    if known is None:
        raise UnknownSchemaError(layout.type_id, layout.schema_id, pos)
    if len(known) != len(layout.offsets):
        raise ProtocolError(
            f"complex object at offset {pos}: schema {layout.schema_id} has {len(known)} fields, "
            f"the footer {len(layout.offsets)}"
        )
    return list(known)


def _target_code(view: memoryview, pos: int) -> int | None:
    """Type code a field resolves to, following handle chains (bounded)."""
    for _ in range(64):
        code = view[pos]
        if code != _HANDLE:
            return code
        pos -= I32.unpack_from(view, pos + 1)[0]
    return None


def read_object(
    view: memoryview, pos: int, ctx: ReadContext, depth: int, read_field: ReadField
) -> tuple[ComplexObject, int]:
    """Decode the object at ``pos``; nested values go through ``read_field``."""
    layout = parse_layout(view, pos)
    names = _field_names(layout, ctx.registry, pos)
    obj = ComplexObject.__new__(ComplexObject)
    obj.type_name = layout.class_name
    if obj.type_name is None and ctx.registry is not None:
        known = ctx.registry.get(layout.type_id)
        obj.type_name = known.type_name if known is not None else None
    obj.type_id = layout.type_id
    obj.compact_footer = layout.compact_footer
    fields: dict[str | int, Any] = {}
    hints: dict[str | int, IgniteType] = {}
    obj.fields = fields
    obj.field_hints = hints
    obj.hash_code = layout.hash_code
    obj.raw_data = None
    obj.invalidate()
    ctx.memo[pos] = obj  # a handle inside may point back at this object

    outer_target = ctx.lowest_target
    ctx.lowest_target = NO_TARGET
    offsets = layout.offsets
    limits = [*offsets[1:], layout.fields_end - pos] if offsets else []
    for name, offset, limit in zip(names, offsets, limits, strict=True):
        field_pos = pos + offset
        value, end = read_field(view, field_pos, ctx, depth)
        if end > pos + limit:
            raise ProtocolError(
                f"field {name!r} of the complex object at offset {pos} overruns its slot "
                f"(ends at {end}, next data at {pos + limit})"
            )
        fields[name] = value
        code = view[field_pos]
        hint = _FIELD_HINTS.get(code if code != _HANDLE else _target_code(view, field_pos) or 0)
        if hint is not None:
            hints[name] = hint
    if layout.raw_start is not None:
        obj.raw_data = bytes(view[layout.raw_start : layout.footer_start])
    inner_target = ctx.lowest_target
    ctx.lowest_target = min(outer_target, inner_target)
    if inner_target >= pos:
        # Self-contained (no handle escapes it): keep the bytes for verbatim re-sends.
        obj.remember_encoding(bytes(view[pos : layout.end]), layout.hash_code)
    return obj, layout.end
