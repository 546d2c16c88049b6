"""``ignite-router cluster``: run a LocalCluster in the foreground until SIGINT/SIGTERM.

Prints ``{"endpoints": ["host:port", ...]}`` on one line once every node
listens, so a parent process (a benchmark, a test) can read where to connect.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from typing import Any

from ignite_router.testing import LocalCluster
from ignite_router.testing.tls import server_context

EXIT_OK = 0
EXIT_CANNOT_LISTEN = 1
EXIT_BAD_INPUT = 2
MAX_NODES = 256  # a local test cluster; every node is a listening socket in this process
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Interrupted(Exception):
    """SIGINT/SIGTERM arrived while the cluster was starting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _bad_input(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, checked before anything starts; None if all is well."""
    if not 1 <= args.nodes <= MAX_NODES:
        return f"--nodes must be between 1 and {MAX_NODES}, got {args.nodes}"
    if args.port is not None and not 1 <= args.port <= 65536 - args.nodes:
        return f"--port must be between 1 and {65536 - args.nodes} for {args.nodes} nodes"
    if not args.host.strip():
        return "--host must not be empty (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
    try:
        socket.getaddrinfo(args.host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        return f"--host {args.host!r} cannot be resolved: {error}"
    return None


def _credentials(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, separator, password = text.partition(":")
    if not separator or not user or not password:
        raise ValueError("--credentials needs USER:PASSWORD, both non-empty")
    return user, password


def _realism(args: argparse.Namespace) -> dict[str, Any]:
    """The LocalCluster options of the realism, hardening and TLS flags (see docs/testing.md)."""
    if (args.tls_cert is None) != (args.tls_key is None) or (args.tls_ca and not args.tls_cert):
        raise ValueError("--tls-cert and --tls-key go together (--tls-ca needs both)")
    tls = None
    if args.tls_cert is not None:
        tls = server_context(args.tls_cert, args.tls_key, args.tls_ca)
    return {
        "realistic": args.realistic,
        "reorder": args.reorder,
        "seed": args.seed,
        "late_affinity": args.late_affinity,
        "rebalance_delay": args.rebalance_delay,
        "version_lag": args.version_lag,
        "exchange_delay": args.exchange_delay,
        "exchange_refusals": args.exchange_refusals,
        "write_mode": args.write_mode,
        "replication_delay": args.replication_delay,
        "failure_detection": args.failure_detection,
        "forward_timeout": args.forward_timeout,
        "handshake_timeout": args.handshake_timeout,
        "idle_timeout": args.idle_timeout,
        "max_connections": args.max_connections,
        "ssl_context": tls,
    }


def _error(message: str, code: int) -> int:
    print(f"ignite-router cluster: error: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    problem = _bad_input(args)
    if problem is not None:
        return _error(problem, EXIT_BAD_INPUT)
    try:
        cluster = LocalCluster(
            nodes=args.nodes,
            partitions=args.partitions,
            backups=args.backups,
            consistent_ids=args.consistent_ids.split(",") if args.consistent_ids else None,
            host=args.host,
            base_port=args.port,
            credentials=_credentials(args.credentials),
            **_realism(args),
        )
    except ValueError as error:
        return _error(str(error), EXIT_BAD_INPUT)
    stop = threading.Event()
    starting = [True]

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        if starting[0]:
            # Abort start-up at once: LocalCluster.start closes what it started.
            starting[0] = False
            raise _Interrupted(signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in _STOP_SIGNALS}
    try:
        return _serve(cluster, stop, starting)
    except _Interrupted as interrupted:
        cluster.close()
        return 128 + interrupted.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(cluster: LocalCluster, stop: threading.Event, starting: list[bool]) -> int:
    try:
        cluster.start()
        starting[0] = False
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
    parser.add_argument(
        "--nodes", type=int, default=3, help=f"number of nodes, 1..{MAX_NODES} (default 3)"
    )
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
    parser.add_argument(
        "--json", action="store_true", help="JSON output (the default; kept for scripts)"
    )
    realism = parser.add_argument_group("as unkind as a real cluster (docs/testing.md)")
    realism.add_argument(
        "--realistic",
        action="store_true",
        help="every option below as a real cluster behaves, unless given (docs/testing.md)",
    )
    realism.add_argument(
        "--reorder", action="store_true", default=None, help="answer in a shuffled order"
    )
    realism.add_argument("--seed", type=int, default=0, help="seed of --reorder (default 0)")
    realism.add_argument(
        "--late-affinity",
        action="store_true",
        default=None,
        help="keep moving primaries and fill new copies until (N, 1)",
    )
    realism.add_argument(
        "--rebalance-delay",
        type=float,
        default=0.1,
        metavar="SECONDS",
        help="time from (N, 0) to (N, 1) with --late-affinity (default 0.1)",
    )
    realism.add_argument(
        "--version-lag",
        type=float,
        default=None,
        metavar="SECONDS",
        help="nodes learn a new topology version one by one (default 0)",
    )
    realism.add_argument(
        "--exchange-delay",
        type=float,
        default=None,
        metavar="SECONDS",
        help="topology changes hold cache requests this long (default 0)",
    )
    realism.add_argument(
        "--exchange-refusals",
        action="store_true",
        default=None,
        help="refuse key operations during exchanges that move partitions",
    )
    realism.add_argument(
        "--write-mode",
        type=int,
        choices=(0, 1, 2),
        default=None,
        help="write synchronization of caches created without one: 0 FULL_SYNC (default), "
        "1 FULL_ASYNC, 2 PRIMARY_SYNC",
    )
    realism.add_argument(
        "--replication-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="PRIMARY_SYNC backups apply updates this much later (default 0)",
    )
    realism.add_argument(
        "--failure-detection",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a killed node stays in the topology this long (default 0)",
    )
    realism.add_argument(
        "--forward-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long a request waits for another node (default 10)",
    )
    realism.add_argument(
        "--handshake-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="close connections that do not shake hands (default 10)",
    )
    realism.add_argument(
        "--idle-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="close idle connections (default 0: never)",
    )
    realism.add_argument(
        "--max-connections",
        type=int,
        default=1024,
        metavar="N",
        help="connections per node (default 1024)",
    )
    realism.add_argument("--tls-cert", metavar="FILE", help="serve TLS with this certificate")
    realism.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert")
    realism.add_argument("--tls-ca", metavar="FILE",
                         help="require client certificates signed by this CA")  # fmt: skip
    parser.set_defaults(handler=_run)
