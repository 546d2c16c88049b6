"""``ignite-router demo``: run the failover scenario on an embedded cluster and show it."""

from __future__ import annotations

import argparse
import json
import ssl
import sys
from typing import Any

from ignite_router.commands import RICH_MISSING, rich_installed
from ignite_router.commands.connection import add_login_options, login_from
from ignite_router.demo import DemoSummary, run_demo
from ignite_router.testing.tls import server_context
from ignite_router.tls import make_ssl_context

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="route a live workload through a node failure on an embedded cluster",
        description=(
            "Start a local cluster, run a mixed workload through the partition-aware client, "
            "kill a node a third of the way through and restart it at two thirds, then check "
            "every acknowledged write. Exit 0 only if no error reached the workload and no "
            "acknowledged write was lost. Shows a per-node table refreshed in place (progress "
            "lines with --no-live or when stdout is not a terminal), then a summary table; "
            "tables need rich (the cli extra). --json prints only the summary, as JSON."
        ),
    )
    parser.add_argument("--nodes", type=int, default=3, help="cluster size (2-16, default 3)")
    parser.add_argument("--backups", type=int, default=1, help="backups per partition (>= 1)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds, at most 3600 (default 20)"
    )
    parser.add_argument(
        "--no-live", action="store_true", help="progress lines instead of the live table"
    )
    parser.add_argument(
        "--json", action="store_true", help="no progress, the summary as JSON (no rich needed)"
    )
    secure = parser.add_argument_group(
        "TLS and authentication (the embedded cluster and the client)"
    )
    secure.add_argument("--tls-cert", metavar="FILE", help="the nodes' certificate chain (PEM)")
    secure.add_argument("--tls-key", metavar="FILE", help="the nodes' private key (PEM)")
    secure.add_argument("--tls-ca", metavar="FILE", help="the CA the client trusts")
    add_login_options(secure)
    parser.set_defaults(handler=run)


def _secure_options(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(cluster options, client options) for the TLS and authentication flags."""
    cluster: dict[str, Any] = {}
    client: dict[str, Any] = {}
    if (args.tls_cert is None) != (args.tls_key is None) or (args.tls_ca and not args.tls_cert):
        raise ValueError("--tls-cert and --tls-key go together (--tls-ca needs both)")
    if args.tls_cert is not None:
        cluster["ssl_context"] = server_context(args.tls_cert, args.tls_key)
        try:
            client["ssl_context"] = make_ssl_context(ssl_ca_certfile=args.tls_ca)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"cannot use the CA file {args.tls_ca!r}: {error}") from None
    login = login_from(args)  # UsageError is a ValueError
    if login is not None:
        cluster["credentials"] = login
        client.update(username=login[0], password=login[1])
    return cluster, client


def run(args: argparse.Namespace) -> int:
    if not 2 <= args.nodes <= 16:
        return _bad("--nodes must be between 2 and 16")
    if args.backups < 1 or args.backups >= args.nodes:
        return _bad("--backups must be at least 1 and less than --nodes")
    if not 0 < args.duration <= 3600:
        return _bad("--duration must be in (0, 3600] seconds")
    if not args.json and not rich_installed():
        return _bad(RICH_MISSING)
    try:
        cluster_options, client_options = _secure_options(args)
    except ValueError as error:
        return _bad(str(error))
    live = not args.no_live and not args.json and sys.stdout.isatty()
    view = _LiveView() if live else _Lines(quiet=args.json)
    with view:
        summary = run_demo(
            args.nodes, args.backups, args.duration, view.update, cluster_options, client_options
        )
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        _print_summary(summary)
    return EXIT_OK if summary.errors == 0 and summary.lost == 0 else EXIT_FAILED


def _bad(message: str) -> int:
    print(f"ignite-router demo: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


class _Lines:
    """One progress line a second (for pipes and CI); nothing with ``quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = -1

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, snapshot: dict[str, Any]) -> None:
        second = int(snapshot["elapsed"])
        if self.quiet or second == self.last:
            return
        self.last = second
        alive = sum(node["alive"] for node in snapshot["nodes"])
        print(
            f"t={second:>3}s ops={snapshot['ops']} errors={snapshot['errors']} "
            f"nodes_up={alive}/{len(snapshot['nodes'])} "
            f"topology={snapshot['topology_version']} {snapshot['phase']}",
            flush=True,
        )


class _LiveView:
    """A per-node table refreshed in place (rich)."""

    def __init__(self) -> None:
        from rich.live import Live  # the cli extra
        from rich.table import Table

        self.previous: dict[str, Any] | None = None
        self.live = Live(Table(), refresh_per_second=4, transient=False)

    def __enter__(self) -> _LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.live.__exit__(None, None, None)

    def update(self, snapshot: dict[str, Any]) -> None:
        from rich.table import Table

        previous = self.previous or snapshot
        seconds = max(snapshot["elapsed"] - previous["elapsed"], 1e-3)
        table = Table(
            title=(
                f"t={snapshot['elapsed']:.1f}s  ops={snapshot['ops']}  "
                f"errors={snapshot['errors']}  topology={snapshot['topology_version']}  "
                f"[bold]{snapshot['phase']}[/bold]"
            )
        )
        for column in (
            "node",
            "endpoint",
            "state",
            "node id",
            "req/s",
            "to primary",
            "fallback",
            "forwarded",
        ):
            table.add_column(column, justify="right")
        for now, before in zip(snapshot["nodes"], previous["nodes"], strict=True):
            sent = now["requests"] - before["requests"]
            keyed = (now["to_primary"] - before["to_primary"]) + (
                now["fallback"] - before["fallback"]
            )
            share = (now["to_primary"] - before["to_primary"]) / keyed if keyed else None
            table.add_row(
                str(now["node"]),
                now["endpoint"],
                "[green]up[/green]" if now["alive"] else "[red]down[/red]",
                now["node_id"],
                f"{sent / seconds:,.0f}",
                "-" if share is None else f"{share:.0%}",
                str(now["fallback"]),
                str(now["forwarded"]),
            )
        self.live.update(table)
        self.previous = snapshot


def _print_summary(summary: DemoSummary) -> None:
    from rich.console import Console  # the cli extra
    from rich.table import Table

    console = Console()
    table = Table(title="ignite-router demo: summary", show_header=False)
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    recovery = "-" if summary.recovery_s is None else f"{summary.recovery_s:.2f} s"
    for name, value in (
        ("operations", f"{summary.ops:,}"),
        ("errors seen by the application", str(summary.errors)),
        ("writes in flight on the killed node (outcome unknown)", str(summary.unknown)),
        ("acknowledged writes lost", str(summary.lost)),
        ("key requests sent to the primary", f"{summary.primary_ratio:.2%}"),
        ("failovers", str(summary.failovers)),
        ("retries", str(summary.retries)),
        ("primary routing back after restart", recovery),
    ):
        table.add_row(name, value)
    console.print(table)
