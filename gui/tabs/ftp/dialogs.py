"""Small windows of the FTP tab: a text viewer and the non-modal "file exists" question.

Neither blocks the event loop: transfers and the protocol log keep moving while they are
open, and several overwrite questions can wait side by side.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

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
