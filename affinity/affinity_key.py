"""A key's partitioning hash, affinity fields included (``CacheDefaultBinaryAffinityKeyMapper``).

For a binary object whose type has an affinity key field (from the cache's
key configuration, else from the binary type metadata) the server hashes the
value of that field; otherwise the key itself. Both the client's router and
``LocalCluster`` call :func:`affinity_hash`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ignite_router.affinity.ids import field_id
from ignite_router.affinity.javahash import java_hash
from ignite_router.affinity.types import IgniteType

__all__ = ["AffinityFieldLookup", "BinaryKey", "affinity_hash"]

AffinityFieldLookup = Callable[[int], "int | None"]
"""Type id -> field id of its affinity key field, or None."""


class BinaryKey(Protocol):
    """What a binary-object key must offer (``protocol.values.ComplexObject`` does)."""

    type_id: int
    hash_code: int | None
    fields: Mapping[str | int, Any]

    def hint_for(self, name: str | int) -> IgniteType | None: ...


def _plain(value: Any) -> Any:
    if type(value) is tuple and len(value) == 2 and isinstance(value[1], IgniteType):
        return value[0]
    return value


def affinity_hash(
    key: Any, hint: IgniteType | None = None, affinity_field: AffinityFieldLookup | None = None
) -> int:
    """``hashCode()`` of the object the server places ``key`` by.

    ``affinity_field`` resolves a binary type id to its affinity field id;
    when the key is a binary object with such a field and the field holds a
    non-null value, that value's hash is returned, else the key's own (for a
    binary object: the hash in its header, so encode it first).
    """
    if affinity_field is not None and getattr(key, "ignite_type_code", None) is (
        IgniteType.COMPLEX_OBJECT
    ):
        wanted = affinity_field(key.type_id)
        if wanted is not None:
            for name, value in key.fields.items():
                if (name if isinstance(name, int) else field_id(name)) == wanted:
                    plain = _plain(value)
                    if plain is not None:
                        return java_hash(plain, key.hint_for(name))
                    break
    return java_hash(key, hint)
