"""TranscriptSMTP on the wire: what it records, what it hides, how DATA goes out."""

from __future__ import annotations

import threading

import pytest

from core.servers.lab_account import LAB_PASSWORD
from core.servers.smtp.sink import SmtpSink
from core.smtp.errors import StoppedByUser
from core.smtp.transcript import MASK, TranscriptSMTP, _quote_periods
from tests.fixtures.smtp_peers import insecure_context


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.progress: list[tuple[int, int]] = []

    def emit(self, marker: str, text: str) -> None:
        self.lines.append((marker, text))

    def sent(self) -> list[str]:
        return [t for m, t in self.lines if m in ("->", "~>")]


def client(port: int, rec: Recorder, **kw) -> TranscriptSMTP:
    smtp = TranscriptSMTP(rec.emit, timeout=10, progress=lambda d, t: rec.progress.append((d, t)),
                          local_hostname="test", **kw)
    smtp.connect("127.0.0.1", port)
    return smtp



def test_every_reply_line_is_recorded_with_its_marker(smtp_sink):
    rec = Recorder()
    with client(smtp_sink.port, rec) as smtp:
        smtp.ehlo()
        smtp.starttls(context=insecure_context())
        smtp.ehlo()
        smtp.noop()
    markers = [m for m, _ in rec.lines]
    assert markers[0] == "<-" and rec.lines[0][1].startswith("220 ")
    ehlo_reply = [t for m, t in rec.lines if m == "<-" and t.startswith("250")]
    assert ehlo_reply[0].startswith("250-") and ehlo_reply[-1].startswith("250 ")
    tls_at = next(i for i, (m, t) in enumerate(rec.lines) if t.startswith("TLS started"))
    assert set(markers[tls_at + 1:]) <= {"~>", "<~"}
    assert "~> NOOP" not in rec.lines and ("~>", "NOOP") in rec.lines


@pytest.mark.parametrize("mechanism, expected", [
    ("PLAIN", [f"AUTH PLAIN [\\0lab\\0{MASK}]"]),
    ("LOGIN", ["AUTH LOGIN [lab]", f"[{MASK}]"]),
])
def test_auth_is_decoded_and_the_password_masked(smtp_sink, mechanism, expected):
    rec = Recorder()
    with client(smtp_sink.port, rec) as smtp:
        smtp.starttls(context=insecure_context())
        smtp.ehlo()
        smtp.user, smtp.password = "lab", "s3cret-lab"
        smtp_sink.password = "s3cret-lab"
        method = getattr(smtp, "auth_" + mechanism.lower())
        assert smtp.auth(mechanism, method)[0] == 235
    auth = [t for t in rec.sent() if t.startswith(("AUTH", "["))]
    assert auth == expected
    everything = " ".join(t for _, t in rec.lines)
    assert "s3cret" not in everything and "czNjcmV0" not in everything
    if mechanism == "LOGIN":
        assert any("[Password\\0]   — 334 " in t for m, t in rec.lines if m == "<~")


def test_cram_md5_shows_the_user_and_a_digest_prefix(smtp_sink):
    rec = Recorder()
    with client(smtp_sink.port, rec) as smtp:
        smtp.ehlo()
        smtp.user, smtp.password = "lab", LAB_PASSWORD
        assert smtp.auth("CRAM-MD5", smtp.auth_cram_md5)[0] == 235
    [response] = [t for t in rec.sent() if t.startswith("[")]
    assert response.startswith("[lab <hmac-md5 ") and response.endswith("…>]")
    challenge = next(t for m, t in rec.lines if m == "<-" and t.startswith("334 "))
    assert "@wirebench.lab>]" in challenge


