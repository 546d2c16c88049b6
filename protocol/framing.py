"""Length-prefixed frames (fact sheet §1.1): ``i32 length`` + ``length`` payload bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from protocol.errors import ProtocolError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "LENGTH", "FrameDecoder"]

LENGTH = struct.Struct("<i")
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024


class FrameDecoder:
    """Incremental frame splitter: feed chunks of any size, iterate complete payloads.

    A declared length that is not positive or exceeds ``max_frame_size``
    raises :class:`ProtocolError` before anything is allocated for it.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Add ``data`` and yield every payload that is now complete."""
        buffer = self._buffer
        buffer += data
        start = 0
        end = len(buffer)
        try:
            while end - start >= 4:
                (length,) = LENGTH.unpack_from(buffer, start)
                if length <= 0 or length > self.max_frame_size:
                    raise ProtocolError(f"frame length {length} outside (0, {self.max_frame_size}]")
                stop = start + 4 + length
                if stop > end:
                    break
                yield bytes(buffer[start + 4 : stop])
                start = stop
        finally:
            # Compact once per feed, not per frame: no quadratic copying.
            if start:
                del buffer[:start]

    @property
    def pending(self) -> int:
        """Bytes received that do not form a complete frame yet."""
        return len(self._buffer)
