"""Hostile telnet servers against the telnet client (issue 14, items 18 and 20).

Each test asserts the bound (memory within 64 MB in a process of its own, freed after
close) and that the lab telnet server is served normally afterwards.
"""

from __future__ import annotations

import socket

import pytest

from core.telnet.session import TelnetSession
from core.telnet.settings import TelnetSettings
from tests.fixtures.waiting import wait_for
from tests.hostile.client_harness import HostileServer, run_client
from tests.hostile.served import RSS_BOUND_MB

IAC, SB, SE, DO, WILL, TTYPE, SEND, ECHO = 255, 250, 240, 253, 251, 24, 1, 1
#: what a flood repeats, and how much of it the client reads before the check: TTYPE
#: SEND (answered by the protocol, ~650 KB/s) or a cursor position query (DSR, answered
#: by the terminal screen). Without the caps 12 MB of DSR cost +90 MB (30 MB: +225 MB,
#: 69 MB still held after close) and 3 MB of TTYPE SEND left ~4 MB queued.
FLOODS = {"ttype": (bytes((IAC, SB, TTYPE, SEND, IAC, SE)), 3_000_000),
          "dsr": (b"\x1b[6n", 12_000_000)}


def query_flood(queries: bytes):  # -> the server's handler
    def flood(conn: socket.socket, server: HostileServer) -> None:
        """Asks as fast as it can and never reads."""
        conn.sendall(bytes((IAC, DO, TTYPE)))
        block = queries * (65536 // len(queries))
        while not server.stopping.is_set():
            conn.sendall(block)
    return flood


def lab_serves_a_login(port: int) -> None:
    session = TelnetSession()
    session.connect(TelnetSettings(port=port))
    try:
        wait_for(lambda: "login:" in session.recent_text(), 10,
                 "the lab server's login prompt never came")
    finally:
        session.close()


@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_answers_to_a_server_that_never_reads_are_capped(telnet_lab, flood: str) -> None:
    queries, enough = FLOODS[flood]
    with HostileServer(query_flood(queries)) as server:
        result = run_client(f"""
            import threading
            from core.telnet.session import TelnetSession
            from core.telnet.settings import TelnetSettings
            session = TelnetSession()
            warnings = []
            stop = threading.Event()

            def drain():  # what the GUI's bridge does with the outbox
                while not stop.is_set():
                    try:
                        event = session.outbox.get(timeout=0.1)
                    except Exception:
                        continue
                    if getattr(event, "level", "") == "warn":
                        warnings.append(event.text)

            drainer = threading.Thread(target=drain)
            drainer.start()
            session.connect(TelnetSettings(port={server.port}))
            deadline = time.monotonic() + 60
            while session.bytes_in < {enough} and time.monotonic() < deadline:
                time.sleep(0.05)
            result["bytes_in"] = session.bytes_in
            result["queued"] = len(session._out)
            session.close()
            stop.set()
            drainer.join()
            result["warnings"] = warnings
            result["rss_after_close_mb"] = _status("VmRSS") - _before
        """)
    print(f"FIGURE telnet {flood} flood: {result['bytes_in'] >> 20} MB read, "
          f"{result['queued']:,} bytes queued, RSS +{result['rss_growth_mb']:.1f} MB "
          f"(+{result['rss_after_close_mb']:.1f} MB after close)")
    assert result["bytes_in"] >= enough, result
    assert any("dropped" in text for text in result["warnings"]), result
    # the 64 KiB answer backlog plus the answers to one read (256 KiB of queries)
    assert result["queued"] <= 1024 * 1024, result
    assert result["rss_growth_mb"] <= RSS_BOUND_MB, result
    assert result["rss_after_close_mb"] <= RSS_BOUND_MB, result
    lab_serves_a_login(telnet_lab.port)


def password_prompt(conn: socket.socket, server: HostileServer) -> None:
    """login's way: the server echoes the user name, then asks for a password and
    echoes nothing (it still has ECHO: the client must not show what is typed)."""
    conn.sendall(bytes((IAC, WILL, ECHO)) + b"login: ")
    typed = bytearray()
    while b"\r" not in typed:
        chunk = conn.recv(1024)
        if not chunk:
            return
        typed += chunk
        conn.sendall(chunk.replace(bytes((IAC, DO, ECHO)), b""))  # echo the user name
    conn.sendall(b"\r\nPassword: ")
    secret = bytearray()
    while b"\r" not in secret:
        chunk = conn.recv(1024)
        if not chunk:
            return
        secret += chunk
    server.received = bytes(secret)  # type: ignore[attr-defined]
    conn.sendall(b"\r\nWelcome\r\n$ ")
    while server.pause(0.05) and conn.recv(1024):
        pass


def test_a_password_typed_with_local_echo_forced_on_never_reaches_the_text_log(
        telnet_lab, tmp_path) -> None:
    log = tmp_path / "telnet.log"
    session = TelnetSession()
    with HostileServer(password_prompt) as server:
        session.connect(TelnetSettings(port=server.port, local_echo="on",
                                       log_path=str(log)))
        wait_text(session, "login:")
        session.send_text("alice\r")
        wait_text(session, "Password:")
        session.send_text("s3cret-pw\r")
        wait_text(session, "Welcome")
        transcript = session.transcript_text()
        session.close()
    assert b"s3cret-pw" in server.received  # type: ignore[attr-defined]
    assert "alice" in log.read_text()
    assert "s3cret-pw" not in log.read_text()
    assert "s3cret-pw" not in transcript
    lab_serves_a_login(telnet_lab.port)


def wait_text(session: TelnetSession, text: str) -> None:
    wait_for(lambda: text in session.recent_text(), 10, f"{text!r} never came")
