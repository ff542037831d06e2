"""Scrollbars put the same way everywhere: a Text or Treeview with both bars, and a table
of headed columns with a vertical bar."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterable
from tkinter import ttk
from typing import Any

#: (column id, heading, width in pixels, whether it takes spare width)
Column = tuple[str, str, int, bool]


def grid_scrolled(master: tk.Misc, widget: tk.Text | ttk.Treeview) -> None:
    """Grid ``widget`` (a child of ``master``) with a vertical and a horizontal scrollbar;
    the widget takes all the room ``master`` gets."""
    ys = ttk.Scrollbar(master, orient="vertical", command=widget.yview)
    xs = ttk.Scrollbar(master, orient="horizontal", command=widget.xview)
    widget.configure(yscrollcommand=ys.set, xscrollcommand=xs.set)
    widget.grid(row=0, column=0, sticky="nsew")
    ys.grid(row=0, column=1, sticky="ns")
    xs.grid(row=1, column=0, sticky="ew")
    master.rowconfigure(0, weight=1)
    master.columnconfigure(0, weight=1)


def column_table(master: tk.Misc, columns: Iterable[Column], right: tuple[str, ...] = ("size",),
                 **options: Any) -> ttk.Treeview:
    """A headings-only Treeview packed in ``master`` with a vertical scrollbar; columns
    named in ``right`` (numbers) are right-aligned. ``options`` go to the Treeview."""
    columns = list(columns)
    table = ttk.Treeview(master, columns=[c[0] for c in columns], show="headings", **options)
    for name, title, width, stretch in columns:
        table.heading(name, text=title)
        table.column(name, width=width, stretch=stretch, anchor="e" if name in right else "w")
    scroll = ttk.Scrollbar(master, command=table.yview)
    table.configure(yscrollcommand=scroll.set)
    scroll.pack(side="right", fill="y")
    table.pack(side="left", fill="both", expand=True)
    return table
