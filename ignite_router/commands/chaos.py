"""``ignite-router chaos``: a workload under faults on an embedded cluster, checked."""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from ignite_router.chaos.nemesis import FAULTS
from ignite_router.chaos.report import ChaosReport
from ignite_router.chaos.runner import CLIENTS, ChaosConfig, run_chaos
from ignite_router.commands import RICH_MISSING, rich_installed

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chaos",
        help="a workload under faults on an embedded cluster, checked for linearizability",
        description=(
            "Start a local cluster (realistic mode, a FULL_SYNC cache with backups), run "
            "workers doing every key operation while a seeded nemesis kills, stops, restarts, "
            "adds, pauses, blackholes, hangs and slows down nodes; then heal, let the topology "
            "settle and check the recorded history: every key linearizable, no acknowledged "
            "write lost, only documented errors, every call within the client's time bound, "
            "nothing forwarded once settled, nothing leaked by the closed client. With --hedge, "
            "the workers' reads (get, contains_key, get_all) are hedged, checked for stale reads "
            "instead of linearizability. Exit 0 with no violation, 1 with any. Prints a table "
            "(rich: the cli extra), or JSON with --json."
        ),
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of faults (30)")
    parser.add_argument("--seed", type=int, help="seed of the workload and the nemesis (random)")
    parser.add_argument("--client", choices=CLIENTS, default="sync", help="the shell (sync)")
    parser.add_argument("--workers", type=int, default=6, help="threads or tasks (6)")
    parser.add_argument("--nodes", type=int, default=3, help="cluster size, 3-16 (3)")
    parser.add_argument("--backups", type=int, default=1, help="backups per partition (1)")
    parser.add_argument("--keys", type=int, default=100, help="size of the key pool (100)")
    parser.add_argument(
        "--timeout", type=float, default=0.5, help="the client's request timeout, seconds (0.5)"
    )
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma-separated faults, or 'none' (default: {','.join(FAULTS)})",
    )
    parser.add_argument(
        "--hedge",
        action="store_true",
        help="reads are hedged: checked for stale reads, not linearizability",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def _faults(text: str) -> tuple[str, ...]:
    if text.strip() == "none":
        return ()
    faults = tuple(part.strip() for part in text.split(","))
    if not all(faults):
        raise ValueError("--faults is a comma-separated list of faults, or 'none'")
    return faults


def run(args: argparse.Namespace) -> int:
    seed = random.randrange(1 << 32) if args.seed is None else args.seed
    try:
        if not args.json and not rich_installed():
            raise ValueError(RICH_MISSING)
        config = ChaosConfig(
            duration=args.duration,
            seed=seed,
            client=args.client,
            workers=args.workers,
            nodes=args.nodes,
            backups=args.backups,
            keys=args.keys,
            timeout=args.timeout,
            faults=_faults(args.faults),
            hedge=args.hedge,
        )
    except ValueError as error:
        print(f"ignite-router chaos: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.json:
        print(
            f"chaos: seed {seed}, {config.client} client, {config.duration:g} s, "
            f"{config.nodes} nodes, {config.workers} workers, {config.keys} keys"
            f"{', hedged reads' if config.hedge else ''}",
            flush=True,
        )
    report = run_chaos(config)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        _print(report)
    return EXIT_VIOLATION if report.violations else EXIT_OK


def _print(report: ChaosReport) -> None:
    from rich.console import Console  # the cli extra
    from rich.table import Table

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "-"

    table = Table(title=f"ignite-router chaos: seed {report.seed}", show_header=False)
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    hedging = [
        ("hedged reads (stale check only)", f"{report.hedged_reads:,}"),
        ("hedgeable reads", f"{report.hedgeable_reads:,}"),
        (
            "hedges sent / won / denied",
            f"{report.hedges_sent:,} / {report.hedges_won:,} / {report.hedges_denied:,}",
        ),
        ("reads sent to a backup alone", f"{report.replica_reads:,}"),
    ]
    for name, value in (
        ("client, nodes, backups", f"{report.client}, {report.nodes}, {report.backups}"),
        ("calls", f"{report.calls:,} in {report.duration_s:.1f} s"),
        ("operations: ok / fail / info", f"{report.ok:,} / {report.fail:,} / {report.info:,}"),
        ("faults injected", listed(report.faults)),
        ("errors seen", listed(report.errors)),
        ("errors of an undocumented type", str(report.undocumented_errors)),
        *(hedging if report.hedge else []),
        ("keys checked", str(report.keys_checked)),
        ("keys not linearizable", str(report.not_linearizable)),
        ("keys undecided", str(report.unknown)),
        ("stale reads", str(report.stale_reads)),
        ("acknowledged writes lost", str(report.lost_writes)),
        (
            "slowest call / bound",
            f"{report.slowest_call_s:.3f} s / {report.call_time_bound_s:.3f} s",
        ),
        ("forwarded after settling", str(report.forwarded)),
        (
            "left after close: threads, sockets, CLOSE_WAIT, tasks",
            f"{report.leaked_threads}, {report.leaked_sockets}, {report.close_wait}, "
            f"{report.leaked_tasks}",
        ),
    ):
        table.add_row(name, value)
    console = Console()
    console.print(table)
    for name, examples in report.examples.items():
        console.print(f"[bold]{name}[/bold]")
        for example in examples:
            console.print(f"  {example}", markup=False, highlight=False)
    if report.violations:
        console.print(f"[red]violations: {'; '.join(report.violations)}[/red]")
    else:
        console.print("[green]no violation[/green]")
