"""Every smtplib exception the origin document lists (plus the modern two) -> one sentence.

The exceptions are raised by smtplib itself against real misbehaving peers where a peer
can provoke them; the mapping of the rest is checked on the real classes.
"""

from __future__ import annotations

import smtplib

import pytest

from core.smtp.errors import StoppedByUser, describe_refused, describe_smtp_error, reply_text

DOCUMENT_LIST = [
    smtplib.SMTPException, smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException,
    smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
    smtplib.SMTPConnectError, smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
]


def make(cls: type) -> BaseException:
    if cls is smtplib.SMTPSenderRefused:
        return cls(553, b"5.7.1 not yours", "me@example.com")
    if cls is smtplib.SMTPRecipientsRefused:
        return cls({"a@x.y": (550, b"5.1.1 unknown"), "b@x.y": (452, b"mailbox full")})
    if issubclass(cls, smtplib.SMTPResponseException):
        return cls(554, b"5.0.0 the reason\nsecond line")
    return cls("connection went away")


@pytest.mark.parametrize("cls", DOCUMENT_LIST, ids=lambda c: c.__name__)
def test_each_exception_has_its_own_sentence(cls):
    message = describe_smtp_error(make(cls))
    assert message and "Traceback" not in message and cls.__name__ not in message
    assert message.endswith((".", "?", "unknown", "full"))
    if issubclass(cls, smtplib.SMTPResponseException) and cls is not smtplib.SMTPSenderRefused:
        assert "554 5.0.0 the reason second line" in message


def test_messages_differ_between_classes():
    messages = {describe_smtp_error(make(cls)).split(":")[0] for cls in DOCUMENT_LIST}
    assert len(messages) == len(DOCUMENT_LIST)


def test_refused_recipients_one_per_line():
    text = describe_smtp_error(make(smtplib.SMTPRecipientsRefused))
    assert "\n  a@x.y: 550 5.1.1 unknown" in text
    assert "\n  b@x.y: 452 mailbox full" in text
    assert describe_refused({"c@d.e": (550, "no")}) == "  c@d.e: 550 no"
    one = describe_smtp_error(smtplib.SMTPRecipientsRefused({"c@d.e": (550, b"no")}))
    assert one.startswith("The server refused the recipient;")


def test_connect_error_from_a_real_554_greeting(raw_peer):
    peer = raw_peer(b"554 5.3.2 Service unavailable, go away\r\n")
    with pytest.raises(smtplib.SMTPConnectError) as info:
        smtplib.SMTP("127.0.0.1", peer.port, timeout=5, local_hostname="t")
    message = describe_smtp_error(info.value, "at 127.0.0.1")
    assert "refused the connection at 127.0.0.1: 554 5.3.2 Service unavailable" in message


def test_server_disconnected_from_a_real_hang_up(raw_peer):
    peer = raw_peer(b"220 ready\r\n", lines=1)  # reads EHLO, then hangs up
    client = smtplib.SMTP("127.0.0.1", peer.port, timeout=5, local_hostname="t")
    with pytest.raises(smtplib.SMTPServerDisconnected) as info:
        client.ehlo()
    client.close()
    assert "closed the connection" in describe_smtp_error(info.value)


def test_not_supported_from_a_real_server(make_sink):
    from core.servers.smtp.sink import SmtpSink

    sink = make_sink(SmtpSink, starttls=False)
    with (smtplib.SMTP("127.0.0.1", sink.port, timeout=5, local_hostname="t") as client,
          pytest.raises(smtplib.SMTPNotSupportedError) as info):
        client.starttls()
    assert "does not support" in describe_smtp_error(info.value)


def test_stopped_and_network_errors_fall_through():
    assert "Stopped as you asked" in describe_smtp_error(StoppedByUser("after 10 bytes"))
    assert "refused" in describe_smtp_error(ConnectionRefusedError(111, "refused"))
    assert reply_text(250, b"ok\nmore") == "250 ok more"
