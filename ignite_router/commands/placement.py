"""Offline placement: ``hash``, ``partition`` and ``locate`` a key as the cluster would.

No cluster is contacted: the key is hashed with Java's rules, partitioned with
the ``RendezvousAffinityFunction`` formula and, for ``locate``, assigned to
nodes by rendezvous hashing of their consistent ids.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any

from affinity import IgniteType, assign, java_hash, partition

EXIT_OK = 0
EXIT_BAD_INPUT = 2

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def _integer(text: str) -> int:
    return int(text, 0)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {text!r} (use true/false)")


def _datetime(text: str) -> datetime.datetime:
    """ISO-8601 (naive = UTC) or integer epoch milliseconds."""
    if re.fullmatch(r"-?\d+", text):
        return _EPOCH + datetime.timedelta(milliseconds=int(text))
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _time(text: str) -> datetime.timedelta:
    """``HH:MM:SS[.ffffff]`` or integer milliseconds."""
    if re.fullmatch(r"-?\d+", text):
        return datetime.timedelta(milliseconds=int(text))
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"not a time: {text!r} (use HH:MM:SS[.fff] or milliseconds)")
    hours, minutes, seconds, fraction = match.groups()
    micros = int((fraction or "0").ljust(6, "0"))
    return datetime.timedelta(
        hours=int(hours), minutes=int(minutes), seconds=int(seconds), microseconds=micros
    )


def _decimal(text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"not a decimal: {text!r}") from None
    if not value.is_finite():
        raise ValueError("a decimal key must be finite")
    return value


def _char(text: str) -> str:
    if len(text) != 1:
        raise ValueError(f"a char is one character, got {text!r}")
    return text


_PARSERS: dict[str, tuple[IgniteType, Callable[[str], Any]]] = {
    "byte": (IgniteType.BYTE, _integer),
    "short": (IgniteType.SHORT, _integer),
    "int": (IgniteType.INT, _integer),
    "long": (IgniteType.LONG, _integer),
    "float": (IgniteType.FLOAT, float),
    "double": (IgniteType.DOUBLE, float),
    "char": (IgniteType.CHAR, _char),
    "bool": (IgniteType.BOOL, _boolean),
    "string": (IgniteType.STRING, str),
    "uuid": (IgniteType.UUID, uuid.UUID),
    "date": (IgniteType.DATE, _datetime),
    "timestamp": (IgniteType.TIMESTAMP, _datetime),
    "time": (IgniteType.TIME, _time),
    "decimal": (IgniteType.DECIMAL, _decimal),
}


def parse_key(text: str, type_name: str | None) -> tuple[Any, str, IgniteType]:
    """The key value, its type name and Ignite type; untyped integers are longs, else strings."""
    if type_name is None:
        type_name = "long" if re.fullmatch(r"[+-]?\d+", text.strip()) else "string"
    hint, parse = _PARSERS[type_name]
    return parse(text), type_name, hint


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _placement(args: argparse.Namespace) -> dict[str, Any]:
    value, type_name, hint = parse_key(args.value, args.type)
    hash_code = java_hash(value, hint)
    result: dict[str, Any] = {"value": _json_value(value), "type": type_name, "hash": hash_code}
    if args.command in ("partition", "locate"):
        result["partitions"] = args.partitions
        result["partition"] = partition(hash_code, args.partitions)
    if args.command == "locate":
        nodes = [node.strip() for node in args.nodes.split(",")]
        if not all(nodes) or len(set(nodes)) != len(nodes):
            raise ValueError("--nodes needs distinct, non-empty consistent ids")
        if args.backups < 0:
            raise ValueError("--backups must be >= 0")
        owners = assign(nodes, args.partitions, args.backups)[result["partition"]]
        result["primary"] = nodes[owners[0]]
        result["backups"] = [nodes[i] for i in owners[1:]]
    return result


def _run(args: argparse.Namespace) -> int:
    try:
        result = _placement(args)
    except (ValueError, TypeError, OverflowError) as error:
        print(f"ignite-router {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hash``, ``partition`` and ``locate`` commands."""
    helps = {
        "hash": "Java hashCode of a key as the server computes it",
        "partition": "partition of a key (RendezvousAffinityFunction formula)",
        "locate": "partition, primary and backup nodes of a key for given consistent ids",
    }
    for name, help_text in helps.items():
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("value", help="the key, as text")
        parser.add_argument(
            "--type",
            choices=sorted(_PARSERS),
            help="Ignite type of the key (default: long for integers, otherwise string)",
        )
        parser.add_argument(
            "--json", action="store_true", help="JSON output (the default; kept for scripts)"
        )
        if name != "hash":
            parser.add_argument(
                "--partitions", type=int, default=1024, help="partition count (default 1024)"
            )
        if name == "locate":
            parser.add_argument(
                "--nodes", required=True, help="comma-separated consistent ids of the nodes"
            )
            parser.add_argument(
                "--backups", type=int, default=0, help="number of backups (default 0)"
            )
        parser.set_defaults(handler=_run)
