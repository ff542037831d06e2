"""The SMTP tab driven like a user would, against the app's own lab sink."""

from __future__ import annotations

import gc
import os
import socket

import pytest

from core.servers.lab_account import LAB_PASSWORD, LAB_USER
from core.smtp.drafts import DraftStore
from gui.tabs.smtp.tab import SmtpTab


@pytest.fixture
def tab(app):
    smtp_tab = app.tab("smtp")
    assert isinstance(smtp_tab, SmtpTab)
    app.select_tab(app.tabs.index(smtp_tab))
    smtp_tab.views.select(0)
    smtp_tab.log.clear()
    smtp_tab.composer.set_draft(type(smtp_tab.composer.get_draft())())
    smtp_tab.stop_after_var.set("full send")
    yield smtp_tab
    smtp_tab.session.shutdown()


@pytest.fixture
def lab_sink(app):
    sink = app.lab.peer("smtp")
    sink.start()
    sink.store.clear()
    yield sink
    sink.stop()


def status(app) -> str:
    return app.status_var.get()


def compose(tab, **values) -> None:
    for name, value in values.items():
        if name in tab.composer.vars:
            tab.composer.vars[name].set(value)
        else:
            text = tab.composer.texts[name]
            text.delete("1.0", "end")
            text.insert("1.0", value)


def test_compose_with_attachment_send_then_read_it_in_the_inbox(app, tab, lab_sink,
                                                                wait_until, tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n" + os.urandom(50_000))
    tab.use_lab_sink()
    assert tab.port_var.get() == str(lab_sink.port) and tab.verify_var.get()
    compose(tab, sender="Ann <ann@example.com>", to="lab@localhost", subject="GUI send",
            body="Hello from the tab.\n.\n..x\n")
    tab.composer.add_attachments([str(report)])
    assert tab.composer.attach_list.item("a0", "values")[0] == "application/pdf"
    tab.send_button.invoke()
    wait_until(lambda: status(app).startswith("Sent"), timeout=20,
               message=f"send did not finish: {status(app)}")
    transcript = tab.log.get_text()
    assert "~> AUTH CRAM-MD5" in transcript and "TLS started" in transcript
    assert "lab\\0" not in transcript or "********" in transcript
    assert "<~ 250 2.0.0 Ok: queued as" in transcript
    assert "[message body:" in transcript
    assert dict((tab.caps.item(i, "text"), tab.caps.item(i, "values")[0])
                for i in tab.caps.get_children())["STARTTLS"].startswith("in use")

    tab.views.select(tab.inbox)
    wait_until(lambda: tab.inbox.message_ids(), message="message not in the Inbox")
    [record_id] = tab.inbox.message_ids()
    tab.inbox.select(record_id)
    wait_until(lambda: tab.inbox.shown is not None, message="message did not load")
    body = tab.inbox.body_text.get("1.0", "end")
    assert "Subject: GUI send" in body and "Hello from the tab.\n.\n..x" in body
    assert "TLS, AUTH lab" in body
    [part] = tab.inbox.attachment_list.get_children()
    assert tab.inbox.attachment_list.item(part, "text") == "report.pdf"
    saved = tmp_path / "saved.pdf"
    assert tab.inbox.save_attachment(0, saved)
    assert saved.read_bytes() == report.read_bytes()
    assert "Subject: GUI send" in tab.inbox.source_view.get_text()
    headers = [tab.inbox.header_list.item(i, "text") for i in tab.inbox.header_list.get_children()]
    assert {"From", "To", "Subject", "Message-ID"} <= set(headers)
    [entry, *_] = DraftStore().sent()
    assert entry.subject == "GUI send" and entry.recipients == ("lab@localhost",)
    newest = tab.sent_log.rows()[0]
    assert newest[2] == "lab@localhost" and newest[3] == "GUI send"
    assert newest[5].startswith("250")


def test_draft_survives_closing_and_reopening(app, tab, wait_until, tmp_path):
    attachment = tmp_path / "notes.txt"
    attachment.write_text("notes")
    compose(tab, sender="me@example.com", to="you@example.org", subject="Unsent thoughts",
            body="first line\nsecond line\n", html="<p>hi</p>")
    tab.composer.add_attachments([str(attachment)])
    store = DraftStore()
    wait_until(lambda: (store.load() or None) is not None
               and store.load().subject == "Unsent thoughts", message="draft not autosaved")
    assert tab.draft_var.get().startswith("Saved")
    reopened = SmtpTab(app.notebook, app)  # what the next start of the app builds
    try:
        draft = reopened.composer.get_draft()
        assert (draft.sender, draft.to, draft.subject) == ("me@example.com", "you@example.org",
                                                            "Unsent thoughts")
        assert draft.body == "first line\nsecond line\n" and draft.html == "<p>hi</p>"
        assert draft.attachments == [str(attachment)]
        assert reopened.draft_var.get() == "Draft restored"
    finally:
        reopened.close()
        reopened.destroy()
        gc.collect()  # Tk variables must die on the Tk thread, not in a worker's GC


def test_failed_send_keeps_the_message_and_says_why(app, tab, wait_until):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(free_port))
    tab.security_var.set("none")
    tab.user_var.set("")
    compose(tab, sender="a@example.com", to="b@example.org", subject="Keep me", body="text")
    tab.send_button.invoke()
    wait_until(lambda: "refused" in status(app).lower(), message=status(app))
    assert "Start the server or fix the port" in status(app)
    assert tab.composer.get_draft().subject == "Keep me"
    assert "***" in tab.log.get_text()
    tab.save_draft()
    assert DraftStore().load().subject == "Keep me"


