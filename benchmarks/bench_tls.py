"""TLS overhead: sequential put+get with and without TLS, ignite-router vs pyignite 0.6.1.

    .venv/bin/python benchmarks/bench_tls.py [--ops 4000] [--rounds 3]

Two clusters run in their own processes (``ignite-router cluster``, three
nodes each): one plaintext, one with TLS (certificates made by ``trustme``
in a temporary directory). Each round measures the four combinations in
turn; the medians are printed as a Markdown table (the one in
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import trustme
from pyignite import Client as PyigniteClient

from ignite_router import Client

VALUE = "v" * 100


def start_cluster(*extra: str) -> tuple[subprocess.Popen[str], list[tuple[str, int]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "3", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # type: ignore[union-attr]
    endpoints = []
    for text in json.loads(line)["endpoints"]:
        host, _, port = text.rpartition(":")
        endpoints.append((host, int(port)))
    return process, endpoints


def measure(cache: object, ops: int) -> float:
    put, get = cache.put, cache.get  # type: ignore[attr-defined]
    for key in range(200):  # warm up: maps fetched, types registered
        put(key, VALUE)
        get(key)
    started = time.perf_counter()
    for key in range(ops):
        put(key, VALUE)
        get(key)
    return 2 * ops / (time.perf_counter() - started)


def ours(endpoints: list[tuple[str, int]], ops: int, ca: str | None) -> float:
    options = {"use_ssl": True, "ssl_ca_certfile": ca} if ca else {}
    with Client(**options).connect(endpoints) as client:
        return measure(client.get_or_create_cache("tls-bench"), ops)


def theirs(endpoints: list[tuple[str, int]], ops: int, ca: str | None) -> float:
    options = {"use_ssl": True, "ssl_ca_certfile": ca} if ca else {}
    client = PyigniteClient(partition_aware=True, **options)
    with warnings.catch_warnings(), client.connect(endpoints):
        warnings.simplefilter("ignore", DeprecationWarning)  # pyignite's PROTOCOL_TLSv1_2
        return measure(client.get_or_create_cache("tls-bench"), ops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_file, cert_file, key_file = (
            Path(directory, name) for name in ("ca.pem", "cert.pem", "key.pem")
        )
        ca.cert_pem.write_to_path(str(ca_file))
        for blob in cert.cert_chain_pems:
            blob.write_to_path(str(cert_file), append=True)
        cert.private_key_pem.write_to_path(str(key_file))
        plain, plain_endpoints = start_cluster()
        tls, tls_endpoints = start_cluster("--tls-cert", str(cert_file), "--tls-key", str(key_file))
        runs: dict[str, list[float]] = {}
        cases: dict[str, Callable[[], float]] = {
            "ignite-router, plaintext": lambda: ours(plain_endpoints, args.ops, None),
            "ignite-router, TLS": lambda: ours(tls_endpoints, args.ops, str(ca_file)),
            "pyignite, plaintext": lambda: theirs(plain_endpoints, args.ops, None),
            "pyignite, TLS": lambda: theirs(tls_endpoints, args.ops, str(ca_file)),
        }
        try:
            for _ in range(args.rounds):
                for name, case in cases.items():
                    runs.setdefault(name, []).append(case())
        finally:
            for process in (plain, tls):
                process.terminate()
                process.wait(timeout=10)
    median = {name: statistics.median(values) for name, values in runs.items()}
    print("| client | plaintext ops/s | TLS ops/s | TLS cost |")
    print("|---|---:|---:|---:|")
    for client in ("ignite-router", "pyignite"):
        plain_rate, tls_rate = median[f"{client}, plaintext"], median[f"{client}, TLS"]
        cost = 1 - tls_rate / plain_rate
        print(f"| {client} | {plain_rate:,.0f} | {tls_rate:,.0f} | {cost:.0%} |")


if __name__ == "__main__":
    main()
