"""``ClientBase``: what both clients share, and what they answer without a request.

The one constructor (keyword-only: pyignite's arguments and ours), the
configuration, ``route()``, ``metrics()``, ``protocol_context`` and
``connect()``'s endpoint parsing. The client-level operations are steps
(:class:`~ignite_router.client_steps.ClientSteps`) that the typed facades
(``ignite_router.sync_api``, ``ignite_router.aio_api``) run with the shell's
:meth:`ClientBase.run`.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ignite_router.binary import DataclassRegistry
from ignite_router.cache import Hint
from ignite_router.client_steps import CacheRef, ClientSteps, cache_id_of
from ignite_router.core.engine import REFUSAL_PAUSES, ClientCore, ReadBatch, Request, Route, Step
from ignite_router.core.events import ClientListener
from ignite_router.core.replicas import HedgePolicy
from ignite_router.policies import RetryPolicy
from ignite_router.protocol import HandshakeRequest, ProtocolContext
from ignite_router.protocol.errors import ParameterError
from ignite_router.protocol.opcodes import Feature
from ignite_router.session import Session
from ignite_router.tls import TlsOptions

__all__ = [
    "CLIENT_FEATURES",
    "DEFAULT_PORT",
    "ClientBase",
    "parse_endpoints",
]

DEFAULT_PORT = 10800
# Features the client asks for: only what it uses (never ALL_AFFINITY_MAPPINGS).
CLIENT_FEATURES = frozenset(
    {
        Feature.CLUSTER_STATES,
        Feature.CLUSTER_GROUP_GET_NODES_ENDPOINTS,
        Feature.CLUSTER_GROUPS,
        Feature.HEARTBEAT,
    }
)


def _single_endpoint(text: str, port: int | None) -> tuple[str, int]:
    """``connect(text)`` or ``connect(text, port)``: ``host``, ``host:port``, a bare IPv6
    address, or ``[address]:port``."""
    host, number = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        number = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, number = text.split(":")
    if number is not None and port is not None:
        raise ParameterError(f"endpoint {text!r} has a port already; do not pass port={port}")
    if number is not None and not number.isdigit():
        raise ParameterError(f"endpoint {text!r} is not HOST:PORT")
    if not host:
        raise ParameterError(f"endpoint {text!r} has no host")
    if number is not None:
        return host, int(number)
    return host, DEFAULT_PORT if port is None else int(port)


def parse_endpoints(
    nodes: str | Iterable[tuple[str, int]] | Iterable[str] | None, port: int | None = None
) -> list[tuple[str, int]]:
    """``connect()``'s arguments as a list of ``(host, port)``.

    Accepts ``connect(host, port)``, ``connect("host:port")``,
    ``connect([(host, port), ...])`` and ``connect(["host:port", ...])``;
    no argument is ``127.0.0.1:10800``.
    """
    if nodes is None:
        nodes = "127.0.0.1"
    if isinstance(nodes, str):
        endpoints = [_single_endpoint(nodes, port)]
    else:
        if port is not None:
            raise ParameterError("port goes with a single host, not with a list of endpoints")
        endpoints = []
        for node in nodes:
            if isinstance(node, str):
                host, _, text = node.rpartition(":")
                if not host or not text.isdigit():
                    raise ParameterError(f"endpoint {node!r} is not HOST:PORT")
                endpoints.append((host.strip("[]"), int(text)))
            else:
                host, number = node
                endpoints.append((str(host), int(number)))
    if not endpoints:
        raise ParameterError("connect() needs at least one endpoint")
    for host, number in endpoints:
        if not 0 < number < 65536:
            raise ParameterError(f"port {number} of {host} is out of range")
    return endpoints


class ClientBase:
    """Configuration, and what both shells answer without a request."""

    def __init__(
        self,
        *,
        compact_footer: bool | None = None,
        partition_aware: bool = True,
        event_listeners: Sequence[ClientListener] | None = None,
        timeout: float | None = 2.0,
        handshake_timeout: float = 2.0,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool = False,
        ssl_version: Any = None,
        ssl_ciphers: str | None = None,
        ssl_cert_reqs: Any = None,
        ssl_keyfile: str | None = None,
        ssl_keyfile_password: str | None = None,
        ssl_certfile: str | None = None,
        ssl_ca_certfile: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        retry_policy: RetryPolicy | None = None,
        reconnect: Any = None,
        discovery: bool = True,
        heartbeat_interval: float | None = None,
        hedge: HedgePolicy | None = None,
    ) -> None:
        """A client, not connected yet (``connect()`` connects). Every argument is keyword-only.

        pyignite's arguments, with the same meaning:

        - ``compact_footer``: footer style of the binary objects the client
          builds from dataclasses; None or True compact, False full schema.
        - ``partition_aware``: route key operations to the key's primary node;
          False sends every request round-robin.
        - ``event_listeners``: ``ClientListener`` instances (pyignite-style callbacks).
        - ``timeout``: seconds to wait for each answer; None waits forever.
        - ``handshake_timeout``: seconds for connect + handshake.
        - ``username``, ``password``: authentication; sent only when both are given
          (as pyignite does); never logged or shown in a ``repr``.
        - ``use_ssl``: TLS with the ``ssl_*`` options below; without it they are ignored.
        - ``ssl_version`` (an ``ssl.TLSVersion`` minimum, or an ``ssl.PROTOCOL_*``
          constant), ``ssl_ciphers``, ``ssl_cert_reqs`` (``ssl.CERT_NONE`` turns
          verification off), ``ssl_keyfile``, ``ssl_keyfile_password``,
          ``ssl_certfile``, ``ssl_ca_certfile`` (the system's CAs when not given).
          The files are read at ``connect()``.

        Ours:

        - ``ssl_context``: a ready ``ssl.SSLContext`` (instead of ``use_ssl`` + ``ssl_*``).
        - ``retry_policy``: which operations are repeated on another node
          (``DefaultRetryPolicy()``).
        - ``reconnect``: reconnection schedule, a callable returning an iterator of
          delays in seconds (``ExponentialReconnect()``).
        - ``discovery``: learn the other nodes' endpoints from the cluster.
        - ``heartbeat_interval``: seconds; heartbeats on idle connections when set.
        - ``hedge``: a ``HedgePolicy`` for hedged reads; caches opt in with
          ``cache.with_hedging()`` (docs/guide.md, "Hedged and replica reads").
        """
        if timeout is not None and timeout <= 0:
            raise ParameterError("timeout must be positive (or None to wait forever)")
        if heartbeat_interval is not None and heartbeat_interval <= 0:
            raise ParameterError("heartbeat_interval must be positive (or None: no heartbeats)")
        if handshake_timeout <= 0:
            raise ParameterError("handshake_timeout must be positive")
        tls = None
        if use_ssl and ssl_context is None:
            tls = TlsOptions(
                ssl_keyfile,
                ssl_keyfile_password,
                ssl_certfile,
                ssl_ca_certfile,
                ssl_cert_reqs,
                ssl_ciphers,
                ssl_version,
            )
        elif ssl_context is not None and any(
            option is not None
            for option in (
                ssl_version,
                ssl_ciphers,
                ssl_cert_reqs,
                ssl_keyfile,
                ssl_keyfile_password,
                ssl_certfile,
                ssl_ca_certfile,
            )
        ):
            raise ParameterError("give ssl_context or the ssl_* options, not both")
        self.timeout = timeout
        self.handshake_timeout = handshake_timeout
        self.ssl_context = ssl_context
        self._tls = tls
        credentials = (username, password) if username and password else (None, None)
        handshake = HandshakeRequest(
            features=CLIENT_FEATURES, username=credentials[0], password=credentials[1]
        )
        self.core = ClientCore(
            handshake,
            time.monotonic,
            partition_aware=partition_aware,
            retry_policy=retry_policy,
            reconnect=reconnect,
            event_listeners=event_listeners or (),
            discovery=discovery,
            heartbeat_interval=heartbeat_interval,
            hedge=hedge,
        )
        self.session = Session(self.core, DataclassRegistry(compact_footer))
        self.steps = ClientSteps(self.session)
        self._setup_shell()

    def __repr__(self) -> str:
        nodes = ", ".join(f"{h}:{p}" for h, p in self.core.registry.by_endpoint)
        return f"{type(self).__name__}([{nodes}])"

    # -- the shell's part -----------------------------------------------------------------

    def _setup_shell(self) -> None:
        """The shell's own state (locks, events, ...); the last thing ``__init__`` does."""
        raise NotImplementedError

    def run(self, step: Step | Request | ReadBatch) -> Any:
        """Drive ``step`` (blocking) or return an awaitable that does (asyncio); a lone key
        request may go straight to its primary."""
        raise NotImplementedError

    def run_hedged(self, step: Step | Request | ReadBatch) -> Any:
        """``run``, except that a read of a view made by ``with_hedging()`` or
        ``with_replica_reads()`` may go to a backup owner (owner lists refreshed first)."""
        raise NotImplementedError

    def _prepare(
        self, nodes: str | Iterable[Any] | None, port: int | None
    ) -> list[tuple[str, int]]:
        """``connect()``'s endpoints; loads the TLS files (first connect) before any socket."""
        endpoints = parse_endpoints(nodes, port)
        if self._tls is not None and self.ssl_context is None:
            self.ssl_context = self._tls.context()
        return endpoints

    # -- what needs no request --------------------------------------------------------------

    @property
    def protocol_context(self) -> ProtocolContext | None:
        """The protocol negotiated with the cluster; None before the first handshake.

        It answers pyignite's questions too (``is_partition_awareness_supported()``, ...).
        """
        return self.core.context

    @property
    def partition_awareness_supported_by_protocol(self) -> bool:
        """Whether the negotiated protocol has partition awareness (1.4.0+); False before
        connecting."""
        context = self.core.context
        return context is not None and context.partition_awareness

    @property
    def partition_aware(self) -> bool:
        """Key operations go to primaries: asked for, and supported by the protocol."""
        return self.core.partition_aware and self.partition_awareness_supported_by_protocol

    @property
    def compact_footer(self) -> bool:
        """Whether the objects built from dataclasses get compact footers."""
        return self.session.codec.compact_footer

    def route(self, cache: CacheRef, key: Any, key_hint: Hint = None) -> Route:
        """Where a key operation on ``cache`` would go now, and why (no request is sent)."""
        return self.steps.route(cache_id_of(cache), key, key_hint)

    def call_time_bound(self) -> float:
        """The longest a key operation can take, in seconds (``inf`` with no timeout).

        Each known node is tried at most once, each attempt taking at most a
        connection and handshake plus the answer's timeout; one more attempt's
        worth covers a reconnection before the first write. When a node refused
        it (a topology change under way) and no other could serve it, the nodes
        are walked again after each of the pauses in ``REFUSAL_PAUSES``.
        Registering a new binary type before its first write adds its own
        round trips.
        """
        if self.timeout is None:
            return math.inf
        rounds = 1 + len(REFUSAL_PAUSES)
        attempts = rounds * (len(self.core.registry.nodes) + 1)
        return attempts * (self.handshake_timeout + self.timeout) + sum(REFUSAL_PAUSES)

    def metrics(self) -> dict[str, Any]:
        """Per node (by ``host:port``) request and connection counters, plus client-wide ones."""
        core = self.core
        return {
            "topology_version": core.tracker.version,
            "map_refreshes": core.metrics.map_refreshes,
            "topology_changes": core.metrics.topology_changes,
            "discoveries": core.metrics.discoveries,
            "hedgeable_reads": core.metrics.hedgeable_reads,
            "hedges_sent": core.metrics.hedges_sent,
            "hedges_won": core.metrics.hedges_won,
            "hedges_denied": core.metrics.hedges_denied,
            "replica_reads": core.metrics.replica_reads,
            "nodes": {
                f"{node.endpoint[0]}:{node.endpoint[1]}": {
                    "node_id": node.node_id,
                    "up": node.up,
                    **node.metrics.as_dict(),
                }
                for node in core.registry.nodes
            },
        }

    def nodes(self) -> list[dict[str, Any]]:
        """Known nodes: endpoint, node id, whether connected."""
        return [
            {"endpoint": node.endpoint, "node_id": node.node_id, "up": node.up}
            for node in self.core.registry.nodes
        ]
