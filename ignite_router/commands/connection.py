"""Options shared by the commands that connect to a cluster, and the client they build.

Passwords are never taken on the command line (they would show in ``ps``
and shell history): ``--password-env VAR`` names an environment variable.

A one-shot command is given one node or a few; the client learns the others
from the first answer (discovery, op 5102). :class:`ClusterSession` connects
to them and waits for that, bounded by ``--timeout``, so that ``locate
--verify`` asks every node and ``topology`` shows every connection.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import ssl
import threading
import time
from typing import Any

from ignite_router.api import parse_endpoints
from ignite_router.client import Client
from ignite_router.core.events import ClientListener, HandshakeFailedEvent, HandshakeSuccessEvent
from ignite_router.errors import IgniteError
from ignite_router.tls import make_ssl_context

MAX_TIMEOUT = 3600.0


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit code 2."""


def add_connection_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--connect",
        metavar="HOST:PORT[,...]",
        required=required,
        help="nodes of a live cluster (a real Ignite or `ignite-router cluster`); one is "
        "enough: the others are discovered",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="per request, and for connecting to the discovered nodes (default 5)",
    )
    parser.add_argument("--tls-ca", metavar="FILE", help="CA file: connect with TLS")
    parser.add_argument("--tls-cert", metavar="FILE", help="client certificate (mutual TLS)")
    parser.add_argument("--tls-key", metavar="FILE", help="client certificate's key")
    add_login_options(parser)


def add_login_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--user", help="user name (authentication)")
    parser.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the password"
    )


def login_from(args: argparse.Namespace) -> tuple[str, str] | None:
    """(user, password) from ``--user`` and ``--password-env``, or None."""
    if (args.user is None) != (args.password_env is None):
        raise UsageError("give --user and --password-env together")
    if args.user is None:
        return None
    if not args.password_env:
        raise UsageError("--password-env needs the name of an environment variable")
    password = os.environ.get(args.password_env)
    if not args.user or not password:
        raise UsageError(f"--user needs a name and ${args.password_env} a password")
    return args.user, password


def seconds(option: str, value: float, most: float) -> float:
    """``value`` if it is a number of seconds in (0, most], else a UsageError."""
    if not (math.isfinite(value) and 0 < value <= most):
        raise UsageError(f"{option} must be a number of seconds in (0, {most:g}], got {value}")
    return value


def non_empty(option: str, value: str | None) -> None:
    """A UsageError if ``value`` is empty or blank (None passes: the option was not given)."""
    if value is not None and not value.strip():
        raise UsageError(f"{option} needs a non-empty value")


def endpoints_of(text: str) -> list[tuple[str, int]]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError("--connect needs HOST:PORT[,HOST:PORT...]")
    try:
        return parse_endpoints(items, None)
    except ValueError as error:
        raise UsageError(f"--connect: {error}") from None


def client_from(args: argparse.Namespace, listeners: tuple[ClientListener, ...] = ()) -> Client:
    """A Client configured from the connection options (not connected yet)."""
    timeout = seconds("--timeout", args.timeout, MAX_TIMEOUT)
    options: dict[str, Any] = {
        "timeout": timeout,
        "handshake_timeout": timeout,
        "event_listeners": listeners,
    }
    login = login_from(args)
    if login is not None:
        options.update(username=login[0], password=login[1])
    for option in ("--tls-ca", "--tls-cert", "--tls-key"):
        non_empty(option, getattr(args, option[2:].replace("-", "_")))
    if args.tls_key and not args.tls_cert:
        raise UsageError("--tls-key needs --tls-cert")
    if args.tls_ca or args.tls_cert:
        try:
            options["ssl_context"] = make_ssl_context(
                ssl_ca_certfile=args.tls_ca, ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key
            )
        except (OSError, ssl.SSLError) as error:
            raise UsageError(f"cannot load the TLS files: {error}") from None
    return Client(**options)


class _Handshakes(ClientListener):
    """Wakes a waiting command whenever a handshake ends; remembers the failed ones."""

    def __init__(self) -> None:
        self.ended = threading.Condition()
        self.failed: dict[tuple[str, int], BaseException] = {}

    def on_handshake_success(self, event: HandshakeSuccessEvent) -> None:
        with self.ended:
            self.failed.pop((event.host, event.port), None)
            self.ended.notify_all()

    def on_handshake_fail(self, event: HandshakeFailedEvent) -> None:
        with self.ended:
            self.failed[(event.host, event.port)] = event.error or ConnectionError(event.error_msg)
            self.ended.notify_all()

    on_authentication_fail = on_handshake_fail


class ClusterSession:
    """A connected :class:`Client` for a one-shot command, once discovery has settled.

    Building it checks the options (``UsageError``); entering it connects
    (``IgniteError``), asks the cluster for its server nodes (which carries
    the discovery request), opens connections to the discovered nodes in
    parallel, and waits, at most ``--timeout`` seconds, until every server
    node is connected or every connection attempt has ended.
    :attr:`unreached` then lists the server nodes the client is not
    connected to.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.endpoints = endpoints_of(args.connect)
        self._handshakes = _Handshakes()
        self.client = client_from(args, (self._handshakes,))
        self.timeout: float = args.timeout
        self.unreached: list[Any] = []

    def __enter__(self) -> Client:
        client = self.client.connect(self.endpoints)
        try:
            self.unreached = self._settle()
        except BaseException:
            client.close()
            raise
        return client

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def _settle(self) -> list[Any]:
        deadline = time.monotonic() + self.timeout
        servers = self.client.cluster_nodes()
        wanted = {node.node_id for node in servers}
        self._connect_discovered()
        handshakes = self._handshakes
        with handshakes.ended:
            while True:
                known = self.client.nodes()
                connected = {node["node_id"] for node in known if node["up"]}
                trying = [
                    node
                    for node in known
                    if not node["up"] and node["endpoint"] not in handshakes.failed
                ]
                remaining = deadline - time.monotonic()
                if wanted <= connected or not trying or remaining <= 0:
                    break
                handshakes.ended.wait(remaining)
        return [node for node in servers if node.node_id not in connected]

    def _connect_discovered(self) -> None:
        """Open a connection to every discovered node now, one thread each.

        The client's reconnection thread would open them one after another,
        so a node that never answers would hold up the healthy ones for a
        handshake timeout. Each thread calls ``connect`` with a node that is
        already connected as well: ``connect`` gives up (and closes the
        client) only when none of its nodes answers.
        """
        known = self.client.nodes()
        anchor = next((node["endpoint"] for node in known if node["up"]), None)
        if anchor is None:
            return
        for node in known:
            if not node["up"]:
                threading.Thread(
                    target=self._connect, args=([anchor, node["endpoint"]],), daemon=True
                ).start()

    def _connect(self, endpoints: list[tuple[str, int]]) -> None:
        with contextlib.suppress(IgniteError):  # the listener records the failure
            self.client.connect(endpoints)

    def note(self) -> str | None:
        """One line on the server nodes not connected, or None when all are."""
        if not self.unreached:
            return None
        names = ", ".join(str(node.consistent_id) for node in self.unreached)
        text = f"not connected to {names} within {self.timeout:g} s"
        failed = self._handshakes.failed
        if failed:
            text += f" (last failure: {next(reversed(failed.values()))})"  # names its endpoint
        return text
