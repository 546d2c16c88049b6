"""Every bad input a new user tried (issue 9): one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from ignite_router import AioClient, Client
from ignite_router.cli import main
from ignite_router.errors import IgniteError, NoNodeAvailableError
from ignite_router.protocol.connection import ClientConnection
from ignite_router.protocol.context import LATEST, ProtocolContext
from ignite_router.protocol.errors import ProtocolError
from ignite_router.protocol.handshake import (
    HandshakeRequest,
    encode_handshake_failure,
    encode_handshake_success,
)


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


BAD_INPUT = [
    ["hash", "", "--type", "int"],
    ["hash", "x", "--type", "long"],
    ["partition", "my cache", "--type", "long"],
    ["hash", "nope", "--type", "uuid"],
    ["hash", "2024-13-01", "--type", "date"],
    ["hash", "2024-01-01T00:00:00.1234567891", "--type", "timestamp"],
    ["hash", "1e3", "--type", "int"],
    ["hash", "0x1g", "--type", "int"],
    ["hash", "1" * 5000, "--type", "long"],
    ["hash", "1E-3000000000", "--type", "decimal"],
    ["hash", "x", "--type", "nosuchtype"],
    ["hash", "-x"],
    ["hash"],
    ["partition", "x", "--partitions", "0"],
    ["partition", "x", "--partitions", "many"],
    ["locate", "42", "--nodes", "3"],
    ["locate", "42"],
    ["locate", "42", "--consistent-ids", "a,b", "--nodes", "a,b"],
    ["locate", "42", "--consistent-ids", "a,,b"],
    ["locate", "42", "--consistent-ids", "a,a"],
    ["locate", "42", "--consistent-ids", "a", "--backups", "-1"],
    ["locate", "42", "--consistent-ids", "a", "--backups", "2147483648"],
    ["locate", "42", "--consistent-ids", "a,b", "--node-ids", "not-a-uuid,x"],
    ["locate", "42", "--consistent-ids", "a,b", "--node-ids", str(uuid.UUID(int=1))],
    ["locate", "42", "--consistent-ids", "a,b", "--id-type", "uuid"],
    ["locate", "1", "--consistent-ids", "Aa,BB", "--partitions", "8"],
    ["cluster", "--nodes", "100000"],
    ["cluster", "--nodes", "0"],
    ["cluster", "--host", ""],
    ["cluster", "--host", "nosuchhost.invalid"],
    ["cluster", "--port", "-1"],
    ["cluster", "--port", "65535", "--nodes", "3"],
    ["cluster", "--credentials", ":"],
    ["cluster", "--credentials", "user:"],
    ["cluster", "--credentials", "nocolon"],
    ["cluster", "--rebalance-delay", "inf"],
    ["cluster", "--idle-timeout", "nan"],
    ["partition", "x", "--partitions", "nan"],
    # The connecting commands check every option before connecting (port 1 never answers).
    ["topology", "--connect", "127.0.0.1:1", "--timeout", "nan"],
    ["topology", "--connect", "127.0.0.1:1", "--timeout", "inf"],
    ["topology", "--connect", "127.0.0.1:1", "--timeout", "-1"],
    ["topology", "--connect", "127.0.0.1:1", "--timeout", "0"],
    ["topology", "--connect", "127.0.0.1:1", "--timeout", "1e300"],
    ["topology", "--connect", "127.0.0.1:1", "--cache", ""],
    ["topology", "--connect", "127.0.0.1:1", "--cache", "  "],
    ["topology", "--connect", ""],
    ["topology", "--connect", " , "],
    ["topology", "--connect", "127.0.0.1:0"],
    ["topology", "--connect", "127.0.0.1:65536"],
    ["topology", "--connect", "127.0.0.1:port"],
    ["topology", "--connect", "127.0.0.1:1", "--tls-ca", ""],
    ["topology", "--connect", "127.0.0.1:1", "--tls-key", "key.pem"],
    ["topology", "--connect", "127.0.0.1:1", "--user", "u"],
    ["topology", "--connect", "127.0.0.1:1", "--user", "u", "--password-env", ""],
    ["locate", "1", "--connect", "127.0.0.1:1"],
    ["locate", "1", "--connect", "127.0.0.1:1", "--cache", ""],
    ["locate", "1", "--connect", "127.0.0.1:1", "--cache", "c", "--timeout", "nan"],
    ["locate", "1", "--connect", "127.0.0.1:1", "--cache", "c", "--consistent-ids", "a"],
    ["locate", "1", "--consistent-ids", "a", "--cache", "c"],
    ["locate", "1", "--consistent-ids", "a", "--verify"],
    ["demo", "--duration", "nan"],
    ["demo", "--duration", "inf"],
    ["demo", "--duration", "0"],
    ["demo", "--nodes", "1"],
    ["demo", "--backups", "0"],
    ["demo", "--user", "u", "--password-env", ""],
    ["nosuchcommand"],
    [],
]
COMMANDS = ("hash", "partition", "locate", "cluster", "topology", "demo")


@pytest.mark.parametrize("argv", BAD_INPUT, ids=lambda argv: " ".join(argv)[:60] or "(none)")
def test_bad_input_is_one_line_exit_2_without_traceback(capsys, argv) -> None:
    code, out, err = run(capsys, argv)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    command = argv[0] if argv and argv[0] in COMMANDS else None
    # Every command's errors carry the same prefix.
    prefix = f"ignite-router {command}: error: " if command else "ignite-router: error: "
    assert lines[0].startswith(prefix), lines[0]


def test_tie_error_names_the_ids_and_the_way_out(capsys) -> None:
    code, _, err = run(capsys, ["locate", "1", "--consistent-ids", "Aa,BB", "--partitions", "8"])
    assert code == 2
    assert "'Aa' and 'BB'" in err and "--node-ids" in err


def test_locate_nodes_count_is_refused_with_the_new_spelling(capsys) -> None:
    _, _, err = run(capsys, ["locate", "42", "--nodes", "3"])
    assert "--consistent-ids" in err and "count" in err


def test_old_nodes_spelling_still_works_with_a_note(capsys) -> None:
    new = run(capsys, ["locate", "7", "--consistent-ids", "node-a,node-b,node-c"])
    old = run(capsys, ["locate", "7", "--nodes", "node-a,node-b,node-c"])
    assert new[0] == old[0] == 0
    assert json.loads(new[1]) == json.loads(old[1])
    assert new[2] == "" and "--consistent-ids" in old[2] and len(old[2].splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["hash", "-1.25895E+12", "--type", "decimal"],
        ["hash", "-7"],
        ["hash", "-0.5", "--type", "double"],
        ["hash", "-inf", "--type", "float"],
        ["hash", "-1e-3", "--type", "double"],
        ["partition", "-123456", "--partitions", "17"],
    ],
)
def test_negative_values_are_plain_positionals(capsys, argv) -> None:
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert "hash" in json.loads(out)


def test_untyped_leading_zeros_are_strings_like_hex(capsys) -> None:
    for text in ("010", "00042", "0x10", "+0", "1e3"):
        code, out, _ = run(capsys, ["hash", text])
        result = json.loads(out)
        expected_type = "long" if text == "+0" else "string"
        assert (code, result["type"], result["value"]) == (
            0,
            expected_type,
            0 if expected_type == "long" else text,
        )


def test_every_command_accepts_json(capsys) -> None:
    for argv in (["hash", "1", "--json"], ["partition", "1", "--json"]):
        assert run(capsys, argv)[0] == 0
    code, _, err = run(capsys, ["cluster", "--json", "--nodes", "0"])
    assert code == 2 and "unrecognized" not in err and "--nodes" in err


def test_top_level_help_is_prose_not_a_docstring(capsys) -> None:
    code, out, _ = run(capsys, ["--help"])
    assert code == 0
    assert "``" not in out and ":mod:" not in out
    for command in ("hash", "partition", "locate", "cluster"):
        assert command in out


_SLOW_START = textwrap.dedent(
    """
    import asyncio, sys
    from ignite_router.testing.cluster import LocalCluster
    original = LocalCluster._start_node
    async def slow(self, index):
        if index == 5:  # well into start-up: the command's signal handlers are in place
            print("starting", file=sys.stderr, flush=True)
        await asyncio.sleep(0.05)
        await original(self, index)
    LocalCluster._start_node = slow
    from ignite_router.cli import main
    raise SystemExit(main(["cluster", "--nodes", "200"]))
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_starting_cluster_stops_promptly_on_a_signal(signum) -> None:
    # Start-up is slowed to ~10 s (50 ms per node); the signal must end it at once.
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_START],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # Signal once start-up is under way, however long the interpreter took to get there.
        assert select.select([process.stderr], [], [], 60)[0], "start-up never began"
        assert process.stderr.readline() == "starting\n"  # type: ignore[union-attr]
        sent = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=5)
        assert time.monotonic() - sent < 3
    finally:
        if process.poll() is None:  # only when the signal was ignored
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signum
    assert out == "" and "Traceback" not in err
    assert "Task was destroyed" not in err  # close() cancels what start() left behind


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["hash", "", "--type", "int"], "not an int: ''"),
        (["partition", "my cache", "--type", "long"], "not a long: 'my cache'"),
        (["hash", "nope", "--type", "uuid"], "not a UUID: 'nope'"),
        (["hash", "2024-13-01", "--type", "date"], "not a date: '2024-13-01'"),
        (["cluster", "--port", "-1"], "--port must be between 1 and"),
        (["cluster", "--host", "nosuchhost.invalid"], "cannot be resolved"),
        (["topology", "--connect", "127.0.0.1:1", "--timeout", "nan"], "--timeout must be"),
        (["topology", "--connect", "127.0.0.1:1", "--cache", ""], "--cache needs a non-empty"),
        (["locate", "1", "--connect", "127.0.0.1:1", "--cache", ""], "--cache needs a non-empty"),
        (["cluster", "--rebalance-delay", "inf"], "--rebalance-delay must be a finite number"),
        (["demo", "--duration", "nan"], "--duration must be a finite number"),
    ],
)
def test_messages_say_what_was_expected_not_what_python_said(capsys, argv, says) -> None:
    code, _, err = run(capsys, argv)
    assert code == 2 and says in err
    for raw in ("invalid literal", "badly formed", "base_port", "Traceback", "internal error"):
        assert raw not in err


