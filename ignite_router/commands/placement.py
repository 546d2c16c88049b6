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
from dataclasses import dataclass
from typing import Any

from ignite_router.affinity import IgniteType, java_hash, partition
from ignite_router.affinity.rendezvous import partition_owners
from ignite_router.commands.connection import ClusterSession, add_connection_options, non_empty
from ignite_router.errors import IgniteError
from ignite_router.inspection import locate_live

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")
_DECIMAL_INT = re.compile(r"[+-]?\d+")
_HEX_INT = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")
# Untyped values: a plain decimal integer is a long; "010", "0x10", "1e3" are strings.
_UNTYPED_LONG = re.compile(r"[+-]?(?:0|[1-9]\d*)")
_FRACTION = re.compile(r"(.*T?\d{2}:\d{2}:\d{2})[.,](\d+)(.*)", re.IGNORECASE)
_UUID_SHAPE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _integer(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        stripped = text.strip()
        if _DECIMAL_INT.fullmatch(stripped):
            if len(stripped) > 40:  # far outside every integer type; avoids huge conversions
                raise ValueError(f"{stripped[:20]}... is out of range for {name.upper()}")
            return int(stripped, 10)
        if _HEX_INT.fullmatch(stripped):
            return int(stripped, 16)
        raise ValueError(f"not {_article(name)} {name}: {text!r} (use a decimal or 0x integer)")

    return parse


def _article(name: str) -> str:
    return "an" if name[0] in "aeiou" else "a"


def _floating(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"not a {name}: {text!r}") from None

    return parse


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"not a bool: {text!r} (use true/false)")


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError(f"not a UUID: {text!r} (use the 8-4-4-4-12 hex form)") from None


@dataclass(frozen=True)
class Instant:
    """A point in time to the nanosecond: Java ``Date`` keeps ms, ``Timestamp`` also nanos."""

    epoch_ms: int
    nanos_of_ms: int = 0

    def as_datetime(self) -> datetime.datetime:
        """The millisecond (all that the hash uses) as an aware UTC datetime."""
        try:
            return _EPOCH + datetime.timedelta(milliseconds=self.epoch_ms)
        except OverflowError:
            raise ValueError(f"{self.epoch_ms} ms is outside years 1..9999") from None

    def iso(self, with_nanos: bool) -> str:
        whole = self.as_datetime()
        nanos = whole.microsecond * 1000 + self.nanos_of_ms
        head = whole.replace(microsecond=0).isoformat(timespec="seconds")
        if with_nanos and nanos:
            fraction = f"{nanos:09d}"
        elif whole.microsecond:
            fraction = f"{whole.microsecond // 1000:03d}"
        else:
            return head
        return head.replace("+00:00", f".{fraction}+00:00")


_DATE_HELP = "use ISO-8601 like 2024-01-31T12:00:00.123456789 (naive = UTC) or epoch milliseconds"


def _instant(text: str) -> Instant:
    """ISO-8601 (naive = UTC, up to 9 fractional digits) or integer epoch milliseconds."""
    stripped = text.strip()
    if _DECIMAL_INT.fullmatch(stripped):
        return Instant(int(stripped))
    nanos = 0
    match = _FRACTION.fullmatch(stripped)
    if match is not None:
        head, fraction, tail = match.groups()
        if len(fraction) > 9:
            raise ValueError(f"not a date: {text!r} (at most 9 fractional digits)")
        nanos = int(fraction.ljust(9, "0"))
        stripped = head + tail
    try:
        value = datetime.datetime.fromisoformat(stripped)
    except ValueError as error:
        raise ValueError(f"not a date: {text!r} ({error}; {_DATE_HELP})") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    seconds = (value - _EPOCH) // datetime.timedelta(seconds=1)
    return Instant(seconds * 1000 + nanos // 1_000_000, nanos % 1_000_000)


def _time(text: str) -> datetime.timedelta:
    """``HH:MM:SS[.ffffff]`` or integer milliseconds."""
    stripped = text.strip()
    if _DECIMAL_INT.fullmatch(stripped):
        return datetime.timedelta(milliseconds=int(stripped))
    match = _TIME.fullmatch(stripped)
    if match is None:
        raise ValueError(f"not a time: {text!r} (use HH:MM:SS[.fff] or milliseconds)")
    hours, minutes, seconds, fraction = match.groups()
    micros = int((fraction or "0").ljust(6, "0"))
    return datetime.timedelta(
        hours=int(hours), minutes=int(minutes), seconds=int(seconds), microseconds=micros
    )


def _decimal(text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text.strip())
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
    "byte": (IgniteType.BYTE, _integer("byte")),
    "short": (IgniteType.SHORT, _integer("short")),
    "int": (IgniteType.INT, _integer("int")),
    "long": (IgniteType.LONG, _integer("long")),
    "float": (IgniteType.FLOAT, _floating("float")),
    "double": (IgniteType.DOUBLE, _floating("double")),
    "char": (IgniteType.CHAR, _char),
    "bool": (IgniteType.BOOL, _boolean),
    "string": (IgniteType.STRING, str),
    "uuid": (IgniteType.UUID, _uuid),
    "date": (IgniteType.DATE, _instant),
    "timestamp": (IgniteType.TIMESTAMP, _instant),
    "time": (IgniteType.TIME, _time),
    "decimal": (IgniteType.DECIMAL, _decimal),
}


