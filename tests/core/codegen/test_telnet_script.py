"""Telnet sessions rendered as scripts and replayed against the same peer: the lab
server (automation) and inetutils-telnetd (typing by hand, BINARY negotiated)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.codegen import render
from core.servers.telnet_lab import LAB_PASSWORD
from core.telnet.automation import AutomationRun, parse_script
from core.telnet.session import TelnetSession
from core.telnet.settings import TelnetSettings
from tests.fixtures.daemon_peers import InetdTelnetd
from tests.fixtures.telnet_peers import ScriptedPeer
from tests.fixtures.waiting import wait_for

SECRET = "s3cret-Hunter2"
LOGIN = """timeout 10
expect login:
send lab
expect Password:
send {secret}
expect-re \\$ $
"""
# a login program for telnetd -E: it logs what it read at each prompt, one line each
LOGIN_PROGRAM = """#!/bin/bash
LOG={log}
printf 'login: '
IFS= read -r user
stty -echo
printf 'Password: '
IFS= read -r pass
stty echo
printf '\\r\\n'
printf 'user=%q\\n' "$user" >> "$LOG"
if [ "$pass" != {secret} ]; then
  printf 'password=wrong\\n' >> "$LOG"; printf 'Login incorrect\\r\\n'; exit 1
fi
printf 'password=right\\n' >> "$LOG"
while printf 'lab$ '; IFS= read -r line; do
  printf 'command=%q\\n' "$line" >> "$LOG"
  case "$line" in
    exit) exit 0 ;;
    echo\\ *) printf '%s\\r\\n' "${{line#echo }}" ;;
    *) printf 'unknown\\r\\n' ;;
  esac
