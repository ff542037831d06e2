"""The lab mail sink, driven by the stdlib smtplib client (an independent peer)."""

from __future__ import annotations

import argparse
import mailbox
import smtplib
import socket

import pytest

from core.events import ServerStarted
from core.servers.base import ServerStartError
from core.servers.lab_account import LAB_PASSWORD
from core.servers.smtp.inbox import MailReceived
from core.servers.smtp.sink import LAB_PORT, SERVE_KINDS, SmtpSink, lab_peers
from core.worker import drain
from tests.fixtures.smtp_peers import insecure_context
from tests.fixtures.waiting import wait_for

MESSAGE = (b"From: a@b.c\r\nTo: lab@localhost\r\nSubject: sink test\r\n\r\n"
           b"body line\r\n")



def test_plain_unauthenticated_delivery_is_stored_and_announced(smtp_sink):
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5, local_hostname="t") as c:
        refused = c.sendmail("a@b.c", ["lab@localhost", "anyone@anywhere.example"], MESSAGE)
    assert refused == {}
    [record] = smtp_sink.store.all()
    assert record.rcpt_tos == ("lab@localhost", "anyone@anywhere.example")
    assert record.data.endswith(b"body line\r\n") and not record.tls and not record.auth_user
    assert record.header("Subject") == "sink test"
    events = drain(smtp_sink.outbox)
    assert any(isinstance(e, ServerStarted) for e in events)
    [received] = [e for e in events if isinstance(e, MailReceived)]
    assert (received.record_id, received.subject) == (record.id, "sink test")
    stats = smtp_sink.stats()
    assert stats.requests == 1 and stats.bytes_in == record.size


def test_starttls_with_the_lab_certificate_and_auth_plain_login_cram(smtp_sink):
    for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
        with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5, local_hostname="t") as c:
            c.starttls(context=insecure_context())
            c.ehlo()
            c.user, c.password = "lab", LAB_PASSWORD
            method = getattr(c, "auth_" + mechanism.lower().replace("-", "_"))
            code, _ = c.auth(mechanism, method)
            assert code == 235
            c.sendmail("a@b.c", ["lab@localhost"], MESSAGE)
    assert [(r.tls, r.auth_user) for r in smtp_sink.store.all()] == [(True, "lab")] * 3


def test_wrong_password_refused(smtp_sink):
    with (smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5, local_hostname="t") as c,
          pytest.raises(smtplib.SMTPAuthenticationError)):
        c.login("lab", "wrong")


def test_vrfy_knows_the_lab_user_only(smtp_sink):
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5, local_hostname="t") as c:
        assert c.verify("lab")[0] == 250
        assert c.verify("lab@localhost")[0] == 250
        code, reply = c.verify("xxx@foreign.host.com")  # the document's example
        assert code == 550 and b"no such user" in reply


def test_auth_require_tls_refuses_cleartext_auth():
    sink = SmtpSink(port=0, auth_require_tls=True)
    with sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=5, local_hostname="t") as c:
        c.ehlo()
        code, _ = c.docmd("AUTH", "PLAIN AGxhYgBsYWI=")
        assert code == 538


def test_connections_are_counted_once_even_with_starttls(smtp_sink):
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5, local_hostname="t") as c:
        c.starttls(context=insecure_context())
        c.ehlo()
        assert smtp_sink.stats().connections == 1
    wait_for(lambda: not smtp_sink.stats().connections, 5)
    stats = smtp_sink.stats()
    assert (stats.connections, stats.total_connections) == (0, 1)


def test_mbox_copy(tmp_path):
    sink = SmtpSink(port=0)
    sink.store.mbox_path = tmp_path / "sink.mbox"
    with sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=5, local_hostname="t") as c:
        c.sendmail("a@b.c", ["lab@localhost"], MESSAGE)
        c.sendmail("d@e.f", ["lab@localhost"], MESSAGE)
    box = mailbox.mbox(str(tmp_path / "sink.mbox"))
    assert [m["Subject"] for m in box] == ["sink test", "sink test"]
    assert box[1].get_from().startswith("d@e.f")
    box.close()


