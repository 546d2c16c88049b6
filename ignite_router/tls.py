"""TLS for client connections, with pyignite's option names.

Hostname verification is on whenever a CA is given (pyignite leaves it off);
TLS 1.2 is the oldest version accepted.
"""

from __future__ import annotations

import ssl
from typing import Any

__all__ = ["make_ssl_context"]


def make_ssl_context(
    ssl_keyfile: str | None = None,
    ssl_keyfile_password: str | None = None,
    ssl_certfile: str | None = None,
    ssl_ca_certfile: str | None = None,
    ssl_cert_reqs: Any = None,
    ssl_ciphers: str | None = None,
    ssl_version: Any = None,
    check_hostname: bool | None = None,
) -> ssl.SSLContext:
    """A client ``SSLContext`` from pyignite-style options.

    Without ``ssl_ca_certfile`` the system's trusted CAs are used.
    ``ssl_cert_reqs`` may be ``ssl.CERT_NONE`` to skip verification
    (not recommended). ``ssl_version`` (an ``ssl.TLSVersion``) sets the
    minimum version; older than TLS 1.2 is refused.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ssl_ca_certfile)
    minimum = ssl.TLSVersion(ssl_version) if ssl_version is not None else ssl.TLSVersion.TLSv1_2
    if minimum < ssl.TLSVersion.TLSv1_2:
        raise ValueError("TLS versions older than 1.2 are not supported")
    context.minimum_version = minimum
    if ssl_cert_reqs is not None and ssl.VerifyMode(ssl_cert_reqs) == ssl.CERT_NONE:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif check_hostname is not None:
        context.check_hostname = check_hostname
    if ssl_certfile is not None:
        context.load_cert_chain(ssl_certfile, ssl_keyfile, ssl_keyfile_password)
    if ssl_ciphers:
        context.set_ciphers(ssl_ciphers)
    return context
