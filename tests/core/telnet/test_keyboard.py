"""Typing turned into wire bytes, without a connection (raw mode: no protocol)."""

from __future__ import annotations

from core.telnet.session import TelnetSession


def test_line_mode_edits_locally_and_records_the_bytes_sent() -> None:
    session = TelnetSession()
    session.send_text("ab\x7fc\r\n")  # CR LF is one Enter
    session.send_text("x\x15yz\r")  # Ctrl-U erases the line
    assert bytes(session._out) == b"ac\r\nyz\r\n"
    sends = [step.args for step in session.recording if step.op == "send"]
    assert [(s["text"], s["wire"]) for s in sends] == [
        ("ac", [b"ac\r\n"]), ("yz", [b"yz\r\n"])]  # what was meant, after the edits


def test_wire_of_is_what_typing_sends() -> None:
    session = TelnetSession()
    assert session.wire_of("ls -l\r") == b"ls -l\r\n"
    assert session.keyboard.send(b"") == b""
