"""``ignite-router bench``: ignite-router against pyignite 0.6.1 on a local 3-node cluster.

Runs the repository's ``benchmarks/client.py`` (the cluster in its own process,
every measurement alternating the clients round by round) and prints two
Markdown tables, throughput and client CPU per operation, or one JSON object
with ``--json``; ``--plot FILE.png`` also draws a bar chart (matplotlib: the
``plot`` extra). ``--hedging`` runs ``benchmarks/hedging.py`` instead: read
latency with one node answering 200 ms late, with hedging, without it and
pyignite's (tables of p50/p99, throughput with hedging on and off, the
targets met or not); there ``--plot`` draws p50/p99 over time while the node
slows. The benchmarks are not installed: the command works in a source
checkout (an editable install) and needs pyignite 0.6.1 (a test dependency).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
NAME = "bench"
NOT_IN_A_CHECKOUT = (
    "the benchmarks are not installed: run bench from a source checkout of ignite-router "
    '(git clone, then pip install -e ".[test]")'
)


def _error(prog: str, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def _checkout() -> Path | None:
    """The source checkout this package runs from (the folder holding benchmarks/), if any."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "benchmarks" / "client.py").is_file():
        return root
    return None


def _benchmarks(name: str = "client") -> ModuleType | None:
    """``benchmarks.<name>`` from the checkout, or None when there is none."""
    root = _checkout()
    if root is None:
        return None
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"benchmarks.{name}")


def _plot_problem(path: str) -> str | None:
    """Why ``path`` cannot be written, checked before anything runs (None if it can)."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        return f"--plot {path}: is a directory"
    if not folder.is_dir():
        return f"--plot {path}: no such directory {folder}"
    if not os.access(folder, os.W_OK):
        return f"--plot {path}: directory {folder} is not writable"
    return None


def _run(args: argparse.Namespace) -> int:
    prog = getattr(args, "prog_name", f"ignite-router {NAME}")
    if args.ops is not None and args.ops < 1:
        return _error(prog, f"--ops must be at least 1, got {args.ops}", EXIT_BAD_INPUT)
    if args.hedging and args.profile:
        return _error(prog, "--hedging and --profile cannot be combined", EXIT_BAD_INPUT)
    if args.plot is not None and (problem := _plot_problem(args.plot)) is not None:
        return _error(prog, problem, EXIT_BAD_INPUT)
    # imported only now: the command line stays quick to start without it
    bench = _benchmarks("hedging" if args.hedging else "client")
    if bench is None:
        return _error(prog, NOT_IN_A_CHECKOUT, EXIT_BAD_INPUT)
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
        "--plot",
        metavar="FILE.png",
        help="also write a bar chart; with --hedging, p50/p99 over time (needs matplotlib)",
    )
    parser.add_argument(
        "--hedging",
        action="store_true",
        help="instead: hedged reads with one node answering 200 ms late (p50/p99 with and "
        "without hedging and pyignite's, throughput with hedging on and off; about 3 min, "
        "--quick well under a minute)",
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
        "benchmark ignite-router against pyignite 0.6.1 and a minimal raw-socket client on a "
        "local 3-node cluster (its own process): throughput, client CPU per operation, string "
        "hashing, server CPU, forwarded requests; with --hedging, read latency with one slow "
        "node, hedged and not (run from a source checkout)"
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