def parse_key(text: str, type_name: str | None) -> tuple[Any, str, IgniteType]:
    """The key value, its type name and Ignite type; untyped integers are longs, else strings."""
    if type_name is None:
        type_name = "long" if _UNTYPED_LONG.fullmatch(text.strip()) else "string"
    hint, parse = _PARSERS[type_name]
    return parse(text), type_name, hint


def _json_value(value: Any, type_name: str) -> Any:
    if isinstance(value, Instant):
        return value.iso(with_nanos=type_name == "timestamp")
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def _hash(value: Any, hint: IgniteType) -> int:
    # Date and Timestamp hash getTime() (ms) only; the nanos stay in the printed value.
    return java_hash(value.as_datetime() if isinstance(value, Instant) else value, hint)


def _split_list(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise ValueError(f"{option} needs a comma-separated list without empty entries")
    if len(set(items)) != len(items):
        raise ValueError(f"{option} lists the same id twice")
    return items


def _consistent_ids(args: argparse.Namespace) -> list[str]:
    if args.nodes is not None:
        if args.consistent_ids is not None:
            raise ValueError("give --consistent-ids only (--nodes is its old name)")
        if _DECIMAL_INT.fullmatch(args.nodes.strip()):
            raise ValueError(
                f"--nodes {args.nodes} looks like a node count (as in `cluster --nodes`), but "
                "locate needs the nodes' consistent ids: --consistent-ids ID1,ID2,..."
            )
        return _split_list(args.nodes, "--nodes")
    if args.consistent_ids is None:
        raise ValueError("--consistent-ids ID1,ID2,... is required")
    return _split_list(args.consistent_ids, "--consistent-ids")


def _typed_ids(names: list[str], id_type: str) -> list[str | uuid.UUID]:
    """UUID-shaped ids are ``java.util.UUID`` consistent ids unless forced to strings."""
    if id_type == "string":
        return list(names)
    typed: list[str | uuid.UUID] = []
    for name in names:
        if _UUID_SHAPE.fullmatch(name):
            typed.append(uuid.UUID(name))
        elif id_type == "uuid":
            raise ValueError(f"--id-type uuid: consistent id {name!r} is not a UUID")
        else:
            typed.append(name)
    return typed


def _node_ids(args: argparse.Namespace, count: int) -> list[uuid.UUID] | None:
    if args.node_ids is None:
        return None
    node_ids = [_uuid(text) for text in _split_list(args.node_ids, "--node-ids")]
    if len(node_ids) != count:
        raise ValueError(f"--node-ids lists {len(node_ids)} ids for {count} consistent ids")
    return node_ids


def _offline_owners(args: argparse.Namespace, part: int) -> list[str]:
    """Owners of ``part`` (primary first) by rendezvous hashing of the given consistent ids."""
    names = _consistent_ids(args)
    ids = _typed_ids(names, args.id_type)
    owners = partition_owners(ids, part, args.backups, _node_ids(args, len(ids)))
    return [names[index] for index in owners]


def _placement(args: argparse.Namespace) -> dict[str, Any]:
    value, type_name, hint = parse_key(args.value, args.type)
    hash_code = _hash(value, hint)
    result: dict[str, Any] = {
        "value": _json_value(value, type_name),
        "type": type_name,
        "hash": hash_code,
    }
    if args.command in ("partition", "locate"):
        result["partitions"] = args.partitions
        result["partition"] = partition(hash_code, args.partitions)
    if args.command == "locate":
        owners = _offline_owners(args, result["partition"])
        result["primary"] = owners[0]
        result["backups"] = owners[1:]
    return result


_OFFLINE_ONLY = ("consistent_ids", "nodes", "node_ids")  # locate's offline inputs


def _run_live(args: argparse.Namespace) -> int:
    """``locate --connect``: ask a live cluster, optionally verify against its storage."""
    try:
        if args.cache is None:
            raise ValueError("--connect needs --cache NAME")
        non_empty("--cache", args.cache)
        offline = [option for option in _OFFLINE_ONLY if getattr(args, option) is not None]
        if offline:
            option = "--" + offline[0].replace("_", "-")
            raise ValueError(f"{option} is for offline placement: --connect asks the cluster")
        value, type_name, hint = parse_key(args.value, args.type)
        session = ClusterSession(args)
    except (ValueError, TypeError, OverflowError) as error:
        print(f"ignite-router locate: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    key = value.as_datetime() if isinstance(value, Instant) else value
    try:
        with session as client:
            result = locate_live(client, args.cache, key, hint, args.verify)
    except (IgniteError, LookupError) as error:
        print(f"ignite-router locate: {error}", file=sys.stderr)
        return EXIT_FAILED
    result = {"value": _json_value(value, type_name), "type": type_name, **result}
    if session.unreached:
        result["not_connected"] = [str(node.node_id) for node in session.unreached]
        print(f"ignite-router locate: note: {session.note()}", file=sys.stderr)
    print(json.dumps(result))
    return EXIT_FAILED if args.verify and not result["verified"] else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "connect", None) is not None:
        return _run_live(args)
    try:
        if getattr(args, "cache", None) is not None or getattr(args, "verify", False):
            raise ValueError("--cache and --verify need --connect HOST:PORT")
        result = _placement(args)
    except (ValueError, TypeError, OverflowError) as error:
        print(f"ignite-router {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result))
    if getattr(args, "nodes", None) is not None:
        note = "--nodes is now --consistent-ids"
        print(f"ignite-router {args.command}: note: {note}", file=sys.stderr)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hash``, ``partition`` and ``locate`` commands."""
    helps = {
        "hash": "Java hashCode of a key as the server computes it",
        "partition": "partition of a key (RendezvousAffinityFunction formula)",
        "locate": "partition, primary and backups of a key (offline, or --connect to a cluster)",
    }
    for name, help_text in helps.items():
        description = f"{help_text[0].upper()}{help_text[1:]}; prints one JSON object."
        parser = subparsers.add_parser(name, help=help_text, description=description)
        parser.add_argument(
            "value", help="the key, as text (negative numbers work; use -- before other '-' text)"
        )
        parser.add_argument(
            "--type",
            choices=sorted(_PARSERS),
            help="Ignite type of the key (default: long for plain integers, otherwise string)",
        )
        parser.add_argument(
            "--json", action="store_true", help="JSON output (the default; kept for scripts)"
        )
        if name != "hash":
            parser.add_argument(
                "--partitions", type=int, default=1024, help="partition count (default 1024)"
            )
        if name == "locate":
            _register_locate(parser)
        parser.set_defaults(handler=_run)


def _register_locate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--consistent-ids",
        metavar="ID1,ID2,...",
        help="the nodes' consistent ids, comma-separated, in topology (join) order",
    )
    parser.add_argument("--nodes", help=argparse.SUPPRESS)  # old name of --consistent-ids
    parser.add_argument(
        "--id-type",
        choices=("auto", "string", "uuid"),
        default="auto",
        help="consistent ids are Strings, or java.util.UUIDs (persistent nodes without a "
        "configured id); auto (default): UUID-shaped ids are UUIDs",
    )
    parser.add_argument(
        "--node-ids",
        metavar="UUID1,UUID2,...",
        help="the nodes' ids, same order: Ignite breaks ties between consistent ids with "
        "equal hashCode by node id",
    )
    parser.add_argument(
        "--backups",
        type=int,
        default=0,
        help="number of backups (default 0; 2147483647 = replicated cache)",
    )
    live = parser.add_argument_group(
        "a live cluster instead (a real Ignite or `ignite-router cluster`)"
    )
    add_connection_options(live, required=False)  # type: ignore[arg-type]
    live.add_argument("--cache", help="the cache to locate the key in (with --connect)")
    live.add_argument(
        "--verify",
        action="store_true",
        help="ask every node what it stores (local peek); exit 1 if it disagrees with the routing",
    )
