"""Object and enum arrays (type codes 23 and 29): ``(component type id, items)``."""

from __future__ import annotations

from typing import Any

from ignite_router.affinity.types import IgniteType

DEFAULT_COMPONENT_TYPE_ID = -1  # java.lang.Object

_ARRAY_TYPES = (IgniteType.OBJECT_ARRAY, IgniteType.ENUM_ARRAY)


class ObjectArray(tuple[int, list[Any]]):
    """``Object[]`` / ``Enum[]``: the component type id and the items.

    A tuple ``(type_id, items)``: it equals pyignite's ``(type_id, items)``
    (type id -1 is ``java.lang.Object``, pyignite's ``ObjectArrayObject.OBJECT``)
    and is how the reader returns every object and enum array. Writing a plain
    list gives an object array with type id -1, so this is only needed to
    keep another component type, e.g. ``MyEnum[]`` sent by Java. A component
    type id of 0 means "unregistered": ``class_name`` then names the Java class.
    """

    class_name: str | None
    array_type: IgniteType

    def __new__(
        cls,
        type_id: int,
        items: Any = (),
        class_name: str | None = None,
        array_type: IgniteType = IgniteType.OBJECT_ARRAY,
    ) -> ObjectArray:
        if array_type not in _ARRAY_TYPES:
            raise ValueError(f"ObjectArray is OBJECT_ARRAY or ENUM_ARRAY, not {array_type!r}")
        if type_id == 0 and class_name is None:
            raise ValueError("component type id 0 needs a class_name")
        self = super().__new__(cls, (type_id, items))
        self.class_name = class_name
        self.array_type = array_type
        return self

    @property
    def type_id(self) -> int:
        return self[0]

    @property
    def items(self) -> list[Any]:
        return self[1]

    @property
    def ignite_type_code(self) -> int:
        """Type code the shared mapping (``affinity.types.resolve``) reads."""
        return self.array_type

    def __getnewargs__(self) -> tuple[Any, ...]:
        return self[0], self[1], self.class_name, self.array_type

    def __repr__(self) -> str:
        extra = f", class_name={self.class_name!r}" if self.class_name is not None else ""
        if self.array_type is not IgniteType.OBJECT_ARRAY:
            extra += f", array_type={self.array_type.name}"
        return f"ObjectArray(type_id={self[0]}, items={self[1]!r}{extra})"


def tagged_array(value: Any) -> ObjectArray | None:
    """An :class:`ObjectArray`, or pyignite's ``(type_id, items)`` tuple as one; else None."""
    if isinstance(value, ObjectArray):
        return value
    if (
        type(value) is tuple
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], list | tuple)
        and value[0] != 0
    ):
        return ObjectArray(value[0], value[1])
    return None
