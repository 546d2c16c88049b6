"""ignite-router: a partition-aware Apache Ignite 2.x thin client.

``Client`` (blocking, thread-safe) and ``AioClient`` (asyncio) send every key
operation straight to the key's primary node, split multi-key operations by
node, and fail over to live nodes when one goes down.
"""

import logging

from ignite_router.aio import AioClient
from ignite_router.aio_cache import AioCache
from ignite_router.cache import Cache
from ignite_router.client import Client
from ignite_router.core.engine import Route
from ignite_router.core.events import ClientListener
from ignite_router.cursors import AioCursor, Cursor
from ignite_router.errors import (
    AuthenticationError,
    CallTimeoutError,
    ConnectionLostError,
    HandshakeError,
    IgniteError,
    NoNodeAvailableError,
    OutcomeUnknownError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
    StatusCode,
    TransactionLostError,
)
from ignite_router.policies import (
    DefaultRetryPolicy,
    ExponentialReconnect,
    RetryAllPolicy,
    RetryNonePolicy,
    RetryPolicy,
)
from ignite_router.protocol.messages.cluster import ClusterState
from ignite_router.transactions import AioTransaction, Transaction, TxConcurrency, TxIsolation

__version__ = "0.1.0"

logging.getLogger("ignite_router").addHandler(logging.NullHandler())

__all__ = [
    "AioCache",
    "AioClient",
    "AioCursor",
    "AioTransaction",
    "AuthenticationError",
    "Cache",
    "CallTimeoutError",
    "Client",
    "ClientListener",
    "ClusterState",
    "ConnectionLostError",
    "Cursor",
    "DefaultRetryPolicy",
    "ExponentialReconnect",
    "HandshakeError",
    "IgniteError",
    "NoNodeAvailableError",
    "OutcomeUnknownError",
    "ProtocolError",
    "RequestTimeoutError",
    "RetryAllPolicy",
    "RetryNonePolicy",
    "RetryPolicy",
    "Route",
    "ServerError",
    "StatusCode",
    "Transaction",
    "TransactionLostError",
    "TxConcurrency",
    "TxIsolation",
    "__version__",
]
