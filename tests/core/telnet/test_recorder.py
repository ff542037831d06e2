"""Typed lines as recording steps: wire bytes, prompts, and secrets kept out."""

from __future__ import annotations

from core.recording import Recording
from core.telnet.recorder import TypedLines, prompt_of


def type_line(lines: TypedLines, recent: str, text: str, wire: bytes, enter: bytes,
              remote_echo: bool) -> None:
    lines.start_line(recent)
    for ch in text:
        lines.typed(ch, b"")
    lines.sent(wire)
    lines.enter(enter, enter, remote_echo=remote_echo)


def test_the_prompt_is_the_end_of_the_last_line() -> None:
    assert prompt_of("Welcome\r\nlogin: ") == "login:"
    assert prompt_of("progress 10%\rPassword: ") == "Password:"


def test_a_line_after_a_password_prompt_is_a_secret_and_keeps_only_its_line_end() -> None:
    recording = Recording("telnet")
    lines = TypedLines(recording)
    type_line(lines, "\r\nlogin: ", "lab", b"lab", b"\r\x00", remote_echo=False)
    type_line(lines, "\r\nPassword: ", "hunter2", b"hunter2", b"\r\x00", remote_echo=False)
    user, password = recording.steps()
    assert user.args == {"text": "lab", "wire": [b"lab\r\x00"], "secret": False,
                         "prompt": "login:", "secret_name": "telnet password"}
    assert password.args["secret"] and password.args["wire"] == [b"", b"\r\x00"]
    assert "hunter2" not in repr(recording.steps())


def test_with_remote_echo_an_unechoed_line_stays_secret_and_an_echoed_one_is_kept() -> None:
    recording = Recording("telnet")
    lines = TypedLines(recording)
    type_line(lines, "$ ", "echo hi", b"echo hi", b"\r\x00", remote_echo=True)
    assert recording.steps()[0].args["secret"]  # no echo yet: a secret until shown
    lines.received("echo hi\r\nhi\r\n$ ")
    assert recording.steps()[0].args["text"] == "echo hi"
    type_line(lines, "$ ", "s3cret", b"s3cret", b"\r\x00", remote_echo=True)
    lines.received("\r\nLast login: s3cret-ish banner\r\n")  # not an echo: it came later
    assert recording.steps()[1].args["secret"]
    # its own variable: the script never types the password in its place
    assert recording.steps()[1].args["secret_name"] == "telnet line 2"
    assert "s3cret" not in repr(recording.steps()[1].args)


def test_erase_keys_edit_what_was_meant_but_the_wire_keeps_them() -> None:
    recording = Recording("telnet")
    lines = TypedLines(recording)
    lines.start_line("$ ")
    for ch in "lx\x7fs":
        lines.typed(ch, ch.encode())
    lines.enter(b"\r\n", b"\r\n", remote_echo=False)
    (step,) = recording.steps()
    assert step.args["text"] == "ls" and step.args["wire"] == [b"lx\x7fs\r\n"]


def test_a_line_the_server_hung_up_on_is_not_a_secret() -> None:
    recording = Recording("telnet")
    lines = TypedLines(recording)
    type_line(lines, "$ ", "exit", b"exit", b"\r\x00", remote_echo=True)
    lines.closed()  # nothing came back at all: no echo, no answer
    assert recording.steps()[0].args["text"] == "exit"
    type_line(lines, "Code ", "1234", b"1234", b"\r\x00", remote_echo=True)
    lines.received("\r\nWrong code\r\n")
    lines.closed()
    assert recording.steps()[1].args["secret"]
