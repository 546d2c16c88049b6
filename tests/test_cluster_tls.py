"""Server-side TLS: pyignite over TLS routes to primaries; bad TLS clients hurt nobody.

Certificates are made at test time with ``trustme`` (a throwaway CA).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import sys

import pytest
import trustme
from pyignite import Client

from ignite_router.protocol.context import LATEST
from ignite_router.protocol.handshake import (
    HandshakeRequest,
    HandshakeSuccess,
    decode_handshake_response,
    encode_handshake_request,
)
from ignite_router.testing import LocalCluster
from ignite_router.testing.tls import server_context

pytestmark = [
    pytest.mark.timeout(60),
    # pyignite 0.6.1 builds its context with ssl.PROTOCOL_TLSv1_2
    pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLSv1_2 is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """(CA file, server cert file, server key file, client cert+key file, foreign client file)."""
    directory = tmp_path_factory.mktemp("pki")
    ca, foreign_ca = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    for blob in server.cert_chain_pems:
        blob.write_to_path(str(cert_file), append=True)
    server.private_key_pem.write_to_path(str(key_file))
    client_file, foreign_file = directory / "client.pem", directory / "foreign.pem"
    ca.issue_cert("client@example.org").private_key_and_cert_chain_pem.write_to_path(
        str(client_file)
    )
    foreign_ca.issue_cert("intruder").private_key_and_cert_chain_pem.write_to_path(
        str(foreign_file)
    )
    return str(ca_file), str(cert_file), str(key_file), str(client_file), str(foreign_file)


def tls_handshake(endpoint, ca_file: str, client_cert: str | None = None):
    """The Ignite handshake answer over TLS; None if the server refused the connection."""
    context = ssl.create_default_context(cafile=ca_file)
    if client_cert is not None:
        context.load_cert_chain(client_cert)
    try:
        with (
            socket.create_connection(endpoint, timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
        ):
            sock.sendall(encode_handshake_request(HandshakeRequest(LATEST)))
            answer = sock.recv(4096)
    except (ssl.SSLError, ConnectionError):
        return None  # refused during or right after the TLS handshake
    return decode_handshake_response(answer[4:], LATEST) if answer else None


def test_pyignite_over_tls_routes_every_key_to_its_primary(pki) -> None:
    ca_file, cert_file, key_file, _, _ = pki
    with LocalCluster(nodes=3, ssl_context=server_context(cert_file, key_file)) as cluster:
        client = Client(partition_aware=True, use_ssl=True, ssl_ca_certfile=ca_file, timeout=10)
        with client.connect(cluster.endpoints):
            cache = client.get_or_create_cache("secure")
            cache.put(0, 0)  # first request: the partition map is fetched after it
            cluster.reset_stats()
            for key in range(200):
                cache.put(key, f"v{key}")
            assert [cache.get(key) for key in range(200)] == [f"v{k}" for k in range(200)]
        stats = cluster.stats()
        assert sum(s["key_requests"] for s in stats) == 400
        assert sum(s["forwarded"] for s in stats) == 0


def test_plaintext_and_failed_tls_handshakes_hurt_nobody(pki) -> None:
    ca_file, cert_file, key_file, _, _ = pki
    with LocalCluster(nodes=2, ssl_context=server_context(cert_file, key_file)) as cluster:
        good = Client(use_ssl=True, ssl_ca_certfile=ca_file, timeout=10)
        with good.connect(cluster.endpoints):
            cache = good.get_or_create_cache("calm")
            cache.put(1, "one")
            with socket.create_connection(cluster.endpoints[0], timeout=5) as plain:
                plain.sendall(encode_handshake_request(HandshakeRequest(LATEST)))
                with contextlib.suppress(ConnectionResetError):
                    while plain.recv(4096):  # perhaps a TLS alert, then the close
                        pass
            with socket.create_connection(cluster.endpoints[1], timeout=5) as garbage:
                garbage.sendall(b"\x16\x03\x01\x00\x05hello")  # a broken TLS record
                with contextlib.suppress(ConnectionResetError):
                    while garbage.recv(4096):  # perhaps a TLS alert, then the close
                        pass
            assert cache.get(1) == "one"  # the good connections carry on
        assert all(node.alive for node in cluster.nodes)
        assert isinstance(tls_handshake(cluster.endpoints[0], ca_file), HandshakeSuccess)


def test_client_certificates_are_required_when_the_context_asks(pki) -> None:
    ca_file, cert_file, key_file, client_file, foreign_file = pki
    context = server_context(cert_file, key_file, ca=ca_file)
    with LocalCluster(nodes=1, ssl_context=context, credentials=("ignite", "s3cret")) as cluster:
        endpoint = cluster.endpoints[0]
        for certificate in (None, foreign_file):
            assert tls_handshake(endpoint, ca_file, certificate) is None
        assert tls_handshake(endpoint, ca_file, client_file) is not None
        client = Client(
            username="ignite",
            password="s3cret",
            use_ssl=True,
            ssl_ca_certfile=ca_file,
            ssl_certfile=client_file,
            timeout=10,
        )
        with client.connect([endpoint]):  # authentication works over TLS
            cache = client.get_or_create_cache("mutual")
            cache.put("k", "v")
            assert cache.get("k") == "v"


def test_cluster_command_serves_tls(pki) -> None:
    ca_file, cert_file, key_file, _, _ = pki
    process = subprocess.Popen(
        [sys.executable, "-m", "ignite_router", "cluster", "--nodes", "2",
         "--tls-cert", cert_file, "--tls-key", key_file],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        endpoints = json.loads(process.stdout.readline())["endpoints"]
        host, port = endpoints[0].rsplit(":", 1)
        assert isinstance(tls_handshake((host, int(port)), ca_file), HandshakeSuccess)
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()
    bad = subprocess.run(
        [sys.executable, "-m", "ignite_router", "cluster", "--tls-cert", cert_file],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "--tls-key" in bad.stderr
