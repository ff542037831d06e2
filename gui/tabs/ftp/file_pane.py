"""One side of a two-pane file browser: path bar, sortable Treeview, buttons, context menu.

The pane knows nothing about FTP or the disk: the tab feeds it :class:`PaneRow` values
and receives callbacks (open, up, refresh, go to path, delete). It shows at most
``MAX_ROWS`` rows so an enormous listing cannot stall Tk.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from tkinter import ttk

from core.sizes import human_size

MAX_ROWS = 5_000  # ~0.2 s of Treeview inserts; more would freeze the window
UP_KEY = ".."

Action = Callable[[], None]


@dataclass(frozen=True, slots=True)
class PaneRow:
    key: str  # the real name (what commands use)
    text: str  # what the user sees
    kind: str  # file, dir, link, other, raw
    size: int | None = None
    modified: dt.datetime | None = None
    permissions: str = ""
    target: str = ""

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"


_KIND_ORDER = {"up": 0, "dir": 1, "link": 2, "file": 3, "other": 4, "raw": 5}


class FilePane(ttk.Frame):
    def __init__(self, master: tk.Misc, title: str, *,
                 on_open: Callable[[PaneRow], None], on_up: Action, on_refresh: Action,
                 on_path: Callable[[str], None], on_delete: Action,
                 buttons: Iterable[tuple[str, Action]] = (),
                 menu: Iterable[tuple[str, Action] | None] = ()) -> None:
        super().__init__(master)
        self.on_open, self.on_up, self.on_refresh = on_open, on_up, on_refresh
        self.on_path, self.on_delete = on_path, on_delete
        self.rows: dict[str, PaneRow] = {}
        self._all: list[PaneRow] = []
        self._sort = ("name", False)

        head = ttk.Frame(self)
        head.pack(fill="x")
        self.title_label = ttk.Label(head, text=title, font=("TkHeadingFont", 10, "bold"))
        self.title_label.pack(side="left")
        self.count_var = tk.StringVar(self, value="")
        ttk.Label(head, textvariable=self.count_var, foreground="#777").pack(side="right")

        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(4, 4))
        ttk.Button(bar, text="↑", width=3, command=on_up).pack(side="left")
        ttk.Button(bar, text="⟳", width=3, command=on_refresh).pack(side="left", padx=(4, 4))
        self.path_var = tk.StringVar(self)
        self.path_entry = ttk.Entry(bar, textvariable=self.path_var)
        self.path_entry.pack(side="left", fill="x", expand=True)
        self.path_entry.bind("<Return>", lambda e: self.on_path(self.path_var.get()))

        # buttons are packed before the list so a short window squeezes the list, not them
        self.buttons = ttk.Frame(self)
        self.buttons.pack(side="bottom", fill="x", pady=(4, 0))
        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(body, columns=("size", "modified", "perms"),
                                 show="tree headings", selectmode="extended", height=6)
        self.tree.heading("#0", text="Name", command=lambda: self.sort_by("name"))
        self.tree.heading("size", text="Size", command=lambda: self.sort_by("size"))
        self.tree.heading("modified", text="Modified", command=lambda: self.sort_by("modified"))
        self.tree.heading("perms", text="Permissions", command=lambda: self.sort_by("perms"))
        self.tree.column("#0", width=220, minwidth=120, stretch=True)
        self.tree.column("size", width=80, minwidth=60, anchor="e", stretch=False)
        self.tree.column("modified", width=135, minwidth=90, stretch=False)
        self.tree.column("perms", width=95, minwidth=60, stretch=False)
        self.tree.tag_configure("dir", foreground="#1f5fa8")
        self.tree.tag_configure("raw", foreground="#a05a00")
        yscroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=yscroll.set)
        self.tree.pack(side="left", fill="both", expand=True)
        yscroll.pack(side="right", fill="y")

        self.button_widgets: dict[str, ttk.Button] = {}
        for label, action in buttons:
            b = ttk.Button(self.buttons, text=label, command=action, style="Toolbutton")
            b.pack(side="left", padx=(0, 2))
            self.button_widgets[label] = b

        self.menu = tk.Menu(self, tearoff=False)
        for entry in menu:
            if entry is None:
                self.menu.add_separator()
            else:
                self.menu.add_command(label=entry[0], command=entry[1])

        self.tree.bind("<Double-1>", self._double_click)
        self.tree.bind("<Return>", lambda e: self.open_selected())
        self.tree.bind("<Delete>", lambda e: self.on_delete())
        self.tree.bind("<F5>", lambda e: self.on_refresh())
        self.tree.bind("<BackSpace>", lambda e: self.on_up())
        self.tree.bind("<Button-3>", self._popup)

    # -- content -------------------------------------------------------------------
    def set_rows(self, path: str, rows: Iterable[PaneRow], with_up: bool = True) -> None:
        self.path_var.set(path)
        self._all = list(rows)
        self._with_up = with_up
        self._redraw()

    def _sort_key(self, row: PaneRow):
        column, _ = self._sort
        value: object
        if column == "size":
            value = row.size if row.size is not None else -1
        elif column == "modified":
            value = row.modified.timestamp() if row.modified else 0.0
        elif column == "perms":
            value = row.permissions
        else:
            value = row.text.lower()
        return value

    def _redraw(self) -> None:
        column, descending = self._sort
        dirs = sorted((r for r in self._all if r.is_dir), key=self._sort_key,
                      reverse=descending)
        others = sorted((r for r in self._all if not r.is_dir), key=self._sort_key,
                        reverse=descending)
        ordered = dirs + others
        self.tree.delete(*self.tree.get_children())
        self.rows.clear()
        if getattr(self, "_with_up", True):
            self.rows[UP_KEY] = PaneRow(UP_KEY, UP_KEY, "up")
            self.tree.insert("", "end", iid=UP_KEY, text="..", tags=("dir",))
        for index, row in enumerate(ordered[:MAX_ROWS]):
            iid = f"r{index}"
            self.rows[iid] = row
            when = row.modified.strftime("%Y-%m-%d %H:%M") if row.modified else ""
            text = row.text + ("/" if row.is_dir else "")
            if row.target:
                text += f" → {row.target}"
            self.tree.insert("", "end", iid=iid, text=text, tags=(row.kind,),
                             values=(human_size(row.size) if not row.is_dir else "",
                                     when, row.permissions))
        if len(ordered) > MAX_ROWS:
            self.tree.insert("", "end", iid="more",
                             text=f"… {len(ordered) - MAX_ROWS} more not shown")
        files = sum(1 for r in ordered if not r.is_dir)
        self.count_var.set(f"{len(ordered) - files} folders, {files} files")
        for name, label in (("name", "Name"), ("size", "Size"), ("modified", "Modified"),
                            ("perms", "Permissions")):
            arrow = (" ▼" if descending else " ▲") if name == column else ""
            self.tree.heading("#0" if name == "name" else name, text=label + arrow)

    def sort_by(self, column: str) -> None:
        current, descending = self._sort
        self._sort = (column, not descending if current == column else False)
        self._redraw()

    def names(self) -> list[str]:
        """Row keys in display order (without ``..``)."""
        return [self.rows[i].key for i in self.tree.get_children() if i in self.rows
                and i != UP_KEY]

    def selected(self) -> list[PaneRow]:
        return [self.rows[i] for i in self.tree.selection() if i in self.rows and i != UP_KEY]

    def select_key(self, key: str) -> None:
        for iid, row in self.rows.items():
            if row.key == key:
                self.tree.selection_set(iid)
                self.tree.focus(iid)
                self.tree.see(iid)
                return
        raise KeyError(key)

    def open_selected(self) -> None:
        focus = self.tree.focus() or next(iter(self.tree.selection()), "")
        if focus == UP_KEY:
            self.on_up()
        elif focus in self.rows:
            self.on_open(self.rows[focus])

    def _double_click(self, event: tk.Event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid:
            self.tree.focus(iid)
            self.open_selected()

    def _popup(self, event: tk.Event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid and iid not in self.tree.selection():
            self.tree.selection_set(iid)
            self.tree.focus(iid)
        try:
            self.menu.tk_popup(event.x_root, event.y_root)
        finally:
            self.menu.grab_release()

    def set_enabled(self, enabled: bool, labels: Iterable[str]) -> None:
        for label in labels:
            widget = self.button_widgets.get(label)
            if widget is not None:
                widget.state(["!disabled"] if enabled else ["disabled"])
