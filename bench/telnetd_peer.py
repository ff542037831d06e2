"""A stock telnet server for ``bench/terminal.py --server telnetd``: inetutils-telnetd.

An inetd of one service accepts on 127.0.0.1 (any free port) and runs ``telnetd -h -E
SCRIPT`` with the connection as its stdin and stdout, as inetd does. The script stands in
for /bin/login and a shell with the lab's prompts (``login:``, ``Password:``, ``$ ``) and
its ``flood N`` command, so the bench drives it exactly as it drives the lab server —
but the echo of a key now comes from a real pty's line discipline, behind whatever the
flood left in the pty and in telnetd.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: ``flood N``: the lab's coloured ls -lR lines, written to the pty 100 lines at a time;
#: Ctrl-C (SIGINT from the tty) ends it as the lab's flood ends
FLOOD = """
import sys
sys.path.insert(0, {root!r})
from core.servers.telnet_samples import ls_lr_lines
count = int(sys.argv[1])
out, batch = sys.stdout.buffer, []
try:
    for line in ls_lr_lines(count):
        batch.append(line)
        if len(batch) >= 100:
            out.write(("\\n".join(batch) + "\\n").encode())
            out.flush()
            batch.clear()
    out.write(("\\n".join(batch) + ("\\n" if batch else "")).encode())
    out.write(("\\x1b[0m-- %d lines --\\n" % count).encode())
except KeyboardInterrupt:
    out.write(b"\\x1b[0m\\nflood interrupted\\n")
out.flush()
"""

#: /bin/login and a shell in one: a ':' trap keeps the shell alive through Ctrl-C while
#: the flood (its child, default SIGINT) is interrupted
LOGIN = """#!/bin/sh
printf 'login: '
read -r user
stty -echo
printf 'Password: '
read -r password
stty echo
printf '\\n'
trap ':' INT
while printf '$ ' && read -r line; do
    case "$line" in
        flood*) {python} {flood} ${{line#flood }} ;;
        exit) echo logout; sleep 1; exit 0 ;;
        *) ;;
    esac
done
"""


class TelnetdPeer:
    """inetutils-telnetd behind a one-service inetd; ``port`` once entered."""

    def __init__(self, telnetd: str) -> None:
        self.telnetd = telnetd
        self.folder = Path(tempfile.mkdtemp(prefix="wb-bench-telnetd-"))
        self.children: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TelnetdPeer:
        flood = self.folder / "flood.py"
        flood.write_text(FLOOD.format(root=str(ROOT)))
        login = self.folder / "login.sh"
        login.write_text(LOGIN.format(python=sys.executable, flood=flood))
        login.chmod(0o755)
        self.program = login
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self.children.append(subprocess.Popen(
                    [self.telnetd, "-h", "-E", str(self.program)], stdin=conn, stdout=conn,
                    stderr=subprocess.DEVNULL))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(5)
