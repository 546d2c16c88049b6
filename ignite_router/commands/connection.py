"""Options shared by the commands that connect to a cluster, and the client they build.

Passwords are never taken on the command line (they would show in ``ps``
and shell history): ``--password-env VAR`` names an environment variable.
"""

from __future__ import annotations

import argparse
import os
import ssl
from typing import Any

from ignite_router.api import parse_endpoints
from ignite_router.client import Client
from ignite_router.tls import make_ssl_context


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit code 2."""


def add_connection_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--connect",
        metavar="HOST:PORT[,...]",
        required=required,
        help="nodes of a live cluster (a real Ignite or `ignite-router cluster`)",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
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
    password = os.environ.get(args.password_env)
    if not args.user or not password:
        raise UsageError(f"--user needs a name and ${args.password_env} a password")
    return args.user, password


def endpoints_of(text: str) -> list[tuple[str, int]]:
    try:
        return parse_endpoints([item.strip() for item in text.split(",") if item.strip()], None)
    except ValueError as error:
        raise UsageError(f"--connect: {error}") from None


def client_from(args: argparse.Namespace) -> Client:
    """A Client configured from the connection options (not connected yet)."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    options: dict[str, Any] = {"timeout": args.timeout, "handshake_timeout": args.timeout}
    login = login_from(args)
    if login is not None:
        options.update(username=login[0], password=login[1])
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
