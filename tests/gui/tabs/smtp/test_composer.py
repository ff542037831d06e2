"""ComposerForm: draft in and out, attachments, size check, change notifications."""

from __future__ import annotations

import gc

import pytest

from core.smtp.message import MailDraft
from gui.tabs.smtp.composer import ComposerForm


@pytest.fixture
def form(app):
    changes: list[int] = []
    errors: list[str] = []
    widget = ComposerForm(app.root, on_change=lambda: changes.append(1),
                          on_error=errors.append)
    widget.changes, widget.errors = changes, errors
    yield widget
    widget.destroy()
    gc.collect()  # Tk variables must die on the Tk thread, not in a worker's GC


def test_draft_round_trip_without_change_storm(app, form, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x")
    draft = MailDraft(sender="a@b.c", to="d@e.f", cc="g@h.i", bcc="j@k.l", reply_to="m@n.o",
                      subject="S", body="body\n", html="<b>x</b>", extra_headers="X-A: 1",
                      attachments=[str(f)])
    form.set_draft(draft)
    app.root.update()
    assert form.get_draft() == draft
    assert form.changes == []  # loading a draft is not an edit
    form.vars["subject"].set("T")
    assert form.changes


def test_missing_attachment_reported_not_lost_silently(app, form, tmp_path):
    form.set_draft(MailDraft(attachments=[str(tmp_path / "gone.bin")]))
    assert form.errors and "gone.bin" in form.errors[0]
    assert form.get_draft().attachments == []


def test_add_remove_and_size_limit(app, form, tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\0" * 3000)
    small = tmp_path / "small.txt"
    small.write_text("hi")
    form.add_attachments([str(big), str(small), str(big), str(tmp_path)])
    assert form.errors and "not a regular file" in form.errors[0]
    assert [a.name for a in form.attachments] == ["big.jpg", "small.txt"]
    assert form.attach_list.item("a0", "values")[0] == "image/jpeg"
    form.set_size_limit(2000)
    assert "too big" in form.total_var.get()
    form.attach_list.selection_set("a0")
    form.remove_selected()
    assert [a.name for a in form.attachments] == ["small.txt"]
    assert "too big" not in form.total_var.get() and "server limit" in form.total_var.get()


def test_focus_field_names(app, form):
    form.pack()
    app.root.update()
    assert form.focus_field("To")
    assert form.focus_field("Extra headers")
    assert form.text_tabs.index("current") == 2
    assert form.focus_field("From") and form.focus_field("Attachments")
    assert not form.focus_field("Port")
    form.pack_forget()
