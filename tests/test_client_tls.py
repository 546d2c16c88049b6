"""TLS end to end on both clients, with certificates made at test time by ``trustme``."""

from __future__ import annotations

import ssl
import time

import pytest
import trustme

from ignite_router import AuthenticationError, Client, NoNodeAvailableError
from ignite_router.hedging import HedgePolicy
from ignite_router.testing import LocalCluster
from ignite_router.testing.tls import server_context
from tests.client_harness import SHELLS, connected

pytestmark = pytest.mark.timeout(120)
PASSWORD = "tls-and-a-password"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("client-pki")
    ca, other_ca = trustme.CA(), trustme.CA()
    files = {}

    def write(name: str, blob) -> str:
        path = directory / name
        blob.write_to_path(str(path))
        files[name] = str(path)
        return str(path)

    write("ca.pem", ca.cert_pem)
    write("other-ca.pem", other_ca.cert_pem)
    for name, hosts in (("server", ("127.0.0.1", "localhost")), ("elsewhere", ("example.org",))):
        cert = ca.issue_cert(*hosts)
        path = directory / f"{name}.pem"
        for blob in cert.cert_chain_pems:
            blob.write_to_path(str(path), append=True)
        files[f"{name}.pem"] = str(path)
        write(f"{name}.key", cert.private_key_pem)
    write("client.pem", ca.issue_cert("client@example.org").private_key_and_cert_chain_pem)
    return files


def tls_cluster(pki: dict[str, str], name: str = "server", **options) -> LocalCluster:
    context = server_context(pki[f"{name}.pem"], pki[f"{name}.key"], options.pop("ca", None))
    return LocalCluster(ssl_context=context, handshake_timeout=2.0, **options)


@pytest.mark.parametrize("kind", SHELLS)
def test_routing_failover_and_restart_over_tls(pki, kind: str) -> None:
    with (
        tls_cluster(pki, nodes=3, backups=1) as cluster,
        connected(kind, cluster.endpoints, use_ssl=True, ssl_ca_certfile=pki["ca.pem"]) as shell,
    ):
        client = shell.client
        cache = shell.do(client.get_or_create_cache("tls"))
        shell.do(cache.get(0))
        cluster.reset_stats()
        shell.do(cache.put_all({key: key for key in range(300)}))
        for key in range(300):
            assert shell.do(cache.get(key)) == key
        assert sum(node["forwarded"] for node in cluster.stats()) == 0
        cluster.kill_node(1)
        for key in range(300):
            assert shell.do(cache.get(key)) == key  # failover, no error
        cluster.start_node(1)
        new_id = cluster.nodes[1].node_id
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            client.route(cache, key).node_id == new_id
            and client.route(cache, key).reason == "primary"
            for key in range(50)
        ):
            shell.do(cache.get(1))
            time.sleep(0.02)
        restarted = client.metrics()["nodes"]["{}:{}".format(*cluster.endpoints[1])]
        assert restarted["reconnects"] >= 1 and restarted["node_id"] == new_id  # TLS again


@pytest.mark.parametrize("hedging", [False, True])
@pytest.mark.parametrize("kind", SHELLS)
def test_a_hung_node_over_tls_times_out_and_reads_fail_over(pki, kind: str, hedging: bool) -> None:
    """A TLS read blocked on a node that answers nothing ends at the client's timeout (the
    blocking client once waited forever: Python's TLS read retried the kernel's timeout)."""
    options = {"hedge": HedgePolicy(delay=0.05)} if hedging else {}
    with (
        tls_cluster(pki, nodes=3, backups=1) as cluster,
        connected(
            kind,
            cluster.endpoints,
            use_ssl=True,
            ssl_ca_certfile=pki["ca.pem"],
            timeout=0.5,
            **options,
        ) as shell,
    ):
        cache = shell.do(shell.client.get_or_create_cache("tls-hung"))
        shell.do(cache.put(1, "one"))
        index = [node.node_id for node in cluster.nodes].index(shell.client.route(cache, 1).node_id)
        cluster.hang_node(index)
        try:
            started = time.monotonic()
            assert shell.do(cache.get(1)) == "one"  # timed out on the hung primary, failed over
            assert time.monotonic() - started < 10  # a hang check: 0.5 s timeout, then a backup
        finally:
            cluster.heal_node(index)
        hung = shell.client.metrics()["nodes"]["{}:{}".format(*cluster.endpoints[index])]
        assert hung["failovers"] >= 1


