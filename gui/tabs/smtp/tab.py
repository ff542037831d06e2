"""SMTP tab: a composer and swaks-like test tool, with the lab sink's Inbox beside it.

Every network step runs on :class:`~core.smtp.session.SmtpSession`'s worker thread; this
tab only turns its events (transcript lines, capabilities, progress, results) into
widgets. The draft is autosaved while typing and kept when a send fails.
"""

from __future__ import annotations

import ssl
import time
import tkinter as tk
from tkinter import filedialog, messagebox, ttk
from typing import TYPE_CHECKING

from core.errors import UserError
from core.events import (
    Event,
    Failed,
    Progress,
    ServerStarted,
    ServerStopped,
    StateChanged,
)
from core.servers.smtp.inbox import MailReceived
from core.sizes import human_size
from core.smtp.drafts import DraftStore, SentEntry
from core.smtp.errors import describe_refused, describe_smtp_error
from core.smtp.message import MailDraft, build_message, parse_addresses
from core.smtp.session import SmtpSession
from core.smtp.settings import SendResult, SmtpCapabilitiesSeen, SmtpSettings, VerbResult
from core.smtp.transcript import SmtpLine
from core.states import ConnState
from gui.tabs.base import Tab
from gui.tabs.smtp.inbox import InboxView
from gui.tabs.smtp.layout import STOP_CHOICES, SmtpLayout
from gui.tabs.smtp.sent_log import SentLogView

if TYPE_CHECKING:
    from gui.app import WirebenchApp

AUTOSAVE_MS = 600


