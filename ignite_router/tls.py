"""TLS for client connections, with pyignite's option names.

Options are checked when given (``TlsOptions(...)``, in ``Client()``) and
the files are read when a context is made (``context()``, at ``connect``),
as pyignite reads them when it connects. Hostname verification is on
whenever certificates are verified (pyignite leaves it off); TLS 1.2 is the
oldest version accepted.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from ignite_router.protocol.errors import ParameterError

__all__ = ["TlsOptions", "make_ssl_context"]

_TLS_1_2 = ssl.TLSVersion.TLSv1_2
# pyignite passes an SSLContext protocol (``ssl.PROTOCOL_*``) as ssl_version: the versions
# each allows. PROTOCOL_TLSv1 and PROTOCOL_TLSv1_1 are refused (older than TLS 1.2).
_PROTOCOLS: dict[int, tuple[ssl.TLSVersion, ssl.TLSVersion | None]] = {
    int(ssl.PROTOCOL_TLS): (_TLS_1_2, None),
    int(ssl.PROTOCOL_TLS_CLIENT): (_TLS_1_2, None),
    int(ssl.PROTOCOL_TLSv1_2): (_TLS_1_2, _TLS_1_2),
}


def _version_range(ssl_version: Any) -> tuple[ssl.TLSVersion, ssl.TLSVersion | None]:
    """(minimum, maximum) TLS version from an ``ssl.TLSVersion`` (the minimum) or an
    ``ssl.PROTOCOL_*`` constant (what pyignite takes)."""
    if ssl_version is None:
        return _TLS_1_2, None
    try:
        minimum, maximum = ssl.TLSVersion(ssl_version), None
    except ValueError:
        found = _PROTOCOLS.get(ssl_version) if isinstance(ssl_version, int) else None
        if found is None:
            raise ParameterError(
                f"ssl_version {ssl_version!r} is not TLS 1.2 or later "
                "(an ssl.TLSVersion, or ssl.PROTOCOL_TLS, _TLS_CLIENT or _TLSv1_2)"
            ) from None
        minimum, maximum = found
    if minimum < _TLS_1_2:
        raise ParameterError("TLS versions older than 1.2 are not supported")
    return minimum, maximum


@dataclass(frozen=True)
class TlsOptions:
    """pyignite's TLS options (``ssl_keyfile``, ...), without the ``ssl_`` prefix.

    ``cert_reqs`` may be ``ssl.CERT_NONE`` to skip verification (not
    recommended); without ``ca_certfile`` the system's trusted CAs are used.
    ``version`` is an ``ssl.TLSVersion`` (the minimum) or, as pyignite takes
    it, an ``ssl.PROTOCOL_*`` constant.
    """

    keyfile: str | None = None
    keyfile_password: str | None = None
    certfile: str | None = None
    ca_certfile: str | None = None
    cert_reqs: Any = None
    ciphers: str | None = None
    version: Any = None
    check_hostname: bool | None = None

    def __post_init__(self) -> None:
        _version_range(self.version)
        if self.cert_reqs is not None:
            ssl.VerifyMode(self.cert_reqs)
        if self.keyfile is not None and self.certfile is None:
            raise ParameterError("ssl_keyfile needs ssl_certfile")

    def context(self) -> ssl.SSLContext:
        """A client ``SSLContext`` (reads the CA, certificate and key files)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_certfile)
        context.minimum_version, maximum = _version_range(self.version)
        if maximum is not None:
            context.maximum_version = maximum
        if self.cert_reqs is not None and ssl.VerifyMode(self.cert_reqs) == ssl.CERT_NONE:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self.check_hostname is not None:
            context.check_hostname = self.check_hostname
        if self.certfile is not None:
            context.load_cert_chain(self.certfile, self.keyfile, self.keyfile_password)
        if self.ciphers:
            context.set_ciphers(self.ciphers)
        return context


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
    """A client ``SSLContext`` from pyignite-style options (see :class:`TlsOptions`)."""
    return TlsOptions(
        ssl_keyfile,
        ssl_keyfile_password,
        ssl_certfile,
        ssl_ca_certfile,
        ssl_cert_reqs,
        ssl_ciphers,
        ssl_version,
        check_hostname,
    ).context()
