"""The mail composer: header fields, plain/HTML/extra-header texts, attachment list.

It holds no network code: :meth:`ComposerForm.get_draft` returns a plain
:class:`~core.smtp.message.MailDraft`, and every edit calls ``on_change`` so the tab can
autosave the draft.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import filedialog, ttk

from core.errors import UserError
from core.sizes import human_size
from core.smtp.message import Attachment, MailDraft, attachment_from_path

#: (label, MailDraft attribute) of the one-line fields, in order
FIELDS: tuple[tuple[str, str], ...] = (
    ("From", "sender"), ("To", "to"), ("Cc", "cc"), ("Bcc", "bcc"),
    ("Reply-To", "reply_to"), ("Subject", "subject"),
)
TEXTS: tuple[tuple[str, str], ...] = (
    ("Plain text", "body"), ("HTML alternative", "html"), ("Extra headers", "extra_headers"),
)


class ComposerForm(ttk.Frame):
    def __init__(self, master: tk.Misc, on_change: Callable[[], None] | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        super().__init__(master)
        self.on_change = on_change or (lambda: None)
        self.on_error = on_error or (lambda message: None)
        self.size_limit: int | None = None
        self._loading = False
        self.vars: dict[str, tk.StringVar] = {}
        self.entries: dict[str, ttk.Entry] = {}
        self.texts: dict[str, tk.Text] = {}
        self.attachments: list[Attachment] = []
        self.columnconfigure(1, weight=1)

        for row, (label, name) in enumerate(FIELDS):
            ttk.Label(self, text=label).grid(row=row, column=0, sticky="w", padx=(0, 6), pady=1)
            var = tk.StringVar(self)
            entry = ttk.Entry(self, textvariable=var)
            entry.grid(row=row, column=1, sticky="ew", pady=1)
            var.trace_add("write", lambda *_: self._changed())
            self.vars[name], self.entries[name] = var, entry

        self.text_tabs = ttk.Notebook(self)
        self.text_tabs.grid(row=len(FIELDS), column=0, columnspan=2, sticky="nsew", pady=(6, 4))
        self.rowconfigure(len(FIELDS), weight=1)
        for label, name in TEXTS:
            frame = ttk.Frame(self.text_tabs)
            text = tk.Text(frame, height=4, wrap="word", undo=True, padx=6, pady=4,
                           font=("TkFixedFont", 10) if name == "extra_headers" else None,
                           borderwidth=0, highlightthickness=0)
            scroll = ttk.Scrollbar(frame, command=text.yview)
            text.configure(yscrollcommand=scroll.set)
            scroll.pack(side="right", fill="y")
            text.pack(side="left", fill="both", expand=True)
            text.bind("<<Modified>>", self._text_modified)
            self.text_tabs.add(frame, text=label)
            self.texts[name] = text

        box = ttk.Frame(self)
        box.grid(row=len(FIELDS) + 1, column=0, columnspan=2, sticky="ew")
        box.columnconfigure(0, weight=1)
        self.attach_list = ttk.Treeview(box, columns=("type", "size"), height=2,
                                        selectmode="extended")
        self.attach_list.heading("#0", text="Attachment")
        self.attach_list.heading("type", text="Type")
        self.attach_list.heading("size", text="Size")
        self.attach_list.column("#0", width=170, stretch=True)
        self.attach_list.column("type", width=120, stretch=False)
        self.attach_list.column("size", width=70, stretch=False, anchor="e")
        self.attach_list.grid(row=0, column=0, rowspan=3, sticky="ew")
        self.attach_list.bind("<Delete>", lambda e: self.remove_selected())
        ttk.Button(box, text="Add…", command=self.ask_attachments).grid(
            row=0, column=1, sticky="ew", padx=(6, 0))
        ttk.Button(box, text="Remove", command=self.remove_selected).grid(
            row=1, column=1, sticky="ew", padx=(6, 0), pady=2)
        self.total_var = tk.StringVar(self, value="No attachments")
        self.total_label = ttk.Label(box, textvariable=self.total_var)
        self.total_label.grid(row=3, column=0, columnspan=2, sticky="w")

    # -- draft in and out ----------------------------------------------------------------
    def get_draft(self) -> MailDraft:
        draft = MailDraft(**{name: var.get() for name, var in self.vars.items()})
        for name, text in self.texts.items():
            setattr(draft, name, text.get("1.0", "end-1c"))
        draft.attachments = [a.path for a in self.attachments]
        return draft

    def set_draft(self, draft: MailDraft) -> None:
        """Fill every field; attachments that vanished are listed as an error, not lost."""
        self._loading = True
        try:
            for name, var in self.vars.items():
                var.set(getattr(draft, name))
            for name, text in self.texts.items():
                text.delete("1.0", "end")
                text.insert("1.0", getattr(draft, name))
                text.edit_modified(False)
                text.edit_reset()
            self.attachments.clear()
            missing = []
            for path in draft.attachments:
                try:
                    self.attachments.append(attachment_from_path(path))
                except UserError:
                    missing.append(path)
            self._refresh_attachments()
        finally:
            self._loading = False
        if missing:
            self.on_error(f"Attachments no longer found, so left out: {', '.join(missing)}.")

    def clear(self) -> None:
        self.set_draft(MailDraft())
        self._changed()

    # -- attachments ---------------------------------------------------------------------
    def ask_attachments(self) -> None:
        paths = filedialog.askopenfilenames(parent=self, title="Attach files")
        self.add_attachments(list(paths))

    def add_attachments(self, paths: list[str]) -> None:
        for path in paths:
            try:
                info = attachment_from_path(path)
            except UserError as exc:
                self.on_error(str(exc))
                continue
            if all(a.path != info.path for a in self.attachments):
                self.attachments.append(info)
        self._refresh_attachments()
        self._changed()

    def remove_selected(self) -> None:
        chosen = set(self.attach_list.selection())
        self.attachments = [a for i, a in enumerate(self.attachments)
                            if f"a{i}" not in chosen]
        self._refresh_attachments()
        self._changed()

    def set_size_limit(self, limit: int | None) -> None:
        """The server's SIZE, so the total can be checked while composing."""
        self.size_limit = limit
        self._refresh_attachments()

    def _refresh_attachments(self) -> None:
        self.attach_list.delete(*self.attach_list.get_children())
        for i, a in enumerate(self.attachments):
            self.attach_list.insert("", "end", iid=f"a{i}", text=a.name,
                                    values=(a.content_type, human_size(a.size)))
        total = sum(a.size for a in self.attachments)
        if not self.attachments:
            text = "No attachments"
        else:
            # base64 grows the bytes by a third: that is what SIZE is compared with
            count = len(self.attachments)
            text = (f"{count} file{'s' * (count != 1)}, {human_size(total)} "
                    f"({human_size(total * 4 / 3)} encoded)")
        over = bool(self.size_limit and total * 4 / 3 > self.size_limit)
        if self.size_limit:
            text += f"; server limit {human_size(self.size_limit)}"
            if over:
                text += ": too big, remove some"
        self.total_var.set(text)
        self.total_label.configure(foreground="#c0392b" if over else "")

    # -- helpers -------------------------------------------------------------------------
    def focus_field(self, field_name: str) -> bool:
        """Focus the widget a Failed event names; True if the name is one of ours."""
        key = field_name.lower().replace("-", "_").replace(" ", "_")
        key = {"from": "sender", "extra_headers": "extra_headers", "body": "body"}.get(key, key)
        if key in self.entries:
            self.entries[key].focus_set()
            self.entries[key].select_range(0, "end")
            return True
        if key in self.texts:
            self.text_tabs.select([n for _, n in TEXTS].index(key))
            self.texts[key].focus_set()
            return True
        if key == "attachments":
            self.attach_list.focus_set()
            return True
        return False

    def _text_modified(self, event: tk.Event) -> None:
        widget = event.widget
        if widget.edit_modified():
            widget.edit_modified(False)
            self._changed()

    def _changed(self) -> None:
        if not self._loading:
            self.on_change()
