"""What a closed client left behind in this process: threads, sockets, CLOSE_WAIT.

Linux only: sockets are this process's file descriptors (``/proc/self/fd``)
matched by inode against the kernel's TCP tables (``/proc/net/tcp``, ``tcp6``).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

__all__ = ["Leaks", "Snapshot", "leaks_since"]

LISTEN, CLOSE_WAIT = "0A", "08"  # socket states as /proc/net/tcp writes them
TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    CLOSE_WAIT: "CLOSE_WAIT",
    "09": "LAST_ACK",
    LISTEN: "LISTEN",
    "0B": "CLOSING",
}


def _socket_inodes() -> set[int]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since listdir
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _address(field: str) -> str:
    """``host:port`` from the kernel's hex form (IPv4 in network order, little-endian words)."""
    host, port = field.split(":")
    if len(host) == 8:
        host = ".".join(str(byte) for byte in reversed(bytes.fromhex(host)))
    return f"{host}:{int(port, 16)}"


def _tcp_states() -> dict[int, tuple[str, str, str]]:
    """inode -> (local address, remote address, state code) for every TCP socket."""
    states = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines)  # the header
                for line in lines:
                    fields = line.split()
                    states[int(fields[9])] = (_address(fields[1]), _address(fields[2]), fields[3])
        except FileNotFoundError:  # no IPv6
            continue
    return states


@dataclass(frozen=True)
class Snapshot:
    """The threads and sockets of this process at one moment."""

    threads: frozenset[int]
    sockets: frozenset[int]

    @classmethod
    def take(cls) -> Snapshot:
        idents = frozenset(t.ident for t in threading.enumerate() if t.ident is not None)
        return cls(idents, frozenset(_socket_inodes()))


@dataclass(frozen=True)
class Leaks:
    """Threads and sockets opened since a snapshot and still there; CLOSE_WAIT sockets."""

    threads: tuple[str, ...] = ()
    sockets: tuple[str, ...] = ()
    close_wait: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.threads or self.sockets or self.close_wait)


def _leaks(before: Snapshot) -> Leaks:
    threads = tuple(
        t.name for t in threading.enumerate() if t.ident not in before.threads and t.is_alive()
    )
    tcp = _tcp_states()
    sockets, close_wait = [], []
    for inode in sorted(_socket_inodes()):
        local, remote, state = tcp.get(inode, ("?", "?", "not TCP"))
        described = f"{local} -> {remote} {TCP_STATES.get(state, state)}"
        if state == CLOSE_WAIT:
            close_wait.append(described)
        if inode not in before.sockets and state != LISTEN:  # a restarted node listens anew
            sockets.append(described)
    return Leaks(threads, tuple(sockets), tuple(close_wait))


def leaks_since(before: Snapshot, grace: float = 3.0) -> Leaks:
    """What is left since ``before``, after waiting up to ``grace`` seconds for it to go
    (threads finishing, the server side closing after the client's FIN)."""
    deadline = time.monotonic() + grace
    while (found := _leaks(before)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found
