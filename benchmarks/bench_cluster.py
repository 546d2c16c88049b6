"""How many single-key operations the local cluster serves per second and per server core.

    .venv/bin/python benchmarks/bench_cluster.py

The cluster runs in its own process (``ignite-router cluster``) so client and
server do not share a core. Clients: (a) a pipelining client built from the
``protocol`` encoders, keeping many requests in flight on one connection to
the key's primary, and (b) pyignite 0.6.1, sequential and partition aware.
Server CPU time comes from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from pyignite import Client

from affinity import cache_id
from protocol.context import LATEST, ProtocolContext
from protocol.framing import FrameDecoder
from protocol.handshake import HandshakeRequest, decode_handshake_response, encode_handshake_request
from protocol.messages.cache_keys import CacheTarget, encode_cache_request
from protocol.opcodes import OpCode

OPS = 20000
WINDOW = 64
CONTEXT = ProtocolContext(LATEST, frozenset())
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def pipelined(endpoint: tuple[str, int], op: int, ops: int) -> None:
    """``ops`` requests on one connection, WINDOW in flight, all answers read."""
    with socket.create_connection(endpoint) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(encode_handshake_request(HandshakeRequest(LATEST)))
        frames = FrameDecoder()
        answers: list[bytes] = []
        while not answers:
            answers.extend(frames.feed(sock.recv(4096)))
        decode_handshake_response(answers.pop(), LATEST)
        target = CacheTarget(cache_id("bench"))
        args = (1, "v" * 100) if op == OpCode.CACHE_PUT else (1,)
        sent = received = 0
        buf = bytearray()
        while received < ops:
            buf.clear()
            while sent < ops and sent - received < WINDOW:
                sent += 1
                encode_cache_request(buf, CONTEXT, op, sent, target, *args)
            if buf:
                sock.sendall(buf)
            received += len(list(frames.feed(sock.recv(1 << 20))))


def measure(pid: int, run: Callable[[], None], ops: int) -> tuple[float, float]:
    cpu_before, started = server_cpu_seconds(pid), time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    cpu = server_cpu_seconds(pid) - cpu_before
    return ops / elapsed, ops / cpu if cpu > 0 else float("inf")


def main() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        host, port = json.loads(server.stdout.readline())["endpoints"][0].rsplit(":", 1)
        endpoint = (host, int(port))
        client = Client(partition_aware=True)
        client.connect([endpoint])
        cache = client.get_or_create_cache("bench")
        cache.put(1, "v" * 100)
        rows = []
        for name, op in (("put", OpCode.CACHE_PUT), ("get", OpCode.CACHE_GET)):
            rate, per_core = measure(server.pid, lambda op=op: pipelined(endpoint, op, OPS), OPS)
            rows.append((f"pipelined {name} ({WINDOW} in flight)", rate, per_core))
        n = OPS // 4
        for name, call in (("put", lambda: [cache.put(1, "v" * 100) for _ in range(n)]),
                           ("get", lambda: [cache.get(1) for _ in range(n)])):  # fmt: skip
            rate, per_core = measure(server.pid, call, n)
            rows.append((f"pyignite {name} (sequential)", rate, per_core))
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"Python {sys.version.split()[0]}, 1-node cluster in its own process\n")
    print("| client | ops/s | ops per server CPU second |")
    print("|---|---:|---:|")
    for name, rate, per_core in rows:
        print(f"| {name} | {rate:,.0f} | {per_core:,.0f} |")


if __name__ == "__main__":
    main()
