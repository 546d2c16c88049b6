"""Cursors over paged results (scan, SQL fields): one state machine, two ways to iterate.

The first page goes wherever the query is routed; the later pages must go
to the node that holds the cursor (no failover: the cursor lives there). A
scan that failed before yielding any row is simply sent again by the core's
failover; once rows were handed out, a lost cursor is an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ignite_router.core import answers
from ignite_router.core.engine import Request, Step
from ignite_router.core.nodes import Node
from ignite_router.protocol.messages.cache_keys import CacheTarget
from ignite_router.protocol.messages.queries import (
    ScanRequest,
    decode_scan_page,
    encode_resource_request,
    encode_scan_request,
)
from ignite_router.protocol.messages.sql import (
    SqlFieldsQuery,
    decode_sql_fields_page,
    encode_sql_fields_request,
)
from ignite_router.protocol.opcodes import OpCode

if TYPE_CHECKING:
    from ignite_router.api import ClientBase
    from ignite_router.cache import Cache

__all__ = ["Cursor", "CursorState", "ScanCursorState", "SqlFieldsCursorState"]


class CursorState:
    """Pages of one server-side cursor: ``first()``, then ``next()`` while ``more``."""

    page_op: int

    def __init__(self, client: ClientBase) -> None:
        self.client = client
        self.cursor_id: int | None = None
        self.node: Node | None = None
        self.more = True

    def first(self) -> Step:
        raise NotImplementedError

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        raise NotImplementedError

    def next(self) -> Step:
        core = self.client.core
        frame = bytearray()
        encode_resource_request(frame, self.page_op, core.next_request_id(), self.cursor_id)  # type: ignore[arg-type]
        request = Request("cursor_page", frame, self.decode_next, node=self.node)
        rows = yield from core.execute(request)
        return rows

    def close(self) -> Step:
        """Free the server cursor if pages are left (OP_RESOURCE_CLOSE)."""
        if not self.more or self.cursor_id is None:
            return None
        self.more = False
        core = self.client.core
        frame = bytearray()
        encode_resource_request(
            frame, OpCode.RESOURCE_CLOSE, core.next_request_id(), self.cursor_id
        )
        yield from core.execute(Request("close_cursor", frame, answers.nothing, node=self.node))
        return None


class ScanCursorState(CursorState):
    """OP_QUERY_SCAN (2000) and its pages (2001); a partition scan goes to its primary."""

    page_op = OpCode.QUERY_SCAN_CURSOR_GET_PAGE

    def __init__(self, cache: Cache, page_size: int, partition: int, local: bool) -> None:
        super().__init__(cache.client)
        self.cache = cache
        self.page_size = page_size
        self.partition = partition
        self.local = local

    def first(self) -> Step:
        core = self.client.core
        frame = bytearray()
        scan = ScanRequest(
            CacheTarget(self.cache.cache_id, expiry=self.cache.expiry),
            self.page_size,
            self.partition,
            self.local,
        )
        encode_scan_request(frame, self.client.context(), core.next_request_id(), scan)
        request = Request(
            "scan",
            frame,
            lambda view, pos: decode_scan_page(view, pos, True, core.types),
            cache_id=self.cache.cache_id,
            partition=self.partition if self.partition >= 0 else None,
        )
        page = yield from core.execute(request)
        self.node = request.answered_by
        self.cursor_id = page.cursor_id
        self.more = page.more
        return page.rows

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        page = decode_scan_page(view, pos, False, self.client.core.types)
        self.more = page.more
        return page.rows


class SqlFieldsCursorState(CursorState):
    """OP_QUERY_SQL_FIELDS (2004) and its pages (2005); rows are lists of field values.

    With ``include_field_names`` the first row yielded is the list of names,
    as in pyignite.
    """

    page_op = OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE

    def __init__(self, client: ClientBase, query: SqlFieldsQuery) -> None:
        super().__init__(client)
        self.query = query
        self.field_count = 0

    def first(self) -> Step:
        core = self.client.core
        frame = bytearray()
        encode_sql_fields_request(frame, self.client.context(), core.next_request_id(), self.query)

        def decode(view: memoryview, pos: int) -> Any:
            return decode_sql_fields_page(
                view,
                pos,
                first=True,
                field_names=self.query.include_field_names,
                registry=core.types,
            )

        request = Request("sql", frame, decode)
        page, self.field_count = yield from core.execute(request)
        self.node = request.answered_by
        self.cursor_id = page.cursor_id
        self.more = page.more
        if self.query.include_field_names:
            return [page.field_names, *page.rows]
        return page.rows

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        page, _ = decode_sql_fields_page(
            view, pos, first=False, field_count=self.field_count, registry=self.client.core.types
        )
        self.more = page.more
        return page.rows


class Cursor:
    """Iterate with ``for`` on a ``Client``, with ``async for`` on an ``AioClient``.

    Also a context manager (``with`` / ``async with``) that frees the
    server-side cursor when left early.
    """

    def __init__(self, client: ClientBase, state: CursorState) -> None:
        self.client = client
        self.state = state

    def __iter__(self) -> Iterator[Any]:
        run = self.client.run
        state = self.state
        try:
            yield from run(state.first())
            while state.more:
                yield from run(state.next())
        finally:
            if state.more:
                run(state.close())

    async def __aiter__(self) -> AsyncIterator[Any]:
        run = self.client.run
        state = self.state
        try:
            for row in await run(state.first()):
                yield row
            while state.more:
                for row in await run(state.next()):
                    yield row
        finally:
            if state.more:
                await run(state.close())

    def close(self) -> Any:
        return self.client.run(self.state.close())

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.state.more and self.state.cursor_id is not None:
            self.close()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.state.more and self.state.cursor_id is not None:
            await self.close()
