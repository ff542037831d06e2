"""The Inbox of the lab mail sink: message list, then body, HTML, headers, attachments
(with Save) and raw source of the selected message.

It reads a :class:`~core.servers.smtp.inbox.MailStore`; the tab calls :meth:`refresh`
when the sink announces a message, so nothing polls.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog, ttk

from core.servers.smtp.inbox import MailRecord, MailStore, MailView
from core.sizes import human_size
from core.worker import Worker
from gui.widgets.logview import LogView
from gui.widgets.scrolling import column_table

SOURCE_LIMIT = 500_000  # characters of raw source shown; the rest is summarised


def _readonly_text(master: tk.Misc, mono: bool = False) -> tuple[ttk.Frame, tk.Text]:
    frame = ttk.Frame(master)
    text = tk.Text(frame, wrap="word", height=10, padx=8, pady=6, borderwidth=0,
                   highlightthickness=0, font=("TkFixedFont", 10) if mono else None)
    scroll = ttk.Scrollbar(frame, command=text.yview)
    text.configure(yscrollcommand=scroll.set, state="disabled")
    scroll.pack(side="right", fill="y")
    text.pack(side="left", fill="both", expand=True)
    return frame, text


def _set_text(text: tk.Text, value: str) -> None:
    text.configure(state="normal")
    text.delete("1.0", "end")
    text.insert("1.0", value)
    text.configure(state="disabled")


class InboxView(ttk.Frame):
    def __init__(self, master: tk.Misc, worker: Worker,
                 on_error: Callable[[str], None] | None = None,
                 on_info: Callable[[str], None] | None = None) -> None:
        super().__init__(master)
        #: parses the selected message; its outbox must be attached to the bridge
        self.worker = worker
        self.on_error = on_error or (lambda message: None)
        self.on_info = on_info or (lambda message: None)
        self.store: MailStore | None = None
        self.current: MailRecord | None = None
        self.shown: MailView | None = None

        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 4))
        self.sink_var = tk.StringVar(self, value="Lab sink: not running")
        # buttons first: a long status line must not push them out of a narrow window
        self.clear_button = ttk.Button(bar, text="Delete all", command=self.clear)
        self.clear_button.pack(side="right")
        self.delete_button = ttk.Button(bar, text="Delete", command=self.delete_selected)
        self.delete_button.pack(side="right", padx=(6, 0))
        self.sink_button = ttk.Button(bar, text="Start sink")
        self.sink_button.pack(side="right", padx=6)
        ttk.Label(bar, textvariable=self.sink_var).pack(side="left", fill="x", expand=True)

        panes = ttk.PanedWindow(self, orient="vertical")
        panes.pack(fill="both", expand=True)
        list_frame = ttk.Frame(panes)
        self.messages = column_table(list_frame, (
            ("time", "Received", 80, False), ("from", "From", 200, True),
            ("to", "To", 200, True), ("subject", "Subject", 280, True),
            ("size", "Size", 80, False), ("via", "Via", 120, False)),
            height=7, selectmode="browse")
        self.messages.bind("<<TreeviewSelect>>", lambda e: self._selected())
        self.messages.bind("<Delete>", lambda e: self.delete_selected())
        panes.add(list_frame, weight=1)

        self.views = ttk.Notebook(panes)
        body_frame, self.body_text = _readonly_text(self.views)
        html_frame, self.html_text = _readonly_text(self.views, mono=True)
        head_frame = ttk.Frame(self.views)
        self.header_list = ttk.Treeview(head_frame, columns=("value",), height=8)
        self.header_list.heading("#0", text="Header")
        self.header_list.heading("value", text="Value")
        self.header_list.column("#0", width=160, stretch=False)
        self.header_list.column("value", width=600, stretch=True)
        self.header_list.pack(fill="both", expand=True)
        att_frame = ttk.Frame(self.views)
        self.attachment_list = ttk.Treeview(att_frame, columns=("type", "size"), height=6,
                                            selectmode="browse")
        self.attachment_list.heading("#0", text="File")
        self.attachment_list.heading("type", text="Type")
        self.attachment_list.heading("size", text="Size")
        self.attachment_list.column("size", anchor="e", width=90, stretch=False)
        self.attachment_list.pack(fill="both", expand=True)
        ttk.Button(att_frame, text="Save selected…", command=self.ask_save).pack(
            anchor="e", pady=(4, 0))
        self.source_view = LogView(self.views, max_lines=60_000, wrap_at=2000, height=10)
        for frame, title in ((body_frame, "Body"), (html_frame, "HTML"),
                             (head_frame, "Headers"), (att_frame, "Attachments"),
                             (self.source_view, "Raw source")):
            self.views.add(frame, text=title)
        panes.add(self.views, weight=2)

    # -- store ---------------------------------------------------------------------------
    def set_store(self, store: MailStore | None) -> None:
        self.store = store
        self.refresh()

    def set_sink_status(self, text: str, running: bool) -> None:
        self.sink_var.set(text)
        self.sink_button.configure(text="Stop sink" if running else "Start sink")

    def refresh(self) -> None:
        """Show every stored message, newest first, keeping the selection."""
        records = self.store.all() if self.store is not None else []
        known = set(self.messages.get_children())
        wanted = {f"m{r.id}" for r in records}
        for iid in known - wanted:
            self.messages.delete(iid)
        for record in records:
            iid = f"m{record.id}"
            if iid in known:
                continue
            via = ("TLS" if record.tls else "plain") + (
                f", {record.auth_user}" if record.auth_user else "")
            self.messages.insert("", 0, iid=iid, values=(
                time.strftime("%H:%M:%S", time.localtime(record.received_at)),
                record.header("From") or record.mail_from,
                ", ".join(record.rcpt_tos), record.header("Subject"),
                human_size(record.size), via))
        if self.current is not None and f"m{self.current.id}" not in wanted:
            self.current = None
            self._show(None)

    def message_ids(self) -> list[int]:
        return [int(iid[1:]) for iid in self.messages.get_children()]

    def select(self, record_id: int) -> None:
        iid = f"m{record_id}"
        self.messages.selection_set(iid)
        self.messages.see(iid)
        self._selected()

    def delete_selected(self) -> None:
        chosen = self.messages.selection()
        if self.store is None or not chosen:
            self.on_error("Select a message in the Inbox first, then Delete.")
            return
        self.store.remove(int(chosen[0][1:]))
        self.refresh()

    def clear(self) -> None:
        if self.store is not None:
            self.store.clear()
        self.refresh()

    # -- one message ---------------------------------------------------------------------
    def _selected(self) -> None:
        chosen = self.messages.selection()
        if not chosen or self.store is None:
            return
        record = self.store.get(int(chosen[0][1:]))
        if record is not None and record is not self.current:
            self.current = record
            self._show(record)

    def _show(self, record: MailRecord | None) -> None:
        for tree in (self.header_list, self.attachment_list):
            tree.delete(*tree.get_children())
        self.source_view.clear()
        self.shown = None
        _set_text(self.html_text, "")
        if record is None:
            _set_text(self.body_text, "")
            return
        _set_text(self.body_text, f"Loading message {record.id} "
                                  f"({human_size(record.size)})…")
        # parsing a 30 MB message takes seconds: never on the Tk thread
        # view() never raises (hostile mail comes back as its source and a note); a
        # failure all the same (out of memory) reaches on_error, not a silent thread
        self.worker.submit(record.view, SOURCE_LIMIT, on_done=self._parsed,
                           on_error=self._parse_failed, name="inbox-parse")

    def _parsed(self, view: MailView) -> None:
        """A parsed message, on the Tk thread: shown if it is still the selected one."""
        if self.winfo_exists() and view.record is self.current:
            self._render(view)

    def _parse_failed(self, message: str) -> None:
        if self.winfo_exists():
            _set_text(self.body_text, f"Could not read this message: {message}")
        self.on_error(message)

    def _render(self, view: MailView) -> None:
        record = view.record
        self.shown = view
        summary = (f"From: {record.header('From')}\nTo: {record.header('To')}\n"
                   f"Subject: {record.header('Subject')}\n"
                   f"Envelope: {record.mail_from or '<>'} → {', '.join(record.rcpt_tos)}\n"
                   f"Received from {record.peer}, {'TLS' if record.tls else 'cleartext'}"
                   f"{', AUTH ' + record.auth_user if record.auth_user else ''}\n\n")
        _set_text(self.body_text, summary + (view.plain or "(no plain-text part)"))
        _set_text(self.html_text, view.html or "(no HTML part)")
        for i, (name, value) in enumerate(view.headers):
            self.header_list.insert("", "end", iid=f"h{i}", text=name, values=(value,))
        for part in view.attachments:
            self.attachment_list.insert("", "end", iid=f"p{part.index}", text=part.filename,
                                        values=(part.content_type, human_size(part.size)))
        self.source_view.append(view.source.replace("\r\n", "\n").rstrip("\n"))

    def ask_save(self) -> None:
        chosen = self.attachment_list.selection()
        if self.shown is None or not chosen:
            self.on_error("Select an attachment first, then Save.")
            return
        name = self.attachment_list.item(chosen[0], "text")
        path = filedialog.asksaveasfilename(parent=self, initialfile=name,
                                            title="Save attachment")
        if path:
            self.save_attachment(int(chosen[0][1:]), path)

    def save_attachment(self, index: int, path: str | Path) -> bool:
        if self.shown is None:
            self.on_error("The message is still loading; save again in a moment.")
            return False
        try:
            Path(path).write_bytes(self.shown.payloads[index])
        except (OSError, IndexError) as exc:
            self.on_error(f"Could not save the attachment to {path}: {exc}. "
                          "Choose a writable folder.")
            return False
        self.on_info(f"Attachment saved to {path}")
        return True
