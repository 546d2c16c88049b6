"""Java ``String.hashCode`` and the ids derived from it.

Cache ids, binary type ids, field ids, schema ids and the hash a binary
object stores in its header. Shared by ``protocol`` (it writes these ids)
and the placement code (it hashes with them).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import mul

__all__ = [
    "binary_object_hash",
    "cache_id",
    "field_id",
    "java_lower",
    "schema_id",
    "string_hash",
    "to_int32",
    "type_id",
]

_MASK32 = 0xFFFFFFFF
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193

# _POWERS[i] = 31**i mod 2**32. A Java string hash is
# sum(unit[i] * 31**(n-1-i)): a dot product of the reversed units with this
# table, which map/sum evaluate in C.
_TABLE_SIZE = 4096
_POWERS: tuple[int, ...] = tuple(pow(31, i, 1 << 32) for i in range(_TABLE_SIZE))
_CHUNK_FACTOR = pow(31, _TABLE_SIZE, 1 << 32)
_SHORT = 40  # below this length the Horner loop beats the table (measured)


def to_int32(value: int) -> int:
    """Wrap an integer to a signed 32-bit value, as Java ``(int)`` does."""
    value &= _MASK32
    return value - 0x100000000 if value & 0x80000000 else value


def _units(text: str) -> bytes | memoryview:
    """The UTF-16 code units of ``text`` (as Java stores it), iterable as ints."""
    if text.isascii():
        return text.encode("ascii")
    # surrogatepass keeps lone surrogates, which Java strings may contain.
    return memoryview(text.encode("utf-16-le", "surrogatepass")).cast("H")


def _polynomial_hash(units: bytes | memoryview) -> int:
    """sum(units[i] * 31**(n-1-i)) as a signed int32 (the Java hash loop, from h=0)."""
    n = len(units)
    if n <= _TABLE_SIZE:
        return to_int32(sum(map(mul, reversed(units), _POWERS)))
    total = 0
    for start in range(0, n, _TABLE_SIZE):
        chunk = units[start : start + _TABLE_SIZE]
        factor = _CHUNK_FACTOR if len(chunk) == _TABLE_SIZE else _POWERS[len(chunk)]
        total = (total * factor + sum(map(mul, reversed(chunk), _POWERS))) & _MASK32
    return to_int32(total)


def string_hash(text: str) -> int:
    """Java ``String.hashCode()``: 31-polynomial over UTF-16 code units, int32."""
    units = text.encode("ascii") if text.isascii() else _units(text)
    if len(units) <= _SHORT:
        # Short keys: a plain Horner loop on unbounded ints, masked once, is fastest.
        value = 0
        for unit in units:
            value = 31 * value + unit
    elif len(units) <= _TABLE_SIZE:
        value = sum(map(mul, reversed(units), _POWERS))
    else:
        return _polynomial_hash(units)
    value &= _MASK32
    return value - 0x100000000 if value & 0x80000000 else value


def java_lower(text: str) -> str:
    """Lower-case per UTF-16 code unit, as ``Character.toLowerCase(char)`` does.

    Python's ``str.lower`` works on code points and may change the length
    (``"İ".lower()`` is two characters); Java maps each char to one char.
    Characters outside the BMP are left as they are (Java sees two surrogates).
    """
    if text.isascii():
        return text.lower()
    out = []
    for char in text:
        lowered = _SIMPLE_LOWER.get(char) or char.lower()
        out.append(lowered if len(lowered) == 1 and ord(char) < 0x10000 else char)
    return "".join(out)


# Java's simple (one-to-one) lower-case mappings where Python's full mapping
# produces several characters.
_SIMPLE_LOWER = {"\u0130": "i"}


def type_id(name: str) -> int:
    """Binary type id of a type name (lower-case Java string hash)."""
    return string_hash(java_lower(name))


def field_id(name: str) -> int:
    """Binary field id of a field name (lower-case Java string hash)."""
    return string_hash(java_lower(name))


def cache_id(name: str) -> int:
    """Cache id: Java ``String.hashCode()`` of the cache name, case preserved."""
    return string_hash(name)


def schema_id(field_ids: Iterable[int]) -> int:
    """FNV-1 over the field ids (little-endian bytes, in field order); 0 if none."""
    schema = _FNV_OFFSET
    seen = False
    for fid in field_ids:
        seen = True
        fid &= _MASK32
        for shift in (0, 8, 16, 24):
            schema ^= (fid >> shift) & 0xFF
            schema = (schema * _FNV_PRIME) & _MASK32
    return to_int32(schema) if seen else 0


def binary_object_hash(data: bytes | bytearray | memoryview) -> int:
    """Hash Ignite stores in a binary object header: ``Arrays.hashCode(byte[])``.

    ``data`` is the object's field area (and raw data), header and footer
    excluded. Bytes count as signed Java bytes; the hash starts at 1.
    """
    signed = memoryview(data).cast("B").cast("b")
    return to_int32(pow(31, len(signed), 1 << 32) + _polynomial_hash(signed))
