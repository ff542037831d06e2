"""Building mail from composer fields: strict addresses, no header injection, CRLF bytes."""

from __future__ import annotations

import email
from email import policy

import pytest

from core.errors import UserError
from core.smtp.message import (
    MailDraft,
    attachment_from_path,
    build_message,
    parse_addresses,
    parse_extra_headers,
    total_attachment_size,
)


def draft(**fields) -> MailDraft:
    base = dict(sender="Ann <ann@example.com>", to="bob@example.org", subject="Hi",
                body="Hello\n")
    base.update(fields)
    return MailDraft(**base)


@pytest.mark.parametrize("bad", [
    "a@b@<c@d>", "x", "a@", "joe@", "<@a>", "@example.com", "a b@c d", "ann@exa mple.com",
    "Ann <ann@example.com", "a@b..c",
])
def test_malformed_addresses_are_refused_naming_the_field(bad):
    with pytest.raises(UserError) as info:
        parse_addresses(bad, "To")
    assert info.value.field_name == "To"
    assert "To" in str(info.value)


def test_good_address_lists():
    parsed = parse_addresses('Ann <ann@example.com>, "Smith, Bob" <bob@ex.org>, c@d.e,', "To")
    assert [a.addr_spec for a in parsed] == ["ann@example.com", "bob@ex.org", "c@d.e"]
    assert parsed[1].display_name == "Smith, Bob"
    assert parse_addresses("  ", "Cc") == []
    with pytest.raises(UserError):
        parse_addresses("", "From", allow_empty=False)
    with pytest.raises(UserError, match="one address"):
        parse_addresses("a@b.c, d@e.f", "From", single=True)


@pytest.mark.parametrize("field_name, value", [
    ("subject", "Hi\r\nBcc: victim@example.com"),
    ("subject", "Hi\nX-Evil: 1"),
    ("to", "bob@example.org\r\nBcc: victim@example.com"),
    ("reply_to", "a@b.c\rX: y"),
    ("extra_headers", "X-Note: a\rb"),
])
def test_header_injection_is_refused(field_name, value):
    with pytest.raises(UserError) as info:
        build_message(draft(**{field_name: value}))
    assert "line break" in str(info.value) or "not" in str(info.value)


def test_extra_headers():
    assert parse_extra_headers("X-Mailer: wb\n\nX-Priority: 1 (Highest)") == [
        ("X-Mailer", "wb"), ("X-Priority", "1 (Highest)")]
    for bad in ("no colon here", "Bad Name: x", "Subject: twice", "From: me@x.y"):
        with pytest.raises(UserError) as info:
            parse_extra_headers(bad)
        assert info.value.field_name == "Extra headers"


def test_bytes_use_crlf_only_and_bcc_is_not_in_headers(tmp_path):
    out = build_message(draft(cc="c@d.e", bcc="secret@example.net", reply_to="r@s.t",
                              body="one\ntwo\rthree\r\n", html="<p>hi</p>",
                              extra_headers="X-Test: yes"))
    assert b"\n" not in out.data.replace(b"\r\n", b"")
    assert b"\r" not in out.data.replace(b"\r\n", b"")
    assert out.recipients == ("bob@example.org", "c@d.e", "secret@example.net")
    assert b"secret@" not in out.data
    parsed = email.message_from_bytes(out.data, policy=policy.default)
    assert parsed["Reply-To"] == "r@s.t" and parsed["X-Test"] == "yes"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>hi</p>"
    assert parsed["Message-ID"].endswith("@example.com>")
    assert not out.smtputf8 and not out.eight_bit


def test_non_ascii_text_stays_seven_bit_but_addresses_need_smtputf8():
    out = build_message(draft(subject="Grüße", body="naïve café\n"))
    assert out.data.isascii() and not out.smtputf8
    parsed = email.message_from_bytes(out.data, policy=policy.default)
    assert parsed["Subject"] == "Grüße" and parsed.get_content() == "naïve café\r\n"
    intl = build_message(draft(to="jörg@exämple.com"))
    assert intl.smtputf8 and intl.eight_bit
    assert "jörg@exämple.com".encode() in intl.data


def test_attachments_typed_and_sized(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + b"x" * 1000)
    tgz = tmp_path / "src.tar.gz"
    tgz.write_bytes(b"\x1f\x8b" + b"0" * 10)
    odd = tmp_path / "blob.zzzunknown"
    odd.write_bytes(b"?")
    assert attachment_from_path(pdf).content_type == "application/pdf"
    assert attachment_from_path(pdf).size == 1009
    assert attachment_from_path(tgz).content_type == "application/gzip"
    assert attachment_from_path(odd).content_type == "application/octet-stream"
    assert total_attachment_size([str(pdf), str(odd), str(tmp_path / "gone")]) == 1010
    out = build_message(draft(attachments=[str(pdf)]))
    parsed = email.message_from_bytes(out.data, policy=policy.default)
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "report.pdf" and part.get_content() == pdf.read_bytes()


def test_missing_attachment_names_the_field(tmp_path):
    with pytest.raises(UserError) as info:
        build_message(draft(attachments=[str(tmp_path / "gone.txt")]))
    assert info.value.field_name == "Attachments"
    with pytest.raises(UserError):
        attachment_from_path(tmp_path)  # a folder


def test_needs_a_recipient_and_a_sender():
    with pytest.raises(UserError) as info:
        build_message(draft(to=""))
    assert info.value.field_name == "To"
    build_message(draft(to="", bcc="only@bcc.org"))
    with pytest.raises(UserError) as info:
        build_message(draft(sender=""))
    assert info.value.field_name == "From"


def test_draft_dict_round_trip_ignores_junk():
    d = draft(attachments=["/tmp/a"])
    assert MailDraft.from_dict(d.to_dict()) == d
    assert MailDraft.from_dict({"to": 5, "attachments": "nope", "x": 1}) == MailDraft()
