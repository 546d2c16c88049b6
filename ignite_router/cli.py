"""Command-line entry point: ``ignite-router <command>``.

Each command lives in its own module under :mod:`ignite_router.commands` and
contributes a ``register(subparsers)`` function; the handler it sets returns
the process exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ignite_router import __version__
from ignite_router.commands import cluster, placement

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"ignite-router: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ignite-router", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ignite-router {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    placement.register(subparsers)
    cluster.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
