"""A LocalCluster in its own process, driven by line commands on stdin (for the benchmarks).

    .venv/bin/python benchmarks/cluster_process.py [--nodes 3] [--backups 0] [--partitions 1024]

Prints ``{"endpoints": ["host:port", ...], "pid": N}`` as one line once every
node listens, then reads commands, one per line:

- ``stats``: one JSON line, the cluster's ``stats()`` (a list, one dict per node);
- ``reset``: resets the counters, answers ``{"ok": true}``;
- ``latency I S``: node ``I`` answers ``S`` seconds late from now on
  (``set_latency(I, S, where="answer")``; 0 ends it), answers ``{"ok": true}``;
- ``quit`` (or end of input): closes the cluster and exits with status 0.

An unknown command is answered ``{"error": "..."}``. Every answer is one
flushed line, so the parent process can read it with ``readline()``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ignite_router.testing import LocalCluster

__all__ = ["main", "serve"]


def _answer(out: TextIO, value: object) -> None:
    out.write(json.dumps(value) + "\n")
    out.flush()


def serve(cluster: LocalCluster, commands: TextIO, out: TextIO) -> None:
    """Answer ``commands`` (lines) about the running ``cluster`` until ``quit`` or EOF."""
    for line in commands:
        command = line.strip()
        if command == "stats":
            _answer(out, cluster.stats())
        elif command == "reset":
            cluster.reset_stats()
            _answer(out, {"ok": True})
        elif command.startswith("latency "):
            index, seconds = command.split()[1:]
            cluster.set_latency(int(index), float(seconds), where="answer")
            _answer(out, {"ok": True})
        elif command == "quit":
            return
        elif command:
            known = "stats, reset, latency I S, quit"
            _answer(out, {"error": f"unknown command {command!r} ({known})"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cluster_process.py",
        description="a LocalCluster serving stats/reset/latency/quit commands on stdin",
    )
    parser.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    parser.add_argument("--backups", type=int, default=0, help="backups per partition (0)")
    parser.add_argument(
        "--partitions", type=int, default=1024, help="partitions per cache (default 1024)"
    )
    args = parser.parse_args(argv)
    cluster = LocalCluster(nodes=args.nodes, backups=args.backups, partitions=args.partitions)
    cluster.start()
    try:
        endpoints = [f"{host}:{port}" for host, port in cluster.endpoints]
        _answer(sys.stdout, {"endpoints": endpoints, "pid": os.getpid()})
        serve(cluster, sys.stdin, sys.stdout)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
