"""``ignite-router cluster``: run a LocalCluster in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from ignite_router.testing import LocalCluster


def _run(args: argparse.Namespace) -> int:
    ids = args.consistent_ids.split(",") if args.consistent_ids else None
    try:
        cluster = LocalCluster(
            nodes=args.nodes,
            partitions=args.partitions,
            backups=args.backups,
            consistent_ids=ids,
            host=args.host,
            base_port=args.port,
        )
    except ValueError as error:
        print(f"ignite-router cluster: error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        cluster.start()
    except OSError as error:
        print(f"ignite-router cluster: error: cannot listen: {error}", file=sys.stderr)
        return 1
    try:
        endpoints = [f"{host}:{port}" for host, port in cluster.endpoints]
        print(json.dumps({"endpoints": endpoints}), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        cluster.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``cluster`` command."""
    description = "run a local Ignite-protocol cluster in the foreground (Ctrl-C stops it)"
    parser = subparsers.add_parser("cluster", help=description, description=description)
    parser.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    parser.add_argument("--port", type=int, default=None, help="port of node 0 (default: free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--backups", type=int, default=0, help="default backups (default 0)")
    parser.add_argument("--partitions", type=int, default=1024, help="partitions per cache")
    parser.add_argument("--consistent-ids", help="comma-separated consistent ids of the nodes")
    parser.set_defaults(handler=_run)