@pytest.mark.parametrize("kind", SHELLS)
def test_mutual_tls_and_authentication(pki, kind: str) -> None:
    with tls_cluster(pki, nodes=2, ca=pki["ca.pem"], credentials=("ignite", PASSWORD)) as cluster:
        options = {
            "use_ssl": True,
            "ssl_ca_certfile": pki["ca.pem"],
            "ssl_certfile": pki["client.pem"],
            "username": "ignite",
        }
        with connected(kind, cluster.endpoints, password=PASSWORD, **options) as shell:
            cache = shell.do(shell.client.get_or_create_cache("mtls"))
            shell.do(cache.put("k", "v"))
            assert shell.do(cache.get("k")) == "v"
        with (
            pytest.raises(AuthenticationError),
            connected(kind, cluster.endpoints, password="wrong", **options),
        ):
            pass
        # No client certificate where one is required: refused, clearly, quickly.
        started = time.monotonic()
        with (
            pytest.raises(NoNodeAvailableError, match=r"TLS|closed|reset"),
            connected(
                kind,
                cluster.endpoints,
                use_ssl=True,
                ssl_ca_certfile=pki["ca.pem"],
                username="ignite",
                password=PASSWORD,
            ),
        ):
            pass
        assert time.monotonic() - started < 10


@pytest.mark.parametrize("kind", SHELLS)
@pytest.mark.parametrize(
    ("server_name", "client_options", "words"),
    [
        ("server", {"use_ssl": True, "ssl_ca_certfile": "other-ca.pem"}, "certificate verify"),
        ("elsewhere", {"use_ssl": True, "ssl_ca_certfile": "ca.pem"}, "certificate verify"),
        ("server", {}, "closed|reset|handshake"),  # plaintext client, TLS server
    ],
    ids=["unknown-ca", "wrong-hostname", "plaintext-client"],
)
def test_refused_tls_is_a_clear_error_without_a_hang(
    pki, kind: str, server_name: str, client_options: dict, words: str
) -> None:
    options = dict(client_options)
    if "ssl_ca_certfile" in options:
        options["ssl_ca_certfile"] = pki[options["ssl_ca_certfile"]]
    with tls_cluster(pki, server_name, nodes=1) as cluster:
        started = time.monotonic()
        with (
            pytest.raises(NoNodeAvailableError, match=words) as caught,
            connected(kind, cluster.endpoints, handshake_timeout=3.0, **options),
        ):
            pass
        assert time.monotonic() - started < 10
        assert all(error.endpoint == cluster.endpoints[0] for error in caught.value.errors.values())


@pytest.mark.parametrize("kind", SHELLS)
def test_tls_client_against_a_plaintext_cluster(pki, kind: str) -> None:
    with LocalCluster(nodes=1) as cluster:
        started = time.monotonic()
        with (
            pytest.raises(NoNodeAvailableError),
            connected(
                kind,
                cluster.endpoints,
                handshake_timeout=3.0,
                use_ssl=True,
                ssl_ca_certfile=pki["ca.pem"],
            ),
        ):
            pass
        assert time.monotonic() - started < 10


def test_ssl_context_argument_and_minimum_version(pki) -> None:
    context = ssl.create_default_context(cafile=pki["ca.pem"])
    with (
        tls_cluster(pki, nodes=1) as cluster,
        connected("sync", cluster.endpoints, ssl_context=context) as shell,
    ):
        assert shell.client.get_cache_names() == []
    with pytest.raises(ValueError, match=r"1\.2"):
        Client(use_ssl=True, ssl_version=ssl.TLSVersion.TLSv1_1)
