"""Server-side TLS for ``LocalCluster`` (``SslContextFactory`` of Ignite's client connector)."""

from __future__ import annotations

import ssl

__all__ = ["server_context"]


def server_context(cert: str, key: str, ca: str | None = None) -> ssl.SSLContext:
    """A TLS context for the nodes: their certificate chain and key (PEM files).

    With ``ca`` clients must present a certificate signed by it (Ignite's
    ``sslClientAuth``). ValueError, naming the file, if a file cannot be used.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"cannot use certificate {cert!r} with key {key!r}: {error}") from None
    if ca is not None:
        try:
            context.load_verify_locations(ca)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"cannot use CA certificates {ca!r}: {error}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context
