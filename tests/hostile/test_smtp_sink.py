"""Hostile clients against the lab mail sink (issue 14, items 7 and 8)."""

from __future__ import annotations

import socket
import time

from tests.hostile.served import RSS_BOUND_MB, SERVE_BOUND, ServedProcess, recv_until


def reply(sock: socket.socket, timeout: float = 10) -> bytes:
    """One whole SMTP reply (through its last ``NNN `` line)."""
    got = b""
    deadline = time.monotonic() + timeout
    while True:
        got += recv_until(sock, b"\r\n", max(0.01, deadline - time.monotonic()))
        lines = got.split(b"\r\n")
        if any(len(line) > 3 and line[3:4] == b" " for line in lines):
            return got
        if time.monotonic() > deadline:
            return got


def replies(sock: socket.socket, count: int, timeout: float = 30) -> list[bytes]:
    """``count`` one-line replies to pipelined commands."""
    deadline = time.monotonic() + timeout
    buf = b""
    while buf.count(b"\r\n") < count and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\r\n")[:count]


def send_mail(served: ServedProcess, sender: str = "ann@example.org",
              smtputf8: bool = False) -> tuple[float, bytes]:
    """A normal client delivers one message: (seconds taken, the reply to the data)."""
    start = time.monotonic()
    with socket.create_connection((served.host, served.port), timeout=10) as sock:
        assert reply(sock).startswith(b"220")
        sock.sendall(b"EHLO normal.example\r\n")
        reply(sock)
        extra = b" SMTPUTF8" if smtputf8 else b""
        sock.sendall(b"MAIL FROM:<" + sender.encode() + b">" + extra + b"\r\n")
        assert reply(sock).startswith(b"250")
        sock.sendall(b"RCPT TO:<lab@localhost>\r\n")
        assert reply(sock).startswith(b"250")
        sock.sendall(b"DATA\r\n")
        assert reply(sock).startswith(b"354")
        sock.sendall(b"Subject: normal\r\n\r\nhello\r\n.\r\n")
        done = reply(sock)
        sock.sendall(b"QUIT\r\n")
    return time.monotonic() - start, done


def test_an_utf8_sender_is_kept_in_the_mbox(tmp_path) -> None:
    mbox = tmp_path / "sink.mbox"
    with ServedProcess("smtp", "--mbox", str(mbox)) as served:
        _, done = send_mail(served, "jörg@exämple.org", smtputf8=True)
        assert done.startswith(b"250"), done  # was 500 Error: (UnicodeEncodeError)
        assert mbox.read_bytes().startswith("From jörg@exämple.org ".encode())
        _, again = send_mail(served)
        assert again.startswith(b"250")


def test_twenty_thousand_long_recipients_are_refused_past_the_limit() -> None:
    with ServedProcess("smtp") as served:
        rss_before = served.rss_mb()
        with socket.create_connection((served.host, served.port), timeout=10) as sock:
            reply(sock)
            sock.sendall(b"EHLO hostile.example\r\n")
            reply(sock)
            for _ in range(2):
                sock.sendall(b"MAIL FROM:<h@hostile.example>\r\n")
                assert reply(sock).startswith(b"250")
                rcpts = b"".join(b"RCPT TO:<" + b"r" * 440 + str(i).encode()
                                 + b"@hostile.example>\r\n" for i in range(20_000))
                sock.sendall(rcpts)
                answers = replies(sock, 20_000)
                assert answers[999].startswith(b"250")
                assert answers[1000].startswith(b"452") and answers[-1].startswith(b"452")
                sock.sendall(b"DATA\r\n")
                assert reply(sock).startswith(b"354")
                sock.sendall(b"Subject: many\r\n\r\nx\r\n.\r\n")
                assert reply(sock).startswith(b"250")
        # 2 x 20,000 x 480 bytes kept would be ~38 MB (the issue: +48.6 MB for 3 messages)
        kept = served.rss_mb() - rss_before
        print(f"FIGURE smtp 2 x 20,000 RCPTs: {kept:.1f} MB kept")
        assert kept < 16, f"{kept:.1f} MB kept"
        assert kept < RSS_BOUND_MB
        served.wait_log("max recipients")
        took, done = send_mail(served)
        assert done.startswith(b"250") and took < SERVE_BOUND
