"""A stock telnet server for ``bench/terminal.py --server telnetd``: inetutils-telnetd.

The interop tests' inetd of one service (``tests/fixtures/daemon_peers.py``) accepts on
127.0.0.1 (any free port) and runs ``telnetd -h -E SCRIPT`` with the connection as its
stdin and stdout, as inetd does. The script stands in
for /bin/login and a shell with the lab's prompts (``login:``, ``Password:``, ``$ ``) and
its ``flood N`` command, so the bench drives it exactly as it drives the lab server —
but the echo of a key now comes from a real pty's line discipline, behind whatever the
flood left in the pty and in telnetd.
"""

from __future__ import annotations

import sys
import tempfile
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
    """inetutils-telnetd behind the tests' one-service inetd; ``port`` once entered."""

    def __init__(self, telnetd: str) -> None:
        self.telnetd = telnetd  # found (or a clear message given) by the bench
        self.folder = Path(tempfile.mkdtemp(prefix="wb-bench-telnetd-"))
        self.port = 0

    def __enter__(self) -> TelnetdPeer:
        sys.path.insert(0, str(ROOT))
        from tests.fixtures.daemon_peers import InetdTelnetd

        flood = self.folder / "flood.py"
        flood.write_text(FLOOD.format(root=str(ROOT)))
        login = self.folder / "login.sh"
        login.write_text(LOGIN.format(python=sys.executable, flood=flood))
        login.chmod(0o755)
        self.inetd = InetdTelnetd(login)
        self.port = self.inetd.port
        return self

    def __exit__(self, *exc: object) -> None:
        self.inetd.stop()