# -- help text: what each command prints -------------------------------------------------


def test_top_level_help_says_which_commands_print_tables(capsys) -> None:
    _, out, _ = run(capsys, ["--help"])
    text = " ".join(out.split())
    assert "hash, partition, locate and cluster print JSON" in text
    assert "demo, topology and chaos print tables" in text and "bench a Markdown table" in text
    # argparse may wrap the line inside "ignite-router" (at its hyphen)
    assert 'pipinstall"ignite-router[cli]"' in "".join(out.split())


@pytest.mark.parametrize(
    ("command", "says"),
    [("hash", "JSON"), ("partition", "JSON"), ("locate", "JSON"), ("topology", "tables"),
     ("demo", "table")],
)  # fmt: skip
def test_command_help_names_its_output(capsys, command: str, says: str) -> None:
    code, out, _ = run(capsys, [command, "--help"])
    assert code == 0 and says in " ".join(out.split())


# -- without rich (the cli extra) ---------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["topology", "--connect", "127.0.0.1:1"], ["demo", "--duration", "1"], ["demo", "--no-live"]],
)
def test_tables_without_rich_say_how_to_install_it(capsys, monkeypatch, argv) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich now fails, as if not installed
    code, out, err = run(capsys, argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"ignite-router {argv[0]}: error: ")
    assert 'pip install "ignite-router[cli]"' in err  # and nothing ran: stdout is empty


