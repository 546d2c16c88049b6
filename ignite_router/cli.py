"""Command-line entry point: ``ignite-router <command>``.

Each command lives in its own module under :mod:`ignite_router.commands` and
contributes a ``register(subparsers)`` function; the handler it sets returns
the process exit code. Every usage error is one line on stderr, prefixed
``ignite-router <command>: error:``, and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence

from ignite_router import __version__
from ignite_router.commands import bench, chaos, cluster, demo, placement, topology

EXIT_USAGE = 2
EXIT_INTERNAL = 1

DESCRIPTION = (
    "A partition-aware Apache Ignite 2.x thin client: see it route through a node failure "
    "(demo), ask where a key lives, offline or on a live cluster (hash, partition, locate), "
    "inspect a live cluster (topology), run a local Ignite-protocol cluster (cluster), "
    "check the client under faults for linearizability (chaos), and measure this client "
    "against pyignite (bench)."
)
EPILOG = (
    "Output on stdout: hash, partition, locate and cluster print JSON; demo, topology and "
    'chaos print tables (they need rich: pip install "ignite-router[cli]") and bench a '
    "Markdown table, each JSON with --json. chaos exits 1 when it finds a violation. "
    "Bad input: one line on stderr and exit code 2. "
    "Run 'ignite-router COMMAND --help' for a command's options."
)
# argparse takes "-1.5E+3" or "-inf" for an option; these are values (no option looks like them).
_NEGATIVE_NUMBER = re.compile(
    r"^-(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?$|^-(?:inf|infinity|nan)$", re.IGNORECASE
)


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors are one line on stderr and exit code 2."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.endswith("required: value"):
            message += f" (text that starts with '-' goes after '--': {self.prog} -- -text)"
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ignite-router", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"ignite-router {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    demo.register(subparsers)
    placement.register(subparsers)
    topology.register(subparsers)
    cluster.register(subparsers)
    chaos.register(subparsers)
    bench.register(subparsers)
    return parser


def _not_finite(args: argparse.Namespace) -> str | None:
    """The first number option given as nan or inf (no option takes them), or None."""
    for name, value in vars(args).items():
        if isinstance(value, float) and not math.isfinite(value):
            return f"--{name.replace('_', '-')} must be a finite number, got {value}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = _not_finite(args)
    if problem is not None:
        print(f"ignite-router {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: still one line, never a traceback
        print(
            f"ignite-router {args.command}: error: internal error "
            f"({type(error).__name__}: {error}); please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
