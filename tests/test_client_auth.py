"""Authentication: right credentials work, wrong ones fail fast and clearly, and a password
never shows in logs, events, reprs or error messages."""

from __future__ import annotations

import logging

import pytest

from ignite_router import AuthenticationError, ClientListener
from ignite_router.testing import LocalCluster
from tests.client_harness import SHELLS, connected

PASSWORD = "s3cr3t-Pa55word"


class EverythingRecorder(ClientListener):
    """Stringifies every argument of every event."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __getattribute__(self, name: str):
        if name.startswith("on_"):
            return lambda *args: object.__getattribute__(self, "seen").append(repr(args))
        return object.__getattribute__(self, name)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(nodes=2, credentials=("ignite", PASSWORD)) as cluster:
        yield cluster


@pytest.mark.parametrize("kind", SHELLS)
def test_right_credentials_work(cluster: LocalCluster, kind: str) -> None:
    with connected(kind, cluster.endpoints, username="ignite", password=PASSWORD) as shell:
        cache = shell.do(shell.client.get_or_create_cache("secured"))
        shell.do(cache.put(1, "one"))
        assert shell.do(cache.get(1)) == "one"


@pytest.mark.parametrize("kind", SHELLS)
@pytest.mark.parametrize("credentials", [("ignite", "wrong"), (None, None)])
def test_refused_login_is_a_clear_error(cluster: LocalCluster, kind: str, credentials) -> None:
    username, password = credentials
    with (
        pytest.raises(AuthenticationError) as caught,
        connected(kind, cluster.endpoints, username=username, password=password),
    ):
        pass
    assert caught.value.status == 2000
    assert caught.value.message  # the server's words


@pytest.mark.parametrize("kind", SHELLS)
def test_password_never_leaks(
    cluster: LocalCluster, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = EverythingRecorder()
    caplog.set_level(logging.DEBUG)
    texts = []
    with connected(
        kind, cluster.endpoints, username="ignite", password=PASSWORD, event_listeners=[recorder]
    ) as shell:
        client = shell.client
        cache = shell.do(client.get_or_create_cache("secured"))
        shell.do(cache.put(2, "two"))
        texts += [repr(client), str(client.metrics()), repr(client.core.handshake)]
        cluster.kill_node(1)
        shell.do(cache.get(2))
        cluster.start_node(1)
    with (
        pytest.raises(AuthenticationError) as caught,
        connected(kind, cluster.endpoints, password=PASSWORD + "x", username="ignite"),
    ):
        pass
    texts += [str(caught.value), repr(caught.value)]
    texts += recorder.seen + [record.getMessage() for record in caplog.records]
    assert recorder.seen  # events were recorded
    assert not [text for text in texts if PASSWORD in text]
