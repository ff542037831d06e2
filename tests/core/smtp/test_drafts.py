"""Drafts survive restarts; the sent log reads back newest first."""

from __future__ import annotations

import time

from core.smtp.drafts import DraftStore, SentEntry, smtp_dir
from core.smtp.message import MailDraft


def test_draft_round_trip_and_discard(tmp_path):
    store = DraftStore(tmp_path)
    assert store.load() is None
    draft = MailDraft(sender="a@b.c", to="d@e.f", subject="Grüße", body="x\n.\n",
                      attachments=["/tmp/file.bin"])
    store.save(draft)
    assert DraftStore(tmp_path).load() == draft  # a new store, as after a restart
    store.discard()
    assert store.load() is None
    assert [p.name for p in tmp_path.iterdir()] == []  # no temp files left behind


def test_corrupt_draft_is_ignored(tmp_path):
    store = DraftStore(tmp_path)
    store.draft_path.write_text("{ half a json")
    assert store.load() is None
    store.draft_path.write_text('["not", "a", "draft"]')
    assert store.load() is None


def test_sent_log_newest_first_skipping_broken_lines(tmp_path):
    store = DraftStore(tmp_path)
    for i in range(3):
        store.log_sent(SentEntry(at=time.time(), server="127.0.0.1:2525", sender="a@b.c",
                                 recipients=(f"r{i}@x.y",), subject=f"s{i}", size=10 * i,
                                 outcome="250 ok", refused=("bad@x.y",) if i else ()))
    with store.sent_path.open("a") as fh:
        fh.write("garbage\n")
    entries = store.sent()
    assert [e.subject for e in entries] == ["s2", "s1", "s0"]
    assert entries[0].refused == ("bad@x.y",) and entries[0].recipients == ("r2@x.y",)
    assert len(store.sent(limit=2)) == 2


def test_default_folder_is_in_the_data_dir():
    assert smtp_dir().name == "smtp" and smtp_dir().is_dir()
    assert DraftStore().folder == smtp_dir()
