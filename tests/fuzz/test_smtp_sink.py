"""Fuzzed: the lab SMTP sink's command handling and its message store
(core/servers/smtp/sink.py, core/servers/smtp/inbox.py).

The commands go over a real socket to a running sink (aiosmtpd parses them, our
handlers act on them); after each burst a fresh client must still get ``250`` to NOOP.
The store is fed what a client may send as a message and must parse it for the Inbox.
"""

from __future__ import annotations

import socket

from hypothesis import given
from hypothesis import strategies as st

from core.servers.smtp.inbox import MailStore
from core.servers.smtp.sink import SmtpSink
from tests.fuzz.budget import fuzz
from tests.hostile.served import recv_until

_VERB = st.sampled_from(["HELO", "EHLO", "MAIL FROM:", "RCPT TO:", "DATA", "RSET", "NOOP",
                         "VRFY", "EXPN", "HELP", "AUTH", "AUTH PLAIN", "AUTH LOGIN",
                         "AUTH CRAM-MD5", "BDAT", "STARTTLS", "XFOO", ""])
_ARG = st.one_of(st.sampled_from(["", " <a@b.test>", " <>", " <é@ü.test> SMTPUTF8",
                                  " <a@b.test> SIZE=99999999999", " x" * 300, " =",
                                  " AGxhYgBsYWI=", " *"]),
                 st.text(max_size=60))
COMMANDS = st.lists(st.one_of(
    st.builds(lambda v, a: (v + a).encode("utf-8", "surrogateescape"), _VERB, _ARG),
    st.binary(max_size=80)), min_size=1, max_size=12)


def noop_answered(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(5)
        greeting = sock.recv(1024)
        sock.sendall(b"NOOP\r\n")
        reply = sock.recv(1024)
    return greeting.startswith(b"220") and reply.startswith(b"250")


@fuzz(60)
@given(COMMANDS, st.sampled_from([b"\r\n", b"\n"]))
def test_any_commands_leave_the_sink_serving(smtp_sink: SmtpSink, lines: list[bytes],
                                             end: bytes) -> None:
    with socket.create_connection(("127.0.0.1", smtp_sink.port), timeout=5) as sock:
        sock.sendall(b"".join(line.replace(b"\n", b" ") + end for line in lines))
        replies = recv_until(sock, b"\x00end", 0.1)  # whatever comes in 0.1 s
    for line in replies.split(b"\r\n")[:-1]:  # aiosmtpd echoes a bare CR it got
        assert line[:3].isdigit() and line[3:4] in (b" ", b"-", b""), replies
    assert noop_answered(smtp_sink.port)


_HEADER = st.sampled_from([
    b"Content-Type: multipart/mixed; boundary=b", b"Content-Type: text/plain; charset=x-bad",
    b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable",
    b"Subject: =?utf-8?b?w6k=?=", b"Subject: =?bogus?q?x?=", b"From: <@>",
    b"Content-Disposition: attachment; filename*=utf-8''%ff", b"X: \xff\xfe"])
_PART = st.builds(lambda heads, body: b"\r\n".join(heads) + b"\r\n\r\n" + body,
                  st.lists(_HEADER, max_size=4), st.binary(max_size=100))
MESSAGE = st.one_of(
    st.binary(max_size=600),
    _PART,
    st.builds(lambda head, parts: head + b"\r\n\r\n" + b"".join(
        b"--b\r\n" + p + b"\r\n" for p in parts) + b"--b--\r\n",
        _PART, st.lists(_PART, max_size=5)),
    st.integers(0, 120).map(lambda depth: b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)) + b"\r\nend\r\n"))


@fuzz(150)
@given(MESSAGE, st.text(max_size=30), st.lists(st.text(max_size=30), max_size=3))
def test_any_message_is_stored_and_viewable(data: bytes, sender: str,
                                            recipients: list[str]) -> None:
    store = MailStore(max_messages=2)
    record = store.add(peer="127.0.0.1:1", mail_from=sender, rcpt_tos=recipients, data=data)
    view = record.view()
    assert len(view.source) <= len(data) + 80
    assert all(len(payload) <= len(data) for payload in view.payloads)
    assert len(store) <= 2
