"""What every Lookup sub-view shares: a session, a message line, field highlighting,
result trees, and "send this host to another tab" actions."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from core.events import Event
from core.lookup.session import LookupSession, RecentQueries
from gui.widgets.scrolling import grid_scrolled

if TYPE_CHECKING:
    from gui.tabs.lookup.tab import LookupTab


#: (tab key, menu label, default port) for cross-tab actions
SEND_TARGETS: tuple[tuple[str, str, int], ...] = (
    ("socket", "Connect in Socket console", 80),
    ("telnet", "Open in Telnet", 23),
    ("ftp", "Browse with FTP", 21),
)
ERROR_FG = "#c0392b"
PAD = {"padx": 4, "pady": 3}


class LookupView(ttk.Frame):
    """A sub-view; it asks the tab's one :class:`LookupSession` by verb and shows what
    comes back (``on_done``), or the error with its field marked (``on_error``)."""

    def __init__(self, master: tk.Misc, tab: LookupTab) -> None:
        super().__init__(master, padding=6)
        self.tab = tab
        self.app = tab.app
        self.session: LookupSession = tab.session
        self.message_var = tk.StringVar(self, value="")
        self.fields_by_name: dict[str, tk.Widget] = {}
        self._marked: tk.Widget | None = None
        if self.sends_results:
            # packed first, at the bottom: a small window squeezes the results, not this
            self.send_buttons(self, self.selected).pack(side="bottom", anchor="w", **PAD)

    #: whether the view offers "Connect in Socket console" etc. for its selection
    sends_results = True

    def selected(self) -> tuple[str, int | None]:
        """The host (and port) of the selected result, for the send-to buttons."""
        return "", None

    # -- plumbing ---------------------------------------------------------------------
    def on_other(self, event: Event) -> None:
        """Progress, trace steps … (every view sees the tab session's events)."""

    def message_label(self, master: tk.Misc) -> ttk.Label:
        self._message = ttk.Label(master, textvariable=self.message_var, anchor="w",
                                  wraplength=900, justify="left")
        return self._message

    def show_error(self, message: str, field_name: str = "") -> None:
        self.message_var.set("⚠ " + message)
        if hasattr(self, "_message"):
            self._message.configure(foreground=ERROR_FG)
        self.tab.show_error(message)
        widget = self.fields_by_name.get(field_name)
        if widget is not None:
            self._mark(widget)

    def show_info(self, message: str) -> None:
        self.message_var.set(message)
        if hasattr(self, "_message"):
            self._message.configure(foreground="")
        self.tab.show_info(message)

    def clear_error(self) -> None:
        self.message_var.set("")
        if self._marked is not None:
            try:
                self._marked.state(["!invalid"])  # type: ignore[attr-defined]
            except tk.TclError:
                pass
            self._marked = None

    def _mark(self, widget: tk.Widget) -> None:
        try:
            widget.state(["invalid"])  # type: ignore[attr-defined]
            widget.focus_set()
        except (tk.TclError, AttributeError):
            return
        self._marked = widget

    def save_fields(self, fields: dict[str, Any]) -> None:
        """Copy this view's widget values into the tab's persisted fields."""

    # -- helpers ----------------------------------------------------------------------
    def recent(self, key: str) -> RecentQueries:
        return RecentQueries(self.tab.fields, key)

    def remember(self, combo: ttk.Combobox, key: str) -> None:
        combo.configure(values=self.recent(key).add(combo.get()))

    def labelled(self, master: tk.Misc, text: str, widget: tk.Widget, column: int,
                 row: int = 0, field: str = "") -> tk.Widget:
        ttk.Label(master, text=text).grid(row=row, column=column, sticky="w", **PAD)
        widget.grid(row=row, column=column + 1, sticky="ew", **PAD)
        if field:
            self.fields_by_name[field] = widget
        return widget

    def send_buttons(self, master: tk.Misc, target: Callable[[], tuple[str, int | None]]
                     ) -> ttk.Frame:
        """Buttons that open the selected host in another tab."""
        box = ttk.Frame(master)
        for key, label, default_port in SEND_TARGETS:
            ttk.Button(box, text=label,
                       command=lambda k=key, p=default_port: self.send_to(k, target, p)
                       ).pack(side="left", padx=(0, 4))
        return box

    def send_to(self, key: str, target: Callable[[], tuple[str, int | None]],
                default_port: int) -> None:
        host, port = target()
        if not host:
            self.show_error("Select a result with a host name or address first.")
            return
        other = self.app.tab(key)
        if other is None:
            self.show_error(f"The {key} tab is not available.")
            return
        other.open_target(host.rstrip(".") if not host.endswith("in-addr.arpa.") else host,
                          port if port else default_port)
        index = self.app.tab_index(other)
        self.app.select_tab(index)


def make_tree(master: tk.Misc, columns: tuple[tuple[str, str, int], ...], height: int = 12,
              tree_column: tuple[str, int] | None = None) -> tuple[ttk.Frame, ttk.Treeview]:
    """A Treeview with scrollbars; ``columns`` are (id, heading, width)."""
    frame = ttk.Frame(master)
    show = "tree headings" if tree_column else "headings"
    tree = ttk.Treeview(frame, columns=[c[0] for c in columns], show=show, height=height)
    if tree_column:
        tree.heading("#0", text=tree_column[0], anchor="w")
        tree.column("#0", width=tree_column[1], stretch=False)
    for ident, heading, width in columns:
        tree.heading(ident, text=heading, anchor="w")
        tree.column(ident, width=width, stretch=ident == columns[-1][0], anchor="w")
    grid_scrolled(frame, tree)
    return frame, tree


def host_port_from_record(rdtype: str, name: str, value: str) -> tuple[str, int | None]:
    """The host (and port) a DNS record points at, for the send-to buttons."""
    parts = value.split()
    if rdtype in ("A", "AAAA"):
        return value, None
    if rdtype == "MX" and len(parts) == 2:
        return parts[1], 25
    if rdtype == "SRV" and len(parts) == 4:
        return parts[3], int(parts[2])
    if rdtype in ("CNAME", "NS", "PTR") and parts:
        return parts[0], None
    return name, None
