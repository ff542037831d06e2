"""The core SMTP session (core/smtp) against Postfix: ``smtp-sink`` and a private Postfix
instance with STARTTLS. Messages are compared byte for byte with what the session sent."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import UserError
from core.smtp.message import MailDraft, OutgoingMail, build_message
from core.smtp.session import Security, SmtpSession, SmtpSettings
from tests.interop.conftest import LOOPBACK, DaemonStarter
from tests.interop.postfix_peer import (
    MAILBOX,
    SIZE_LIMIT,
    PrivatePostfix,
    private_postfix,
    read_sink_dump,
    start_smtp_sink,
    wait_for_files,
)
from tests.interop.vsftpd_peer import pattern_bytes


@pytest.fixture
def postfix(start_daemon: DaemonStarter) -> Iterator[PrivatePostfix]:
    with private_postfix(start_daemon) as instance:
        yield instance


@pytest.fixture
def session() -> Iterator[SmtpSession]:
    smtp = SmtpSession()
    yield smtp
    smtp.shutdown()


def mail_with_attachment(tmp_path: Path, size: int = 50_000, to: str = MAILBOX
                         ) -> OutgoingMail:
    attachment = tmp_path / "data ü.bin"
    attachment.write_bytes(pattern_bytes(size, b"attachment"))
    return build_message(MailDraft(
        sender="sender@wirebench.test", to=to, subject="Interop — ünïcode subject",
        body="First line\n.a line that starts with a dot\nLast line, ünïcode\n",
        attachments=[str(attachment)]))


def as_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def transcript_lines(session: SmtpSession) -> list[str]:
    return [f"{line.marker} {line.text}" for line in session.transcript]


# -- smtp-sink ----------------------------------------------------------------------------
def test_smtp_sink_receives_the_message_byte_for_byte(start_daemon, session, tmp_path):
    dumps = tmp_path / "dumps"
    sink = start_smtp_sink(start_daemon, dumps)
    mail = mail_with_attachment(tmp_path, to="a@example.test, b@example.test")
    result = session.send(SmtpSettings(host=LOOPBACK, port=sink.port), mail)
    assert result.accepted == ("a@example.test", "b@example.test")
    assert result.reply.startswith("250")
    (dump_path,) = wait_for_files(dumps)
    dump = read_sink_dump(dump_path)
    assert dump.message == as_lf(mail.data)
    assert dump.records["X-Mail-Args"] == ["<sender@wirebench.test>"]  # no SIZE offered
    assert dump.records["X-Rcpt-Args"] == ["<a@example.test>", "<b@example.test>"]
    lines = transcript_lines(session)
    assert lines[0] == f"=== Trying {LOOPBACK}:{sink.port} in cleartext…"
    assert "-> MAIL FROM:<sender@wirebench.test>" in lines
    assert "-> RCPT TO:<a@example.test>" in lines and "-> QUIT" in lines


def test_smtp_sink_refusing_auth_is_reported_and_nothing_is_sent(start_daemon, session,
                                                                  tmp_path):
    dumps = tmp_path / "dumps"
    sink = start_smtp_sink(start_daemon, dumps, "-f", "AUTH")  # AUTH gets a hard 5xx
    settings = SmtpSettings(host=LOOPBACK, port=sink.port, user="someone", password="pw",
                            allow_cleartext_auth=True)
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        session.send(settings, mail_with_attachment(tmp_path))
    assert 500 <= refused.value.smtp_code < 600
    lines = transcript_lines(session)
    assert any(line.startswith("-> AUTH ") for line in lines)
    assert not any(line.startswith("-> MAIL FROM") for line in lines)
    assert not list(dumps.glob("*"))


# -- a private Postfix ----------------------------------------------------------------------
def starttls(postfix: PrivatePostfix, **changes: object) -> SmtpSettings:
    fields: dict[str, object] = dict(ca_file=str(postfix.ca_file), timeout=20.0)
    fields.update(changes)
    return SmtpSettings(host="localhost", port=postfix.port, security=Security.STARTTLS,
                        **fields)  # type: ignore[arg-type]


def test_postfix_starttls_delivers_the_attachment_byte_for_byte(postfix, session, tmp_path):
    mail = mail_with_attachment(tmp_path, size=120_000)
    result = session.send(starttls(postfix), mail)
    assert result.accepted == (MAILBOX,) and result.reply.startswith("250 2.0.0 Ok: queued")
    lines = transcript_lines(session)
    assert "-> STARTTLS" in lines
    assert any(line.startswith("<- 220 2.0.0 Ready to start TLS") for line in lines)
    assert f"~> MAIL FROM:<sender@wirebench.test> SIZE={mail.size}" in lines
    assert session.capabilities is not None and session.capabilities.size == SIZE_LIMIT
    (delivered,) = wait_for_files(postfix.root / "mail" / "box" / "new")
    data = delivered.read_bytes()
    # Postfix adds its four headers in front; everything after them is ours, unchanged
    assert data.endswith(as_lf(mail.data)), postfix.log()[-2000:]
    added = data[: len(data) - len(as_lf(mail.data))].decode()
    names = [line.split(":", 1)[0] for line in added.splitlines() if line[:1] not in " \t"]
    assert names == ["Return-Path", "X-Original-To", "Delivered-To", "Received"]
    assert f"Delivered-To: {MAILBOX}\n" in added and " with ESMTPS id " in added  # S: TLS


def test_postfix_certificate_is_refused_without_its_ca(postfix, session, tmp_path):
    with pytest.raises(ssl.SSLCertVerificationError):
        session.send(starttls(postfix, ca_file=""), mail_with_attachment(tmp_path))
    assert not postfix.delivered()


def test_postfix_vrfy_knows_the_mailbox_only(postfix, session):
    known, unknown = session.verify(starttls(postfix), [MAILBOX, "nobody@example.test"])
    assert (known.code, known.reply) == (252, f"2.0.0 {MAILBOX}")
    assert unknown.code == 550 and "User unknown in virtual mailbox table" in unknown.reply


def test_postfix_size_limit_is_kept_by_us_and_by_the_server(postfix, session, tmp_path):
    mail = mail_with_attachment(tmp_path, size=SIZE_LIMIT)  # base64 makes it larger
    with pytest.raises(UserError, match=f"SIZE {SIZE_LIMIT}") as refused:
        session.send(starttls(postfix), mail)
    assert refused.value.field_name == "Attachments"
    assert not any("MAIL FROM" in line for line in transcript_lines(session))
    # the control: Postfix itself refuses a MAIL that announces a larger size
    with socket.create_connection((LOOPBACK, postfix.port), timeout=20) as raw:
        replies = raw.makefile("rb")
        assert replies.readline().startswith(b"220 ")
        raw.sendall(b"EHLO wirebench.test\r\n")
        while replies.readline()[3:4] == b"-":
            pass
        raw.sendall(f"MAIL FROM:<a@wirebench.test> SIZE={mail.size}\r\n".encode())
        assert replies.readline().startswith(b"552 5.3.4 Message size exceeds fixed limit")


def test_postfix_without_sasl_refuses_auth_before_any_secret_is_sent(postfix, session,
                                                                     tmp_path):
    with pytest.raises(smtplib.SMTPNotSupportedError, match="offers no AUTH"):
        session.send(starttls(postfix, user="someone", password="secret"),
                     mail_with_attachment(tmp_path))
    lines = transcript_lines(session)
    assert any(line.startswith("~> EHLO ") for line in lines)
    assert not any(line.startswith(("-> AUTH", "~> AUTH")) for line in lines)
    assert not any("secret" in line for line in lines)
    assert not postfix.delivered()
