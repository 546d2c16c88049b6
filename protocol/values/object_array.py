"""An object or enum array that keeps a non-default component type (§5.1 codes 23, 29)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ignite_router.affinity.types import IgniteType

DEFAULT_COMPONENT_TYPE_ID = -1  # java.lang.Object

_ARRAY_TYPES = (IgniteType.OBJECT_ARRAY, IgniteType.ENUM_ARRAY)


@dataclass(slots=True)
class ObjectArray:
    """``Object[]`` / ``Enum[]`` with an explicit component type id.

    Plain lists already encode as OBJECT_ARRAY with component type id -1;
    this wrapper is only needed (and only produced by the reader) when the
    component type is something else, e.g. ``MyEnum[]`` sent by Java. A
    component type id of 0 means "unregistered": ``class_name`` then names
    the Java class.
    """

    type_id: int
    items: list[Any] = field(default_factory=list)
    class_name: str | None = None
    array_type: IgniteType = IgniteType.OBJECT_ARRAY

    def __post_init__(self) -> None:
        if self.array_type not in _ARRAY_TYPES:
            raise ValueError(f"ObjectArray is OBJECT_ARRAY or ENUM_ARRAY, not {self.array_type!r}")
        if self.type_id == 0 and self.class_name is None:
            raise ValueError("component type id 0 needs a class_name")

    @property
    def ignite_type_code(self) -> int:
        """Type code the shared mapping (``affinity.types.resolve``) reads."""
        return self.array_type
