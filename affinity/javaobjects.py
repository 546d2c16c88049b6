"""Collections and maps as the server deserialises them: Java ``equals`` decides what collapses.

A COLLECTION or MAP key becomes a ``java.util`` collection on the server, and
its ``hashCode()`` is that of the Java object: a ``HashSet`` keeps one of every
group of elements Java considers equal (two ``Long`` 1s, two NaN ``Double``s,
two ``java.util.Date``s in the same millisecond), a ``HashMap`` keeps one entry
per equal key (the first key, the last value). Elements are added in wire
order, which matters because ``Timestamp.equals`` and ``Date.equals`` are not
symmetric: a ``Date`` added after a ``Timestamp`` of the same millisecond is a
duplicate, a ``Timestamp`` added after such a ``Date`` is not.

:class:`JavaObject` is the small model of one deserialised object that these
rules need: its class, the state its ``equals`` compares and its hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["JavaClass", "JavaObject", "java_equals", "list_object", "map_object", "set_object"]

_MASK32 = 0xFFFFFFFF


class JavaClass(Enum):
    """The class of a deserialised key part, as far as ``equals`` cares."""

    BYTE = "Byte"
    SHORT = "Short"
    INTEGER = "Integer"
    LONG = "Long"
    FLOAT = "Float"
    DOUBLE = "Double"
    CHARACTER = "Character"
    BOOLEAN = "Boolean"
    STRING = "String"
    UUID = "UUID"
    DATE = "java.util.Date"
    TIME = "java.sql.Time"
    TIMESTAMP = "java.sql.Timestamp"
    BIG_DECIMAL = "BigDecimal"
    BINARY_ENUM = "BinaryEnumObjectImpl"
    BINARY_OBJECT = "BinaryObjectImpl"
    LIST = "List"
    SET = "Set"
    MAP = "Map"


# Date.equals(o): o is any Date (Time and Timestamp included) with the same getTime().
_DATE_FAMILY = frozenset({JavaClass.DATE, JavaClass.TIME, JavaClass.TIMESTAMP})


@dataclass(frozen=True, slots=True, eq=False)
class JavaObject:
    """One deserialised object: its class, what ``equals`` compares, and ``hashCode()``.

    ``state`` per class: the boxed value for numbers (``floatToIntBits`` /
    ``doubleToLongBits`` for Float/Double, so NaNs are equal and 0.0 != -0.0),
    the str for String, ``getTime()`` for Date/Time, ``(getTime(), nanos of the
    millisecond)`` for Timestamp, ``(unscaled, scale)`` for BigDecimal,
    ``(typeId, ordinal)`` for binary enums, ``(typeId, hash, object)`` for
    binary objects, and a tuple of elements (None for null) or of
    ``(key, value)`` entries for List / Set / Map.
    """

    java_class: JavaClass
    state: Any
    hash: int


def _time_of(obj: JavaObject) -> int:
    """``getTime()`` of a Date, Time or Timestamp."""
    return obj.state[0] if obj.java_class is JavaClass.TIMESTAMP else obj.state


def _null_safe_equals(a: JavaObject | None, b: JavaObject | None) -> bool:
    if a is None or b is None:
        return a is b
    return java_equals(a, b)


def _find(entries: Iterable[JavaObject | None], key: JavaObject | None) -> int:
    """Index of the first element ``e`` with ``key.equals(e)`` (HashMap lookup), or -1."""
    for index, existing in enumerate(entries):
        if key is None or existing is None:
            if key is existing:
                return index
        elif existing.hash == key.hash and java_equals(key, existing):
            return index
    return -1


def java_equals(a: JavaObject, b: JavaObject) -> bool:
    """``a.equals(b)`` with the JDK's (and Ignite's binary classes') rules."""
    cls = a.java_class
    if cls is JavaClass.DATE or cls is JavaClass.TIME:
        # java.sql.Time inherits Date.equals.
        return b.java_class in _DATE_FAMILY and a.state == _time_of(b)
    if cls is JavaClass.TIMESTAMP:
        return b.java_class is JavaClass.TIMESTAMP and a.state == b.state
    if cls is not b.java_class:
        return False
    if cls is JavaClass.BINARY_OBJECT:
        # Same type id and header hash; the bytes (compared by Ignite) follow the values.
        return a.state[:2] == b.state[:2] and a.state[2] == b.state[2]
    if cls is JavaClass.LIST:
        return len(a.state) == len(b.state) and all(
            _null_safe_equals(x, y) for x, y in zip(a.state, b.state, strict=True)
        )
    if cls is JavaClass.SET:
        # AbstractSet.equals: same size and a.containsAll(b), i.e. e.equals(x) for some x.
        return len(a.state) == len(b.state) and all(_find(a.state, e) >= 0 for e in b.state)
    if cls is JavaClass.MAP:
        # AbstractMap.equals: same size and every entry of a found in b.
        if len(a.state) != len(b.state):
            return False
        keys = [key for key, _ in b.state]
        for key, value in a.state:
            index = _find(keys, key)
            if index < 0 or not _null_safe_equals(value, b.state[index][1]):
                return False
        return True
    return a.state == b.state


def _to_int32(value: int) -> int:
    value &= _MASK32
    return value - 0x100000000 if value & 0x80000000 else value


def list_object(elements: Iterable[JavaObject | None]) -> JavaObject:
    """An ``ArrayList`` / ``LinkedList``: ``hashCode`` folds 31·h + e over the elements."""
    items = tuple(elements)
    total = 1
    for item in items:
        total = (31 * total + (0 if item is None else item.hash)) & _MASK32
    return JavaObject(JavaClass.LIST, items, _to_int32(total))


class _HashTable:
    """Insertion-ordered keys found the way ``HashMap`` finds them: same hash, then ``equals``."""

    def __init__(self) -> None:
        self.keys: list[JavaObject | None] = []
        self._buckets: dict[int, list[int]] = {}

    def find(self, key: JavaObject | None) -> int:
        key_hash = 0 if key is None else key.hash
        for index in self._buckets.get(key_hash, ()):
            existing = self.keys[index]
            if key is None or existing is None:
                if key is existing:
                    return index
            elif java_equals(key, existing):
                return index
        return -1

    def add(self, key: JavaObject | None) -> None:
        self._buckets.setdefault(0 if key is None else key.hash, []).append(len(self.keys))
        self.keys.append(key)


def set_object(elements: Iterable[JavaObject | None]) -> JavaObject:
    """A ``HashSet`` filled in wire order: an element equal to one already there is dropped."""
    table = _HashTable()
    for element in elements:
        if table.find(element) < 0:
            table.add(element)
    total = sum(0 if item is None else item.hash for item in table.keys)
    return JavaObject(JavaClass.SET, tuple(table.keys), _to_int32(total))


def map_object(entries: Iterable[tuple[JavaObject | None, JavaObject | None]]) -> JavaObject:
    """A ``HashMap`` filled in wire order: an equal key keeps the first key, takes the new value."""
    table = _HashTable()
    values: list[JavaObject | None] = []
    for key, value in entries:
        index = table.find(key)
        if index < 0:
            table.add(key)
            values.append(value)
        else:
            values[index] = value
    total = 0
    for key, value in zip(table.keys, values, strict=True):
        total += (0 if key is None else key.hash) ^ (0 if value is None else value.hash)
    pairs = tuple(zip(table.keys, values, strict=True))
    return JavaObject(JavaClass.MAP, pairs, _to_int32(total))
