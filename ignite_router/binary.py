"""Python dataclasses as Ignite binary types.

``Client.register_dataclass(Point)`` registers the type's metadata with the
cluster; afterwards ``Point`` instances can be keys and values, and values
of that binary type come back as ``Point`` instances. Field order is the
dataclass's; field types follow the shared mapping (``affinity.types``)
unless ``hints`` name an Ignite type, e.g. ``{"x": IgniteType.INT}``.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import typing
import uuid
from collections.abc import Mapping
from typing import Any

from ignite_router.affinity import IgniteType, infer_type
from ignite_router.protocol.values import BinaryField, BinaryType, ComplexObject

__all__ = ["DataclassRegistry"]


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


def _field_type(annotation: Any) -> int:
    """The Ignite type code of a field annotation (a generic object if not a plain type)."""
    sample = _SAMPLES.get(annotation)
    if sample is None:
        return int(IgniteType.COMPLEX_OBJECT)
    return int(infer_type(sample))


class DataclassRegistry:
    """Registered dataclasses by class and by type id."""

    def __init__(self) -> None:
        self._by_class: dict[type, tuple[str, dict[str | int, IgniteType]]] = {}
        self._by_type_id: dict[int, type] = {}

    def register(
        self,
        cls: type,
        type_name: str | None = None,
        affinity_key_field: str | None = None,
        hints: Mapping[str, IgniteType] | None = None,
    ) -> BinaryType:
        """Remember ``cls`` and return the metadata to register with the cluster."""
        if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
            raise TypeError(f"{cls!r} is not a dataclass")
        names = [field.name for field in dataclasses.fields(cls)]
        field_hints: dict[str | int, IgniteType] = {}
        for name, hint in (hints or {}).items():
            field_hints[name] = hint
        unknown = set(field_hints) - set(names)
        if unknown:
            raise ValueError(f"hints name fields {sorted(unknown)} that {cls.__name__} lacks")
        if affinity_key_field is not None and affinity_key_field not in names:
            raise ValueError(f"{cls.__name__} has no field {affinity_key_field!r}")
        type_name = type_name or f"{cls.__module__}.{cls.__qualname__}"
        annotations = typing.get_type_hints(cls)
        fields = [
            BinaryField(
                name,
                int(field_hints[name]) if name in field_hints else _field_type(annotations[name]),
            )
            for name in names
        ]
        binary_type = BinaryType.of(type_name, fields, affinity_key_field=affinity_key_field)
        self._by_class[cls] = (type_name, field_hints)
        self._by_type_id[binary_type.type_id] = cls
        return binary_type

    def __bool__(self) -> bool:
        return bool(self._by_class)

    def to_wire(self, value: Any) -> Any:
        """A registered dataclass instance as a ComplexObject; anything else unchanged."""
        known = self._by_class.get(type(value))
        if known is None:
            return value
        type_name, hints = known
        fields: dict[str | int, Any] = {
            field.name: self.to_wire(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
        return ComplexObject(type_name, fields, field_hints=hints)

    def from_wire(self, value: Any) -> Any:
        """A ComplexObject of a registered type as its dataclass; anything else unchanged."""
        if not isinstance(value, ComplexObject):
            return value
        cls = self._by_type_id.get(value.type_id)
        if cls is None:
            return value
        return cls(**{str(name): self.from_wire(item) for name, item in value.values().items()})
