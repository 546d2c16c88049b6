"""``Session``: what the step builders use of a client, and nothing more.

The step builders (``ClientSteps``, ``CacheSteps``, cursor and transaction
states) encode requests, say how to route them and how to decode the
answers; they hold a session, never a client, so nothing below the facades
calls up into a shell. Running a step is the facades' business.
"""

from __future__ import annotations

from ignite_router.binary import DataclassRegistry
from ignite_router.core.engine import ClientCore
from ignite_router.errors import ConnectionLostError
from ignite_router.protocol import ProtocolContext

__all__ = ["Session"]


class Session:
    """A client's core (routing, request ids, binary types) and value codec (dataclasses)."""

    __slots__ = ("codec", "core")

    def __init__(self, core: ClientCore, codec: DataclassRegistry) -> None:
        self.core = core
        self.codec = codec

    def context(self) -> ProtocolContext:
        """The protocol negotiated with the cluster (after the first handshake)."""
        context = self.core.context
        if context is None:
            raise ConnectionLostError("not connected: call connect() first")
        return context
