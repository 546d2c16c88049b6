"""``ignite-router cluster``: run a LocalCluster in the foreground until SIGINT/SIGTERM.

Prints ``{"endpoints": ["host:port", ...]}`` on one line once every node
listens, so a parent process (a benchmark, a test) can read where to connect.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from ignite_router.testing import LocalCluster

EXIT_OK = 0
EXIT_CANNOT_LISTEN = 1
EXIT_BAD_INPUT = 2


def _error(message: str, code: int) -> int:
    print(f"ignite-router cluster: error: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    credentials = None
    if args.credentials is not None:
        user, separator, password = args.credentials.partition(":")
        if not separator:
            return _error("--credentials needs USER:PASSWORD", EXIT_BAD_INPUT)
        credentials = (user, password)
    try:
        cluster = LocalCluster(
            nodes=args.nodes,
            partitions=args.partitions,
            backups=args.backups,
            consistent_ids=args.consistent_ids.split(",") if args.consistent_ids else None,
            host=args.host,
            base_port=args.port,
            credentials=credentials,
        )
    except ValueError as error:
        return _error(str(error), EXIT_BAD_INPUT)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        cluster.start()
    except OSError as error:
        return _error(f"cannot listen: {error}", EXIT_CANNOT_LISTEN)
    try:
        endpoints = [f"{host}:{port}" for host, port in cluster.endpoints]
        print(json.dumps({"endpoints": endpoints}), flush=True)
        while not stop.wait(0.5):  # wakes up regularly so the signal handlers run
            pass
    finally:
        cluster.close()
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``cluster`` command."""
    description = "run a local Ignite-protocol cluster in the foreground (Ctrl-C stops it)"
    parser = subparsers.add_parser("cluster", help=description, description=description)
    parser.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    parser.add_argument(
        "--port", type=int, default=None, help="port of node 0, the others follow (default: free)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--backups", type=int, default=0, help="default backups (default 0)")
    parser.add_argument(
        "--partitions", type=int, default=1024, help="partitions per cache (default 1024)"
    )
    parser.add_argument("--consistent-ids", help="comma-separated consistent ids of the nodes")
    parser.add_argument(
        "--credentials", metavar="USER:PASSWORD", help="require authentication (default: none)"
    )
    parser.set_defaults(handler=_run)
