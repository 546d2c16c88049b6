"""Python dataclasses as Ignite binary types.

``Client.register_dataclass(Point)`` registers the type's metadata with the
cluster; afterwards ``Point`` instances can be keys and values, and values
of that binary type come back as ``Point`` instances. Field order is the
dataclass's; field types follow the shared mapping (``affinity.types``)
unless ``hints`` name an Ignite type, e.g. ``{"x": IgniteType.INT}``.
``query_binary_type`` makes such a class from a type's metadata on the
cluster, as pyignite makes its ``GenericObjectMeta`` classes; and classes
made by pyignite's ``GenericObjectMeta`` (a ``type_name`` and a ``schema``)
are taken as they are, on their first write.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import keyword
import re
import typing
import uuid
from collections.abc import Mapping
from typing import Any

from ignite_router.affinity import IgniteType, field_id, infer_type, schema_id
from ignite_router.affinity.types import hint_type
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.values import BinaryField, BinaryType, ComplexObject

__all__ = ["DataclassRegistry", "pyignite_schema", "type_code_of"]


# A sample of each annotation the shared mapping knows, to ask it for the Ignite type.
_SAMPLES: dict[Any, Any] = {
    int: 0,
    str: "",
    float: 0.0,
    bool: False,
    bytes: b"",
    uuid.UUID: uuid.UUID(int=0),
    decimal.Decimal: decimal.Decimal(0),
    datetime.datetime: datetime.datetime(1970, 1, 1),
    datetime.date: datetime.date(1970, 1, 1),
    datetime.timedelta: datetime.timedelta(0),
}
_NOT_AN_IDENTIFIER = re.compile(r"\W")
_PLAIN_TYPES = frozenset({int, str, float, bool, bytes, type(None), uuid.UUID})


def type_code_of(hint: Any) -> int:
    """The Ignite type code a field hint names (an ``IgniteType``, a type code, or a hint class:
    ``ignite_router.datatypes``'s or pyignite's)."""
    found = hint_type(hint)
    if found is None:
        raise ParameterError(f"{hint!r} names no Ignite type")
    return int(found)


def _field_type(annotation: Any) -> int:
    """The Ignite type code of a field annotation (a generic object if not a plain type)."""
    sample = _SAMPLES.get(annotation)
    if sample is None:
        return int(IgniteType.COMPLEX_OBJECT)
    return int(infer_type(sample))


def _class_name(type_name: str) -> str:
    """A Python class name for a binary type name (its last dotted, ``$`` or ``+`` part)."""
    simple = re.split(r"[.$+]", type_name.rstrip("$"))[-1] or type_name
    name = _NOT_AN_IDENTIFIER.sub("_", simple)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"T_{name}"
    return name


def pyignite_schema(cls: Any) -> Mapping[str, Any] | None:
    """The schema (field name -> type hint) of a class made the pyignite way (its
    ``GenericObjectMeta``: ``type_name`` and ``schema`` class attributes), else None."""
    schema = getattr(cls, "schema", None)
    if (
        isinstance(cls, type)
        and isinstance(schema, Mapping)
        and isinstance(getattr(cls, "type_name", None), str)
        and not dataclasses.is_dataclass(cls)
    ):
        return schema
    return None


def _field_names(cls: Any) -> list[str]:
    if dataclasses.is_dataclass(cls) and isinstance(cls, type):
        return [item.name for item in dataclasses.fields(cls)]
    schema = pyignite_schema(cls)
    if schema is None:
        raise ParameterError(f"{cls!r} is not a dataclass (nor a pyignite GenericObjectMeta class)")
    return list(schema)


class DataclassRegistry:
    """Classes whose instances travel as binary objects: dataclasses, and classes made the
    pyignite way (``GenericObjectMeta``: ``type_name`` and ``schema`` attributes), which are
    taken on their first write, as pyignite does.

    ``compact_footer`` is the footer style of the objects written for them
    (pyignite's ``Client(compact_footer=...)``; None means compact, as in pyignite).
    """

    def __init__(self, compact_footer: bool | None = None) -> None:
        self.compact_footer = compact_footer is not False
        # class -> (type name, field hints, field names)
        self._by_class: dict[type, tuple[str, dict[str | int, IgniteType], list[str]]] = {}
        self._by_type_id: dict[int, type] = {}

    def describe(
        self,
        cls: type,
        type_name: str | None = None,
        affinity_key_field: str | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> BinaryType:
        """The metadata ``cls`` is registered as (checked; nothing is remembered yet)."""
        names = _field_names(cls)
        schema = pyignite_schema(cls)
        if schema is not None:
            hints = {**schema, **(hints or {})}
            type_name = type_name or getattr(cls, "type_name", None)
        unknown = set(hints or {}) - set(names)
        if unknown:
            raise ParameterError(f"hints name fields {sorted(unknown)} that {cls.__name__} lacks")
        if affinity_key_field is not None and affinity_key_field not in names:
            raise ParameterError(f"{cls.__name__} has no field {affinity_key_field!r}")
        field_hints = {name: type_code_of(hint) for name, hint in (hints or {}).items()}
        annotations = typing.get_type_hints(cls) if schema is None else {}
        fields = [
            BinaryField(name, field_hints.get(name, _field_type(annotations.get(name))))
            for name in names
        ]
        type_name = type_name or f"{cls.__module__}.{cls.__qualname__}"
        return BinaryType.of(type_name, fields, affinity_key_field=affinity_key_field)

    def add(
        self, cls: type, binary_type: BinaryType, hints: Mapping[str, Any] | None = None
    ) -> None:
        """Remember ``cls`` as ``binary_type``: its instances are written as that type and
        objects of that type are read as instances."""
        schema = pyignite_schema(cls)
        if schema is not None:
            hints = {**schema, **(hints or {})}
        field_hints: dict[str | int, IgniteType] = {
            name: IgniteType(type_code_of(hint)) for name, hint in (hints or {}).items()
        }
        self._by_class[cls] = (binary_type.type_name, field_hints, _field_names(cls))
        self._by_type_id[binary_type.type_id] = cls

    def class_of(self, type_id: int) -> type | None:
        """The class registered for a type id, if any."""
        return self._by_type_id.get(type_id)

    @staticmethod
    def schema_id_of(cls: type) -> int:
        """The schema id of a class's field layout."""
        return schema_id([field_id(name) for name in _field_names(cls)])

    @staticmethod
    def make_class(binary_type: BinaryType) -> type:
        """A dataclass with every field of ``binary_type`` (each defaulting to None)."""
        names = list(binary_type.fields)
        return dataclasses.make_dataclass(
            _class_name(binary_type.type_name),
            [(name, Any, dataclasses.field(default=None)) for name in names],
            namespace={"type_name": binary_type.type_name},
        )

    def __bool__(self) -> bool:
        return bool(self._by_class)

    def to_wire(self, value: Any) -> Any:
        """An instance of a registered class (or of a pyignite-made class, registered now) as
        a ComplexObject; anything else unchanged."""
        cls = type(value)
        if cls in _PLAIN_TYPES:
            return value
        known = self._by_class.get(cls)
        if known is None:
            if pyignite_schema(cls) is None:
                return value
            self.add(cls, self.describe(cls))
            known = self._by_class[cls]
        type_name, hints, names = known
        fields: dict[str | int, Any] = {name: self.to_wire(getattr(value, name)) for name in names}
        return ComplexObject(
            type_name, fields, field_hints=hints, compact_footer=self.compact_footer
        )

    def from_wire(self, value: Any) -> Any:
        """A ComplexObject of a registered type as an instance of its class; anything else
        unchanged."""
        if not isinstance(value, ComplexObject):
            return value
        cls = self._by_type_id.get(value.type_id)
        if cls is None:
            return value
        return cls(**{str(name): self.from_wire(item) for name, item in value.values().items()})
