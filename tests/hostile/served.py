"""A server under attack, in its own process: ``wirebench serve KIND`` on port 0.

The hostile tests measure the server's resident memory (VmRSS from /proc) and its log,
so it must not share a process with the attacking test. :class:`ServedProcess` starts
``python -m gui.cli serve KIND --port 0 ...``, reads the port from its "listening on"
line, and stops it (SIGTERM, then SIGKILL) when the test ends.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.waiting import wait_for

#: the checkout whose server is attacked; HOSTILE_SERVER_ROOT=/path/to/an/old/checkout
#: shows each test failing against a server without the fix
ROOT = Path(os.environ.get("HOSTILE_SERVER_ROOT") or Path(__file__).resolve().parents[2])
#: RSS growth of the process under test that any abuse may cost (the issue's bound)
RSS_BOUND_MB = 64
#: a normal client must be served within this while the abuse goes on (issue 14)
SERVE_BOUND = 1.0
_LISTENING = re.compile(r"listening on (\S+)")


def raise_open_files(wanted: int = 4096) -> None:
    """Let this (test) process hold ``wanted`` sockets: soft limit up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class ServedProcess:
    """``wirebench serve KIND`` in a subprocess; ``port``, ``rss_mb()``, ``log()``."""

    def __init__(self, kind: str, *args: str, open_files: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.kind = kind
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        limit = open_files

        def lower_open_files() -> None:  # the soft limit a stock distribution gives
            if limit is not None:
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gui.cli", "serve", kind, "--port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, preexec_fn=lower_open_files)
        self.pid = self.proc.pid
        self.host, self.port = self._wait_listening()

    def _wait_listening(self, timeout: float = 30.0) -> tuple[str, int]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode("utf-8", "replace")
            if not line:
                break
            found = _LISTENING.search(line)
            if found:
                host, _, port = found.group(1).rpartition(":")
                if port.isdigit():
                    return host.strip("[]"), int(port)
                return found.group(1), 0  # a UNIX socket's path
        log = self.log()
        self.stop()
        raise AssertionError(f"serve {self.kind} did not start: {log}")

    def rss_mb(self, pid: int | None = None) -> float:
        """Resident memory of the served process (or ``pid``) in MB, from /proc."""
        status = Path(f"/proc/{pid or self.pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
        return kb / 1024

    def peak_mb(self) -> float:
        """The served process's highest resident memory so far (VmHWM) in MB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
        return kb / 1024

    def children(self) -> list[int]:
        """Direct child processes (the fork echo server's helper)."""
        out = []
        for entry in Path(f"/proc/{self.pid}/task").glob("*/children"):
            out.extend(int(x) for x in entry.read_text().split())
        return out

    def accept_queue(self) -> int:
        """Connections the kernel completed that the server has not accepted yet (the
        listening socket's receive queue in /proc/net/tcp; 0 when nothing is found)."""
        waiting = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local, state, queues = fields[1], fields[3], fields[4]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == self.port:
                    waiting += int(queues.split(":")[1], 16)
        return waiting

    def wait_accepted(self, timeout: float = 60.0) -> None:
        """Wait until the server has accepted every connection made so far."""
        if self.port:
            wait_for(lambda: self.accept_queue() == 0, timeout, "the accept queue to drain")
            return
        # a UNIX socket's queue is not in /proc: wait for the server's descriptors to
        # stop changing (five looks in a row)
        seen: list[int] = []

        def settled() -> bool:
            seen.append(len(list(Path(f"/proc/{self.pid}/fd").iterdir())))
            return len(seen) >= 5 and len(set(seen[-5:])) == 1

        wait_for(settled, timeout, "the server to accept every UNIX client")

    def log(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        """The log once it contains ``text`` (the server writes it from another thread)."""
        try:
            wait_for(lambda: text in self.log(), timeout, interval=0.05)
        except AssertionError:
            raise AssertionError(f"{text!r} never appeared in the log:\n"
                                 f"{self.log()[-3000:]}") from None
        return self.log()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> ServedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def recv_until(sock: socket.socket, marker: bytes, timeout: float,
               limit: int = 1 << 20) -> bytes:
    """Read until ``marker`` is seen, within ``timeout`` seconds overall (b"" otherwise)."""
    deadline = time.monotonic() + timeout
    got = b""
    while marker not in got and len(got) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, OSError):
            return got
        if not chunk:
            return got
        got += chunk
    return got


def hold_connections(host: str, port: int, count: int, first: bytes = b"",
                     family: int = socket.AF_INET) -> list[socket.socket]:
    """``count`` idle clients: connected, optionally sent ``first``, then silent."""
    socks = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect((host, port) if family != socket.AF_UNIX else host)
            if first:
                sock.sendall(first)
        except OSError:
            sock.close()
            continue
        socks.append(sock)
    return socks


def served_among(served: ServedProcess, make_crowd: Callable[[], list[socket.socket]],
                 normal: Callable[[ServedProcess], float], tries: int = 3,
                 limit_log: str | None = None, label: str = "") -> list[float]:
    """While the crowd ``make_crowd`` connects holds its connections, ``tries`` normal
    clients are each served within SERVE_BOUND and RSS grows less than RSS_BOUND_MB
    over it all; then the crowd leaves and one more normal client is served. Returns
    the seconds each took."""
    rss_before = served.rss_mb()
    crowd = make_crowd()
    try:
        served.wait_accepted()  # the crowd is in, not queued in front of the client
        waits = [normal(served) for _ in range(tries)]
        grown = served.rss_mb() - rss_before
        print(f"FIGURE {label or served.kind}: slowest of {tries} normal clients "
              f"{max(waits) * 1000:.0f} ms, RSS +{grown:.1f} MB with {len(crowd)} others")
        assert max(waits) < SERVE_BOUND, f"normal clients took {waits}"
        if limit_log:
            served.wait_log(limit_log)
        assert grown < RSS_BOUND_MB
        assert served.alive()
    finally:
        close_all(crowd)
    assert normal(served) < SERVE_BOUND
    return waits


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass
