"""SmtpSession against real aiosmtpd servers on 127.0.0.1."""

from __future__ import annotations

import os
import smtplib
import ssl
import threading

import pytest

from core.errors import UserError
from core.events import Progress, StateChanged
from core.servers.lab_account import LAB_PASSWORD
from core.smtp.errors import StoppedByUser, describe_smtp_error
from core.smtp.message import MailDraft, build_message
from core.smtp.session import SmtpSession
from core.smtp.settings import STEPS, Capabilities, SmtpCapabilitiesSeen, SmtpSettings
from core.smtp.transcript import MASK, SmtpLine
from core.states import ConnState
from core.worker import drain
from tests.fixtures.smtp_peers import GrumpySink, HeloOnlySink
from tests.fixtures.waiting import wait_for


def settings(sink, security="none", **kw) -> SmtpSettings:
    return SmtpSettings.parse("127.0.0.1", sink.port, security, **kw)


def mail(**fields):
    base = dict(sender="Ann <ann@example.com>", to="lab@localhost", subject="Hello",
                body="Hi there.\n")
    base.update(fields)
    return build_message(MailDraft(**base))


def sent_lines(session: SmtpSession) -> list[str]:
    return [line.text for line in session.transcript if line.marker in ("->", "~>")]


@pytest.fixture
def session():
    s = SmtpSession()
    yield s
    s.shutdown()


def test_plain_send_arrives_with_envelope_and_transcript(smtp_sink, session):
    result = session.send(settings(smtp_sink), mail(cc="Bob <bob@example.org>",
                                                    bcc="hidden@example.net"))
    assert result.accepted == ("lab@localhost", "bob@example.org", "hidden@example.net")
    assert result.reply.startswith("250")
    [record] = smtp_sink.store.all()
    assert record.mail_from == "ann@example.com"
    assert record.rcpt_tos == ("lab@localhost", "bob@example.org", "hidden@example.net")
    assert record.header("Subject") == "Hello"
    assert "hidden" not in record.header("Bcc") and b"hidden@" not in record.data
    markers = [line.marker for line in session.transcript]
    assert "->" in markers and "<-" in markers and "===" in markers
    assert "~>" not in markers  # no TLS here
    assert sent_lines(session)[-1] == "QUIT"
    assert not session.connected
    events = drain(session.outbox)
    assert any(isinstance(e, SmtpCapabilitiesSeen) for e in events)
    assert [e.state for e in events if isinstance(e, StateChanged)] == [
        ConnState.ESTABLISHED, ConnState.CLOSED]
    text = session.transcript_text()
    assert "<- 220" in text
    # the verbs as RFC 5321 spells them, whatever smtplib's spelling on this Python
    sent = sent_lines(session)
    assert sent[0].startswith("EHLO ") and sent[1].startswith("MAIL FROM:<ann@example.com> ")
    assert sent[2:5] == ["RCPT TO:<lab@localhost>", "RCPT TO:<bob@example.org>",
                         "RCPT TO:<hidden@example.net>"]
    assert sent[5] == "DATA" and sent[-2:] == [".", "QUIT"]
    first = session.transcript[0]
    assert (first.marker, first.text) == ("===", f"Trying 127.0.0.1:{smtp_sink.port} in "
                                                  "cleartext…")


def test_capabilities_as_data(smtp_sink, session):
    session.open(settings(smtp_sink))
    caps = session.capabilities
    assert isinstance(caps, Capabilities)
    assert caps.esmtp and caps.starttls and caps.eightbitmime and caps.smtputf8
    assert caps.size == smtp_sink.data_size_limit
    assert set(caps.auth) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert dict(caps.rows())["STARTTLS"] == "yes"
    session.quit()


def test_starttls_and_auth_verified_with_the_ca(tls_sink, smtp_ca, session):
    s = settings(tls_sink, "starttls", user="lab", password=LAB_PASSWORD, ca_file=str(smtp_ca[1]),
                 auth_mechanism="PLAIN")
    result = session.send(s, mail())
    assert result.accepted == ("lab@localhost",)
    [record] = tls_sink.store.all()
    assert record.tls and record.auth_user == "lab"
    markers = [line.marker for line in session.transcript]
    assert markers.index("~>") > markers.index("->")  # cleartext first, then inside TLS
    auth = next(t for t in sent_lines(session) if t.startswith("AUTH"))
    assert auth == f"AUTH PLAIN [\\0lab\\0{MASK}]"
    assert "bGFi" not in session.transcript_text()  # no base64 of the credentials either
    assert any("TLS started" in line.text for line in session.transcript)


