"""``ignite-router topology``: the nodes of a live cluster and how a cache is spread on them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ignite_router.commands import RICH_MISSING, rich_installed
from ignite_router.commands.connection import (
    ClusterSession,
    UsageError,
    add_connection_options,
    non_empty,
)
from ignite_router.errors import IgniteError
from ignite_router.inspection import topology_report

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
BAR_WIDTH = 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "topology",
        help="nodes of a live cluster and a cache's partitions per node",
        description=(
            "List the server nodes of a live cluster (id, consistent id, endpoint, connected "
            "or not) and its affinity topology version; with --cache, the primary and backup "
            "partitions each node holds, with a bar per node so skew is visible. Prints "
            "tables (rich: the cli extra), or JSON with --json."
        ),
    )
    add_connection_options(parser)
    parser.add_argument("--cache", help="show how this cache's partitions are spread")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        non_empty("--cache", args.cache)
        if not args.json and not rich_installed():
            raise UsageError(RICH_MISSING)
        session = ClusterSession(args)
    except UsageError as error:
        print(f"ignite-router topology: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        with session as client:
            report = topology_report(client, args.cache)
    except (IgniteError, LookupError) as error:
        print(f"ignite-router topology: {error}", file=sys.stderr)
        return EXIT_FAILED
    note = session.note()
    if note is not None:
        print(f"ignite-router topology: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    else:
        _print(report)
    return EXIT_OK


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console  # the cli extra
    from rich.table import Table

    console = Console()
    nodes = Table(title=f"topology version {tuple(report['topology_version'])}")
    for column in ("order", "node id", "consistent id", "endpoint", "state"):
        nodes.add_column(column)
    for node in report["nodes"]:
        nodes.add_row(
            str(node["order"]),
            node["node_id"],
            node["consistent_id"],
            node["endpoint"] or "-",
            "[green]connected[/green]" if node["alive"] else "[yellow]not connected[/yellow]",
        )
    console.print(nodes)
    cache = report.get("cache")
    if not cache:
        return
    if not cache["applicable"]:
        console.print(f"cache {cache['name']!r} is not partition-aware (replicated or custom)")
        return
    spread = Table(
        title=f"cache {cache['name']!r}: {cache['partitions']} partitions, "
        f"{cache['backups']} backup(s)"
    )
    for column in ("node", "primary", "backup", "primary share"):
        spread.add_column(column)
    names = {node["node_id"]: node["consistent_id"] for node in report["nodes"]}
    most = max((row["primary"] for row in cache["per_node"]), default=1) or 1
    for row in cache["per_node"]:
        bar = "█" * round(BAR_WIDTH * row["primary"] / most)
        share = row["primary"] / cache["partitions"]
        name = names.get(row["node_id"], row["node_id"][:8])
        spread.add_row(name, str(row["primary"]), str(row["backup"]), f"{bar} {share:.1%}")
    console.print(spread)
