"""Already-encoded values that the writer copies verbatim."""

from __future__ import annotations


class RawValue:
    """One complete typed value in wire form (type code first).

    ``write_value`` appends ``data`` as it is, wherever a value is accepted
    (top level, collection element, map entry, complex-object field). The
    bytes are not re-validated: pass what ``skip_value`` delimited or what the
    writer produced. A ``memoryview`` is kept as a view, so do not reuse the
    buffer it points into while the RawValue is alive.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"RawValue needs bytes or a memoryview, got {type(data).__name__}")
        if len(data) == 0:
            raise ValueError("RawValue needs at least the type-code byte")
        self.data = data

    @property
    def type_code(self) -> int:
        """The Ignite type code (first byte)."""
        return self.data[0]

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawValue):
            return NotImplemented
        return bytes(self.data) == bytes(other.data)

    def __hash__(self) -> int:
        return hash(bytes(self.data))

    def __repr__(self) -> str:
        return f"RawValue({bytes(self.data).hex(' ')})"