def test_bad_fields_are_named_and_focused(app, tab, lab_sink, wait_until):
    tab.use_lab_sink()
    tab.port_var.set("70000")
    tab.send_button.invoke()
    assert "Port must be 1–65535" in status(app)
    tab.use_lab_sink()
    compose(tab, sender="a@example.com", to="a@b@<c@d>", subject="x", body="y")
    tab.send_button.invoke()
    wait_until(lambda: "To is not a valid address" in status(app), message=status(app))
    wait_until(lambda: app.root.focus_get() is tab.composer.entries["to"])
    compose(tab, to="b@example.org", subject="Hi\r\nBcc: victim@example.com")
    tab.send_button.invoke()
    wait_until(lambda: "Subject contains a line break" in status(app), message=status(app))
    assert not lab_sink.store.all()


def test_verbs_by_hand_and_stop_after(app, tab, lab_sink, wait_until):
    tab.use_lab_sink()
    tab.verb_var.set("VRFY")
    tab.argument_var.set("xxx@foreign.host.com")
    tab.run_verb()
    wait_until(lambda: status(app).startswith("VRFY: 550"), message=status(app))
    assert tab.connection_var.get().startswith("Connected to")
    tab.verb_var.set("QUIT")
    tab.run_verb()
    wait_until(lambda: status(app).startswith("QUIT: 221"), message=status(app))
    assert tab.connection_var.get() == "Not connected"

    compose(tab, sender="a@example.com", to="lab@localhost", subject="stop", body="x")
    tab.stop_after_var.set("RCPT")
    tab.send_button.invoke()
    wait_until(lambda: "Stopped after RCPT" in status(app), message=status(app))
    assert "RCPT TO:<lab@localhost>" in tab.log.get_text()
    assert not lab_sink.store.all()

    tab.stop_after_var.set("full send")
    compose(tab, to="lab@localhost, ghost@example.com")
    tab.verify_button.invoke()
    wait_until(lambda: "ghost@example.com: 550" in status(app), message=status(app))


def test_25_mb_attachment_sends_with_progress_and_a_live_ui(app, tab, lab_sink,
                                                            wait_until, tmp_path):
    big = tmp_path / "video.bin"
    big.write_bytes(os.urandom(25 * 1024 * 1024))
    tab.use_lab_sink()
    compose(tab, sender="a@example.com", to="lab@localhost", subject="big one", body="see")
    tab.composer.add_attachments([str(big)])
    ticks = []
    seen_progress: set[float] = set()

    def tick() -> None:  # a Tk timer: it only runs while the event loop is free
        ticks.append(1)
        seen_progress.add(round(float(tab.progress["value"]), 3))
        if not status(app).startswith("Sent"):
            app.root.after(20, tick)

    tab.send_button.invoke()
    app.root.after(20, tick)
    wait_until(lambda: status(app).startswith("Sent"), timeout=120, message=status(app))
    partial = {v for v in seen_progress if 0 < v < 1}
    assert partial, "no intermediate progress was shown"
    assert len(ticks) > 10  # the UI kept processing timers during the transfer
    assert "25.0 MiB" in tab.composer.total_var.get()
    [record] = lab_sink.store.all()
    assert record.attachment_payload(0) == big.read_bytes()
    assert float(tab.progress["value"]) == 1.0
    tab.views.select(tab.inbox)
    wait_until(lambda: tab.inbox.message_ids() == [record.id])
    ticks.clear()
    tab.inbox.select(record.id)  # parsing 35 MB happens off the Tk thread
    assert "Loading message" in tab.inbox.body_text.get("1.0", "end")
    app.root.after(20, tick)
    wait_until(lambda: tab.inbox.shown is not None, timeout=60)
    assert tab.inbox.attachment_list.item("p0", "text") == "video.bin"