def test_starttls_fails_without_the_ca(tls_sink, session):
    s = settings(tls_sink, "starttls", user="lab", password=LAB_PASSWORD)
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        session.send(s, mail())
    assert "certificate" in describe_smtp_error(info.value).lower()
    assert tls_sink.auth_attempts == [] and not tls_sink.store.all()
    assert not session.connected


def test_verification_off_is_explicit(tls_sink, session):
    s = settings(tls_sink, "starttls", user="lab", password=LAB_PASSWORD, verify=False)
    session.send(s, mail())
    assert any("NOT verified" in line.text for line in session.transcript)


def test_implicit_tls(smtps_sink, smtp_ca, session):
    s = settings(smtps_sink, "tls", ca_file=str(smtp_ca[1]), user="lab", password=LAB_PASSWORD,
                 auth_mechanism="LOGIN")
    session.send(s, mail())
    [record] = smtps_sink.store.all()
    assert record.tls and record.auth_user == "lab"
    first = [line.marker for line in session.transcript if line.marker != "==="]
    assert first[0] == "<~"  # even the greeting arrives inside TLS
    login = [t for t in sent_lines(session) if t.startswith(("AUTH", "["))]
    assert login[0] == "AUTH LOGIN [lab]" and login[1] == f"[{MASK}]"