def test_dot_stuffing_across_chunk_boundaries(smtp_sink):
    lines = [".", "..x", "plain", ". leading dot", "."] * 30_000  # ~450 KB, many chunks
    body = "\r\n".join(lines) + "\r\n"
    data = b"Subject: dots\r\n\r\n" + body.encode()
    rec = Recorder()
    with client(smtp_sink.port, rec) as smtp:
        smtp.ehlo()
        smtp.mail("a@b.c")
        smtp.rcpt("lab@localhost")
        code, _ = smtp.data(data)
        assert code == 250
    [record] = smtp_sink.store.all()
    assert record.data == data
    assert rec.progress[-1] == (len(data) + 3, len(data) + 3)
    assert [d for d, _ in rec.progress] == sorted(d for d, _ in rec.progress)
    summary = next(t for t in rec.sent() if t.startswith("[message body"))
    assert f"{len(data):,} bytes" in summary and "150,002 lines" in summary
    assert rec.sent()[-2:] == [".", "QUIT"]


def test_show_body_is_bounded_and_shows_stuffed_lines(smtp_sink):
    data = b"Subject: s\r\n\r\n" + b".\r\nline\r\n" * 3000
    rec = Recorder()
    with client(smtp_sink.port, rec, show_body=True) as smtp:
        smtp.ehlo()
        smtp.mail("a@b.c")
        smtp.rcpt("lab@localhost")
        smtp.data(data)
    body = rec.sent()[rec.sent().index("DATA") + 1:]
    assert body[:4] == ["Subject: s", "", "..", "line"]
    assert len(body) == 2000 + 2 and body[-2:] == [".", "QUIT"]  # the cap, then the end
    assert any(m == "===" and "more body lines not shown" in t for m, t in rec.lines)


def test_abort_before_data_stops_and_stores_nothing(smtp_sink):
    rec = Recorder()
    aborted = threading.Event()
    smtp = client(smtp_sink.port, rec, aborted=aborted)
    try:
        smtp.ehlo()
        smtp.mail("a@b.c")
        smtp.rcpt("lab@localhost")
        aborted.set()
        with pytest.raises(StoppedByUser, match="stopped after 0 of"):
            smtp.data(b"Subject: x\r\n\r\nbody\r\n")
    finally:
        smtp.close()
    assert not smtp_sink.store.all()


def test_implicit_tls_greeting_arrives_inside_tls():
    with SmtpSink(port=0, implicit_tls=True) as sink:
        rec = Recorder()
        with client(sink.port, rec, tls_context=insecure_context()) as smtp:
            smtp.noop()
    assert rec.lines[0][0] == "===" and "certificate NOT verified" in rec.lines[0][1]
    assert rec.lines[1][0] == "<~"


def test_quote_periods():
    assert _quote_periods(b".\r\n..x\r\na.b\r\n.") == b"..\r\n...x\r\na.b\r\n.."


def test_each_reply_says_what_its_codes_mean(smtp_sink):
    """Like an annotated swaks run: RFC 5321 and RFC 3463 meanings beside the codes."""
    rec = Recorder()
    with client(smtp_sink.port, rec) as smtp:
        smtp.ehlo()
        smtp.mail("ann@example.com")
        smtp.rcpt("lab@localhost")
    replies = [t for m, t in rec.lines if m == "<-"]
    assert replies[0].startswith("220 ") and "— 220 service ready" in replies[0]
    assert replies[-1] == "221 Bye   — 221 closing the connection"
    assert replies.count("250 OK   — 250 done") == 2  # MAIL, RCPT
    ehlo = [t for t in replies if t.startswith("250-")]
    assert ehlo and not any("—" in t for t in ehlo)  # once, on a reply's last line


def test_enhanced_status_codes_are_explained() -> None:
    from core.smtp.reply_codes import explain

    assert explain(250, "2.1.0 Ok") == "250 done; 2.1.0 success: other address status"
    assert explain(550, "5.7.1 Relaying denied") == (
        "550 mailbox unavailable or refused; 5.7.1 permanent failure: delivery not "
        "authorized")
    assert explain(451, "4.4.9 odd") == ("451 local error (try later); 4.4.9 temporary "
                                         "failure: other network or routing status")
    assert explain(299, "") == "299 done"
