"""Binary type metadata: value classes, a registry, and the OP 3002/3003 body codec.

Body layout (server ``writeBinaryMetadata``; pyignite ``put_binary_type`` /
``BinaryTypeResponse``): i32 type id, String type name, String affinity key
field (nullable), i32 field count + (String name, i32 type code, i32 field
id) per field, bool is_enum, [i32 count + (String name, i32 ordinal) if
enum], i32 schema count + (i32 schema id, i32 n, n x i32 field id) per schema.
OP_BINARY_TYPE_PUT (3003) sends exactly that; OP_BINARY_TYPE_GET (3002)
answers ``bool exists`` followed by it when the type exists.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

from ignite_router.affinity.ids import field_id as _field_id
from ignite_router.affinity.ids import schema_id as _schema_id
from ignite_router.affinity.ids import type_id as _type_id
from ignite_router.affinity.types import IgniteType, resolve
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.values._wire import I32, I32_I32
from ignite_router.protocol.values.complex import ComplexObject, split_hint
from ignite_router.protocol.values.envelope import read_string, write_string
from ignite_router.protocol.values.raw import RawValue

_OBJECT = int(IgniteType.COMPLEX_OBJECT)


@dataclass(frozen=True, slots=True)
class BinaryField:
    """One field of a binary type: name, Ignite type code, field id."""

    name: str
    type_code: int
    field_id: int | None = None

    def __post_init__(self) -> None:
        if self.field_id is None:
            object.__setattr__(self, "field_id", _field_id(self.name))


@dataclass(frozen=True, slots=True)
class BinarySchema:
    """A schema: the field ids of one field layout, in order, and its FNV-1 id."""

    schema_id: int
    field_ids: tuple[int, ...]

    @classmethod
    def of(cls, field_ids: Iterable[int]) -> BinarySchema:
        ids = tuple(field_ids)
        return cls(_schema_id(ids), ids)


@dataclass(slots=True)
class BinaryType:
    """Metadata of a binary type (what OP 3002 returns and OP 3003 registers)."""

    type_id: int
    type_name: str
    affinity_key_field: str | None = None
    fields: dict[str, BinaryField] = field(default_factory=dict)
    schemas: dict[int, BinarySchema] = field(default_factory=dict)
    is_enum: bool = False
    enum_values: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        type_name: str,
        fields: Mapping[str, int] | Iterable[BinaryField] = (),
        *,
        affinity_key_field: str | None = None,
    ) -> BinaryType:
        """A type with the given fields (name -> type code) and the one schema they form."""
        if isinstance(fields, Mapping):
            fields = [BinaryField(name, int(code)) for name, code in fields.items()]
        field_map = {item.name: item for item in fields}
        schema = BinarySchema.of(cast(int, item.field_id) for item in field_map.values())
        return cls(
            _type_id(type_name),
            type_name,
            affinity_key_field,
            field_map,
            {schema.schema_id: schema},
        )

    @classmethod
    def enum(cls, type_name: str, values: Mapping[str, int]) -> BinaryType:
        """An enum type: constant name -> ordinal."""
        return cls(_type_id(type_name), type_name, is_enum=True, enum_values=dict(values))

    def field_names(self, schema_id: int) -> tuple[str | int, ...] | None:
        """Names of a schema's fields in order (an id whose name is unknown stays an int)."""
        schema = self.schemas.get(schema_id)
        if schema is None:
            return None
        names = {item.field_id: item.name for item in self.fields.values()}
        return tuple(names.get(fid, fid) for fid in schema.field_ids)


