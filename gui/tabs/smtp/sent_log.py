"""The sent log as a table: when, where, to whom, what the server answered."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk

from core.sizes import human_size
from core.smtp.drafts import SentEntry
from gui.widgets.scrolling import column_table

COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("at", "Sent", 140, False), ("server", "Server", 150, False),
    ("to", "Recipients", 220, True), ("subject", "Subject", 220, True),
    ("size", "Size", 80, False), ("outcome", "Server answer", 260, True),
)


class SentLogView(ttk.Frame):
    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master)
        self.table = column_table(self, COLUMNS, selectmode="browse")

    def show(self, entries: list[SentEntry]) -> None:
        """Newest first, as :meth:`DraftStore.sent` returns them."""
        self.table.delete(*self.table.get_children())
        for i, entry in enumerate(entries):
            recipients = ", ".join(entry.recipients)
            if entry.refused:
                recipients += f"  (refused: {', '.join(entry.refused)})"
            self.table.insert("", "end", iid=f"s{i}", values=(
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.at)), entry.server,
                recipients, entry.subject, human_size(entry.size), entry.outcome))

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(i, "values")) for i in self.table.get_children()]
