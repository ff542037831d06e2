"""The lab mail sink (core/servers/smtp/sink.py) driven by swaks: an attachment over
STARTTLS (certificate verified) with PIPELINING and AUTH, arriving byte for byte."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.servers.smtp.sink import LAB_PASSWORD, LAB_USER, SmtpSink
from tests.fixtures.smtp_peers import _server_context
from tests.interop.conftest import LOOPBACK, peer_binary
from tests.interop.vsftpd_peer import pattern_bytes

SWAKS_DEADLINE = 60


@pytest.fixture
def trusted_sink(smtp_ca) -> Iterator[tuple[SmtpSink, Path]]:
    """The lab sink with a certificate from a test CA; yields (sink, ca.pem)."""
    ca, ca_file = smtp_ca
    sink = SmtpSink(port=0, tls_context=_server_context(ca))
    sink.start()
    yield sink, ca_file
    sink.stop()


def swaks(sink: SmtpSink, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [peer_binary("swaks"), "--server", f"{LOOPBACK}:{sink.port}", "--helo", "swaks.test",
         "--from", "swaks@example.test", "--to", f"{LAB_USER}@localhost", *options],
        capture_output=True, text=True, timeout=SWAKS_DEADLINE)


def sent_then_received(transcript: str) -> list[str]:
    """swaks's transcript as a sequence of 'send'/'recv' for the envelope commands."""
    return ["send" if line.lstrip().startswith(("->", "~>")) else "recv"
            for line in transcript.splitlines()
            if line.lstrip()[:2] in ("->", "~>", "<-", "<~")]


def test_swaks_attachment_over_verified_starttls_pipelined_with_auth(trusted_sink,
                                                                     tmp_path):
    sink, ca_file = trusted_sink
    attachment = tmp_path / "payload.bin"
    attachment.write_bytes(pattern_bytes(150_000, b"swaks"))
    run = swaks(sink, "--tls", "--tls-verify", "--tls-ca-path", str(ca_file),
                "--tls-sni", "localhost", "--pipeline",
                "--auth", "PLAIN", "--auth-user", LAB_USER, "--auth-password", LAB_PASSWORD,
                "--attach-type", "application/octet-stream", "--attach-name", "payload.bin",
                "--attach", f"@{attachment}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    out = run.stdout
    assert "250-PIPELINING" in out and "=== TLS started with cipher TLSv1." in out
    assert "<~  235 2.7.0 Authentication successful" in out
    # pipelined: MAIL, RCPT and DATA leave together before their three replies
    lines = [line.strip() for line in out.splitlines()]
    mail_at = lines.index("~> MAIL FROM:<swaks@example.test>")
    assert lines[mail_at + 1:mail_at + 3] == [f"~> RCPT TO:<{LAB_USER}@localhost>", "~> DATA"]
    assert lines[mail_at + 3:mail_at + 6] == ["<~  250 OK", "<~  250 OK",
                                              "<~  354 End data with <CR><LF>.<CR><LF>"]
    [record] = sink.store.all()
    assert record.tls and record.auth_user == LAB_USER
    assert record.mail_from == "swaks@example.test"
    assert record.rcpt_tos == (f"{LAB_USER}@localhost",)
    [part] = record.attachments()
    assert part.filename == "payload.bin"
    assert record.attachment_payload(0) == attachment.read_bytes()


def test_swaks_refuses_the_lab_certificate_without_its_ca(trusted_sink):
    sink, _ = trusted_sink
    run = swaks(sink, "--tls", "--tls-verify", "--tls-sni", "localhost")
    assert run.returncode != 0
    assert "TLS" in run.stdout and not sink.store.all()


def test_swaks_plain_delivery_keeps_the_body_bytes(trusted_sink, tmp_path):
    sink, _ = trusted_sink
    body = "Line one\n.dot-stuffed line\nünïcode line\n"
    run = swaks(sink, "--body", body, "--header", "Subject: plain swaks")
    assert run.returncode == 0, run.stdout[-3000:]
    [record] = sink.store.all()
    assert not record.tls and record.header("Subject") == "plain swaks"
    # swaks ends its message with two empty lines of its own; the dot line came unstuffed
    head, _, rest = record.data.partition(b"\r\n\r\n")
    assert rest == body.replace("\n", "\r\n").encode() + b"\r\n\r\n"
    assert b"\r\nSubject: plain swaks\r\n" in head + b"\r\n"
