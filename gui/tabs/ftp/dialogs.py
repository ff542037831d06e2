"""Small windows of the FTP tab: a text viewer, the non-modal "file exists" question and
the connection options (timeouts and limits).

None blocks the event loop: transfers and the protocol log keep moving while they are
open, and several overwrite questions can wait side by side.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from core.errors import UserError
from core.ftp.options import LIMITS, check_limit
from core.sizes import human_size
from gui.widgets.logview import LogView


class TextViewer(tk.Toplevel):
    """A remote text file, read-only; long lines are hard-split by LogView."""

    def __init__(self, master: tk.Misc, title: str, text: str, truncated: bool) -> None:
        super().__init__(master)
        self.title(title)
        self.geometry("760x520")
        view = LogView(self, max_lines=50_000, height=24)
        view.pack(fill="both", expand=True, padx=8, pady=(8, 4))
        view.append(text.rstrip("\n"))
        view.set_follow(False)
        view.text.see("1.0")
        self.view = view
        foot = ttk.Frame(self, padding=8)
        foot.pack(fill="x")
        if truncated:
            ttk.Label(foot, text="Only the start of the file is shown (download it to see "
                      "all).", foreground="#a05a00").pack(side="left")
        ttk.Button(foot, text="Close", command=self.destroy).pack(side="right")
        self.bind("<Escape>", lambda e: self.destroy())


class OverwriteDialog(tk.Toplevel):
    """Target exists: Overwrite, Resume or Skip (optionally for every later item too)."""

    def __init__(self, master: tk.Misc, name: str, existing: int | None, incoming: int | None,
                 on_answer: Callable[[str, bool], None]) -> None:
        super().__init__(master)
        self.title("File exists")
        self.resizable(False, False)
        self.on_answer = on_answer
        box = ttk.Frame(self, padding=12)
        box.pack(fill="both", expand=True)
        ttk.Label(box, text=f"{name} already exists.", font=("TkHeadingFont", 10, "bold")
                  ).pack(anchor="w")
        ttk.Label(box, text=f"Existing: {human_size(existing) or 'unknown size'}    "
                  f"New: {human_size(incoming) or 'unknown size'}").pack(anchor="w", pady=4)
        self.all_var = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(box, text="Do this for the rest of the queue",
                        variable=self.all_var).pack(anchor="w", pady=(4, 8))
        row = ttk.Frame(box)
        row.pack(fill="x")
        for label, choice in (("Overwrite", "overwrite"), ("Resume", "resume"),
                              ("Skip", "skip")):
            ttk.Button(row, text=label, command=lambda c=choice: self.answer(c)).pack(
                side="left", padx=(0, 6))
        self.protocol("WM_DELETE_WINDOW", lambda: self.answer("skip"))

    def answer(self, choice: str) -> None:
        for_all = self.all_var.get()
        # drop the Tk variable here, on the Tk thread: left to the cycle collector it may
        # be freed on a worker thread, where Tcl refuses the call
        self.all_var = None  # type: ignore[assignment]
        self.destroy()
        self.on_answer(choice, for_all)


#: the Options dialog's rows: field name (as FtpOptions.validated names it), the tab's
#: variable attribute, and what the number does
OPTION_ROWS = (
    ("Timeout", "timeout_var", "a reply or a stalled transfer fails after this"),
    ("Keepalive", "keepalive_var", "NOOP while idle, so the server keeps the login"),
    ("Listing limit", "listing_limit_var", "a bigger listing is cut (said in the log)"),
    ("Folder entry limit", "folder_limit_var", "a folder download stops after this many"),
)


class FtpOptionsDialog(tk.Toplevel):
    """Timeout, Keepalive and the two limits. The values live in the tab's persisted
    variables, so closing the window loses nothing; they apply at the next Connect."""

    def __init__(self, tab: tk.Misc, focus: str = "") -> None:
        super().__init__(tab)
        self.title("FTP options")
        self.resizable(False, False)
        self.transient(tab.winfo_toplevel())
        box = ttk.Frame(self, padding=12)
        box.pack(fill="both", expand=True)
        self.entries: dict[str, ttk.Entry] = {}
        for row, (name, attr, help_text) in enumerate(OPTION_ROWS):
            unit = LIMITS[name][0]
            ttk.Label(box, text=f"{name} ({unit})").grid(row=row, column=0, sticky="w",
                                                        padx=(0, 10), pady=2)
            entry = ttk.Entry(box, textvariable=getattr(tab, attr), width=10)
            entry.grid(row=row, column=1, sticky="w")
            entry.bind("<Return>", lambda e: self.apply())
            ttk.Label(box, text=help_text, foreground="#7a7a7a").grid(
                row=row, column=2, sticky="w", padx=(10, 0))
            self.entries[name] = entry
        self.tab = tab
        self.message = tk.StringVar(self)
        ttk.Label(box, textvariable=self.message, foreground="#c0392b", wraplength=460
                  ).grid(row=len(OPTION_ROWS), column=0, columnspan=3, sticky="w", pady=(8, 0))
        ttk.Label(box, text="They apply from the next Connect.", foreground="#7a7a7a").grid(
            row=len(OPTION_ROWS) + 1, column=0, columnspan=2, sticky="w", pady=(8, 0))
        ttk.Button(box, text="OK", command=self.apply).grid(
            row=len(OPTION_ROWS) + 1, column=2, sticky="e", pady=(8, 0))
        self.bind("<Escape>", lambda e: self.destroy())
        self.show_error_for(focus)

    def show_error_for(self, field_name: str, message: str = "") -> None:
        """Focus ``field_name``'s entry and say what is wrong with it."""
        self.message.set(f"⚠ {message}" if message else "")
        entry = self.entries.get(field_name)
        if entry is not None:
            entry.focus_set()
            entry.select_range(0, "end")

    def apply(self) -> bool:
        """Close when every value is in range; otherwise name the first bad one."""
        for name, attr, _help in OPTION_ROWS:
            try:
                check_limit(getattr(self.tab, attr).get(), name)
            except UserError as exc:
                self.show_error_for(name, str(exc))
                return False
        self.message = None  # type: ignore[assignment]  # freed here, on the Tk thread
        self.destroy()
        return True
