"""Java ``String.hashCode`` and the ids derived from it.

Cache ids, binary type ids, field ids, schema ids and the hash a binary
object stores in its header. Shared by ``protocol`` (it writes these ids)
and the placement code (it hashes with them).

``string_hash`` and ``binary_object_hash`` are the C functions of the
optional ``_speedups`` extension when it was built (``ACCELERATED``), else
the pure-Python ``python_string_hash`` and ``python_binary_object_hash``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import mul

__all__ = [
    "ACCELERATED",
    "binary_object_hash",
    "cache_id",
    "field_id",
    "java_lower",
    "python_binary_object_hash",
    "python_string_hash",
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


def _compute_string_hash(text: str) -> int:
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


# A bounded memo of recent short strings: routing hashes the same hot keys over
# and over, and a dict hit is ~10x cheaper than the pure-Python hash loop. Two
# generations: when the young one is full it becomes the old one (one reference
# swap, safe without locks), so at most 2 * _MEMO_SIZE strings are held and a
# key used since the last swap survives the next one.
_MEMO_SIZE = 8192
_MEMO_MAX_LENGTH = 64
_young: dict[str, int] = {}
_old: dict[str, int] = {}


def python_string_hash(text: str) -> int:
    """Java ``String.hashCode()``: 31-polynomial over UTF-16 code units, int32 (pure Python)."""
    global _young, _old
    value = _young.get(text)
    if value is not None:
        return value
    value = _old.get(text)
    if value is None:
        value = _compute_string_hash(text)
        if len(text) > _MEMO_MAX_LENGTH:
            return value
    if len(_young) >= _MEMO_SIZE:
        _old, _young = _young, {}
    _young[text] = value
    return value


def java_lower(text: str) -> str:
    """Lower-case per UTF-16 code unit, as JDK 17's ``Character.toLowerCase(char)`` does.

    Python's ``str.lower`` works on code points and may change the length
    (``"İ".lower()`` is two characters); Java maps each char to one char.
    Characters outside the BMP are left as they are (Java sees two surrogates).
    Python 3.11 knows Unicode 14, JDK 17 Unicode 13: the few upper-case letters
    Unicode 14 added keep their case here, as they do on the server.
    """
    if text.isascii():
        return text.lower()
    out = []
    for char in text:
        lowered = _JDK_LOWER.get(char) or char.lower()
        out.append(lowered if len(lowered) == 1 and ord(char) < 0x10000 else char)
    return "".join(out)


# Where JDK 17's simple one-to-one Character.toLowerCase differs from Python's
# per-character str.lower: U+0130 maps to one char in Java (Python gives two),
# and letters new in Unicode 14 (unknown to JDK 17) stay as they are. The
# live-JDK property test compares every BMP char.
_JDK_LOWER = {
    "\u0130": "i",
    "\u2c2f": "\u2c2f",
    "\ua7c0": "\ua7c0",
    "\ua7d0": "\ua7d0",
    "\ua7d6": "\ua7d6",
    "\ua7d8": "\ua7d8",
}


def _checked_id(kind: str, name: str) -> int:
    if not isinstance(name, str):
        raise TypeError(f"a {kind} name must be a str, got {type(name).__name__}")
    value = string_hash(java_lower(name))
    if value == 0:
        # BinaryBasicIdMapper throws for a zero id: it means "not set" in the format.
        raise ValueError(
            f"{kind} name {name!r} has id 0, which Ignite refuses (BinaryBasicIdMapper): "
            f"use another {kind} name"
        )
    return value


def type_id(name: str) -> int:
    """Binary type id of a type name (lower-case Java string hash); 0 is refused."""
    return _checked_id("type", name)


def field_id(name: str) -> int:
    """Binary field id of a field name (lower-case Java string hash); 0 is refused."""
    return _checked_id("field", name)


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


def python_binary_object_hash(data: bytes | bytearray | memoryview) -> int:
    """Hash Ignite stores in a binary object header: ``Arrays.hashCode(byte[])`` (pure Python).

    ``data`` is the object's field area (and raw data), header and footer
    excluded. Bytes count as signed Java bytes; the hash starts at 1.
    """
    signed = memoryview(data).cast("B").cast("b")
    return to_int32(pow(31, len(signed), 1 << 32) + _polynomial_hash(signed))


# The C string hash of a key never seen before is quicker than a hit in the pure-Python
# memo (27 vs 42 ns at 8 characters, 44 vs 63 ns at 64), so with it there is no memo.
string_hash: Callable[[str], int]
binary_object_hash: Callable[[bytes | bytearray | memoryview], int]
try:
    from ignite_router.affinity._speedups import bytes_hash as _c_bytes_hash
    from ignite_router.affinity._speedups import string_hash as _c_string_hash
except ImportError:  # built without a C compiler
    ACCELERATED = False
    string_hash = python_string_hash
    binary_object_hash = python_binary_object_hash
else:
    ACCELERATED = True
    string_hash = _c_string_hash
    binary_object_hash = _c_bytes_hash
