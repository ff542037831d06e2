"""Telnet against peers nobody here wrote.

* Our session and automation against inetutils-telnetd (socket-activated by a tiny inetd,
  running a login script): the login works, a command's output is clean (no NUL, no
  stray bytes) and the server sees our window size through NAWS, also after a resize.
* Debian's ``telnet`` client (inetutils-telnet) against the lab telnet server, on a
  pseudo-terminal of a known size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.servers.telnet_lab import LAB_PASSWORD, LAB_USER, TelnetLabServer
from core.telnet.automation import AutomationRun, parse_script
from core.telnet.protocol import BINARY
from core.telnet.session import TelnetSession
from core.telnet.settings import TelnetSettings
from core.worker import drain
from tests.fixtures.daemon_peers import peer_program
from tests.fixtures.waiting import wait_for
from tests.interop.telnet_peers import (
    LOGIN_PASSWORD,
    LOGIN_USER,
    PtyClient,
    TelnetdInetd,
)

LOGIN_SCRIPT = f"""timeout 15
expect login:
send {LOGIN_USER}
expect Password:
send {{secret}}
expect Welcome {LOGIN_USER}
expect-re \\$ $
send hello there
expect-re you said: hello there\\r?\\n\\$ $
"""


def wait_until(session: TelnetSession, cond: Callable[[], bool], what: str,
               timeout: float = 15.0) -> None:
    wait_for(cond, timeout, lambda: f"{what} not seen in {timeout} s; screen:\n"
             + screen_text(session), pump=lambda: drain(session.outbox))


def screen_text(session: TelnetSession) -> str:
    return "\n".join(line.rstrip() for line in session.screen.display_text())


@pytest.fixture
def telnetd(tmp_path: Path) -> Iterator[TelnetdInetd]:
    server = TelnetdInetd(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def session() -> Iterator[TelnetSession]:
    s = TelnetSession()
    yield s
    s.close()


def log_in(session: TelnetSession, server: TelnetdInetd, columns: int, rows: int) -> None:
    session.connect(TelnetSettings(host="127.0.0.1", port=server.port, columns=columns,
                                   rows=rows))
    wait_until(session, lambda: "login:" in screen_text(session), "login:")
    run = AutomationRun(session, parse_script(LOGIN_SCRIPT), secret=LOGIN_PASSWORD)
    run.start()
    assert run.join(30)
    assert run.result is not None and run.result.ok, run.result


def test_automation_logs_in_to_telnetd_and_output_is_clean(session: TelnetSession,
                                                           telnetd: TelnetdInetd) -> None:
    log_in(session, telnetd, 91, 27)
    lines = screen_text(session).splitlines()
    # a NUL after CR once reached the program and came back as ^@ before every reply
    assert lines[:5] == ["login: interop", "Password:",
                         "Welcome interop (TERM=xterm-256color)", "$ hello there",
                         "you said: hello there"]
    # binary was agreed both ways, so Enter is a bare CR (RFC 856), as Debian's telnet
    assert session.protocol.local_enabled(BINARY) and session.enter_bytes == b"\r"
    transcript = session.transcript_text()
    assert "^@" not in transcript and "\x00" not in transcript
    assert LOGIN_PASSWORD not in transcript  # the server turned echo off for it
    # the program reads exactly the typed bytes (the tty turns CR into NL)
    session.send_text("raw\r")
    wait_until(session, lambda: "two lines:" in screen_text(session), "raw")
    session.send_text("abc\rdef\r")
    wait_until(session, lambda: screen_text(session).rstrip().endswith("$"), "the prompt")
    assert " a b c \\n d e f \\n" in screen_text(session).splitlines()


def test_telnetd_sees_our_window_size_and_its_changes(session: TelnetSession,
                                                      telnetd: TelnetdInetd) -> None:
    log_in(session, telnetd, 91, 27)
    session.send_text("size\r")
    wait_until(session, lambda: "stty size: 27 91" in screen_text(session), "27 91")
    session.resize(120, 40)
    wait_until(session, lambda: session.screen.columns == 120, "the resize")
    session.send_text("size\r")
    wait_until(session, lambda: "stty size: 40 120" in screen_text(session), "40 120")
    session.send_text("exit\r")
    wait_until(session, lambda: not session.connected, "the end of the session")
    assert "bye" in screen_text(session)


def test_a_wrong_password_is_refused_by_the_login_script(session: TelnetSession,
                                                         telnetd: TelnetdInetd) -> None:
    session.connect(TelnetSettings(host="127.0.0.1", port=telnetd.port))
    wait_until(session, lambda: "login:" in screen_text(session), "login:")
    session.send_text(f"{LOGIN_USER}\r")
    wait_until(session, lambda: "Password:" in screen_text(session), "Password:")
    session.send_text("wrong\r")
    wait_until(session, lambda: "Login incorrect" in screen_text(session), "the refusal")
    wait_until(session, lambda: not session.connected, "the server closing")


@pytest.mark.parametrize("options", [[], ["-8"]], ids=["nvt", "binary"])
def test_debian_telnet_client_against_the_lab_server(telnet_lab: TelnetLabServer,
                                                     options: list[str]) -> None:
    # -8: an 8-bit data path, BINARY both ways, so Enter arrives as a bare CR
    client = PtyClient([peer_program("telnet", "inetutils-telnet"), *options, "127.0.0.1",
                        str(telnet_lab.port)], columns=101, rows=33)
    try:
        client.expect(b"login:")
        client.type(LAB_USER.encode() + b"\r")
        client.expect(b"Password:")
        client.type(LAB_PASSWORD.encode() + b"\r")
        client.expect(b"lab@wirebench")
        client.type(b"echo interop ok\r")
        client.expect(b"interop ok\r\n")
        client.type(b"size\r")
        client.expect(b"101")
        # the lab server saw the pty's size (NAWS) and terminal type (TTYPE)
        assert (101, 33) in telnet_lab.naws_seen
        assert any(t.lower() == "vt100" for t in telnet_lab.ttypes_seen)
        password_line = client.output.split(b"Password:", 1)[1].split(b"\n", 1)[0]
        assert LAB_PASSWORD.encode() not in password_line  # echo was off for it
        assert b"\x00" not in client.output
        client.type(b"exit\r")
        client.expect(b"Connection closed by foreign host.")
        assert client.wait_exit() == 0
    finally:
        client.close()
