"""InboxView over a MailStore: list, views of one message, save, removal."""

from __future__ import annotations

import gc

import pytest

from core.servers.smtp.inbox import MailStore
from core.smtp.message import MailDraft, build_message
from gui.tabs.smtp.inbox import InboxView


@pytest.fixture
def inbox(app):
    errors: list[str] = []
    view = InboxView(app.root, app.worker, on_error=errors.append)
    view.errors = errors
    yield view
    view.destroy()
    gc.collect()  # Tk variables must die on the Tk thread, not in a worker's GC


def add(store: MailStore, tmp_path, subject: str, big_source: bool = False):
    att = tmp_path / f"{subject}.csv"
    att.write_text("a,b\n1,2\n")
    data = build_message(MailDraft(sender="a@b.c", to="lab@localhost", subject=subject,
                                   body="x" * (600_000 if big_source else 10),
                                   attachments=[str(att)])).data
    return store.add(peer="127.0.0.1:1", mail_from="a@b.c", rcpt_tos=["lab@localhost"],
                     data=data)


def test_list_newest_first_and_views(app, inbox, tmp_path, wait_until):
    store = MailStore()
    first = add(store, tmp_path, "one")
    second = add(store, tmp_path, "two")
    inbox.set_store(store)
    assert inbox.message_ids() == [second.id, first.id]
    inbox.select(first.id)
    assert not inbox.save_attachment(0, tmp_path / "early.csv")  # still loading
    wait_until(lambda: inbox.shown is not None)
    assert "Subject: one" in inbox.body_text.get("1.0", "end")
    assert "(no HTML part)" in inbox.html_text.get("1.0", "end")
    [part] = inbox.attachment_list.get_children()
    assert inbox.attachment_list.item(part, "values")[0] == "text/csv"
    out = tmp_path / "out.csv"
    assert inbox.save_attachment(0, out) and out.read_text() == "a,b\n1,2\n"
    assert not inbox.save_attachment(0, tmp_path / "no" / "such" / "dir.csv")
    assert inbox.errors and "writable" in inbox.errors[-1]


def test_refresh_follows_the_store(app, inbox, tmp_path, wait_until):
    store = MailStore(max_messages=2)
    inbox.set_store(store)
    a = add(store, tmp_path, "a")
    inbox.refresh()
    inbox.select(a.id)
    wait_until(lambda: inbox.shown is not None)
    add(store, tmp_path, "b")
    add(store, tmp_path, "c")  # pushes "a" out
    inbox.refresh()
    assert len(inbox.message_ids()) == 2 and a.id not in inbox.message_ids()
    assert inbox.current is None and inbox.body_text.get("1.0", "end").strip() == ""
    newest = inbox.message_ids()[0]
    inbox.select(newest)
    inbox.delete_selected()
    assert newest not in inbox.message_ids() and store.get(newest) is None
    inbox.messages.selection_remove(*inbox.messages.selection())
    inbox.delete_selected()
    assert "Select a message" in inbox.errors[-1]
    inbox.clear()
    assert inbox.message_ids() == [] and len(store) == 0


def test_huge_source_is_cut(app, inbox, tmp_path, wait_until):
    store = MailStore()
    record = add(store, tmp_path, "huge", big_source=True)
    inbox.set_store(store)
    inbox.select(record.id)
    wait_until(lambda: inbox.shown is not None)
    assert "more bytes not shown" in inbox.source_view.get_text()
