"""The client's sans-I/O core: every decision, no sockets, no event loop, no clock reads.

``Client`` (blocking sockets) and ``AioClient`` (asyncio) drive the same
:class:`~ignite_router.core.engine.ClientCore`; they only move bytes and pass
the time in.
"""