class BinaryTypeRegistry(Mapping[int, BinaryType]):
    """Known binary types by type id; what the reader needs for compact footers."""

    def __init__(self, types: Iterable[BinaryType] = ()) -> None:
        self._types: dict[int, BinaryType] = {}
        self._schema_names: dict[tuple[int, int], tuple[str | int, ...]] = {}
        self._field_names: dict[int, dict[int, str]] = {}
        for binary_type in types:
            self.add(binary_type)

    def __getitem__(self, type_id: int) -> BinaryType:
        return self._types[type_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def add(self, binary_type: BinaryType) -> BinaryType:
        """Store a type, merging fields, schemas and enum values into a known one."""
        known = self._types.get(binary_type.type_id)
        if known is None:
            merged = BinaryType(
                binary_type.type_id,
                binary_type.type_name,
                binary_type.affinity_key_field,
                dict(binary_type.fields),
                dict(binary_type.schemas),
                binary_type.is_enum,
                dict(binary_type.enum_values),
            )
        else:
            merged = known
            for name, item in binary_type.fields.items():
                merged.fields.setdefault(name, item)
            for schema_id, schema in binary_type.schemas.items():
                merged.schemas.setdefault(schema_id, schema)
            for name, ordinal in binary_type.enum_values.items():
                merged.enum_values.setdefault(name, ordinal)
            merged.is_enum = merged.is_enum or binary_type.is_enum
            if merged.affinity_key_field is None:
                merged.affinity_key_field = binary_type.affinity_key_field
        self._types[merged.type_id] = merged
        for key in [key for key in self._schema_names if key[0] == merged.type_id]:
            del self._schema_names[key]
        self._field_names.pop(merged.type_id, None)
        return merged

    def knows_schema(self, type_id: int, schema_id: int) -> bool:
        """True if the type and this schema of it are registered."""
        known = self._types.get(type_id)
        return known is not None and schema_id in known.schemas

    def schema_fields(self, type_id: int, schema_id: int) -> tuple[str | int, ...] | None:
        """Field names of a schema in order, or None if the type/schema is unknown."""
        key = (type_id, schema_id)
        names = self._schema_names.get(key)
        if names is None:
            known = self._types.get(type_id)
            names = known.field_names(schema_id) if known is not None else None
            if names is None:
                return None
            self._schema_names[key] = names
        return names

    def field_name(self, type_id: int, field_id: int) -> str | None:
        """Name of a field id of a known type, or None."""
        names = self._field_names.get(type_id)
        if names is None:
            known = self._types.get(type_id)
            if known is None:
                return None
            names = {cast(int, item.field_id): item.name for item in known.fields.values()}
            self._field_names[type_id] = names
        return names.get(field_id)

    def binary_type_for(
        self, obj: ComplexObject, affinity_key_field: str | None = None
    ) -> BinaryType:
        """The metadata to register (OP 3003) before putting ``obj``.

        Field type codes come from the shared mapping (``resolve``) applied to
        each value and its hint; a null field without a hint is registered as
        a generic object (103), as Java's builder does.
        """
        if not isinstance(obj.type_name, str):
            raise ValueError("registering a binary type needs the object's type_name")
        fields = []
        for name in obj.fields:
            if not isinstance(name, str):
                raise ValueError(f"registering a binary type needs field names, got id {name}")
            fields.append(BinaryField(name, _field_type_code(obj, name)))
        binary_type = BinaryType.of(obj.type_name, fields, affinity_key_field=affinity_key_field)
        binary_type.type_id = obj.type_id
        return binary_type


def _field_type_code(obj: ComplexObject, name: str) -> int:
    value = split_hint(obj.fields[name])[0]
    hint = obj.hint_for(name)
    if isinstance(value, RawValue) and hint is None:
        return value.type_code
    if value is None:
        return int(hint) if hint is not None else _OBJECT
    return int(resolve(value, hint)[1])


# ---------------------------------------------------------------- body codec

_I32_PACK = I32.pack
_TRUE, _FALSE = b"\x01", b"\x00"


def encode_binary_type(buf: bytearray, binary_type: BinaryType) -> None:
    """Append the OP 3003 request body for ``binary_type`` (after the op header)."""
    buf += _I32_PACK(binary_type.type_id)
    write_string(buf, binary_type.type_name)
    write_string(buf, binary_type.affinity_key_field)
    buf += _I32_PACK(len(binary_type.fields))
    for item in binary_type.fields.values():
        write_string(buf, item.name)
        buf += I32_I32.pack(item.type_code, item.field_id)
    buf += _TRUE if binary_type.is_enum else _FALSE
    if binary_type.is_enum:
        buf += _I32_PACK(len(binary_type.enum_values))
        for name, ordinal in binary_type.enum_values.items():
            write_string(buf, name)
            buf += _I32_PACK(ordinal)
    buf += _I32_PACK(len(binary_type.schemas))
    for schema in binary_type.schemas.values():
        buf += I32_I32.pack(schema.schema_id, len(schema.field_ids))
        buf += struct.pack(f"<{len(schema.field_ids)}i", *schema.field_ids)


def encode_binary_type_response(buf: bytearray, binary_type: BinaryType | None) -> None:
    """Append the OP 3002 response body: ``bool exists`` then the type if it exists."""
    if binary_type is None:
        buf += _FALSE
    else:
        buf += _TRUE
        encode_binary_type(buf, binary_type)


def decode_binary_type(view: memoryview | bytes, pos: int) -> tuple[BinaryType, int]:
    """Parse a binary type body at ``pos`` (3003 request / 3002 after the bool)."""
    try:
        return _decode(memoryview(view), pos)
    except struct.error:
        raise ProtocolError(f"truncated binary type body starting at offset {pos}") from None


def decode_binary_type_response(
    view: memoryview | bytes, pos: int
) -> tuple[BinaryType | None, int]:
    """Parse an OP 3002 response body: None if the server does not know the type."""
    if not 0 <= pos < len(view):
        raise ProtocolError(f"binary type response at offset {pos}: no 'exists' flag")
    if view[pos] == 0:
        return None, pos + 1
    return decode_binary_type(view, pos + 1)


def _count(view: memoryview, pos: int, min_item: int, what: str) -> tuple[int, int]:
    (count,) = I32.unpack_from(view, pos)
    if count < 0 or count * min_item > len(view) - pos - 4:
        raise ProtocolError(f"binary type {what} count {count} at offset {pos} exceeds the data")
    return count, pos + 4


def _name(view: memoryview, pos: int, what: str) -> tuple[str, int]:
    name, end = read_string(view, pos)
    if name is None:
        raise ProtocolError(f"binary type {what} at offset {pos} is null")
    return name, end


def _decode(view: memoryview, pos: int) -> tuple[BinaryType, int]:
    (type_id,) = I32.unpack_from(view, pos)
    type_name, pos = _name(view, pos + 4, "name")
    affinity_key_field, pos = read_string(view, pos)
    count, pos = _count(view, pos, 13, "field")
    fields: dict[str, BinaryField] = {}
    for _ in range(count):
        name, pos = _name(view, pos, "field name")
        type_code, fid = I32_I32.unpack_from(view, pos)
        pos += 8
        fields[name] = BinaryField(name, type_code, fid)
    if pos >= len(view):
        raise ProtocolError(f"binary type body truncated before is_enum at offset {pos}")
    is_enum = view[pos] != 0
    pos += 1
    enum_values: dict[str, int] = {}
    if is_enum:
        count, pos = _count(view, pos, 9, "enum value")
        for _ in range(count):
            name, pos = _name(view, pos, "enum constant")
            enum_values[name] = I32.unpack_from(view, pos)[0]
            pos += 4
    count, pos = _count(view, pos, 8, "schema")
    schemas: dict[int, BinarySchema] = {}
    for _ in range(count):
        schema_id, size = I32_I32.unpack_from(view, pos)
        pos += 8
        if size < 0 or size * 4 > len(view) - pos:
            raise ProtocolError(f"schema {schema_id} field count {size} exceeds the data")
        schemas[schema_id] = BinarySchema(schema_id, struct.unpack_from(f"<{size}i", view, pos))
        pos += size * 4
    binary_type = BinaryType(
        type_id, type_name, affinity_key_field, fields, schemas, is_enum, enum_values
    )
    return binary_type, pos
