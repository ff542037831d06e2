"""Third-party telnet peers: inetutils-telnetd behind a tiny inetd, and Debian's client.

telnetd is meant to be started by inetd with the accepted connection as its stdin,
stdout and stderr. :class:`TelnetdInetd` does exactly that on a free 127.0.0.1 port,
one telnetd per connection, running a login script (``-E``) instead of /bin/login: it
prompts ``login:`` and ``Password:`` (echo off through stty, as login does), then runs a
tiny shell loop that answers ``you said: ...`` and reports the terminal size telnetd set
from NAWS (``stty size``); ``raw`` shows the bytes of the next two lines as the
program reads them (``od -c``). No system account or service is involved.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.fixtures.daemon_peers import InetdTelnetd
from tests.fixtures.waiting import reached, wait_for

LOGIN_USER = "interop"
LOGIN_PASSWORD = "s3cret"
STOP_DEADLINE = 5.0

LOGIN_SCRIPT = f"""#!/bin/sh
# a stand-in for /bin/login: the prompts and echo handling a telnet client meets
printf 'login: '
read -r user
stty -echo
printf 'Password: '
read -r password
stty echo
printf '\\n'
if [ "$user" != "{LOGIN_USER}" ] || [ "$password" != "{LOGIN_PASSWORD}" ]; then
    echo "Login incorrect"
    sleep 1  # as login's FAIL_DELAY: telnetd may drop pty output still unread at exit
    exit 1
fi
echo "Welcome $user (TERM=$TERM)"
while printf '$ ' && read -r line; do
    case "$line" in
        size) echo "stty size: $(stty size)" ;;
        raw) echo "two lines:"; head -n 2 | od -An -c | tr -s ' ' ;;
        exit) echo "bye"; sleep 1; exit 0 ;;  # (sleep: as after "Login incorrect")
        *) echo "you said: $line" ;;
    esac
done
"""


class TelnetdInetd(InetdTelnetd):
    """The shared inetd for telnetd (tests/fixtures/daemon_peers.py) running
    :data:`LOGIN_SCRIPT`, written into ``folder``."""

    def __init__(self, folder: Path) -> None:
        script = folder / "login.sh"
        script.write_text(LOGIN_SCRIPT)
        script.chmod(0o755)
        super().__init__(script)


class PtyClient:
    """A terminal program (Debian's ``telnet``) on a pseudo-terminal of a given size.

    What the program writes is collected in :attr:`output` (capped); ``expect`` waits for
    text with a deadline and ``type`` writes keystrokes as a user would.
    """

    OUTPUT_CAP = 1 << 20

    def __init__(self, argv: list[str], columns: int = 80, rows: int = 24) -> None:
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {"PATH": "/usr/bin:/bin", "TERM": "vt100", "HOME": os.environ.get("HOME", "/")}
        try:
            self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                            env=env, close_fds=True, start_new_session=True)
        finally:
            os.close(slave)
        self.output = b""

    def _read(self, wait: float) -> None:
        import select

        ready, _, _ = select.select([self.master], [], [], wait)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the program closed its terminal
                chunk = b""
            self.output = (self.output + chunk)[-self.OUTPUT_CAP:]

    def expect(self, text: bytes, timeout: float = 10.0) -> None:
        wait_for(lambda: text in self.output, timeout,
                 lambda: f"{text!r} not seen within {timeout} s; got {self.output[-400:]!r}",
                 pump=lambda: self._read(0.05), interval=0)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        """The program's exit code once it ends by itself (None: still running)."""
        # keep its terminal drained meanwhile, so it can finish writing
        reached(lambda: self.process.poll() is not None, timeout,
                lambda: self._read(0.05), 0)
        return self.process.poll()

    def close(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_DEADLINE)
        os.close(self.master)
        return self.process.returncode