class SmtpTab(SmtpLayout, Tab):
    title = "SMTP"
    key = "smtp"

    def __init__(self, master: tk.Misc, app: WirebenchApp) -> None:
        super().__init__(master, app)
        self.session = SmtpSession()
        self.drafts = DraftStore()
        self._autosave_job: str | None = None
        self._progress_started = 0.0
        self._pending_mail: MailDraft | None = None
        self._last_marker = ""
        self._build_server_bar()
        self.views = ttk.Notebook(self)
        self.views.pack(fill="both", expand=True, pady=(6, 0))
        self._build_compose_page()
        self.inbox = InboxView(self.views, self.app.worker, on_error=self.show_error,
                               on_info=self.show_info)
        self.inbox.sink_button.configure(command=self.toggle_sink)
        self.views.add(self.inbox, text="  Inbox (lab sink)  ")
        self.sent_log = SentLogView(self.views)
        self.views.add(self.sent_log, text="  Sent log  ")
        self.sent_log.show(self.drafts.sent())
        draft = self.drafts.load()
        if draft is not None:
            self.composer.set_draft(draft)
            self.draft_var.set("Draft restored")
        self.app.bridge.attach(self.session.outbox, self.on_events)
        self.app.lab_listeners.append(self._on_lab_events)
        self._attach_sink()

    # -- fields --------------------------------------------------------------------------
    def save_fields(self) -> None:
        super().save_fields()  # the password is not a persisted field: never written
        self.save_draft()

    def settings(self) -> SmtpSettings:
        return SmtpSettings.parse(
            self.host_var.get(), self.port_var.get(), self.security_var.get(),
            user=self.user_var.get().strip(), password=self.password_var.get(),
            auth_mechanism=self.mechanism_var.get(), verify=bool(self.verify_var.get()),
            ca_file=self.app.lab.ca_for(self.host_var.get(), self.port_var.get())
            or self.ca_var.get().strip(),
            allow_cleartext_auth=bool(self.cleartext_var.get()),
            show_body=bool(self.show_body_var.get()))

    def _security_chosen(self, event: object = None) -> None:
        port = self.port_var.get().strip()
        new = port
        if self.security_var.get() == "tls" and port in ("25", "587", "2525", ""):
            new = "465"
        elif self.security_var.get() != "tls" and port == "465":
            new = "587"
        if new != port:  # never behind the user's back
            self.port_var.set(new)
            why = ("implicit TLS (SMTPS) listens on 465" if new == "465"
                   else "STARTTLS submission listens on 587")
            self.show_info(f"Port changed from {port or 'empty'} to {new}: {why}. Type "
                           "another port if your server differs.")

    def ask_ca_file(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="CA certificate (PEM)",
                                          filetypes=[("PEM", "*.pem *.crt"), ("All", "*")])
        if path:
            self.ca_var.set(path)

    # -- the lab sink --------------------------------------------------------------------
    def sink(self):  # -> SmtpSink | None
        return self.app.lab.peer("smtp")

    def _attach_sink(self) -> None:
        sink = self.sink()
        self.inbox.set_store(sink.store if sink is not None else None)
        self._refresh_sink_status()

    def _refresh_sink_status(self) -> None:
        sink = self.sink()
        if sink is None:
            self.inbox.set_sink_status("Lab sink unavailable", False)
        elif sink.running:
            modes = "implicit TLS" if sink.implicit_tls else (
                "STARTTLS" if sink.starttls else "cleartext")
            self.inbox.set_sink_status(
                f"Lab sink listening on {sink.address} — {modes}, AUTH "
                f"{sink.user}/{sink.password} or none", True)
        else:
            self.inbox.set_sink_status("Lab sink stopped: Start sink (or Lab > Start all) "
                                       "to receive mail here", False)

    def toggle_sink(self) -> None:
        sink = self.sink()
        if sink is None:
            return
        action = sink.stop if sink.running else sink.start
        self.app.worker.submit(action)

    def use_lab_sink(self) -> None:
        """Point the server bar at the lab sink (starting the lab when it is off).

        Its own certificate is trusted for connections to it only (see ``settings``):
        verification stays on and the CA file field keeps the user's own choice.
        """
        self.with_lab_peer("smtp", self._fill_lab_sink)

    use_lab = use_lab_sink

    def _fill_lab_sink(self, sink) -> None:  # noqa: ANN001 - SmtpSink
        self.host_var.set(sink.host)
        self.port_var.set(str(sink.port))
        self.security_var.set("tls" if sink.implicit_tls else "starttls")
        self.verify_var.set(True)
        self.user_var.set(sink.user)
        self.password_var.set(sink.password)
        self.show_info(f"Lab sink at {sink.address}: login {sink.user} / {sink.password}, "
                       "its certificate trusted for this connection.")

    def _on_lab_events(self, events: list[Event]) -> None:
        received = [e for e in events if isinstance(e, MailReceived)]
        if received:
            self.inbox.refresh()
        if received or any(isinstance(e, ServerStarted | ServerStopped)
                           and e.kind == "smtp" for e in events):
            self._refresh_sink_status()

    # -- actions -------------------------------------------------------------------------
    def _start(self, fn, *args, on_done) -> bool:  # noqa: ANN001
        if self.session.worker.busy():
            self.show_error("A command is still running: wait for it or press Stop.")
            return False
        self.stop_button.configure(state="normal")
        self._last_marker = ""

        def run(*job_args: object) -> object:
            try:
                return fn(*job_args)
            except ssl.SSLCertVerificationError as exc:  # the fix is in the CA file field
                raise UserError(describe_smtp_error(exc), "CA file") from exc

        def done(result: object) -> None:
            self._idle()
            on_done(result)

        self.session.worker.submit(run, *args, on_done=done, describe=describe_smtp_error)
        return True

    def _checked_settings(self) -> SmtpSettings | None:
        try:
            return self.settings()
        except UserError as exc:
            self._fail(str(exc), exc.field_name)
            return None

    def send(self) -> None:
        settings = self._checked_settings()
        if settings is None:
            return
        draft = self.composer.get_draft()
        self.save_draft()
        stop = self.stop_after_var.get()
        stop_after = "" if stop == STOP_CHOICES[0] else stop
        self._pending_mail = draft
        self.progress.configure(value=0)
        self.progress_var.set("")
        self._progress_started = time.monotonic()
        self.cleartext_var.set(False)  # the permission was for this send only

        def job() -> SendResult:
            mail = build_message(draft)  # reads attachments: off the Tk thread too
            return self.session.send(settings, mail, stop_after)

        if self._start(job, on_done=self._sent):
            self.show_info(f"Sending to {settings.host}:{settings.port}…")

    def verify_recipients(self) -> None:
        settings = self._checked_settings()
        if settings is None:
            return
        draft = self.composer.get_draft()
        try:
            addresses = [a.addr_spec for name, value in (("To", draft.to), ("Cc", draft.cc),
                                                         ("Bcc", draft.bcc))
                         for a in parse_addresses(value, name)]
        except UserError as exc:
            self._fail(str(exc), exc.field_name)
            return
        if not addresses:
            self._fail("No recipient to verify: enter addresses in To, Cc or Bcc.", "To")
            return
        self._start(self.session.verify, settings, addresses, on_done=self._verified)

    def run_verb(self) -> None:
        settings = self._checked_settings()
        if settings is None:
            return
        self._start(self.session.command, settings, self.verb_var.get(),
                    self.argument_var.get(), on_done=self._verb_done)

    def stop(self) -> None:
        self.session.abort()
        self.show_info("Stopping…")

    def new_message(self, confirm: bool = True) -> None:
        """Start an empty message, keeping From; asks first when the draft has content."""
        draft = self.composer.get_draft()
        has_content = any((draft.to, draft.cc, draft.bcc, draft.subject, draft.body.strip(),
                           draft.html.strip(), draft.attachments))
        if confirm and has_content and not messagebox.askyesno(
                "New message", "Discard the current draft and start a new message?",
                parent=self):
            return
        sender = self.composer.vars["sender"].get()
        self.composer.set_draft(MailDraft(sender=sender))
        self.save_draft()
        self.composer.entries["to"].focus_set()

    # -- drafts --------------------------------------------------------------------------
    def _draft_changed(self) -> None:
        if self._autosave_job is not None:
            self.after_cancel(self._autosave_job)
        self._autosave_job = self.after(AUTOSAVE_MS, self.save_draft)
        self.draft_var.set("Editing…")

    def save_draft(self) -> None:
        if self._autosave_job is not None:
            self.after_cancel(self._autosave_job)
            self._autosave_job = None
        try:
            self.drafts.save(self.composer.get_draft())
        except OSError as exc:
            self.show_error(f"The draft could not be saved in {self.drafts.folder}: "
                            f"{exc.strerror}. Check that the data folder is writable.")
            return
        self.draft_var.set(f"Saved {time.strftime('%H:%M:%S')}")

    # -- events --------------------------------------------------------------------------
    def on_events(self, events: list[Event]) -> None:
        lines: list[tuple[str, str]] = []
        progress: Progress | None = None
        for event in events:
            if isinstance(event, SmtpLine):
                lines.append((event.format(), event.marker))
                self._last_marker = event.marker
                continue
            if lines:  # keep the transcript in order with what follows
                self.log.append_many(lines)
                lines = []
            if isinstance(event, Progress):
                progress = event
            elif isinstance(event, SmtpCapabilitiesSeen):
                self._show_capabilities(event)
            elif isinstance(event, StateChanged):
                connected = event.state is ConnState.ESTABLISHED
                self.connection_var.set(f"Connected to {event.detail}" if connected
                                        else "Not connected")
                self._caps_heading(connected, event.detail)
            elif isinstance(event, Failed):
                self._task_failed(event)
        if lines:
            self.log.append_many(lines)
        if progress is not None:
            self._show_progress(progress)

    def _show_progress(self, event: Progress) -> None:
        total = event.total or 0
        elapsed = max(time.monotonic() - self._progress_started, 1e-6)
        self.progress.configure(value=event.done / total if total else 0)
        self.progress_var.set(f"{human_size(event.done)} / {human_size(total)} · "
                              f"{human_size(event.done / elapsed)}/s")

    def _caps_heading(self, connected: bool, detail: str) -> None:
        """Capabilities of a server we left are last seen, not current: say which."""
        if connected:
            self._caps_server = detail
            self.caps_frame.configure(text=f"Server capabilities — {detail}")
        elif getattr(self, "_caps_server", ""):
            self.caps_frame.configure(text=f"Server capabilities — last seen on "
                                           f"{self._caps_server} (not connected)")

    def _show_capabilities(self, event: SmtpCapabilitiesSeen) -> None:
        self.caps.delete(*self.caps.get_children())
        for name, value in event.capabilities.rows():
            if name == "STARTTLS" and event.tls:
                value = "in use (TLS is active)"
            self.caps.insert("", "end", text=name, values=(value,))
        for name, value in event.tls.items():
            self.caps.insert("", "end", text=f"TLS {name}", values=(value,))
        self.composer.set_size_limit(event.capabilities.size)

    def _idle(self) -> None:
        self.stop_button.configure(state="disabled")
        self._progress_started = 0.0

    def _verb_done(self, result: VerbResult) -> None:
        self.show_info(f"{result.verb}: {result.code} {result.reply}")

    def _verified(self, results: list[VerbResult]) -> None:
        self.show_info("; ".join(f"{r.argument}: {r.code} {r.reply}" for r in results))

    def _sent(self, result: SendResult) -> None:
        draft = self._pending_mail or self.composer.get_draft()
        if result.stopped_after:
            self.show_info(f"Stopped after {result.stopped_after} as asked; nothing was sent.")
            return
        self.progress.configure(value=1.0)
        outcome = f"Sent {human_size(result.size)} to {len(result.accepted)} recipient(s)"
        if result.refused:
            refused = describe_refused(result.refused).replace("\n", ";")
            self.show_error(f"{outcome}, but {len(result.refused)} refused:{refused}")
        else:
            self.show_info(f"{outcome}: {result.reply}")
        settings = self.session.settings
        try:
            self.drafts.log_sent(SentEntry(
                at=time.time(), server=f"{settings.host}:{settings.port}" if settings else "",
                sender=draft.sender, recipients=result.accepted, subject=draft.subject,
                size=result.size, outcome=result.reply, refused=tuple(result.refused)))
        except OSError as exc:
            self.show_error(f"Sent, but the sent log could not be written: {exc.strerror}.")
        else:
            self.sent_log.show(self.drafts.sent())

    def _task_failed(self, event: Failed) -> None:
        self._idle()
        self._fail(event.message, event.field_name)

    def _fail(self, message: str, field_name: str = "") -> None:
        first, _, rest = message.partition("\n")
        self.show_error(first + (" " + "; ".join(s.strip() for s in rest.splitlines())
                                 if rest else ""))
        if self._last_marker != "***":  # the session may have logged it already
            self.log.append_many([(f"{'':>9} *** {line}", "***")
                                  for line in message.splitlines()])
        self._last_marker = "***"
        if field_name and not self.composer.focus_field(field_name):
            widget = self.widgets.get(field_name)
            if widget is not None:
                widget.focus_set()

    # -- app hooks -----------------------------------------------------------------------
    def show_python(self) -> None:
        """The session so far as an smtplib script (password read from the environment)."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.session.recording, "SMTP", self.app.worker)

    def transcript_text(self) -> str | None:
        return self.session.transcript_text() or None

    def on_shown(self) -> None:
        self._refresh_sink_status()
        self.inbox.refresh()

    def self_test(self) -> str | None:
        try:
            build_message(MailDraft(sender="a@example.com", to="b@example.com",
                                    subject="self-test", body=".\n..x\n"))
            SmtpSettings.parse("127.0.0.1", 2525, "starttls")
        except UserError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        self.save_draft()
        if self._on_lab_events in self.app.lab_listeners:
            self.app.lab_listeners.remove(self._on_lab_events)
        self.app.bridge.detach(self.session.outbox)
        self.session.shutdown()
