"""Run one test body against both shells: ``Client`` and ``AioClient``.

``Shell.do(x)`` returns ``x`` for the blocking client and the awaited result
for the asyncio client, whose event loop runs in a background thread; so a
test is written once, as plain calls wrapped in ``do(...)``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ignite_router import AioClient, Client

SHELLS = ("sync", "async")


class Shell:
    """A connected client of one kind and a way to get plain results from it."""

    def __init__(self, kind: str, client: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        self.kind = kind
        self.client = client
        self.loop = loop

    def do(self, value: Any) -> Any:
        if self.loop is None:
            return value
        return asyncio.run_coroutine_threadsafe(_await(value), self.loop).result(timeout=60)

    def rows(self, cursor: Any) -> list[Any]:
        """Every row of a cursor."""
        if self.loop is None:
            return list(cursor)

        async def collect() -> list[Any]:
            return [row async for row in cursor]

        return self.do(collect())


async def _await(value: Any) -> Any:
    return await value


@contextmanager
def connected(kind: str, endpoints: list[tuple[str, int]], **options: Any) -> Iterator[Shell]:
    """A client of ``kind`` ("sync" or "async") connected to ``endpoints``."""
    options.setdefault("timeout", 2.0)
    if kind == "sync":
        client = Client(**options)
        client.connect(endpoints)
        try:
            yield Shell(kind, client, None)
        finally:
            client.close()
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-aio-client", daemon=True)
    thread.start()
    try:
        client = AioClient(**options)
        shell = Shell(kind, client, loop)
        shell.do(client.connect(endpoints))
        try:
            yield shell
        finally:
            shell.do(client.close())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
