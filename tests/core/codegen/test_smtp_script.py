"""Rendered SMTP scripts deliver the same bytes to a real aiosmtpd sink."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from core.codegen import render
from core.recording import Recording
from tests.fixtures.waiting import wait_for


class Keep(Sink):
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 OK"


def test_script_sends_the_identical_message(tmp_path: Path) -> None:
    keep = Keep()
    with socket.socket() as probe:  # aiosmtpd's readiness check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(keep, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        msg = EmailMessage()
        msg["From"] = "me@wirebench.test"
        msg["To"] = "you@wirebench.test"
        msg["Subject"] = "dots"
        msg.set_content(".\n..x\nlast line\n")
        raw = msg.as_bytes(policy=SMTP)
        rec = Recording("smtp")
        rec.add("connect", host="127.0.0.1", port=port, security="none")
        rec.add("ehlo", name="wirebench.test")
        rec.add("verify", address="you@wirebench.test")
        rec.add("send", sender="me@wirebench.test", recipients=["you@wirebench.test"],
                message=raw)
        rec.add("quit")
        (tmp_path / "s.py").write_text(render(rec))
        result = subprocess.run([sys.executable, "-I", str(tmp_path / "s.py")],
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ))
        assert result.returncode == 0, result.stderr
        assert "refused recipients: none" in result.stdout
        (envelope,) = keep.envelopes
        assert envelope.mail_from == "me@wirebench.test"
        assert envelope.rcpt_tos == ["you@wirebench.test"]
        assert envelope.original_content.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    finally:
        controller.stop()


def test_recorded_starttls_auth_session_replays_into_the_lab_sink(tmp_path: Path) -> None:
    from core.servers.smtp.sink import LAB_PASSWORD, LAB_USER, SmtpSink
    from core.smtp.message import MailDraft, build_message
    from core.smtp.session import SmtpSession
    from core.smtp.settings import SmtpSettings
    from core.tlscerts import self_signed

    sink = SmtpSink(port=0)
    sink.start()
    session = SmtpSession()
    try:
        ca_file = str(self_signed()[0])
        settings = SmtpSettings.parse("127.0.0.1", sink.port, "starttls", user=LAB_USER,
                                      password=LAB_PASSWORD, ca_file=ca_file)
        mail = build_message(MailDraft(sender="ann@example.com", to="lab@localhost",
                                       subject="bytes", body=".\n..x\n\x7f end\n"))
        session.send(settings, mail)
        session.quit()
        ops = [step.op for step in session.recording]
        assert ops == ["connect", "ehlo", "starttls", "login", "send", "quit"]
        plain = base64.b64encode(f"\0{LAB_USER}\0{LAB_PASSWORD}".encode()).decode()
        assert plain not in session.transcript_text()
        script = render(session.recording)
        # the password is read at run time, never written into the script
        assert f"smtp.login({LAB_USER!r}, password)" in script
        assert f"{LAB_PASSWORD!r})" not in script.replace(f"login({LAB_USER!r}, password)", "")
        (tmp_path / "s.py").write_text(script)
        env = dict(os.environ, WIREBENCH_SMTP_PASSWORD=LAB_PASSWORD)
        result = subprocess.run([sys.executable, "-I", str(tmp_path / "s.py")], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        # the script prints the dialogue, but not AUTH: the password stays off the screen
        assert plain not in result.stdout + result.stderr
        first, second = sink.store.all()[-2:]
        assert first.data == second.data and first.rcpt_tos == second.rcpt_tos
        assert second.tls and second.auth_user == LAB_USER
    finally:
        session.shutdown()
        sink.stop()


def sink_dialogues(log: Path) -> list[list[str]]:
    """The commands smtp-sink saw, one list per finished connection (the readiness probe
    sent none)."""
    dialogues: list[list[str]] = []
    current: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        text = line.split(": ", 1)[-1]
        if text.startswith("connect ("):
            current = []
        elif text == "disconnect":
            if current:
                dialogues.append(current)
        elif text == "." or text.split(" ")[0].isalpha():
            verb, _, rest = text.partition(" ")  # verbs are case-insensitive (RFC 5321)
            current.append(f"{verb.upper()} {rest}".strip())
    return dialogues


def test_every_verb_replays_against_postfix_smtp_sink(postfix_sink, tmp_path: Path) -> None:
    from core.smtp.message import MailDraft, build_message
    from core.smtp.session import SmtpSession, SmtpSettings

    port, log, dump = postfix_sink
    # no AUTH here: smtp-sink answers AUTH with 250, which smtplib rightly refuses (the
    # lab sink test below covers AUTH)
    settings = SmtpSettings.parse("127.0.0.1", port, "none")
    mail = build_message(MailDraft(sender="ann@example.com", to="bob@example.com",
                                   subject="replayed", body=".\n..x\nlast\n"))
    session = SmtpSession()
    try:
        session.open(settings)
        for verb, argument in (("VRFY", "bob"), ("EXPN", "staff"), ("NOOP", ""),
                               ("RSET", ""), ("HELP", "")):
            session.command(settings, verb, argument)
        session.verify(settings, ["carol@example.com"])
        session.send(settings, mail)
        session.command(settings, "QUIT")
    finally:
        session.shutdown()
    ops = [step.op for step in session.recording]
    assert ops == ["connect", "ehlo"] + ["command"] * 5 + ["verify", "send", "quit"]
    script = render(session.recording)
    compile(script, "replay.py", "exec")
    (tmp_path / "s.py").write_text(script)
    result = subprocess.run([sys.executable, "-I", str(tmp_path / "s.py")],
                            env=dict(os.environ),
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len(sink_dialogues(log)) >= 2 and len(list(dump.iterdir())) >= 2, 10,
             "smtp-sink did not log both dialogues")
    by_session, by_script = sink_dialogues(log)
    assert by_script == by_session  # the same commands, in the same order, one QUIT
    assert by_session[-1] == "QUIT" and by_session.count("QUIT") == 1
    assert [c.split(" ")[0] for c in by_session if c.split(" ")[0] in
            ("VRFY", "EXPN", "NOOP", "RSET", "HELP")] == ["VRFY", "EXPN", "NOOP", "RSET",
                                                          "HELP", "VRFY"]
    stored = [p.read_bytes() for p in sorted(dump.iterdir())]
    body = mail.data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    assert all(body in message.replace(b"\r\n", b"\n") for message in stored)


def test_each_connection_is_one_recording_that_ends_with_its_quit() -> None:
    """Fault 5: the recording grew across connections and a second one never QUIT."""
    from core.servers.smtp.sink import SmtpSink
    from core.smtp.message import MailDraft, build_message
    from core.smtp.session import SmtpSession, SmtpSettings

    sink = SmtpSink(port=0)
    sink.start()
    session = SmtpSession()
    try:
        settings = SmtpSettings.parse("127.0.0.1", sink.port, "none")
        for subject in ("first", "second"):
            session.send(settings, build_message(MailDraft(
                sender="ann@example.com", to="lab@localhost", subject=subject, body="x\n")))
        first_ops = [step.op for step in session.recording]
        session.verify(settings, ["lab@localhost"])  # a one-shot connection of its own
    finally:
        session.shutdown()
        sink.stop()
    assert first_ops == ["connect", "ehlo", "send", "quit"]
    assert [step.op for step in session.recording] == ["connect", "ehlo", "verify", "quit"]
