"""Hostile SMTP servers against the SMTP client (issue 14, items 16 and 17).

Each server is a few lines below; each test asserts the bound (the operation ends within
its timeout + 1 s, Stop ends it within 1 s, memory stays within 64 MB in a process of
its own) and that a normal server is still served by the same session afterwards.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from core.smtp.session import SmtpSession
from core.smtp.settings import SmtpSettings
from tests.fixtures.waiting import wait_for
from tests.hostile.client_harness import GRACE, HostileServer, read_line, run_client
from tests.hostile.served import RSS_BOUND_MB


def endless_continuation(conn: socket.socket, server: HostileServer) -> None:
    """Greets, then answers EHLO with ``250-`` lines that never end."""
    conn.sendall(b"220 hostile ESMTP\r\n")
    read_line(conn)
    line = b"250-" + b"X" * 200 + b"\r\n"
    block = line * 500
    while not server.stopping.is_set():
        conn.sendall(block)


def dripping_greeting(conn: socket.socket, server: HostileServer) -> None:
    """One byte of an endless greeting every 1.5 s: each recv succeeds, no reply ends."""
    for byte in b"220-hostile" + b"." * 10_000:
        if not server.pause(1.5):
            return
        conn.sendall(bytes([byte]))


def served_normally(session: SmtpSession, port: int) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)
    assert session.command(settings, "NOOP").code == 250
    session.command(settings, "QUIT")


def test_an_endless_250_reply_ends_open_within_its_cap_and_memory() -> None:
    timeout = 10.0
    with HostileServer(endless_continuation) as server:
        result = run_client(f"""
            from core.smtp.session import SmtpSession
            from core.smtp.settings import SmtpSettings
            session = SmtpSession()
            try:
                session.open(SmtpSettings(host="127.0.0.1", port={server.port},
                                          timeout={timeout}))
                result["error"] = ""
            except Exception as exc:
                result["error"] = type(exc).__name__ + ": " + str(exc)
        """)
    print(f"FIGURE smtp endless 250-: open() ended in {result['seconds']:.2f} s, "
          f"RSS +{result['rss_growth_mb']:.1f} MB")
    assert "too long" in result["error"], result
    assert result["seconds"] <= timeout + GRACE
    assert result["rss_growth_mb"] <= RSS_BOUND_MB, result


def test_a_dripping_server_cannot_hold_a_reply_past_the_timeout(smtp_sink) -> None:
    session = SmtpSession()
    timeout = 2.0
    with HostileServer(dripping_greeting) as server:
        started = time.monotonic()
        with pytest.raises(Exception, match="did not complete within 2 s"):
            session.open(SmtpSettings(host="127.0.0.1", port=server.port, timeout=timeout))
        took = time.monotonic() - started
    print(f"FIGURE smtp dripping reply: open() ended after {took:.2f} s (timeout 2 s)")
    assert took <= timeout + GRACE, f"open() ran {took:.1f} s with a {timeout} s timeout"
    served_normally(session, smtp_sink.port)


def test_stop_ends_a_dripping_reply_within_one_second(smtp_sink) -> None:
    session = SmtpSession()
    errors: list[BaseException] = []

    def dialogue() -> None:
        try:
            session.open(SmtpSettings(host="127.0.0.1", port=server.port, timeout=30.0))
        except Exception as exc:
            errors.append(exc)

    with HostileServer(dripping_greeting) as server:
        worker = threading.Thread(target=dialogue)
        worker.start()
        wait_for(lambda: server.connections > 0)
        stopped = time.monotonic()
        session.abort()
        worker.join(5)
        took = time.monotonic() - stopped
    assert not worker.is_alive() and errors
    print(f"FIGURE smtp Stop: {took * 1000:.0f} ms")
    assert took <= GRACE, f"Stop took {took:.1f} s"
    served_normally(session, smtp_sink.port)
