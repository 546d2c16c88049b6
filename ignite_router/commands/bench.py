"""``ignite-router bench``: ignite-router against pyignite 0.6.1 on a local 3-node cluster.

Runs :mod:`ignite_router.bench` (the cluster in its own process, both clients
measured in alternating rounds) and prints a Markdown table, or one JSON
object with ``--json``; ``--plot FILE.png`` also draws a bar chart
(matplotlib: the ``plot`` extra). Needs pyignite 0.6.1 (a test dependency).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
NAME = "bench"


def _error(prog: str, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    from ignite_router import bench  # the command line stays quick to start without it

    prog = getattr(args, "prog_name", f"ignite-router {NAME}")
    if args.ops is not None and args.ops < 1:
        return _error(prog, f"--ops must be at least 1, got {args.ops}", EXIT_BAD_INPUT)
    missing = bench.missing_dependency(plot_requested=args.plot is not None)
    if missing is not None:
        return _error(prog, missing, EXIT_BAD_INPUT)
    progress = (lambda line: print(line, file=sys.stderr, flush=True)) if args.verbose else None
    try:
        if args.profile:
            print(bench.profile_sync(args.ops or 5_000))
            return EXIT_OK
        result = bench.run(args.quick, ops=args.ops, log=progress)
        if args.plot is not None:
            bench.plot(result, args.plot)
            result["meta"]["plot"] = args.plot
    except bench.BenchError as error:
        return _error(prog, str(error), EXIT_FAILED)
    except OSError as error:
        return _error(prog, f"cannot write or run: {error}", EXIT_FAILED)
    if args.json:
        print(json.dumps(result))
    else:
        print(bench.markdown(result))
        if args.plot is not None:
            print(f"\nplot written to {args.plot}")
    return EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench options (shared by the sub-command and ``benchmarks/bench_client.py``)."""
    parser.add_argument(
        "--quick", action="store_true", help="smaller measurements (well under a minute)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, every row")
    parser.add_argument(
        "--plot", metavar="FILE.png", help="also write a bar chart (needs matplotlib)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: cProfile ignite-router's sync put+get loop, top 15 functions by tottime",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="progress lines on stderr while measuring"
    )
    parser.add_argument("--ops", type=int, default=None, help=argparse.SUPPRESS)  # tests: tiny runs
    parser.set_defaults(handler=_run)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    description = (
        "benchmark ignite-router against pyignite 0.6.1 on a local 3-node cluster "
        "(its own process): sync, asyncio and batch throughput, client CPU, forwarded requests"
    )
    parser = subparsers.add_parser(NAME, help=description, description=description)
    add_arguments(parser)


def main(argv: Sequence[str] | None = None, prog: str = "bench_client.py") -> int:
    """Standalone entry (``benchmarks/bench_client.py``): the same options, no sub-command."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.prog_name = prog
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m ignite_router.commands.bench"))
