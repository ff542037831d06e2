"""The Socket tab's saved messages window (Packet Sender's packet list): save what is in
the form under a name, send any saved one with a click, import and export them."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk
from typing import TYPE_CHECKING

from core.errors import UserError
from core.sockets.messages import MessageStore, SavedMessage

if TYPE_CHECKING:
    from gui.tabs.socket.tab import SocketTab


class SavedMessagesWindow(tk.Toplevel):
    def __init__(self, tab: SocketTab, store: MessageStore | None = None) -> None:
        super().__init__(tab)
        self.tab = tab
        self.store = store or MessageStore()
        self.title("Saved messages — Socket")
        self.geometry("720x360")
        top = ttk.Frame(self, padding=(8, 6))
        top.pack(fill="x")
        ttk.Label(top, text="Name").pack(side="left")
        self.name_var = tk.StringVar(self)
        self.name_entry = ttk.Entry(top, textvariable=self.name_var, width=24)
        self.name_entry.pack(side="left", padx=(4, 6))
        self.name_entry.bind("<Return>", lambda e: self.save_current())
        self.save_button = ttk.Button(top, text="Save the form", command=self.save_current)
        self.save_button.pack(side="left")
        ttk.Button(top, text="Close", command=self.destroy).pack(side="right")
        ttk.Button(top, text="Export…", command=self.export).pack(side="right", padx=4)
        ttk.Button(top, text="Import…", command=self.import_).pack(side="right")
        body = ttk.Frame(self, padding=(8, 0))
        body.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(body, columns=("target", "format", "data"),
                                 show="tree headings", selectmode="browse")
        for column, text, width in (("#0", "Name", 150), ("target", "Mode and target", 200),
                                    ("format", "Format", 90), ("data", "Data", 240)):
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, width=width, stretch=column == "data")
        scroll = ttk.Scrollbar(body, command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")
        self.tree.bind("<Double-1>", lambda e: self.send_selected())
        self.tree.bind("<Return>", lambda e: self.send_selected())
        foot = ttk.Frame(self, padding=(8, 6))
        foot.pack(fill="x")
        self.send_button = ttk.Button(foot, text="Send", style="Accent.TButton",
                                      command=self.send_selected)
        self.send_button.pack(side="left")
        ttk.Button(foot, text="Delete", command=self.delete_selected).pack(side="left",
                                                                           padx=6)
        self.note_var = tk.StringVar(self, value="Double-click a message to send it.")
        ttk.Label(foot, textvariable=self.note_var).pack(side="left", padx=8)
        self.bind("<Escape>", lambda e: self.destroy())
        self.messages: dict[str, SavedMessage] = {}
        self.refresh()

    def refresh(self) -> None:
        self.tree.delete(*self.tree.get_children())
        try:
            messages = self.store.load()
        except UserError as exc:
            self.note_var.set(str(exc))
            messages = []
        self.messages = {m.name: m for m in messages}
        for message in messages:
            shown = message.data if len(message.data) <= 60 else message.data[:59] + "…"
            ending = "" if message.format == "hex" else f" + {message.line_ending}"
            self.tree.insert("", "end", iid=message.name, text=message.name, values=(
                f"{message.mode} {message.target}", message.format + ending, shown))

    def save_current(self) -> None:
        try:
            self.store.save(self.tab.form_message(self.name_var.get().strip()))
        except (UserError, OSError) as exc:
            self.note_var.set(str(exc))
            return
        self.note_var.set(f"Saved {self.name_var.get().strip()}.")
        self.refresh()

    def selected(self) -> SavedMessage | None:
        chosen = self.tree.selection()
        return self.messages.get(chosen[0]) if chosen else None

    def send_selected(self) -> None:
        message = self.selected()
        if message is None:
            self.note_var.set("Select a message to send.")
            return
        self.tab.send_saved(message)
        self.note_var.set(f"Sending {message.name} to {message.target}.")

    def delete_selected(self) -> None:
        message = self.selected()
        if message is not None:
            self.store.delete(message.name)
            self.refresh()

    def import_(self, path: str | None = None) -> None:
        path = path or filedialog.askopenfilename(
            parent=self, title="Import saved messages",
            filetypes=(("Saved messages", "*.json"), ("All files", "*")))
        if not path:
            return
        try:
            count = self.store.import_file(Path(path))
        except (UserError, OSError) as exc:
            self.note_var.set(str(exc))
            return
        self.note_var.set(f"Imported {count} message{'s' * (count != 1)} from {path}.")
        self.refresh()

    def export(self, path: str | None = None) -> None:
        path = path or filedialog.asksaveasfilename(
            parent=self, title="Export saved messages", defaultextension=".json",
            initialfile="wirebench-messages.json")
        if not path:
            return
        try:
            count = self.store.export_file(Path(path))
        except (UserError, OSError) as exc:
            self.note_var.set(f"Could not export to {path}: {exc}")
            return
        self.note_var.set(f"Exported {count} message{'s' * (count != 1)} to {path}.")
