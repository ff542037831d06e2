"""Malicious servers for the client hostile tests, and a client run in its own process.

:class:`HostileServer` listens on 127.0.0.1 port 0 and runs ``handler(conn, server)`` for
each connection on its own thread; :meth:`HostileServer.stop` closes every socket and
joins every thread. :func:`run_client` runs a snippet of client code in a fresh Python
process whose resident memory is read from its own ``/proc/self/status`` before and after
the abuse (VmRSS, then the peak VmHWM), so the test process's memory never blurs it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: every client operation ends within its timeout plus this (issue 14)
GRACE = 1.0

Handler = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    """A tiny TCP server whose ``handler`` misbehaves on purpose."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.connections = 0
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)  # closing a listener does not wake accept()
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.connections += 1
                self._socks.append(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn, self)
        except OSError:
            pass  # the client went away: that is what we wanted
        finally:
            conn.close()

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` unless stopping; True when the server should go on."""
        return not self.stopping.wait(seconds)

    def stop(self) -> None:
        self.stopping.set()
        self._accepter.join(5)
        self.listener.close()
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_client(body: str, timeout: float = 120.0) -> dict:
    """Run ``body`` (which sets ``result``, a dict) in a fresh interpreter.

    Returns ``result`` plus ``rss_growth_mb`` (peak resident memory during ``body`` minus
    the resident memory before it) and ``seconds`` (wall time of ``body``).
    """
    script = "\n".join([
        "import json, time",
        "def _status(key):",
        "    for line in open('/proc/self/status'):",
        "        if line.startswith(key + ':'):",
        "            return int(line.split()[1]) / 1024",
        "result = {}",
        "_before = _status('VmRSS')",
        "_started = time.monotonic()",
        textwrap.dedent(body),
        "result['seconds'] = time.monotonic() - _started",
        "result['rss_growth_mb'] = _status('VmHWM') - _before",
        "print('RESULT ' + json.dumps(result))",
    ])
    # the imports the body needs are done first, so the baseline includes them
    prelude = ("import core.smtp.session, core.ftp.client, core.ftp.transfers, "
               "core.telnet.session\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", prelude + script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise AssertionError(f"the client process failed:\n{done.stdout}\n{done.stderr}")


def read_line(conn: socket.socket, limit: int = 65536) -> bytes:
    """One line from ``conn`` (b"" when it closed)."""
    data = bytearray()
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return bytes(data)
