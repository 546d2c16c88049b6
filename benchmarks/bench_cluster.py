"""How many single-key operations the local cluster serves per second and per server core.

    .venv/bin/python benchmarks/bench_cluster.py [--ops 200000] [--keys 10000]

The cluster runs in its own process (``ignite-router cluster --nodes 1``: one
event loop, so at most one core) and its CPU time comes from
``/proc/<pid>/stat``. Clients:

(a) a pipelining client built from the ``protocol`` encoders: requests for
    ``--keys`` distinct keys are encoded before the clock starts and sent on
    one connection with ``WINDOW`` requests in flight, so the server, not the
    client, is the bottleneck;
    the same client with one request in flight shows the per-request cost of
    a loop wake-up;
(b) pyignite 0.6.1, synchronous and sequential (one request in flight).

Prints a Markdown table (the one in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from pyignite import Client

from ignite_router.affinity import cache_id
from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.framing import FrameDecoder
from ignite_router.protocol.handshake import (
    HandshakeRequest,
    decode_handshake_response,
    encode_handshake_request,
)
from ignite_router.protocol.messages.cache_keys import CacheTarget, encode_cache_request
from ignite_router.protocol.opcodes import OpCode

WINDOW = 64
VALUE = "v" * 100
CONTEXT = ProtocolContext(LATEST, frozenset())
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def encoded_requests(op: int, ops: int, keys: int) -> list[bytes]:
    target = CacheTarget(cache_id("bench"))
    frames = []
    for request_id in range(ops):
        buf = bytearray()
        key = request_id % keys
        args = (key, VALUE) if op == OpCode.CACHE_PUT else (key,)
        encode_cache_request(buf, CONTEXT, op, request_id, target, *args)
        frames.append(bytes(buf))
    return frames


def connect(endpoint: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(endpoint)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(encode_handshake_request(HandshakeRequest(LATEST)))
    frames = FrameDecoder()
    answers: list[bytes] = []
    while not answers:
        answers.extend(frames.feed(sock.recv(4096)))
    decode_handshake_response(answers[0], LATEST)
    return sock


def pipelined(sock: socket.socket, frames: list[bytes], window: int) -> None:
    """Send every frame with up to ``window`` in flight; read every answer."""
    decoder = FrameDecoder()
    total = len(frames)
    sent = received = 0
    while received < total:
        batch_end = min(total, received + window)
        if sent < batch_end:
            sock.sendall(b"".join(frames[sent:batch_end]))
            sent = batch_end
        for _ in decoder.feed(sock.recv(1 << 20)):
            received += 1


def measure(pid: int, run: Callable[[], None], ops: int) -> tuple[float, float]:
    cpu_before, started = server_cpu_seconds(pid), time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    cpu = server_cpu_seconds(pid) - cpu_before
    return ops / elapsed, ops / cpu if cpu > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000, help="pipelined ops per operation")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct keys")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    rows = []
    try:
        host, port = json.loads(server.stdout.readline())["endpoints"][0].rsplit(":", 1)
        endpoint = (host, int(port))
        client = Client(partition_aware=True)
        client.connect([endpoint])
        cache = client.get_or_create_cache("bench")
        sock = connect(endpoint)
        n = min(args.ops // 10, 20_000)
        for name, op in (("put", OpCode.CACHE_PUT), ("get", OpCode.CACHE_GET)):
            frames = encoded_requests(op, args.ops, args.keys)
            rate, per_core = measure(
                server.pid, lambda f=frames: pipelined(sock, f, WINDOW), args.ops
            )
            rows.append((f"pipelined {name}, {WINDOW} in flight", rate, per_core))
            rate, per_core = measure(server.pid, lambda f=frames[:n]: pipelined(sock, f, 1), n)
            rows.append((f"raw {name}, sequential", rate, per_core))
        sock.close()
        keys = [i % args.keys for i in range(n)]
        for name, call in (
            ("put", lambda: [cache.put(k, VALUE) for k in keys]),
            ("get", lambda: [cache.get(k) for k in keys]),
        ):
            rate, per_core = measure(server.pid, call, n)
            rows.append((f"pyignite {name}, sequential", rate, per_core))
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, 1-node cluster in its own "
        f"process, {args.keys} distinct long keys, 100-char string values\n"
    )
    print("| client | ops/s | ops per server CPU second |")
    print("|---|---:|---:|")
    for name, rate, per_core in rows:
        print(f"| {name} | {rate:,.0f} | {per_core:,.0f} |")


if __name__ == "__main__":
    main()
