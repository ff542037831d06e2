"""The sink's message store and the record views the Inbox shows."""

from __future__ import annotations

import threading

from core.servers.smtp.inbox import MailStore
from core.smtp.message import MailDraft, build_message


def sample(tmp_path, **fields) -> bytes:
    att = tmp_path / "notes.txt"
    att.write_text("attached text\n")
    base = dict(sender="Ann <ann@example.com>", to="lab@localhost", subject="Inbox test",
                body="plain body\n", html="<p>html body</p>", attachments=[str(att)])
    base.update(fields)
    return build_message(MailDraft(**base)).data


def test_record_views(tmp_path):
    store = MailStore()
    record = store.add(peer="127.0.0.1:5000", mail_from="ann@example.com",
                       rcpt_tos=["lab@localhost"], data=sample(tmp_path), tls=True)
    assert store.get(record.id) is record and len(store) == 1
    assert record.header("Subject") == "Inbox test"
    assert ("From", "Ann <ann@example.com>") in record.headers()
    plain, html = record.bodies()
    assert plain == "plain body\n" and html.strip() == "<p>html body</p>"
    [part] = record.attachments()
    assert (part.filename, part.content_type) == ("notes.txt", "text/plain")
    assert record.attachment_payload(0) == b"attached text\n"
    assert record.source_text().startswith("From: Ann")
    assert "more bytes not shown" in record.source_text(limit=50)


def test_store_bounds_drop_the_oldest():
    store = MailStore(max_messages=3, max_bytes=10_000)
    ids = [store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=b"x" * 100).id
           for _ in range(5)]
    assert [r.id for r in store.all()] == ids[2:]
    big = store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=b"y" * 20_000)
    assert [r.id for r in store.all()] == [big.id]  # the newest always stays
    assert store.remove(big.id) and not store.remove(big.id) and len(store) == 0
    small = store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=b"z" * 9_000)
    assert [r.id for r in store.all()] == [small.id]  # the byte count went down on remove
    store.clear()
    assert store.all() == []


def test_concurrent_adds_are_all_kept():
    store = MailStore(max_messages=1000)

    def add_many() -> None:
        for _ in range(100):
            store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=b"m")

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 400 and len({r.id for r in store.all()}) == 400


def test_view_parses_once_for_display(tmp_path):
    store = MailStore()
    record = store.add(peer="p", mail_from="ann@example.com", rcpt_tos=["lab@localhost"],
                       data=sample(tmp_path))
    view = record.view(source_limit=100)
    assert view.record is record and view.plain == "plain body\n"
    assert view.html.strip() == "<p>html body</p>"
    assert [p.filename for p in view.attachments] == ["notes.txt"]
    assert view.payloads == (b"attached text\n",)
    assert ("Subject", "Inbox test") in view.headers
    assert view.source.endswith("more bytes not shown]")


def test_headers_read_without_parsing_the_body(tmp_path):
    store = MailStore()
    data = sample(tmp_path) + b"\r\n" + b"x" * 5_000_000  # a huge tail after the headers
    record = store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=data)
    assert record.header("Subject") == "Inbox test"
    assert record.header("X-Missing") == ""


def nested_multiparts(depth: int) -> bytes:
    head = b"From: a@b.c\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    body = b"innermost\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--"
                + boundary + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n")
    return head + body


def test_a_message_nested_1000_deep_views_as_its_source():
    # issue 14 item 9: RecursionError in the Inbox's parse thread, "Loading…" forever
    store = MailStore()
    record = store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"],
                       data=nested_multiparts(1000))
    view = record.view()
    assert "could not be parsed" in view.plain and "nest too deeply" in view.plain
    assert view.source.startswith("From: a@b.c")
    assert record.header("Subject") == "nested"


def test_store_counts_the_envelope_against_its_byte_cap():
    store = MailStore(max_bytes=200_000)
    rcpts = [f"{'r' * 400}{i}@example.org" for i in range(1000)]  # ~460 KB of envelope
    for _ in range(3):
        store.add(peer="p", mail_from="a@b.c", rcpt_tos=rcpts, data=b"tiny\r\n")
    assert len(store) == 1  # each alone is over the cap: only the newest is kept


def test_an_mbox_failure_keeps_nothing(tmp_path):
    store = MailStore(mbox_path=tmp_path / "a-folder")
    (tmp_path / "a-folder").mkdir()  # not a file: the mbox cannot be written
    try:
        store.add(peer="p", mail_from="a@b.c", rcpt_tos=["x@y.z"], data=b"Subject: s\r\n\r\nb")
    except OSError:
        pass
    else:
        raise AssertionError("the mbox write did not fail")
    assert len(store) == 0  # all or nothing: a retry cannot duplicate it


def test_an_utf8_envelope_sender_reaches_the_mbox(tmp_path):
    store = MailStore(mbox_path=tmp_path / "sink.mbox")
    store.add(peer="p", mail_from="jörg@exämple.org", rcpt_tos=["x@y.z"],
              data=b"Subject: s\r\n\r\nbody\r\nFrom the start\r\n")
    raw = (tmp_path / "sink.mbox").read_bytes()
    assert raw.startswith("From jörg@exämple.org ".encode())
    assert b"\n>From the start\n" in raw  # body From_ lines are still escaped
    assert len(store) == 1
