"""pyignite 0.6.1's exception names, in its hierarchy, for code moving from pyignite.

``from pyignite.exceptions import CacheError`` becomes
``from ignite_router.exceptions import CacheError`` and the ``except`` clauses
keep working: our errors derive from the matching classes.

=================================  =============================================
pyignite                           what raises it here
=================================  =============================================
``CacheError``, ``SQLError``,      :class:`~ignite_router.errors.ServerError` (a
``CacheCreationError``,            server refused the request): it is each of
``BinaryTypeError``,               these, so the clause pyignite's refusal would
``ClusterError``                   reach catches it
``ParameterError``                 an argument the client cannot use (also a
                                   ``ValueError`` and a ``TypeError``)
``ParseError``                     :class:`~ignite_router.errors.ProtocolError`
``HandshakeError``                 a refused handshake (``expected_version`` is
                                   the server's version)
``AuthenticationError``            refused credentials (a ``HandshakeError``)
``ReconnectError``                 :class:`~ignite_router.errors.NoNodeAvailableError`
``connection_errors``              pyignite's socket errors, plus
                                   :class:`~ignite_router.errors.ConnectionLostError`
=================================  =============================================

pyignite's ``HandshakeError`` is an ``OSError``; ours is not (``except OSError``
does not catch a refused handshake). ``NotSupportedByClusterError`` and
``NotSupportedError`` exist for ``except`` clauses.
"""

from __future__ import annotations

from ignite_router.errors import ConnectionLostError
from ignite_router.protocol.errors import (
    AuthenticationError,
    BinaryTypeError,
    CacheCreationError,
    CacheError,
    ClusterError,
    HandshakeError,
    NotSupportedByClusterError,
    NotSupportedError,
    ParameterError,
    ParseError,
    ReconnectError,
    SQLError,
)

__all__ = [
    "AuthenticationError",
    "BinaryTypeError",
    "CacheCreationError",
    "CacheError",
    "ClusterError",
    "HandshakeError",
    "NotSupportedByClusterError",
    "NotSupportedError",
    "ParameterError",
    "ParseError",
    "ReconnectError",
    "SQLError",
    "connection_errors",
]

#: What pyignite users catch for a lost or refused connection.
connection_errors: tuple[type[BaseException], ...] = (OSError, EOFError, ConnectionLostError)
