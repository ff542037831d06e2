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
import socket
import subprocess
import threading
from pathlib import Path

from tests.fixtures.waiting import reached, wait_for
from tests.interop.programs import peer_program

LOGIN_USER = "interop"
LOGIN_PASSWORD = "s3cret"
ACCEPT_POLL = 0.2  # seconds between checks of the stop flag while accepting
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
    exit 1
fi
echo "Welcome $user (TERM=$TERM)"
while printf '$ ' && read -r line; do
    case "$line" in
        size) echo "stty size: $(stty size)" ;;
        raw) echo "two lines:"; head -n 2 | od -An -c | tr -s ' ' ;;
        exit) echo "bye"; exit 0 ;;
        *) echo "you said: $line" ;;
    esac
done
"""


class TelnetdInetd:
    """Accepts on 127.0.0.1 port 0; each connection gets its own telnetd process."""

    def __init__(self, folder: Path) -> None:
        self.script = folder / "login.sh"
        self.script.write_text(LOGIN_SCRIPT)
        self.script.chmod(0o755)
        self.telnetd = peer_program("telnetd")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(ACCEPT_POLL)
        self.port = self._listener.getsockname()[1]
        self.children: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="interop:inetd",
                                        daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.setblocking(True)
                # -h: no host banner before login; -E: our script instead of /bin/login
                self.children.append(subprocess.Popen(
                    [self.telnetd, "-h", "-E", str(self.script)], stdin=conn, stdout=conn,
                    stderr=conn, close_fds=True, start_new_session=True))

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(STOP_DEADLINE)
        for child in self.children:
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(STOP_DEADLINE)


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
