"""The shared scrollbar layouts: the scrollbars follow the widget they scroll."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from gui.widgets.scrolling import column_table, grid_scrolled


def test_grid_scrolled_wires_both_bars(app) -> None:  # noqa: ANN001
    frame = ttk.Frame(app.root)
    try:
        text = tk.Text(frame, wrap="none")
        grid_scrolled(frame, text)
        bars = [w for w in frame.winfo_children() if isinstance(w, ttk.Scrollbar)]
        assert sorted(str(b.cget("orient")) for b in bars) == ["horizontal", "vertical"]
        assert text.grid_info()["sticky"] == "nesw"
        assert "set" in str(text.cget("yscrollcommand")) and "set" in str(
            text.cget("xscrollcommand"))
    finally:
        frame.destroy()


def test_column_table_heads_and_aligns_columns(app) -> None:  # noqa: ANN001
    frame = ttk.Frame(app.root)
    try:
        table = column_table(frame, (("name", "Name", 120, True), ("size", "Size", 60, False)),
                             selectmode="browse")
        assert table.cget("columns") == ("name", "size")
        assert table.heading("name", "text") == "Name"
        assert (str(table.column("size", "anchor")), str(table.column("name", "anchor"))) == \
            ("e", "w")
        assert str(table.cget("selectmode")) == "browse"
        assert any(isinstance(w, ttk.Scrollbar) for w in frame.winfo_children())
    finally:
        frame.destroy()
