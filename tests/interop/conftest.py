"""The shared frame of the interop suite: start a third-party daemon in a temp folder on a
free 127.0.0.1 port, wait until it answers (with a deadline), and stop it afterwards.

Peers come from Debian packages that `.ci/setup.sh --test` installs. A missing peer FAILS
the test (it never skips): CI must have every peer, or the suite proves nothing.

Each protocol's own fixtures live in its test module and build on ``start_daemon``:

    def test_x(start_daemon, tmp_path):
        def argv(port: int) -> list[str]:
            (tmp_path / "x.conf").write_text(f"port={port}\\n")
            return [peer_binary("xd"), str(tmp_path / "x.conf")]
        peer = start_daemon("xd", argv, ready=tcp_answers)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.events import Event
from tests.fixtures.waiting import EventCollector, wait_for

LOOPBACK = "127.0.0.1"
START_DEADLINE = 15.0  # seconds a daemon gets to answer before the test fails
STOP_DEADLINE = 5.0  # seconds between SIGTERM and SIGKILL
START_ATTEMPTS = 3  # a free port can be taken between our probe and the daemon's bind
LOG_TAIL_BYTES = 4000  # how much of a daemon's output a failure message quotes


def peer_binary(name: str) -> str:
    """The path of a third-party program, or fail (never skip) naming the package to add."""
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in ("/usr/sbin", "/sbin", "/usr/lib/postfix/sbin")
         if (Path(d) / name).exists()), None)
    if found is None:
        pytest.fail(f"interop peer {name!r} is not installed: run `bash .ci/setup.sh --test`")
    return found


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago (for daemons that need a number)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def tcp_answers(port: int, host: str = LOOPBACK) -> bool:
    """True when something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tcp_greets(port: int, host: str = LOOPBACK) -> bool:
    """True when host:port accepts and sends its first line (FTP and SMTP banners)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as conn:
            return conn.recv(1024).endswith(b"\n")
    except OSError:
        return False


@dataclass
class Daemon:
    """One running third-party peer: its process, port, folder and output log."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    log_path: Path

    def log_tail(self) -> str:
        try:
            data = self.log_path.read_bytes()[-LOG_TAIL_BYTES:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def stop(self) -> int | None:
        """SIGTERM its process group, SIGKILL after a deadline; return the exit code."""
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout=STOP_DEADLINE)
        return self.process.returncode


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the daemon's own children too (vsftpd forks)
    except ProcessLookupError:
        pass


DaemonStarter = Callable[..., Daemon]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[DaemonStarter]:
    """``start_daemon(name, argv_for_port, ready=tcp_answers, env=None, port=None)``.

    ``argv_for_port(port)`` writes any config it needs into the test's temp folder and
    returns the command line; ``ready(port)`` says when the daemon answers. On a failed
    start (the port was taken, or the daemon exited) it tries again on another port, then
    fails the test quoting the daemon's output. Every daemon is stopped after the test.
    """
    started: list[Daemon] = []

    def start(name: str, argv_for_port: Callable[[int], list[str]], *,
              ready: Callable[[int], bool] = tcp_answers, env: dict[str, str] | None = None,
              port: int | None = None, kind: int = socket.SOCK_STREAM) -> Daemon:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        reason = ""
        for attempt in range(START_ATTEMPTS):
            chosen = port if port is not None else free_port(kind)
            log_path = folder / f"output-{attempt}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    argv_for_port(chosen), cwd=folder, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                    start_new_session=True)
            daemon = Daemon(name, process, chosen, folder, log_path)
            started.append(daemon)
            reason = _wait_ready(daemon, ready)
            if not reason:
                return daemon
            daemon.stop()
        pytest.fail(f"{name} did not start: {reason}")

    yield start
    for daemon in reversed(started):
        daemon.stop()


def _wait_ready(daemon: Daemon, ready: Callable[[int], bool]) -> str:
    """Wait until ``ready`` holds; return '' or why not (exit code and output)."""
    try:
        wait_for(lambda: daemon.process.poll() is not None or ready(daemon.port),
                 START_DEADLINE, interval=0.05)
    except AssertionError:
        return (f"no answer on port {daemon.port} within {START_DEADLINE:.0f} s: "
                f"{daemon.log_tail()}")
    if daemon.process.poll() is not None:
        return f"exited with {daemon.process.returncode}: {daemon.log_tail()}"
    return ""


def expect_event(events: EventCollector, kind: type, timeout: float = 15.0) -> Any:
    """The next ``kind`` event a core session posts; fail at once on ``Failed``."""
    from core.events import Failed

    event = events.wait(Event, lambda e: isinstance(e, kind | Failed), timeout)
    if isinstance(event, Failed):
        pytest.fail(f"the session failed while waiting for {kind.__name__}: {event.message}")
    return event
