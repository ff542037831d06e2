"""Rendered SMTP scripts deliver the same bytes to a real aiosmtpd sink."""

from __future__ import annotations

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
        script = render(session.recording)
        # the password is read at run time, never written into the script
        assert f"smtp.login({LAB_USER!r}, password)" in script
        assert f"{LAB_PASSWORD!r})" not in script.replace(f"login({LAB_USER!r}, password)", "")
        (tmp_path / "s.py").write_text(script)
        env = dict(os.environ, WIREBENCH_SMTP_PASSWORD=LAB_PASSWORD)
        result = subprocess.run([sys.executable, "-I", str(tmp_path / "s.py")], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        first, second = sink.store.all()[-2:]
        assert first.data == second.data and first.rcpt_tos == second.rcpt_tos
        assert second.tls and second.auth_user == LAB_USER
    finally:
        session.shutdown()
        sink.stop()
