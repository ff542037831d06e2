"""The lab telnet server: login, shell commands, flood, registry entries."""

from __future__ import annotations

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
