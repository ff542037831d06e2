"""Fork echo server controller (origin document, section 4.2.3).

The process that owns this controller may have threads (the GUI always does), and
``fork()`` from a threaded process can deadlock the child. So this controller binds the
listening socket itself (bind errors surface here, as for every server), then starts a
clean single-threaded helper — :mod:`core.servers.echo.fork_helper` run as a script with
the app's own interpreter — hands it the socket, and reads its one-line reports into
stats and log lines. The helper forks a child per connection and its fireman reaps them.

Stop: SIGTERM to the helper's process group (helper and every child), SIGKILL after the
timeout; the helper is waited, so no zombie and no fd is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from core.paths import python_command
from core.servers.base import ServerStartError
from core.servers.echo.common import ClientInfo, StreamEchoServer

HELPER = Path(__file__).with_name("fork_helper.py")
READY_TIMEOUT = 15.0  # a loaded machine can take seconds to start an interpreter


class ForkEchoServer(StreamEchoServer):
    kind = "echo-tcp-fork"
    title = "Echo (TCP, fork)"
    mode = "fork"

    def __init__(self, *args, fork_style: str = "simple", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if fork_style not in ("simple", "double"):
            from core.errors import UserError

            raise UserError(f"Fork style must be simple or double, got {fork_style!r}.",
                            "Fork style")
        self.fork_style = fork_style
        self.proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        #: peer -> [bytes in, bytes out], from the children's reports
        self._peers: dict[str, list[int]] = {}

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def helper_pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def describe(self) -> str:
        return f"{self.fork_style} fork; " + super().describe()

    def _start(self) -> None:
        endpoint = self._open_endpoint()
        assert endpoint.sock is not None
        fd = endpoint.sock.fileno()
        lim = self.limits
        cmd = [*python_command(), str(HELPER), "--fd", str(fd), "--style", self.fork_style,
               "--max-clients", str(lim.max_clients), "--idle-timeout", str(lim.idle_timeout),
               "--recv-size", str(lim.recv_size)]
        self._ready.clear()
        self._stopping = False
        try:
            # its own process group, so one killpg() reaches the helper and all its
            # children (not a new session: that would also put it in its own scheduler
            # autogroup, away from the app)
            self.proc = subprocess.Popen(cmd, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         process_group=0, close_fds=True)
        except OSError as exc:
            endpoint.close_connection()
            raise ServerStartError(f"Cannot start the fork helper process: {exc}.",
                                   "Mode") from exc
        # the helper has its own copy; ours would keep the port open after a stop
        endpoint.sock.detach()
        os.close(fd)
        endpoint.sock = None
        self._reader = threading.Thread(target=self.guarded(self._read_reports),
                                        name=f"{self.kind}:reports",
                                        daemon=True)
        self._reader.start()
        if not self._ready.wait(READY_TIMEOUT) or self.proc.poll() is not None:
            self._kill_group(signal.SIGKILL)
            self.proc.wait(2.0)
            self._reader.join(2.0)
            self.proc, self._reader = None, None
            raise ServerStartError("The fork helper process did not start; see the log.",
                                   "Mode")

    def _read_reports(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            self._on_report(raw.decode("utf-8", "replace").rstrip("\n"))
        if self._stopping or not self._ready.is_set():
            return
        # end of reports without a stop: the helper died (killed, out of memory...)
        try:
            code = proc.wait(2.0)
        except subprocess.TimeoutExpired:
            code = None
        # a server death like any other: guarded() reports the crash and stops the rest
        raise ChildProcessError(f"the fork helper process ended unexpectedly (exit status "
                                f"{code}); start the server again")

    def _on_report(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        try:
            if word == "READY":
                self._ready.set()
            elif word == "OPEN":
                self._peers[rest] = [0, 0]
                self.count(opened=1)
                self.log(f"{rest} connected (child process)")
            elif word == "BYTES":
                peer, *numbers = rest.split()
                bytes_in, bytes_out, requests = (int(x) for x in numbers)
                if peer in self._peers:
                    self._peers[peer][0] += bytes_in
                    self._peers[peer][1] += bytes_out
                self.count(bytes_in=bytes_in, bytes_out=bytes_out, requests=requests)
            elif word == "CLOSE":
                peer, bytes_in, bytes_out, reason = rest.split(" ", 3)
                self._peers.pop(peer, None)
                self.count(closed=1)
                self.log(f"{peer} closed ({reason}): {bytes_in} B in, {bytes_out} B out")
            elif word == "LOG":
                level, _, text = rest.partition(" ")
                self.log(text, level)
            else:
                self.log(f"fork helper: {line}", "error")
        except ValueError:
            self.log(f"fork helper sent an unreadable report: {line}", "error")

    def clients(self, limit: int = 500) -> list[ClientInfo]:
        # a child serves each one; the controller knows them from the reports only
        return [ClientInfo(peer, "Established", b_in, b_out)
                for peer, (b_in, b_out) in list(self._peers.items())[:limit]]

    def _kill_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def _stop(self, timeout: float) -> None:
        if self.proc is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping = True
        self._kill_group(signal.SIGTERM)
        try:
            self.proc.wait(max(0.05, deadline - time.monotonic() - 0.1))
        except subprocess.TimeoutExpired:
            self._kill_group(signal.SIGKILL)
            self.proc.wait(1.0)
        # children that outlived the helper (double fork without a subreaper) die too
        self._kill_group(signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(max(0.05, deadline - time.monotonic()))
            self._reader = None
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        with self._counter_lock:
            self.connections = 0  # their children were killed with the group
        self._peers.clear()
        self.proc = None
        if self.endpoint is not None:
            self.endpoint.close_connection()
