"""Length-prefixed frames (``ClientListenerNioListener``): ``i32 length`` + payload bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ignite_router.protocol.errors import ProtocolError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "LENGTH", "FrameDecoder", "frame"]

LENGTH = struct.Struct("<i")
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024


def frame(payload: bytes | bytearray | memoryview) -> bytes:
    """``payload`` with its length prefix."""
    return LENGTH.pack(len(payload)) + bytes(payload)


class FrameDecoder:
    """Incremental frame splitter: feed chunks of any size, iterate complete payloads.

    ``feed`` buffers the data at once (even if the returned iterator is never
    consumed) and yields every payload that is complete, in order, as
    ``bytes``. A declared length that is not positive or exceeds
    ``max_frame_size`` raises :class:`ProtocolError` when the iterator
    reaches it (after the frames before it), before anything is allocated for
    it; the decoder stays broken afterwards, as the stream has lost its
    framing. Consumed bytes are dropped once per ``feed``, so cost stays
    linear whatever the chunking.
    """

    __slots__ = ("_buffer", "_error", "_start", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if max_frame_size <= 0:
            raise ValueError(f"max_frame_size must be positive, got {max_frame_size}")
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._start = 0  # first byte not yet handed out
        self._error: ProtocolError | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Add ``data``; returns an iterator over the payloads now complete."""
        if self._start:
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data
        return self._frames()

    def _frames(self) -> Iterator[bytes]:
        buffer = self._buffer
        unpack = LENGTH.unpack_from
        limit = self.max_frame_size
        while self._error is None:
            start = self._start
            if len(buffer) - start < 4:
                return
            (length,) = unpack(buffer, start)
            if length <= 0 or length > limit:
                self._error = ProtocolError(f"frame length {length} outside (0, {limit}]")
                break
            stop = start + 4 + length
            if stop > len(buffer):
                return
            self._start = stop
            yield bytes(buffer[start + 4 : stop])
        raise self._error

    def single(self, data: bytes | bytearray | memoryview) -> bytes | None:
        """The payload when nothing is pending and ``data`` is exactly one whole frame.

        Then the frame need not pass through the buffer; otherwise None, and
        ``data`` must be fed as usual.
        """
        if len(data) < 4 or self._error is not None or len(self._buffer) != self._start:
            return None
        (length,) = LENGTH.unpack_from(data, 0)
        if 0 < length <= self.max_frame_size and len(data) == 4 + length:
            return bytes(data[4:])
        return None

    @property
    def pending(self) -> int:
        """Bytes received that do not form a complete frame yet."""
        return len(self._buffer) - self._start
