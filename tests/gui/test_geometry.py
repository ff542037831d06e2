"""The main window fits a 1366x768 screen, stays where it was put, and at 1024x700 shows
every control of every tab (pytest-xvfb runs a 1366x768 screen, see pyproject.toml)."""

from __future__ import annotations

import gc
import tkinter as tk
from pathlib import Path
from tkinter import ttk

import pytest

from gui import geometry
from gui.app import MIN_SIZE, TABS, WirebenchApp

#: widgets a user must be able to see whole: they hold a label, a value or a click
CONTROLS = (ttk.Button, ttk.Checkbutton, ttk.Radiobutton, ttk.Entry, ttk.Combobox,
            ttk.Menubutton, ttk.Spinbox, tk.Button, tk.Entry)


@pytest.fixture
def fresh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WIREBENCH_CONFIG_DIR", str(tmp_path))
    return tmp_path


def settle(root: tk.Tk) -> None:
    for _ in range(30):
        root.update()


def open_app() -> WirebenchApp:
    root = tk.Tk(className="Wirebench")
    app = WirebenchApp(root, lab_ephemeral=True)
    settle(root)
    return app


def close_app(app: WirebenchApp) -> None:
    app.close()
    del app
    gc.collect()  # on the Tk thread: see tests/gui/test_app.py


def test_first_launch_fits_the_screen_with_its_status_bar(fresh_config: Path) -> None:
    app = open_app()
    try:
        root = app.root
        assert root.winfo_screenheight() == 768
        bottom = app.status_label.winfo_rooty() + app.status_label.winfo_height()
        # the menu bar sits above the client area; a title bar and a panel need room too
        assert bottom <= root.winfo_screenheight() - geometry.RESERVED_HEIGHT + 40
        assert root.winfo_rootx() + root.winfo_width() <= root.winfo_screenwidth()
        assert app.status_label.winfo_ismapped()
    finally:
        close_app(app)


def test_the_window_does_not_walk_from_launch_to_launch(fresh_config: Path) -> None:
    places = []
    for _ in range(3):
        app = open_app()
        app.root.geometry("1100x660+40+50")
        settle(app.root)
        places.append((app.root.winfo_rootx(), app.root.winfo_rooty(), app.root.winfo_width(),
                       app.root.winfo_height()))
        close_app(app)
        app = open_app()
        places.append((app.root.winfo_rootx(), app.root.winfo_rooty(), app.root.winfo_width(),
                       app.root.winfo_height()))
        close_app(app)
    assert len(set(places)) == 1, places


def test_a_saved_size_larger_than_this_screen_is_fitted() -> None:
    assert geometry.restore("1920x1200+600+400", 1366, 768, MIN_SIZE) == "1366x728+0+0"
    assert geometry.restore("garbage", 1366, 768, MIN_SIZE) == "1280x668"
    assert geometry.restore("1000x700+500+60", 1366, 768, MIN_SIZE) == "1000x700+366+28"
    assert geometry.restore("1000x650+10+20", 1366, 768, MIN_SIZE) == "1000x650+10+20"


def hidden_controls(widget: tk.Misc) -> list[str]:
    """Controls squeezed out of sight: unmapped though their master shows, cut by
    their master's edge, or given less room than their text needs."""
    if not widget.winfo_ismapped():
        return []  # a page of a notebook not on show: its turn comes when it is
    problems = []
    for child in widget.winfo_children():
        if not child.winfo_ismapped():
            if child.winfo_manager() in ("pack", "grid", "place") and isinstance(child,
                                                                                 CONTROLS):
                problems.append(f"{child} ({describe(child)}) is not shown")
            continue
        if isinstance(child, CONTROLS):
            x, y = child.winfo_rootx(), child.winfo_rooty()
            mx, my = widget.winfo_rootx(), widget.winfo_rooty()
            if (x + child.winfo_width() > mx + widget.winfo_width() + 1
                    or y + child.winfo_height() > my + widget.winfo_height() + 1):
                problems.append(f"{child} ({describe(child)}) is cut by its master's edge")
            elif child.winfo_width() + 2 < child.winfo_reqwidth() and not isinstance(
                    child, ttk.Entry | tk.Entry):
                problems.append(f"{child} ({describe(child)}) is narrower than its text")
        problems.extend(hidden_controls(child))
    return problems


def notebooks(widget: tk.Misc) -> list[ttk.Notebook]:
    found = []
    for child in widget.winfo_children():
        if isinstance(child, ttk.Notebook):
            found.append(child)
        found.extend(notebooks(child))
    return found


def reveal(widget: tk.Misc, top: tk.Misc) -> None:
    """Select the notebook pages that hold ``widget``, up to ``top``."""
    while widget is not top:
        parent = widget.master
        if isinstance(parent, ttk.Notebook):
            parent.select(widget)
        widget = parent


def describe(widget: tk.Misc) -> str:
    try:
        return repr(widget.cget("text"))
    except tk.TclError:
        return type(widget).__name__


@pytest.mark.parametrize("size", ["1024x700", "1280x668"])
def test_every_control_of_every_tab_shows(app: WirebenchApp, size: str) -> None:
    old = app.root.wm_geometry()
    app.root.geometry(size)
    try:
        problems = []
        for index, (_m, _c, title, key) in enumerate(TABS):
            app.select_tab(index)
            tab = app.tab(key)
            settle(app.root)
            problems += [f"{title}: {p}" for p in hidden_controls(tab)]
            for book in notebooks(tab):  # every page of the tab's own notebooks too
                reveal(book, tab)
                shown = book.select()
                for page in book.tabs():
                    book.select(page)
                    settle(app.root)
                    problems += [f"{title} / {book.tab(page, 'text').strip()}: {p}"
                                 for p in hidden_controls(book.nametowidget(page))]
                book.select(shown)
        assert not problems, "\n".join(problems)
    finally:
        app.root.geometry(old)
        settle(app.root)
