"""The transfer queue panel: one row per item with a progress bar, speed and ETA.

Rows are upserted from :class:`~core.ftp.transfers.TransferItem` snapshots; the tab
coalesces a batch of updates to the newest per item before calling :meth:`show`, so a
fast transfer costs one row redraw per bridge tick, not one per block.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterable
from tkinter import ttk

from core.ftp.transfers import CANCELLED, DONE, FAILED, RUNNING, TransferItem
from core.sizes import human_rate, human_size

BAR_CELLS = 12


def bar(fraction: float) -> str:
    fraction = max(0.0, min(1.0, fraction))
    filled = round(fraction * BAR_CELLS)
    return "█" * filled + "░" * (BAR_CELLS - filled) + f" {fraction * 100:3.0f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def rate_text(rate: float) -> str:
    return human_rate(rate) if rate > 0 else ""


class TransferQueueView(ttk.Frame):
    COLUMNS = ("dir", "state", "progress", "size", "speed", "eta")

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master)
        self.items: dict[int, TransferItem] = {}
        foot = ttk.Frame(self)
        foot.pack(side="bottom", fill="x", pady=(4, 0))
        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(body, columns=self.COLUMNS, show="tree headings",
                                 selectmode="extended", height=4)
        for column, label, width, anchor in (
                ("#0", "File", 220, "w"), ("dir", "", 30, "center"),
                ("state", "State", 180, "w"), ("progress", "Progress", 170, "w"),
                ("size", "Size", 90, "e"), ("speed", "Speed", 90, "e"),
                ("eta", "ETA", 60, "e")):
            self.tree.heading(column, text=label)
            self.tree.column(column, width=width, anchor=anchor,  # type: ignore[arg-type]
                             stretch=column in ("#0",))
        self.tree.tag_configure(FAILED, foreground="#b00020")
        self.tree.tag_configure(DONE, foreground="#2e7d32")
        yscroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=yscroll.set)
        self.tree.pack(side="left", fill="both", expand=True)
        yscroll.pack(side="right", fill="y")

        self.current_var = tk.StringVar(self, value="No transfers yet.")
        self.progress = ttk.Progressbar(foot, mode="determinate", maximum=1000, length=220)
        self.progress.pack(side="right")
        ttk.Label(foot, textvariable=self.current_var, anchor="w").pack(
            side="left", fill="x", expand=True)

    def show(self, items: Iterable[TransferItem]) -> None:
        for item in items:
            self.items[item.id] = item
            iid = str(item.id)
            size = human_size(item.size) if item.size is not None and not item.folder else ""
            state = item.state + (" (resumable)" if item.resumable and item.state != DONE
                                  else "")
            values = ("↓" if item.direction == "download" else "↑", state,
                      bar(item.fraction) if not item.folder else "",
                      size, rate_text(item.rate) if item.state == RUNNING else "",
                      duration(item.eta))
            text = item.name + ("/" if item.folder else "")
            if self.tree.exists(iid):
                self.tree.item(iid, text=text, values=values, tags=(item.state,))
            else:
                self.tree.insert("", "end", iid=iid, text=text, values=values,
                                 tags=(item.state,))
                self.tree.see(iid)  # a new transfer is in view, as in FileZilla
            if item.state == RUNNING and not item.folder:
                self.progress.configure(value=item.fraction * 1000)
                eta = duration(item.eta)
                self.current_var.set(
                    f"{'Downloading' if item.direction == 'download' else 'Uploading'} "
                    f"{item.name}: {human_size(item.done)} of {human_size(item.size)}"
                    f"{', ' + rate_text(item.rate) if item.rate else ''}"
                    f"{', ETA ' + eta if eta else ''}")
            elif item.state == FAILED:
                self.current_var.set(f"{item.name}: {item.error}")
            elif item.state == DONE and item.folder and item.error:
                # "12 files queued", or where a limit stopped the walk and how to raise it
                self.current_var.set(f"{item.name}/: {item.error}.")
            elif item.state == DONE and not item.folder:
                self.progress.configure(value=1000)
                self.current_var.set(f"{item.name}: done ({human_size(item.size)}).")
            elif item.state == CANCELLED and not item.folder:
                # not "Downloading … ETA 0:02" for a transfer that no longer runs
                self.progress.configure(value=0)
                self.current_var.set(f"{item.name}: {state}.")

    def selected_ids(self) -> list[int]:
        return [int(i) for i in self.tree.selection()]

    def forget(self, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            self.items.pop(item_id, None)
            if self.tree.exists(str(item_id)):
                self.tree.delete(str(item_id))