def test_stop_button_aborts_a_transfer(app, tab, lab_sink, wait_until, tmp_path):
    big = tmp_path / "huge.bin"
    big.write_bytes(os.urandom(30 * 1024 * 1024))
    tab.use_lab_sink()
    compose(tab, sender="a@example.com", to="lab@localhost", subject="abort me", body="x")
    tab.composer.add_attachments([str(big)])
    tab.send_button.invoke()
    wait_until(lambda: 0 < float(tab.progress["value"]) < 1, timeout=60,
               message="transfer did not start")
    tab.stop_button.invoke()
    wait_until(lambda: "Stopped as you asked" in status(app), timeout=20, message=status(app))
    assert tab.composer.get_draft().subject == "abort me"
    assert not lab_sink.store.all()


def test_transcript_save_hook_and_self_test(app, tab, lab_sink, wait_until):
    assert tab.self_test() is None
    tab.use_lab_sink()
    tab.verb_var.set("NOOP")
    tab.run_verb()
    wait_until(lambda: status(app).startswith("NOOP: 250"), message=status(app))
    text = tab.transcript_text()
    assert text and "-> NOOP" in text.replace("~>", "->")
    tab.save_fields()
    assert app.settings.section("smtp")["port"] == str(lab_sink.port)
    assert "password" not in app.settings.section("smtp")


def test_refused_recipients_are_listed_one_by_one(app, tab, refusing_sink, wait_until):
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(refusing_sink.port))
    tab.security_var.set("none")
    tab.user_var.set("")
    compose(tab, sender="a@example.com", to="bad1@example.com, good@example.com",
            cc="bad2@example.com", subject="partly", body="x")
    tab.send_button.invoke()
    wait_until(lambda: "2 refused" in status(app), message=status(app))
    assert "bad1@example.com: 550" in status(app) and "bad2@example.com: 550" in status(app)
    log = tab.log.get_text()
    assert "*** Recipient bad1@example.com refused: 550" in log
    assert "*** Recipient bad2@example.com refused: 550" in log
    [record] = refusing_sink.store.all()
    assert record.rcpt_tos == ("good@example.com",)
    newest = tab.sent_log.rows()[0]
    assert "refused: bad1@example.com, bad2@example.com" in newest[2]


def test_inbox_starts_and_stops_the_lab_sink(app, tab, wait_until):
    sink = app.lab.peer("smtp")
    assert not sink.running
    tab.views.select(tab.inbox)
    tab.inbox.sink_button.invoke()
    try:
        wait_until(lambda: "listening on" in tab.inbox.sink_var.get(),
                   message=tab.inbox.sink_var.get())
        assert sink.running and tab.inbox.sink_button.cget("text") == "Stop sink"
    finally:
        tab.inbox.sink_button.invoke()
        wait_until(lambda: not sink.running and "stopped" in tab.inbox.sink_var.get(),
                   message=tab.inbox.sink_var.get())
    assert tab.inbox.sink_button.cget("text") == "Start sink"


def test_untrusted_certificate_points_at_the_ca_field(app, tab, lab_sink, smtp_sink,
                                                      wait_until):
    tab.use_lab_sink()
    # a sink that is not the app's lab peer: its certificate is not trusted for it
    tab.port_var.set(str(smtp_sink.port))
    tab.ca_var.set("")
    tab.verb_var.set("NOOP")
    tab.run_verb()
    wait_until(lambda: "TLS certificate rejected" in status(app), message=status(app))
    wait_until(lambda: app.root.focus_get() is tab.widgets["CA file"])
    assert "turn off verification" in status(app)