def test_port_in_use_is_a_clear_error():
    blocker = socket.create_server(("127.0.0.1", 0))
    try:
        sink = SmtpSink(port=blocker.getsockname()[1])
        with pytest.raises(ServerStartError, match="in use"):
            sink.start()
        assert not sink.running
    finally:
        blocker.close()


def test_stop_frees_the_port():
    sink = SmtpSink(port=0)
    sink.start()
    port = sink.port
    sink.stop()
    assert not sink.running
    socket.create_server(("127.0.0.1", port)).close()


def test_lab_peers_and_serve_kind():
    [peer] = lab_peers()
    assert isinstance(peer, SmtpSink) and peer.port == LAB_PORT and peer.host == "127.0.0.1"
    assert lab_peers(ephemeral=True)[0].port == 0
    assert f"lab/{LAB_PASSWORD}" in peer.describe() and "STARTTLS" in peer.describe()
    kind = SERVE_KINDS["smtp"]
    parser = argparse.ArgumentParser()
    kind.add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--tls", "--user", "u", "--password", "p",
                              "--mbox", "/tmp/x.mbox"])
    [built] = kind.build(args)
    assert built.implicit_tls and built.user == "u" and built.port == 0
    assert str(built.store.mbox_path) == "/tmp/x.mbox"
    assert "implicit TLS" in built.describe()
    defaults = kind.build(parser.parse_args([]))[0]
    assert defaults.port == LAB_PORT and defaults.store.mbox_path is None


def test_serve_smtp_process_prints_its_address(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, "-m", "gui", "serve", "smtp", "--port", "0"],
                            cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("smtp listening on 127.0.0.1:")
        port = int(line.split()[3].rsplit(":", 1)[1])
        assert f"lab/{LAB_PASSWORD}" in line
        with smtplib.SMTP("127.0.0.1", port, timeout=5, local_hostname="t") as c:
            assert c.noop()[0] == 250
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def test_the_lab_registry_runs_the_sink():
    from core.servers.registry import LabRegistry

    registry = LabRegistry(ephemeral=True, factories=[lab_peers])  # this area's peer only
    sink = registry.peer("smtp")
    assert isinstance(sink, SmtpSink) and sink.port == 0
    try:
        assert registry.start_all() == {}
        assert sink.running and sink.port != 0
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5, local_hostname="t") as c:
            assert c.noop()[0] == 250
    finally:
        registry.stop_all()
    assert not sink.running


def test_pipelining_is_announced_and_a_pipelined_batch_is_answered_in_order(smtp_sink):
    with socket.create_connection(("127.0.0.1", smtp_sink.port), timeout=5) as raw:
        replies = raw.makefile("rb")
        assert replies.readline().startswith(b"220 ")
        raw.sendall(b"EHLO t\r\n")
        ehlo = [replies.readline()]
        while ehlo[-1][3:4] == b"-":
            ehlo.append(replies.readline())
        assert b"250-PIPELINING\r\n" in ehlo and ehlo[-1] == b"250 HELP\r\n"
        # RFC 2920: MAIL, RCPT, RCPT and DATA in one write; one reply each, in order
        raw.sendall(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<lab@localhost>\r\n"
                    b"RCPT TO:<x@y.example>\r\nDATA\r\n")
        codes = [replies.readline()[:3] for _ in range(4)]
        assert codes == [b"250", b"250", b"250", b"354"]
        raw.sendall(MESSAGE + b".\r\nQUIT\r\n")
        assert replies.readline().startswith(b"250 2.0.0 Ok: queued as ")
        assert replies.readline().startswith(b"221")
    [record] = smtp_sink.store.all()
    assert record.rcpt_tos == ("lab@localhost", "x@y.example") and record.data == MESSAGE