done
"""


@pytest.fixture
def telnetd(tmp_path: Path) -> Iterator[tuple[InetdTelnetd, Path]]:
    """inetutils-telnetd running the login program above."""
    log = tmp_path / "seen.log"
    program = tmp_path / "login.sh"
    program.write_text(LOGIN_PROGRAM.format(log=log, secret=SECRET))
    program.chmod(0o755)
    server = InetdTelnetd(program)
    yield server, log
    server.stop()


def wait_text(session: TelnetSession, needle: str, count: int = 1) -> None:
    wait_for(lambda: session.recent_text().count(needle) >= count, 15,
             f"{needle!r} never came: {session.recent_text()[-200:]!r}")


def wait_closed(session: TelnetSession) -> bool:
    """The server hung up and the screen thread fed everything it sent."""
    wait_for(lambda: not session.running and not session.screen_thread.running, 15,
             "the server did not hang up")
    return True


def wait_lines(log: Path, count: int) -> list[str]:
    """The first ``count`` lines the login program logged."""
    def lines() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    wait_for(lambda: len(lines()) >= count, 15, f"the peer logged only {lines()}")
    return lines()


def type_login_by_hand(session: TelnetSession) -> None:
    """What a person does: read each prompt, then type the line and press Enter."""
    wait_text(session, "login:")
    session.send_text("lab\r")
    wait_text(session, "Password:")
    session.send_text(SECRET + "\r")
    wait_text(session, "lab$ ")
    session.send_text("echo typed-by-hand\r")
    wait_text(session, "lab$ ", 2)
    session.send_text("exit\r")
    assert wait_closed(session)


def run_script(script: str, tmp_path: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
    (tmp_path / "replay.py").write_text(script)
    return subprocess.run([sys.executable, "-I", str(tmp_path / "replay.py")],
                          env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=90)


def test_typed_login_replays_byte_for_byte_against_inetutils_telnetd(telnetd, tmp_path: Path
                                                                      ) -> None:
    server, log = telnetd
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=server.port))
        type_login_by_hand(session)
    finally:
        session.close()
    seen_by_session = wait_lines(log, 4)
    assert seen_by_session == ["user=lab", "password=right", "command=echo\\ typed-by-hand",
                               "command=exit"]
    sends = [s for s in session.recording if s.op == "send"]
    assert [s.args["secret"] for s in sends] == [False, True, False, False], (
        session.recent_text()[-120:])
    prompts = [s.args["prompt"] for s in sends]
    for prompt, expected in zip(prompts, ["login:", "Password:", "lab$", "lab$"], strict=True):
        assert prompt.endswith(expected)
    script = render(session.recording)
    assert SECRET not in script and "getpass" in script
    assert "Needs: Python 3.11+ standard library only" in script
    log.unlink()
    result = run_script(script, tmp_path, {"WIREBENCH_TELNET_PASSWORD": SECRET})
    assert result.returncode == 0, result.stderr
    # the peer saw the same lines at the same prompts: one Enter per line, the password
    # at the password prompt and never at the shell
    assert wait_lines(log, 4) == seen_by_session
    assert "typed-by-hand" in result.stdout.split("echo typed-by-hand", 1)[1]


def test_a_password_typed_with_local_echo_on_stays_out_of_logs_and_script(
        telnetd, tmp_path: Path) -> None:
    server, log = telnetd
    text_log, typescript = tmp_path / "text.log", tmp_path / "typescript"
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=server.port, local_echo="on",
                                       log_path=str(text_log),
                                       typescript_path=str(typescript)))
        type_login_by_hand(session)
        transcript = session.transcript_text()
    finally:
        session.close()
    assert wait_lines(log, 4)[:2] == ["user=lab", "password=right"]
    assert "echo typed-by-hand" in text_log.read_text()  # local echo did go to the log
    for where in (text_log.read_bytes(), typescript.read_bytes(), transcript.encode(),
                  render(session.recording).encode(), repr(session.recording.steps()).encode()):
        assert SECRET.encode() not in where


@pytest.mark.parametrize("tls", [False, True])
def test_automation_and_typing_replay_as_a_script(request: pytest.FixtureRequest, tls: bool,
                                                   tmp_path: Path) -> None:
    from core.tlscerts import self_signed

    telnet_lab = request.getfixturevalue("telnet_lab_tls" if tls else "telnet_lab")
    ca_file = str(self_signed()[0]) if tls else ""
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=telnet_lab.port, tls=tls, ca_file=ca_file))
        auto = AutomationRun(session, parse_script(LOGIN), LAB_PASSWORD)
        auto.start()
        assert auto.join(20) and auto.result is not None and auto.result.ok, auto.result
        session.send_text("echo typed-by-hand\r")
        wait_text(session, "typed-by-hand", 2)  # the command line itself, then the answer
        session.resize(100, 30)  # NAWS again, then the lab shell reports the size
        session.send_text("size\r")
        wait_text(session, "100 columns x 30 rows")
    finally:
        session.close()
    ops = [(s.op, s.args.get("secret", False)) for s in session.recording]
    assert ops == [("connect", False), ("expect", False), ("send", False), ("expect", False),
                   ("send", True), ("expect", False), ("send", False), ("resize", False),
                   ("send", False), ("close", False)]
    script = render(session.recording)
    assert f"{LAB_PASSWORD!r}" not in script  # the secret comes from the environment
    result = run_script(script, tmp_path, {"WIREBENCH_TELNET_PASSWORD": LAB_PASSWORD})
    assert result.returncode == 0, result.stderr
    # the shell answered the replayed command, after the replayed login
    assert "typed-by-hand" in result.stdout.split("echo typed-by-hand", 1)[1]
    assert "100 columns x 30 rows" in result.stdout


def test_raw_mode_replays_the_bytes(tmp_path: Path) -> None:
    seen: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"name? ")
                data = bytearray()
                conn.settimeout(10)
                while b"\n" not in data:
                    chunk = conn.recv(100)
                    if not chunk:
                        break
                    data += chunk
                seen.append(bytes(data))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=server.getsockname()[1], mode="raw"))
        wait_text(session, "name?")
        session.send_text("héllo\r")
        wait_for(lambda: bool(seen), 10, "the raw peer got no line")
    finally:
        session.close()
    result = run_script(render(session.recording), tmp_path)
    thread.join(10)
    server.close()
    assert result.returncode == 0, result.stderr
    assert seen == ["héllo\r\n".encode()] * 2


def data_bytes(wire: bytes) -> bytes:
    """What a telnet server reads as data: commands and subnegotiations removed."""
    out, i = bytearray(), 0
    while i < len(wire):
        if wire[i] != 255:
            out.append(wire[i])
            i += 1
        elif wire[i + 1:i + 2] == b"\xff":
            out.append(255)
            i += 2
        elif wire[i + 1:i + 2] == b"\xfa":  # SB ... IAC SE
            end = wire.find(b"\xff\xf0", i)
            i = len(wire) if end < 0 else end + 2
        else:
            i += 3 if wire[i + 1] in (251, 252, 253, 254) else 2
    return bytes(out)


def binary_login(conn: socket.socket, peer: ScriptedPeer) -> None:
    """A server that negotiates BINARY both ways and reads two lines, each ended by the
    first CR it sees: it echoes the first (the user name), not the second (a password)."""
    conn.sendall(bytes([255, 251, 1, 255, 251, 3, 255, 251, 0, 255, 253, 0]) + b"login: ")
    for prompt in (b"\r\nPassword: ", b"bye\r\n"):
        end = time.monotonic() + 15
        count = data_bytes(bytes(peer.received)).count(b"\r")
        while data_bytes(bytes(peer.received)).count(b"\r") == count:
            if peer.stop.is_set() or time.monotonic() > end:
                return
            peer.recv_some(conn)
        time.sleep(0.2)  # whatever the client sends after its Enter (a LF, a NUL) counts
        peer.recv_some(conn)
        if prompt.endswith(b"Password: "):
            conn.sendall(data_bytes(bytes(peer.received)).split(b"\r")[0])  # the echo
        conn.sendall(prompt)


def test_binary_mode_enters_replay_as_the_exact_bytes(scripted_peer, tmp_path: Path) -> None:
    """Fault 3: with BINARY negotiated a script wrote CR LF where the session sent its own
    Enter; a server that ends a line at CR then reads the LF as an empty second line."""
    by_session = scripted_peer(binary_login)
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=by_session.port))
        wait_text(session, "login:")
        session.send_text("lab\r")
        wait_text(session, "Password:")
        session.send_text(SECRET + "\r")
        assert wait_closed(session)
    finally:
        session.close()
    assert session.protocol is not None and session.protocol.binary
    by_script = scripted_peer(binary_login)
    script = render(session.recording).replace(f", {by_session.port})",
                                               f", {by_script.port})")
    result = run_script(script, tmp_path, {"WIREBENCH_TELNET_PASSWORD": SECRET})
    assert result.returncode == 0, result.stderr
    sent = data_bytes(bytes(by_session.received))
    assert sent.startswith(b"lab\r") and SECRET.encode() in sent
    assert data_bytes(bytes(by_script.received)) == sent
