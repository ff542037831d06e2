from __future__ import annotations

import tkinter as tk

import pytest

from gui.widgets.logview import LogView


@pytest.fixture
def view(app):
    top = tk.Toplevel(app.root)
    log = LogView(top, max_lines=100, wrap_at=1000, tags={"in": {"foreground": "blue"}})
    log.pack(fill="both", expand=True)
    yield log
    top.destroy()


def test_lines_are_capped_to_the_newest(view: LogView) -> None:
    view.append_many((f"line {i}", "in") for i in range(250))
    lines = view.get_text().splitlines()
    assert len(lines) == 100 and view.line_count() == 100
    assert lines[0] == "line 150" and lines[-1] == "line 249"
    assert "in" in view.text.tag_names("end-2c")


def test_a_megabyte_line_is_split_and_kept_whole(view: LogView) -> None:
    view.max_lines = 5000
    big = "".join(chr(65 + i % 26) for i in range(1_000_000))
    view.append(big)
    lines = view.get_text().splitlines()
    assert len(lines) == 1000 and all(len(x) == 1000 for x in lines)
    assert "".join(lines) == big
    assert view.text.cget("wrap") == "none"


def test_find_highlights_every_match(view: LogView) -> None:
    view.append_many([("alpha beta", ""), ("beta gamma", ""), ("delta", "")])
    assert view.find("BETA") == 2
    assert len(view.text.tag_ranges("found")) == 4
    assert view.find("zeta") == 0
    view.clear()
    assert view.get_text() == "" and view.line_count() == 0