def test_draft_survives_a_real_restart_of_the_app(tmp_path):
    """Two separate processes: type and quit (without waiting for autosave), then start."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    env = dict(os.environ, PYTHONPATH=str(root), WIREBENCH_DATA_DIR=str(tmp_path / "data"),
               WIREBENCH_CONFIG_DIR=str(tmp_path / "config"))
    first = (
        "import tkinter as tk\n"
        "from gui.app import WirebenchApp\n"
        "app = WirebenchApp(tk.Tk(), lab_ephemeral=True)\n"
        "tab = app.tab('smtp')\n"
        "tab.composer.vars['to'].set('restart@example.org')\n"
        "tab.composer.texts['body'].insert('1.0', 'typed just before quitting')\n"
        "app.close()\n"
    )
    second = (
        "import tkinter as tk\n"
        "from gui.app import WirebenchApp\n"
        "app = WirebenchApp(tk.Tk(), lab_ephemeral=True)\n"
        "d = app.tab('smtp').composer.get_draft()\n"
        "print(d.to, '|', d.body)\n"
        "app.close()\n"
    )
    for script in (first, second):
        done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "restart@example.org | typed just before quitting"


def test_new_message_keeps_the_sender_and_saves_the_empty_draft(app, tab):
    compose(tab, sender="me@example.com", to="you@example.org", subject="old", body="old")
    tab.new_message(confirm=False)
    draft = tab.composer.get_draft()
    assert (draft.sender, draft.to, draft.subject, draft.body) == ("me@example.com", "", "", "")
    assert DraftStore().load() == draft


def test_lab_button_on_first_click_sends_with_verification_on(app, tab, lab_sink,
                                                              wait_until):
    tab.ca_var.set("")  # a new user's fields: no CA file chosen
    tab.user_var.set("")
    tab.password_var.set("")
    tab.lab_button.invoke()
    assert tab.verify_var.get() and tab.ca_var.get() == ""
    assert (tab.user_var.get(), tab.password_var.get()) == (LAB_USER, LAB_PASSWORD)
    assert f"{LAB_USER} / {LAB_PASSWORD}" in status(app)
    compose(tab, sender="ann@example.com", to="lab@localhost", subject="first click",
            body="hi\n")
    tab.send_button.invoke()
    wait_until(lambda: status(app).startswith("Sent"), timeout=20, message=status(app))
    assert "TLS started" in tab.log.get_text() and "235" in tab.log.get_text()
    (mail,) = lab_sink.store.all()
    assert b"Subject: first click" in mail.data and mail.tls and mail.auth_user == LAB_USER


def test_default_fields_reach_the_running_lab_sink_with_verification_on(app, tab, lab_sink,
                                                                        wait_until):
    # a new user's fields point at the lab port (2525 outside the tests); nothing else set
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(lab_sink.port))
    tab.security_var.set("starttls")
    tab.verify_var.set(True)
    tab.ca_var.set("")
    tab.user_var.set("")
    tab.password_var.set("")
    compose(tab, sender="ann@example.com", to="lab@localhost", subject="defaults", body="x\n")
    tab.send_button.invoke()
    wait_until(lambda: status(app).startswith("Sent"), timeout=20, message=status(app))
    assert "TLS started" in tab.log.get_text()


def test_transcript_explains_codes_and_caps_say_when_they_are_old(app, tab, lab_sink,
                                                                  wait_until):
    tab.use_lab_sink()
    tab.verb_var.set("NOOP")
    tab.run_verb()
    wait_until(lambda: "NOOP" in status(app), message=status(app))
    assert "— 250 done" in tab.log.get_text()  # RFC 5321 meaning beside the code
    assert "Server capabilities — 127.0.0.1:" in tab.caps_frame.cget("text")
    tab.verb_var.set("QUIT")
    tab.run_verb()
    wait_until(lambda: tab.connection_var.get() == "Not connected",
               message=tab.connection_var.get())
    assert "last seen on 127.0.0.1:" in tab.caps_frame.cget("text")
    assert "(not connected)" in tab.caps_frame.cget("text")


def test_choosing_tls_says_that_the_port_changed(app, tab):
    tab.port_var.set("587")
    tab.security_var.set("tls")
    box = tab.widgets["Security"]
    box.event_generate("<<ComboboxSelected>>")
    assert tab.port_var.get() == "465"
    assert "Port changed from 587 to 465" in status(app)
    tab.security_var.set("starttls")
    box.event_generate("<<ComboboxSelected>>")
    assert tab.port_var.get() == "587" and "Port changed from 465 to 587" in status(app)