def test_json_output_needs_no_rich(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    code, _, err = run(capsys, ["topology", "--connect", "127.0.0.1:1", "--timeout", "1", "--json"])
    assert code == 1 and "rich" not in err and "127.0.0.1:1" in err  # it tried to connect


# -- a port that speaks another protocol -----------------------------------------------------

HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    b"Connection: close\r\n\r\nBad Request"
)
TLS_ALERT = b"\x15\x03\x03\x00\x02\x02\x32"  # what a TLS server answers to plain bytes


class _Answering(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(1024)  # the handshake: not a request line, so a 400 at once
        self.request.sendall(self.server.answer)  # type: ignore[attr-defined]


@pytest.fixture(params=[HTTP_ANSWER, TLS_ALERT], ids=["http", "tls"])
def foreign_port(request) -> Iterator[tuple[int, str]]:
    """A loopback server answering like an HTTP (or TLS) server; (port, expected preview)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Answering)
    server.daemon_threads = True
    server.answer = request.param  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    preview = "'HTTP/1.1 400 Bad Request'" if request.param is HTTP_ANSWER else "0x15030300020232"
    try:
        yield server.server_address[1], preview
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_cli_says_the_port_is_not_ignite(capsys, foreign_port) -> None:
    port, preview = foreign_port
    code, out, err = run(capsys, ["topology", "--connect", f"127.0.0.1:{port}", "--timeout", "5"])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "frame length" not in err
    assert f"not an Ignite thin-client port (it answered {preview})" in err


def test_both_clients_say_the_port_is_not_ignite(foreign_port) -> None:
    port, preview = foreign_port
    expected = f"not an Ignite thin-client port (it answered {preview})"
    with pytest.raises(NoNodeAvailableError) as error:
        Client(timeout=5).connect([("127.0.0.1", port)])
    assert expected in str(error.value)

    async def connect() -> None:
        await AioClient(timeout=5).connect([("127.0.0.1", port)])

    with pytest.raises(IgniteError) as error:
        asyncio.run(connect())
    assert expected in str(error.value)


def _first_answer(data: bytes, chunk: int) -> list:
    connection = ClientConnection(HandshakeRequest())
    events: list = []
    for start in range(0, len(data), chunk):
        events += connection.receive(data[start : start + chunk])
    return events


@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_real_handshake_answers_pass_the_check_however_they_arrive(chunk: int) -> None:
    # The server side's own encoders (LocalCluster, which pyignite talks to, uses them).
    success = encode_handshake_success(ProtocolContext(LATEST), uuid.UUID(int=7))
    assert [type(event).__name__ for event in _first_answer(success, chunk)] == ["Handshaken"]
    # A refusal with a long message (60 KB) is still a handshake answer: a retry frame comes out.
    failure = encode_handshake_failure(LATEST, LATEST, "x" * 60_000, 1)
    with pytest.raises(Exception) as refused:  # a refusal with the same version is final
        _first_answer(failure, chunk)
    assert not isinstance(refused.value, ProtocolError)


@pytest.mark.parametrize(
    ("answer", "preview"),
    [
        (HTTP_ANSWER, "'HTTP/1.1 400 Bad Request'"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "'SSH-2.0-OpenSSH_9.2'"),
        (b"-ERR unknown command\r\n", "'-ERR unknown command'"),
        (TLS_ALERT, "0x15030300020232"),
        (b"\x00\x00\x00\x00", "0x00000000"),
        ((64 * 1024 + 1).to_bytes(4, "little") + b"\x01", "0x0100010001"),
    ],
)
def test_foreign_first_bytes_are_refused_before_framing(answer: bytes, preview: str) -> None:
    with pytest.raises(ProtocolError) as error:
        _first_answer(answer, len(answer))
    assert str(error.value) == f"not an Ignite thin-client port (it answered {preview})"
    connection = ClientConnection(HandshakeRequest())
    assert connection.receive(answer[:2]) == []  # a length prefix needs 4 bytes
    with pytest.raises(ProtocolError, match="not an Ignite thin-client port"):
        connection.receive(answer[2:4])
