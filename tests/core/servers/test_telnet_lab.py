"""The lab telnet server: login, shell commands, flood, registry entries."""

from __future__ import annotations

import contextlib
import re
import socket
import time

from core.servers.registry import serve_kinds
from core.servers.telnet_lab import LAB_PORT, TelnetLabServer, lab_peers


def talk(port: int, lines: list[bytes], until: bytes, timeout: float = 10) -> bytes:
    """A plain socket client that never negotiates (answers nothing)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.settimeout(0.2)
        got = b""
        pending = list(lines)
        end = time.monotonic() + timeout
        while time.monotonic() < end and until not in got:
            try:
                data = sock.recv(65536)
                if not data:
                    break
                got += data
            except TimeoutError:
                pass
            if pending and (b"login:" in got or b"Password:" in got or b"$ " in got):
                prompt_count = got.count(b"login:") + got.count(b"Password:") + got.count(b"$ ")
                if prompt_count > len(lines) - len(pending):
                    sock.sendall(pending.pop(0) + b"\r\n")
        return got


def test_login_and_shell_commands(telnet_lab: TelnetLabServer) -> None:
    out = talk(telnet_lab.port, [b"lab", b"wirebench", b"echo hi there", b"flood 3",
                                 b"exit"], b"logout")
    assert b"Last login" in out
    assert b"hi there" in out
    assert b"-- 3 lines --" in out
    assert b"logout" in out
    assert telnet_lab.describe() == "login lab / password wirebench"


def test_wrong_password_is_refused(telnet_lab: TelnetLabServer) -> None:
    out = talk(telnet_lab.port, [b"lab", b"nope"], b"Login incorrect")
    assert b"Login incorrect" in out


def test_registered_for_lab_and_serve() -> None:
    (peer,) = lab_peers()
    assert isinstance(peer, TelnetLabServer) and peer.port == LAB_PORT
    assert lab_peers(ephemeral=True)[0].port == 0
    assert "telnet" in serve_kinds()


def test_lines_typed_ahead_of_a_busy_shell_are_capped(telnet_lab: TelnetLabServer) -> None:
    """A client types 1,000 commands while a flood runs: the shell keeps MAX_TYPEAHEAD
    of them (as a full tty buffer drops the rest), says so in the log, and still
    answers after the flood."""
    from core.events import LogLine
    from core.servers.telnet_lab import MAX_TYPEAHEAD

    with socket.create_connection(("127.0.0.1", telnet_lab.port), timeout=10) as sock:
        tail = b""

        def read_until(marker: bytes, keep: bytearray | None = None) -> None:
            nonlocal tail
            end = time.monotonic() + 30
            while marker not in tail and time.monotonic() < end:
                data = sock.recv(1 << 20)
                assert data, "the lab closed the connection"
                if keep is not None:
                    keep += data
                tail = tail[-4096:] + data  # a flood is long: look at the tail only
            assert marker in tail
            tail = tail[tail.index(marker) + len(marker):]

        for prompt, answer in ((b"login:", b"lab"), (b"Password:", b"wirebench")):
            read_until(prompt)
            sock.sendall(answer + b"\r\n")
        read_until(b"$ ")
        sock.sendall(b"flood 100000\r\n" + b"".join(b"echo ahead%d\r\n" % i
                                                    for i in range(1000)))
        read_until(b"-- 100000 lines --")
        answered = bytearray(tail)
        sock.settimeout(0.5)
        with contextlib.suppress(TimeoutError):  # until the shell ran what it kept
            while data := sock.recv(1 << 20):
                answered += data
                tail = tail[-4096:] + data
        sock.settimeout(10)
        sock.sendall(b"echo after the flood\r\n")
        read_until(b"$ after the flood\r\n")
    ran = set(re.findall(rb"\$ ahead(\d+)\r\n", bytes(answered)))
    assert 0 < len(ran) <= MAX_TYPEAHEAD
    logs = []
    while not telnet_lab.outbox.empty():
        event = telnet_lab.outbox.get()
        if isinstance(event, LogLine):
            logs.append(event.text)
    assert any("[typeahead]" in text for text in logs)
