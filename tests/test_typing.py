"""The public API is typed: ``mypy --strict`` on a user's script sees precise types on both
clients and reports a missing ``await`` on the asyncio one.

The script below is checked from a temporary directory against the installed package (the
editable install is strict-mode, so mypy reads ``ignite_router`` as a typed library, as a
user's project would). Each line marked ``# reveal: T`` must reveal type ``T`` and each line
marked ``# error: code`` must be reported with that error code; nothing else may be reported.
The expected types are the API's specification (cached values stay ``Any``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import dataclasses

from ignite_router import AioCache, AioClient, Cache, Client


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


def blocking(client: Client) -> None:
    reveal_type(client.connect("127.0.0.1:10800"))  # reveal: ignite_router.client.Client
    cache = client.get_or_create_cache("points")
    reveal_type(cache)  # reveal: ignite_router.cache.Cache
    reveal_type(client.create_cache("other"))  # reveal: ignite_router.cache.Cache
    reveal_type(client.get_cache("other"))  # reveal: ignite_router.cache.Cache
    reveal_type(client.get_cache_names())  # reveal: list[str]
    reveal_type(cache.get(1))  # reveal: Any
    reveal_type(cache.get_all([1]))  # reveal: dict[Any, Any]
    reveal_type(cache.contains_key(1))  # reveal: bool
    reveal_type(cache.contains_keys([1]))  # reveal: bool
    reveal_type(cache.put_if_absent(1, 2))  # reveal: bool
    reveal_type(cache.replace_if_equals(1, 2, 3))  # reveal: bool
    reveal_type(cache.remove_key(1))  # reveal: bool
    reveal_type(cache.get_and_put(1, 2))  # reveal: Any
    reveal_type(cache.get_size())  # reveal: int
    reveal_type(cache.settings)  # reveal: dict[int, Any]
    reveal_type(cache.local_peek(1))  # reveal: Any
    reveal_type(cache.with_expire_policy(create=1000))  # reveal: ignite_router.cache.Cache
    cursor = cache.scan(page_size=10)
    reveal_type(cursor)  # reveal: ignite_router.cursors.Cursor
    reveal_type(next(cursor))  # reveal: Any
    reveal_type(client.sql("SELECT 1"))  # reveal: ignite_router.cursors.Cursor
    with client.tx_start(timeout=1000) as tx:
        reveal_type(tx)  # reveal: ignite_router.transactions.Transaction
        tx.commit()
    reveal_type(client.route(cache, 1))  # reveal: ignite_router.core.engine.Route
    reveal_type(client.get_best_node(cache, 1))  # reveal: ignite_router.client_steps.BestNode
    negotiated = client.protocol_context
    reveal_type(negotiated)  # reveal: ignite_router.protocol.context.ProtocolContext | None
    reveal_type(client.partition_awareness_supported_by_protocol)  # reveal: bool
    state = client.get_cluster().get_state()
    reveal_type(state)  # reveal: ignite_router.protocol.messages.cluster.ClusterState
    reveal_type(client.get_binary_type("Point"))  # reveal: dict[str, Any]
    reveal_type(client.put_binary_type("Other"))  # reveal: dict[str, Any]
    client.register_dataclass(Point)
    typed: Cache = cache
    count: int = typed.get_size()


async def asynchronous(client: AioClient) -> None:
    cache = await client.get_or_create_cache("points")
    reveal_type(cache)  # reveal: ignite_router.aio_cache.AioCache
    pending = client.get_cache("other")
    _ = reveal_type(pending)  # reveal: typing.Coroutine[Any, Any, ignite_router.aio_cache.AioCache]
    pending.close()
    reveal_type(await client.get_cache("other"))  # reveal: ignite_router.aio_cache.AioCache
    reveal_type(await client.get_cache_names())  # reveal: list[str]
    reveal_type(await cache.get(1, timeout=0.5))  # reveal: Any
    reveal_type(await cache.get_all([1]))  # reveal: dict[Any, Any]
    reveal_type(await cache.contains_keys([1]))  # reveal: bool
    reveal_type(await cache.get_size())  # reveal: int
    reveal_type(await cache.settings())  # reveal: dict[int, Any]
    reveal_type(cache.scan())  # reveal: ignite_router.cursors.AioCursor
    cursor = await cache.scan()
    reveal_type(cursor)  # reveal: ignite_router.cursors.AioCursor
    reveal_type(await anext(cursor))  # reveal: Any
    async for _ in cursor:
        pass
    reveal_type(await client.sql("SELECT 1"))  # reveal: ignite_router.cursors.AioCursor
    async with client.tx_start() as tx:
        reveal_type(tx)  # reveal: ignite_router.transactions.AioTransaction
        await tx.commit()
    best = await client.get_best_node("points", 1)
    reveal_type(best)  # reveal: ignite_router.client_steps.BestNode
    state = await client.get_cluster().get_state()
    reveal_type(state)  # reveal: ignite_router.protocol.messages.cluster.ClusterState
    await client.register_dataclass(Point)
    typed: AioCache = cache
    cache.put(1, 2)  # error: unused-coroutine
    client.register_dataclass(Point)  # error: unused-coroutine
    client.get_cluster().set_state(1)  # error: unused-coroutine
    found: bool = cache.contains_key(1)  # error: assignment
    size: int = typed.get_size()  # error: assignment


def construction() -> None:
    Client(compact_footer=True, use_ssl=True, ssl_ca_certfile="ca.pem", username="ignite")
    AioClient(timeout=1.0, heartbeat_interval=5.0, event_listeners=[])
    Client(bogus=1)  # error: call-arg
    AioClient(timeout="slow")  # error: arg-type

"""

MARK = re.compile(r"#\s*(reveal|error):\s*(.+?)\s*$")
REPORT = re.compile(r"^user_script\.py:(\d+): (note|error): (.*?)(?:\s+\[([\w-]+)\])?$")


def expectations() -> tuple[dict[int, str], dict[int, str]]:
    reveals: dict[int, str] = {}
    errors: dict[int, str] = {}
    for number, line in enumerate(SCRIPT.splitlines(), start=1):
        found = MARK.search(line)
        if found:
            (reveals if found.group(1) == "reveal" else errors)[number] = found.group(2)
    return reveals, errors


def test_mypy_strict_sees_the_api_types_and_missing_awaits(tmp_path: Path) -> None:
    (tmp_path / "user_script.py").write_text(SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user_script.py"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # not the repository: ignite_router is the installed, typed package
        timeout=120,
    )
    revealed: dict[int, str] = {}
    reported: dict[int, str] = {}
    other: list[str] = []
    for line in result.stdout.splitlines():
        found = REPORT.match(line)
        if found is None:
            other.append(line)
            continue
        number = int(found.group(1))
        kind, text, code = found.group(2, 3, 4)
        if kind == "note" and text.startswith("Revealed type is "):
            revealed[number] = text.removeprefix("Revealed type is ").strip('"')
        elif kind == "error":
            reported[number] = code
    reveals, errors = expectations()
    # Older mypy versions spell builtins with their module.
    revealed = {n: t.replace("builtins.", "") for n, t in revealed.items()}
    assert revealed == reveals, result.stdout
    assert reported == errors, result.stdout
    assert not [line for line in other if line.startswith("user_script.py")], result.stdout
    assert result.returncode == 1  # the marked errors, and nothing else went wrong