@pytest.mark.parametrize("mechanism", ["auto", "PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_mechanisms_and_wrong_password(smtp_sink, session, mechanism):
    ok = settings(smtp_sink, "starttls", user="lab", password=LAB_PASSWORD, verify=False,
                  auth_mechanism=mechanism)
    session.open(ok)
    assert any(line.text.startswith("Authenticated") for line in session.transcript)
    session.quit()
    bad = settings(smtp_sink, "starttls", user="lab", password="nope", verify=False,
                   auth_mechanism=mechanism)
    with pytest.raises(smtplib.SMTPAuthenticationError) as info:
        session.open(bad)
    assert "Login refused" in describe_smtp_error(info.value)
    assert "nope" not in session.transcript_text()


def test_no_starttls_offered_stops_before_auth(no_starttls_sink, session):
    s = settings(no_starttls_sink, "starttls", user="lab", password=LAB_PASSWORD)
    with pytest.raises(UserError) as info:
        session.send(s, mail())
    assert info.value.field_name == "Security"
    assert "does not offer STARTTLS" in str(info.value)
    assert no_starttls_sink.auth_attempts == []
    assert not any(t.upper().startswith("AUTH") for t in sent_lines(session))
    assert sent_lines(session)[-1] == "QUIT"


def test_cleartext_auth_needs_explicit_permission(no_starttls_sink, session):
    s = settings(no_starttls_sink, "none", user="lab", password=LAB_PASSWORD)
    with pytest.raises(UserError, match="cleartext"):
        session.send(s, mail())
    assert no_starttls_sink.auth_attempts == []
    allowed = settings(no_starttls_sink, "none", user="lab", password=LAB_PASSWORD,
                       allow_cleartext_auth=True, auth_mechanism="PLAIN")
    session.send(allowed, mail())
    assert no_starttls_sink.auth_attempts == ["PLAIN"]
    assert no_starttls_sink.store.all()[0].auth_user == "lab"


def test_vrfy_and_hand_verbs_on_an_open_session(smtp_sink, session):
    s = settings(smtp_sink)
    found = session.command(s, "VRFY", "lab")
    assert (found.code, found.reply) == (250, "Lab User <lab@localhost>")
    assert session.connected  # a hand session stays open for the next verb
    missing = session.command(s, "vrfy", "nobody@example.com")
    assert missing.code == 550 and "no such user" in missing.reply
    assert session.command(s, "NOOP").code == 250
    assert session.command(s, "RSET").code == 250
    assert session.command(s, "EXPN", "staff").code >= 500  # aiosmtpd does not expand
    assert session.command(s, "QUIT").code == 221
    assert not session.connected
    with pytest.raises(UserError, match="line break"):
        session.command(s, "VRFY", "lab\r\nRCPT TO:<x@y>")
    with pytest.raises(UserError, match="Command"):
        session.command(s, "DATA")


def test_verify_button_quits_what_it_opened(smtp_sink, session):
    results = session.verify(settings(smtp_sink), ["lab", "ghost@example.com"])
    assert [r.code for r in results] == [250, 550]
    assert not session.connected


def test_one_recipient_refused_another_accepted(refusing_sink, session):
    result = session.send(settings(refusing_sink),
                          mail(to="bad@example.com, good@example.com"))
    assert result.accepted == ("good@example.com",)
    assert result.refused["bad@example.com"][0] == 550
    assert "User unknown" in result.refused["bad@example.com"][1]
    [record] = refusing_sink.store.all()
    assert record.rcpt_tos == ("good@example.com",)
    assert any(line.marker == "***" and "bad@example.com" in line.text
               for line in session.transcript)


def test_all_recipients_refused_are_listed_one_by_one(refusing_sink, session):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
        session.send(settings(refusing_sink), mail(to="bad1@example.com, bad2@example.com"))
    message = describe_smtp_error(info.value)
    assert "all 2 recipients" in message
    assert "\n  bad1@example.com: 550" in message and "\n  bad2@example.com: 550" in message
    assert not refusing_sink.store.all()
    assert sent_lines(session)[-2:] == ["RSET", "QUIT"]


def test_554_on_data(refusing_sink, session):
    with pytest.raises(smtplib.SMTPDataError) as info:
        session.send(settings(refusing_sink), mail(subject="please reject me"))
    assert info.value.smtp_code == 554
    assert "554" in describe_smtp_error(info.value)
    assert not refusing_sink.store.all()


def test_sender_refused(refusing_sink, session):
    with pytest.raises(smtplib.SMTPSenderRefused) as info:
        session.send(settings(refusing_sink), mail(sender="refused@example.com"))
    assert "refused@example.com" in describe_smtp_error(info.value)


def test_body_dots_and_bare_newlines_arrive_intact(smtp_sink, session):
    body = ".\n..x\nbefore\n.\r\nafter\n. \n.\n"
    session.send(settings(smtp_sink), mail(body=body))
    [record] = smtp_sink.store.all()
    plain, _ = record.bodies()
    assert plain == body.replace("\r\n", "\n")
    assert b"\r\n..\r\n...x\r\n" not in record.data  # the server un-stuffed the dots


def test_ten_megabyte_attachment_round_trip(smtp_sink, session, tmp_path):
    blob = os.urandom(10 * 1024 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(blob)
    session.send(settings(smtp_sink), mail(attachments=[str(path)]))
    [record] = smtp_sink.store.all()
    [part] = record.attachments()
    assert (part.filename, part.content_type, part.size) == ("big.bin",
                                                             "application/octet-stream",
                                                             len(blob))
    assert record.attachment_payload(0) == blob
    progress = [e for e in drain(session.outbox) if isinstance(e, Progress)]
    assert progress and progress[-1].done == progress[-1].total > len(blob)


def test_size_limit_checked_before_mail(make_sink, session, tmp_path):
    sink = make_sink(data_size_limit=10_000)
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff" * 20_000)
    with pytest.raises(UserError) as info:
        session.send(settings(sink), mail(attachments=[str(path)]))
    assert info.value.field_name == "Attachments" and "SIZE 10000" in str(info.value)
    assert not any(t.lower().startswith("mail") for t in sent_lines(session))
    assert sent_lines(session)[-1] == "QUIT" and not session.connected


@pytest.mark.parametrize("step", STEPS)
def test_stop_after_each_step(smtp_sink, session, step):
    s = settings(smtp_sink, "starttls", user="lab", password=LAB_PASSWORD, verify=False)
    result = session.send(s, mail(), stop_after="" if step == "DATA" else step)
    sent = [t.lower() for t in sent_lines(session)]
    assert sent[-1] == "quit"
    index = STEPS.index(step)
    assert any(t.startswith("ehlo") for t in sent) == (index >= 1)
    assert ("starttls" in sent) == (index >= 2)
    assert any(t.startswith("auth") for t in sent) == (index >= 3)
    assert any(t.startswith("mail") for t in sent) == (index >= 4)
    assert any(t.startswith("rcpt") for t in sent) == (index >= 5)
    assert bool(smtp_sink.store.all()) == (step == "DATA")
    if step != "DATA":
        assert result.stopped_after == step


def test_helo_fallback(make_sink, session):
    sink = make_sink(HeloOnlySink, starttls=False)
    session.send(settings(sink), mail())
    assert [t.split()[0].lower() for t in sent_lines(session)][:2] == ["ehlo", "helo"]
    assert session.capabilities is not None and not session.capabilities.esmtp
    assert sink.store.all()


def test_helo_refused(make_sink, session):
    sink = make_sink(GrumpySink, starttls=False)
    with pytest.raises(smtplib.SMTPHeloError) as info:
        session.send(settings(sink), mail())
    assert "greeting" in describe_smtp_error(info.value)


def test_smtputf8_when_an_address_needs_it(smtp_sink, session):
    session.send(settings(smtp_sink), mail(to="jörg@example.com"))
    [record] = smtp_sink.store.all()
    assert record.rcpt_tos == ("jörg@example.com",)
    assert any("SMTPUTF8" in t for t in sent_lines(session))


def test_stop_during_a_big_transfer(smtp_sink, session, tmp_path):
    path = tmp_path / "huge.bin"
    path.write_bytes(os.urandom(20 * 1024 * 1024))
    outgoing = mail(attachments=[str(path)])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            session.send(settings(smtp_sink), outgoing)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(lambda: any(isinstance(e, Progress) for e in drain(session.outbox)), 20,
             "no progress while sending")
    session.abort()
    thread.join(20)
    assert len(errors) == 1 and isinstance(errors[0], StoppedByUser)
    assert "Stopped" in describe_smtp_error(errors[0])
    assert not smtp_sink.store.all() and not session.connected


def test_one_dialogue_at_a_time(smtp_sink, session):
    session._lock.acquire()
    try:
        with pytest.raises(UserError, match="still running"):
            session.command(settings(smtp_sink), "NOOP")
    finally:
        session._lock.release()


def test_settings_are_checked_naming_the_field():
    with pytest.raises(UserError) as info:
        SmtpSettings.parse("", 25)
    assert info.value.field_name == "Host"
    with pytest.raises(UserError) as info:
        SmtpSettings.parse("mx", "70000")
    assert info.value.field_name == "Port"
    with pytest.raises(UserError):
        SmtpSettings.parse("mx", 25, "ssl3")
    with pytest.raises(UserError):
        SmtpSettings.parse("mx", 25, user="a\r\nRCPT TO:<x>")


def test_transcript_lines_carry_time_since_previous(smtp_sink, session):
    session.send(settings(smtp_sink), mail())
    lines = list(session.transcript)
    assert all(isinstance(line, SmtpLine) and line.delta >= 0 for line in lines)
    assert lines[1].format().split()[0].startswith("+")


def test_show_body_puts_stuffed_lines_in_the_transcript(smtp_sink, session):
    session.send(settings(smtp_sink, show_body=True), mail(body="one\n.\ntwo\n"))
    sent = sent_lines(session)
    assert "one" in sent and ".." in sent and "two" in sent
    assert not any(t.startswith("[message body") for t in sent)


def test_open_session_is_reused_until_the_server_bar_changes(smtp_sink, session):
    s = settings(smtp_sink)
    session.command(s, "VRFY", "lab")
    session.send(s, mail())  # rides the hand session: no second connection
    assert session.connected and smtp_sink.stats().total_connections == 1
    assert smtp_sink.store.all()
    other = settings(smtp_sink, "starttls", verify=False)
    session.command(other, "NOOP")
    assert smtp_sink.stats().total_connections == 2
    assert any("Server settings changed" in line.text for line in session.transcript)
    assert session.command(s, "QUIT").code == 221  # QUIT ends whatever is open
    assert not session.connected


def test_auth_not_offered_is_explained_and_quits_politely(make_sink, session):
    sink = make_sink(starttls=False, auth_require_tls=True)  # hides AUTH without TLS
    s = settings(sink, "none", user="lab", password=LAB_PASSWORD, allow_cleartext_auth=True)
    with pytest.raises(smtplib.SMTPNotSupportedError) as info:
        session.send(s, mail())
    assert "offers no AUTH" in describe_smtp_error(info.value)
    assert sent_lines(session)[-1] == "QUIT" and not sink.store.all()


def test_stop_interrupts_a_hanging_tls_handshake(raw_peer, session):
    peer = raw_peer(b"", hold=True)  # accepts, then never answers the ClientHello
    s = SmtpSettings.parse("127.0.0.1", peer.port, "tls", timeout=60)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            session.command(s, "NOOP")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    # the ClientHello has arrived: the client now waits inside the handshake
    wait_for(lambda: peer.received, 10, "the client never started the TLS handshake")
    session.abort()
    thread.join(10)  # without Stop it would wait for the 60 s client timeout
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], StoppedByUser)
