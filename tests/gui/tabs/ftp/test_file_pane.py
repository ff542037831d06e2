"""The file pane widget: rows, sorting with folders first, keys, the row cap."""

from __future__ import annotations

import datetime as dt
import gc
from tkinter import ttk

import pytest

from gui.tabs.ftp import file_pane
from gui.tabs.ftp.file_pane import FilePane, PaneRow


@pytest.fixture
def pane(app):
    calls: list[tuple[str, object]] = []
    top = ttk.Frame(app.root)
    widget = FilePane(top, "Test", on_open=lambda r: calls.append(("open", r.key)),
                      on_up=lambda: calls.append(("up", None)),
                      on_refresh=lambda: calls.append(("refresh", None)),
                      on_path=lambda p: calls.append(("path", p)),
                      on_delete=lambda: calls.append(("delete", None)),
                      buttons=(("Go", lambda: calls.append(("button", None))),))
    widget.pack()
    top.place(x=0, y=0, relwidth=1, relheight=1)  # mapped, so key events reach it
    widget.calls = calls
    yield widget
    top.destroy()
    del widget.calls
    gc.collect()  # free its Tk variables on this (the Tk) thread


ROWS = [PaneRow("b.txt", "b.txt", "file", 300, dt.datetime(2020, 1, 2)),
        PaneRow("a.txt", "a.txt", "file", 10, dt.datetime(2021, 1, 1)),
        PaneRow("zdir", "zdir", "dir"),
        PaneRow("caf\udce9", "caf\ufffd", "file", 5)]


def test_folders_first_then_sorted_by_name_size_and_date(pane):
    pane.set_rows("/x", ROWS)
    assert pane.names() == ["zdir", "a.txt", "b.txt", "caf\udce9"]
    pane.sort_by("size")
    assert pane.names() == ["zdir", "caf\udce9", "a.txt", "b.txt"]
    pane.sort_by("size")  # again: descending
    assert pane.names() == ["zdir", "b.txt", "a.txt", "caf\udce9"]
    assert "▼" in pane.tree.heading("size", "text")
    pane.sort_by("modified")
    assert pane.names()[1:3] == ["caf\udce9", "b.txt"]
    assert pane.path_var.get() == "/x"
    assert pane.count_var.get() == "1 folders, 3 files"


def test_open_up_delete_refresh_and_path_callbacks(app, pane):
    pane.set_rows("/x", ROWS)
    pane.select_key("a.txt")
    pane.open_selected()
    pane.select_key("..")
    pane.open_selected()
    pane.path_var.set("/elsewhere")
    pane.path_entry.focus_force()
    app.root.update()
    pane.path_entry.event_generate("<Return>")
    pane.tree.focus_force()
    app.root.update()
    for key in ("<Delete>", "<F5>", "<BackSpace>"):
        pane.tree.event_generate(key)
    app.root.update()
    pane.button_widgets["Go"].invoke()
    assert pane.calls == [("open", "a.txt"), ("up", None), ("path", "/elsewhere"),
                          ("delete", None), ("refresh", None), ("up", None),
                          ("button", None)]
    assert [r.key for r in (pane.select_key("b.txt") or pane.selected())] == ["b.txt"]


def test_huge_listings_are_capped(pane, monkeypatch):
    monkeypatch.setattr(file_pane, "MAX_ROWS", 50)
    pane.set_rows("/big", [PaneRow(f"f{i}", f"f{i}", "file", i) for i in range(120)])
    assert len(pane.names()) == 50
    assert "70 more not shown" in pane.tree.item("more", "text")
