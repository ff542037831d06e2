"""The DNS view's history, as dig users keep one in their shell: every query with its
outcome; run one again, or compare the answers of two."""

from __future__ import annotations

import difflib
import time
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk

from core.lookup.dns_query import DnsReply, DnsRequest
from gui.tabs.lookup.common import PAD, make_tree

#: entries kept (oldest dropped first)
MAX_ENTRIES = 200


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    when: float
    request: DnsRequest
    reply: DnsReply | None = None
    error: str = ""

    @property
    def outcome(self) -> str:
        if self.reply is None:
            return f"failed: {self.error}"
        count = len(self.reply.answer)
        return f"{self.reply.rcode}, {count} answer{'s' * (count != 1)}"

    def answer_lines(self) -> list[str]:
        """The answer section as dig prints it (TTLs left out: they count down)."""
        if self.reply is None:
            return [f";; {self.error}"]
        lines = [f"{r.name}\t{r.rdclass}\t{r.rdtype}\t{r.value}" for r in self.reply.answer]
        return [f";; status: {self.reply.rcode}", *sorted(lines)]


class DnsHistory(ttk.Frame):
    """A page of the results notebook: one row per query, newest on top."""

    def __init__(self, master: tk.Misc, on_run_again: Callable[[DnsRequest], None]) -> None:
        super().__init__(master)
        self.on_run_again = on_run_again
        self.entries: dict[str, HistoryEntry] = {}
        bar = ttk.Frame(self)
        bar.pack(fill="x", **PAD)
        self.again_button = ttk.Button(bar, text="Run again", command=self.run_again)
        self.again_button.pack(side="left")
        self.compare_button = ttk.Button(bar, text="Compare two", command=self.compare)
        self.compare_button.pack(side="left", padx=6)
        ttk.Button(bar, text="Clear", command=self.clear).pack(side="left")
        ttk.Label(bar, text="Double-click runs a query again; select two (Ctrl+click) to "
                  "compare their answers.", foreground="#777").pack(side="left", padx=8)
        split = ttk.PanedWindow(self, orient="vertical")
        split.pack(fill="both", expand=True)
        frame, self.tree = make_tree(split, (
            ("time", "Time", 70), ("query", "Query", 240), ("server", "Server", 170),
            ("outcome", "Outcome", 300)), height=6)
        self.tree.bind("<Double-1>", lambda e: self.run_again())
        self.tree.bind("<Return>", lambda e: self.run_again())
        split.add(frame, weight=2)
        self.diff = tk.Text(split, height=6, wrap="none", font=("TkFixedFont", 10),
                            state="disabled", padx=6, pady=4)
        split.add(self.diff, weight=1)

    def add(self, request: DnsRequest, reply: DnsReply | None = None,
            error: str = "") -> str:
        entry = HistoryEntry(time.time(), request, reply, error)
        server = (f"{reply.server}#{reply.port} {reply.transport.upper()}" if reply else
                  f"{request.server or 'system'} {request.transport.upper()}")
        item = self.tree.insert("", 0, values=(
            time.strftime("%H:%M:%S", time.localtime(entry.when)),
            f"{request.name.strip()} {request.rdtype.upper()}", server, entry.outcome))
        self.entries[item] = entry
        for old in self.tree.get_children()[MAX_ENTRIES:]:
            self.tree.delete(old)
            self.entries.pop(old, None)
        return item

    def selected(self) -> list[HistoryEntry]:
        return [self.entries[i] for i in self.tree.selection() if i in self.entries]

    def run_again(self) -> None:
        chosen = self.selected()
        if chosen:
            self.on_run_again(chosen[0].request)

    def compare(self) -> str:
        """A diff of the answers of the two selected queries (older first)."""
        chosen = self.selected()
        if len(chosen) != 2:
            text = "Select two queries (Ctrl+click) to compare their answers."
        else:
            old, new = sorted(chosen, key=lambda e: e.when)
            label = f"{old.request.name.strip()} {old.request.rdtype.upper()}"
            diff = list(difflib.unified_diff(
                old.answer_lines(), new.answer_lines(), lineterm="",
                fromfile=f"{label} at {time.strftime('%H:%M:%S', time.localtime(old.when))}",
                tofile=f"{new.request.name.strip()} {new.request.rdtype.upper()} at "
                       f"{time.strftime('%H:%M:%S', time.localtime(new.when))}"))
            text = "\n".join(diff) if diff else "The two answers are the same."
        self.diff.configure(state="normal")
        self.diff.delete("1.0", "end")
        self.diff.insert("1.0", text)
        self.diff.configure(state="disabled")
        return text

    def clear(self) -> None:
        self.tree.delete(*self.tree.get_children())
        self.entries.clear()
