"""``ComplexObject``: the Python value of a binary object (code 0x67, ``GridBinaryMarshaller``).

Constants for the header flags live here too, shared by the object writer,
reader and skipper.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from operator import is_
from typing import Any

from ignite_router.affinity.ids import field_id, schema_id, type_id
from ignite_router.affinity.types import IgniteType, split_hint
from ignite_router.protocol.errors import ProtocolError

USER_TYPE = 0x0001
HAS_SCHEMA = 0x0002
HAS_RAW_DATA = 0x0004
OFFSET_ONE_BYTE = 0x0008
OFFSET_TWO_BYTES = 0x0010
COMPACT_FOOTER = 0x0020

HEADER_SIZE = 24
PROTOCOL_VERSION = 1


class ComplexObject:
    """A binary object: type, ordered named fields, optional raw data.

    ``fields`` maps field names (or, for objects decoded without metadata, the
    int field ids) to values; a value may be a ``(value, hint)`` tuple, and
    ``field_hints`` can hold hints separately (decoded objects record the type
    code of every non-null field there, so re-encoding keeps INT as INT).

    ``hash_code`` is the hash in the header: set by decoding, and by every
    encoding (``affinity`` routes complex keys by it). The bytes of the last
    encoding or decoding are kept; writing an object whose fields, hints,
    type and footer style are unchanged (same objects, by identity) copies
    them verbatim. After mutating a nested value in place, call
    :meth:`invalidate`.
    """

    ignite_type_code = IgniteType.COMPLEX_OBJECT

    __slots__ = (
        "_encoded",
        "_snapshot",
        "compact_footer",
        "field_hints",
        "fields",
        "hash_code",
        "raw_data",
        "type_id",
        "type_name",
    )

    def __init__(
        self,
        type_name: str | None = None,
        fields: Mapping[str | int, Any] | Iterable[tuple[str | int, Any]] | None = None,
        *,
        type_id: int | None = None,
        field_hints: Mapping[str | int, IgniteType] | None = None,
        raw_data: bytes | None = None,
        compact_footer: bool = True,
    ) -> None:
        if type_id is None:
            if not isinstance(type_name, str):
                raise TypeError("ComplexObject needs a type_name (str) or an explicit type_id")
            type_id = _type_id_of(type_name)
        self.type_name = type_name
        self.type_id = type_id
        self.fields: dict[str | int, Any] = dict(fields or {})
        self.field_hints: dict[str | int, IgniteType] = dict(field_hints or {})
        self.raw_data = raw_data
        self.compact_footer = compact_footer
        self.hash_code: int | None = None
        self._encoded: bytes | None = None
        self._snapshot: tuple | None = None

    # -- identity -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ComplexObject):
            return NotImplemented
        return (
            self.type_id == other.type_id
            and self.values() == other.values()
            and (self.raw_data or b"") == (other.raw_data or b"")
        )

    def __hash__(self) -> int:
        # Consistent with __eq__ (type id + values, order-insensitive); unhashable
        # values (lists, dicts) contribute only their type. Do not mutate keys.
        return hash((self.type_id, frozenset(_hashable_items(self.values()))))

    def __repr__(self) -> str:
        name = self.type_name if self.type_name is not None else self.type_id
        return f"ComplexObject({name!r}, {self.values()!r})"

    def __getitem__(self, name: str | int) -> Any:
        return split_hint(self.fields[name])[0]

    def values(self) -> dict[str | int, Any]:
        """Field values with hints stripped."""
        return {name: split_hint(value)[0] for name, value in self.fields.items()}

    # -- ids ------------------------------------------------------------------

    def field_ids(self) -> tuple[int, ...]:
        """Field ids in field order (names hashed by ``BinaryBasicIdMapper``, int keys as is)."""
        return schema_of(tuple(self.fields))[0]

    @property
    def schema_id(self) -> int:
        """FNV-1 schema id of the field ids in order (0 without fields)."""
        return schema_of(tuple(self.fields))[1]

    def hint_for(self, name: str | int) -> IgniteType | None:
        """The explicit hint of a field (tuple hint first, then ``field_hints``)."""
        hint = split_hint(self.fields[name])[1]
        return hint if hint is not None else self.field_hints.get(name)

    # -- cached encoding ------------------------------------------------------

    @property
    def encoded(self) -> bytes | None:
        """Bytes of the last encoding/decoding if the object has not changed since."""
        return self._encoded if self._encoded is not None and self._unchanged() else None

    def invalidate(self) -> None:
        """Forget the cached bytes (after an in-place change of a nested value)."""
        self._encoded = None
        self._snapshot = None

    def remember_encoding(self, data: bytes, hash_code: int) -> None:
        """Record the bytes this object was encoded to or decoded from."""
        self.hash_code = hash_code
        self._encoded = data
        self._snapshot = self._state()

    def _state(self) -> tuple:
        fields = self.fields
        return (
            self.type_id,
            self.compact_footer,
            self.raw_data,
            tuple(fields),
            tuple(fields.values()),
            dict(self.field_hints),
        )

    def _unchanged(self) -> bool:
        snapshot = self._snapshot
        if snapshot is None:
            return False
        type_id_, compact, raw, names, values, hints = snapshot
        fields = self.fields
        return (
            type_id_ == self.type_id
            and compact == self.compact_footer
            and raw is self.raw_data
            and len(values) == len(fields)
            and all(map(is_, values, fields.values()))
            and names == tuple(fields)
            and hints == self.field_hints
        )


def _hashable_items(values: dict[str | int, Any]) -> Iterator[tuple[str | int, Any]]:
    for name, value in values.items():
        try:
            hash(value)
        except TypeError:
            value = type(value).__name__
        yield name, value


# Names repeat constantly (every object of a type has the same field names).
_type_id_of = lru_cache(maxsize=4096)(type_id)


@lru_cache(maxsize=4096)
def schema_of(names: tuple[str | int, ...]) -> tuple[tuple[int, ...], int]:
    """Field ids and schema id of a field layout (int names are field ids already)."""
    ids = tuple(name if isinstance(name, int) else field_id(name) for name in names)
    return ids, schema_id(ids)


class UnknownSchemaError(ProtocolError):
    """A compact-footer object whose schema the registry does not know.

    Compact footers hold only offsets; the field order comes from binary type
    metadata (OP_BINARY_TYPE_GET, 3002). Fetch the type with ``type_id``, add
    it to the registry and decode again.
    """

    def __init__(self, type_id: int, schema_id: int, offset: int) -> None:
        self.type_id = type_id
        self.schema_id = schema_id
        self.offset = offset
        super().__init__(
            f"complex object at offset {offset} has a compact footer but schema {schema_id} "
            f"of type {type_id} is not in the registry (fetch it with OP_BINARY_TYPE_GET)"
        )
