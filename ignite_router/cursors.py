"""Cursors over paged results (scan, SQL fields): one state machine, two facades.

``CursorState`` builds the page steps and buffers the rows; ``Cursor``
(``next()``, ``for``, ``with``) runs them with the blocking client,
``AioCursor`` (``await``, ``anext()``, ``async for``, ``async with``) with
asyncio, as pyignite's cursors do. The first page goes wherever the query
is routed; the later pages must go to the node that holds the cursor (no
failover: the cursor lives there). A scan that failed before yielding any
row is simply sent again by the core's failover; once rows were handed
out, a lost cursor is an error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Generator
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
    from ignite_router.session import Session

__all__ = ["AioCursor", "Cursor", "CursorState", "ScanCursorState", "SqlFieldsCursorState"]


class CursorState:
    """Pages of one server-side cursor: ``fetch()`` gives the step that reads the next page
    into ``rows`` (None when none is left); ``close()`` the step that frees the cursor."""

    page_op: int

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cursor_id: int | None = None
        self.node: Node | None = None
        self.more = True
        self.fetched = False  # the first page is in
        self.rows: deque[Any] = deque()

    @property
    def open(self) -> bool:
        """The server holds pages of this cursor that were not read."""
        return self.fetched and self.more and self.cursor_id is not None

    def fetch(self) -> Step | None:
        if not self.fetched:
            return self.first()
        return self.next() if self.open else None

    def first(self) -> Step:
        raise NotImplementedError

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        raise NotImplementedError

    def convert(self, rows: list[Any]) -> list[Any]:
        """Rows with registered dataclasses' objects as instances."""
        raise NotImplementedError

    def next(self) -> Step:
        core = self.session.core
        frame = bytearray()
        encode_resource_request(frame, self.page_op, core.next_request_id(), self.cursor_id)  # type: ignore[arg-type]
        request = Request("cursor_page", frame, self.decode_next, node=self.node)
        rows = yield from core.execute(request)
        self.rows.extend(self.convert(rows))

    def close(self) -> Step:
        """Free the server cursor if pages are left (OP_RESOURCE_CLOSE)."""
        cursor_id = self.cursor_id
        if not self.open or cursor_id is None:
            return None
        self.more = False
        core = self.session.core
        frame = bytearray()
        encode_resource_request(frame, OpCode.RESOURCE_CLOSE, core.next_request_id(), cursor_id)
        yield from core.execute(Request("close_cursor", frame, answers.nothing, node=self.node))
        return None


class ScanCursorState(CursorState):
    """OP_QUERY_SCAN (2000) and its pages (2001); a partition scan goes to its primary."""

    page_op = OpCode.QUERY_SCAN_CURSOR_GET_PAGE

    def __init__(
        self, session: Session, target: CacheTarget, page_size: int, partition: int, local: bool
    ) -> None:
        super().__init__(session)
        self.target = target
        self.page_size = page_size
        self.partition = partition
        self.local = local

    def first(self) -> Step:
        core = self.session.core
        frame = bytearray()
        scan = ScanRequest(self.target, self.page_size, self.partition, self.local)
        encode_scan_request(frame, self.session.context(), core.next_request_id(), scan)
        request = Request(
            "scan",
            frame,
            lambda view, pos: decode_scan_page(view, pos, True, core.types),
            cache_id=self.target.cache_id,
            partition=self.partition if self.partition >= 0 else None,
        )
        page = yield from core.execute(request)
        self.node = request.answered_by
        self.cursor_id = page.cursor_id
        self.more = page.more
        self.fetched = True
        self.rows.extend(self.convert(page.rows))

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        page = decode_scan_page(view, pos, False, self.session.core.types)
        self.more = page.more
        return page.rows

    def convert(self, rows: list[Any]) -> list[Any]:
        codec = self.session.codec
        if not codec:
            return rows
        return [(codec.from_wire(key), codec.from_wire(value)) for key, value in rows]


class SqlFieldsCursorState(CursorState):
    """OP_QUERY_SQL_FIELDS (2004) and its pages (2005); rows are lists of field values.

    With ``include_field_names`` the first row is the list of names, as in pyignite.
    """

    page_op = OpCode.QUERY_SQL_FIELDS_CURSOR_GET_PAGE

    def __init__(self, session: Session, query: SqlFieldsQuery) -> None:
        super().__init__(session)
        self.query = query
        self.field_count = 0

    def first(self) -> Step:
        core = self.session.core
        frame = bytearray()
        encode_sql_fields_request(frame, self.session.context(), core.next_request_id(), self.query)

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
        self.fetched = True
        if self.query.include_field_names:
            self.rows.append(page.field_names)
        self.rows.extend(self.convert(page.rows))

    def decode_next(self, view: memoryview, pos: int) -> list[Any]:
        page, _ = decode_sql_fields_page(
            view, pos, first=False, field_count=self.field_count, registry=self.session.core.types
        )
        self.more = page.more
        return page.rows

    def convert(self, rows: list[Any]) -> list[Any]:
        codec = self.session.codec
        if not codec:
            return rows
        return [[codec.from_wire(value) for value in row] for row in rows]


class Cursor:
    """Rows of a scan or SQL query (blocking): ``next(cursor)``, ``for row in cursor``;
    ``with cursor:`` frees the server-side cursor when left early. The query runs when the
    cursor is made (the first page is read), as in pyignite."""

    def __init__(self, run: Callable[[Step], Any], state: CursorState) -> None:
        self._run = run
        self._state = state
        first = state.fetch()
        if first is not None:
            run(first)

    @property
    def cursor_id(self) -> int | None:
        return self._state.cursor_id

    @property
    def more(self) -> bool:
        """Whether the server has more pages."""
        return self._state.more

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Any:
        state = self._state
        while not state.rows:
            step = state.fetch()
            if step is None:
                raise StopIteration
            self._run(step)
        return state.rows.popleft()

    def close(self) -> None:
        """Free the server-side cursor if it has pages left."""
        if self._state.open:
            self._run(self._state.close())

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AioCursor:
    """Rows of a scan or SQL query (asyncio): ``await cursor`` (or ``async with``) runs the
    query; ``async for``, ``anext(cursor)`` and ``await cursor.__anext__()`` read rows
    (running the query first if needed); leaving ``async with`` frees the cursor."""

    def __init__(self, run: Callable[[Step], Awaitable[Any]], state: CursorState) -> None:
        self._run = run
        self._state = state

    @property
    def cursor_id(self) -> int | None:
        return self._state.cursor_id

    @property
    def more(self) -> bool:
        """Whether the server has more pages."""
        return self._state.more

    def __await__(self) -> Generator[Any, None, AioCursor]:
        return self._start().__await__()

    async def _start(self) -> AioCursor:
        if not self._state.fetched:
            step = self._state.fetch()
            if step is not None:
                await self._run(step)
        return self

    def __aiter__(self) -> AioCursor:
        return self

    async def __anext__(self) -> Any:
        state = self._state
        while not state.rows:
            step = state.fetch()
            if step is None:
                raise StopAsyncIteration
            await self._run(step)
        return state.rows.popleft()

    async def close(self) -> None:
        """Free the server-side cursor if it has pages left."""
        if self._state.open:
            await self._run(self._state.close())

    async def __aenter__(self) -> AioCursor:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
