"""The sans-I/O SMTP reply reader: byte by byte, pipelined, malformed, capped; and on a
real socket, an endless reply stops the client instead of filling its memory."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest

from core.smtp.replies import Reply, ReplyReader, ReplyTooLong
from core.smtp.transcript import TranscriptSMTP

EHLO = (b"250-mail.example.org Hello\r\n250-SIZE 1000\r\n250-STARTTLS\r\n"
        b"250 ENHANCEDSTATUSCODES\r\n")


def test_a_multi_line_reply_fed_one_byte_at_a_time_comes_out_once() -> None:
    reader = ReplyReader()
    out: list[Reply] = []
    for i in range(len(EHLO)):
        out += reader.feed(EHLO[i:i + 1])
        if i < len(EHLO) - 1:
            assert out == []
    [reply] = out
    assert reply.code == 250
    assert reply.lines == ("mail.example.org Hello", "SIZE 1000", "STARTTLS",
                           "ENHANCEDSTATUSCODES")
    assert reply.message() == b"mail.example.org Hello\nSIZE 1000\nSTARTTLS\nENHANCEDSTATUSCODES"
    assert reader.pending == 0


def test_pipelined_replies_in_one_read_come_out_in_order() -> None:
    reader = ReplyReader()
    replies = reader.feed(b"250 2.1.0 Sender ok\r\n550 5.1.1 No such user\r\n354 Go")
    assert [(r.code, r.enhanced) for r in replies] == [(250, "2.1.0"), (550, "5.1.1")]
    assert reader.pending == len(b"354 Go")
    [data] = reader.feed(b" ahead\n")  # a bare LF ends a line too
    assert (data.code, data.text, data.enhanced) == (354, "Go ahead", "")


@pytest.mark.parametrize("line, enhanced", [
    (b"250 2.0.0 OK\r\n", "2.0.0"),
    (b"550 2.0.0 class disagrees with the code\r\n", ""),
    (b"250 2.0.0x not a status\r\n", ""),
    (b"421 4.7.0 Try later\r\n", "4.7.0"),
    (b"250\r\n", ""),
])
def test_enhanced_status_only_when_it_matches_the_code(line: bytes, enhanced: str) -> None:
    [reply] = ReplyReader().feed(line)
    assert reply.enhanced == enhanced


def test_a_malformed_line_ends_the_reply_with_code_minus_one() -> None:
    [first, second] = ReplyReader().feed(b"250-fine\r\nhello there\r\n220 next\r\n")
    assert first.code == -1 and first.raw == (b"250-fine", b"hello there")
    assert second.code == 220


def test_line_and_reply_caps() -> None:
    with pytest.raises(ReplyTooLong, match="line"):
        ReplyReader(max_line=100).feed(b"250 " + b"x" * 200)  # no line end yet
    with pytest.raises(ReplyTooLong, match="line"):
        ReplyReader(max_line=100).feed(b"250 " + b"x" * 200 + b"\r\n")
    reader = ReplyReader(max_line=100, max_reply=1000)
    with pytest.raises(ReplyTooLong, match="reply"):
        for _ in range(100):
            reader.feed(b"250-" + b"y" * 40 + b"\r\n")


def test_reset_forgets_buffered_bytes() -> None:
    reader = ReplyReader()
    assert reader.feed(b"250-half\r\n250 inj") == []
    reader.reset()
    assert reader.pending == 0
    [reply] = reader.feed(b"220 clean\r\n")
    assert reply.lines == ("clean",)


def _endless_server(listener: socket.socket, stop: threading.Event) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(5)
        conn.sendall(b"220-welcome\r\n")
        try:
            while not stop.is_set():
                conn.sendall(b"220-and more\r\n" * 64)
        except OSError:
            pass  # the client gave up: the point of the test


def test_an_endless_greeting_is_stopped_on_a_real_socket() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    server = threading.Thread(target=_endless_server, args=(listener, stop), daemon=True)
    server.start()
    smtp = TranscriptSMTP(lambda marker, text: None, timeout=5, local_hostname="test")
    try:
        with pytest.raises(smtplib.SMTPResponseException, match="Reply too long"):
            smtp.connect("127.0.0.1", listener.getsockname()[1])
        assert smtp.sock is None  # closed, not left half-read
    finally:
        stop.set()
        smtp.close()
        server.join(10)
        listener.close()
    assert not server.is_alive()
