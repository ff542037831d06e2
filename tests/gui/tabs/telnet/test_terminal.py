"""TerminalView: frames painted into the Tk text widget, row for row and tag for tag."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator

import pytest

from core.telnet.screen import TerminalScreen
from core.telnet.screen_thread import TerminalFrame
from gui.tabs.telnet.terminal import TerminalView


@pytest.fixture
def view(app) -> Iterator[TerminalView]:  # noqa: ANN001
    top = tk.Toplevel(app.root)
    view = TerminalView(top, columns=20, rows=6)
    view.pack()
    view._reset_lines(20, 6)  # noqa: SLF001 - what the first frame of a session does
    yield view
    top.destroy()


def frame_of(screen: TerminalScreen, rows: list[int], fed: int = 0) -> TerminalFrame:
    return TerminalFrame(source="t", lines=tuple((y, tuple(screen.render_line(y)))
                                                 for y in rows),
                         cursor=(screen.cursor.x, screen.cursor.y), cursor_visible=True,
                         columns=screen.columns, rows=screen.lines, offset=0, history=0,
                         fed=fed)


def test_changed_rows_in_blocks_and_alone_paint_text_and_colours(view: TerminalView) -> None:
    """Rows 0-2 and 4 change (a block of three and a lone row): each shows its own text
    with its own colours, and rows 3 and 5 keep what they had."""
    screen = TerminalScreen(20, 6)
    screen.feed("keep0\r\nkeep1\r\nkeep2\r\nkeep3\r\nkeep4\r\nkeep5")
    view.apply_frames([frame_of(screen, list(range(6)))])
    screen.feed("\x1b[H\x1b[31mred\x1b[0m zero\x1b[K\r\n\x1b[1;32mgreen\x1b[0m\x1b[K\r\n"
                "two\x1b[K\r\n\r\n\x1b[44mblue bg\x1b[K")
    view.apply_frames([frame_of(screen, [0, 1, 2, 4])])
    lines = [view.line_text(y).rstrip() for y in range(6)]
    assert lines == ["red zero", "green", "two", "keep3", "blue bg", "keep5"]
    assert all(len(view.line_text(y)) == 20 for y in range(6))  # every cell is there
    assert view.tags_at(0, 0)["foreground"] != view.tags_at(0, 5).get("foreground")
    assert (view.tags_at(1, 0)["weight"], view.tags_at(2, 0)["weight"]) == ("bold", "normal")
    assert "background" in view.tags_at(4, 0) and "background" in view.tags_at(4, 15)
    assert "background" not in view.tags_at(3, 0)


def test_a_later_frame_in_a_batch_wins_and_the_cursor_follows(view: TerminalView) -> None:
    screen = TerminalScreen(20, 6)
    screen.feed("first")
    one = frame_of(screen, [0])
    screen.feed("\r\nsecond\r\nthird")
    two = frame_of(screen, [1, 2])
    screen.feed("\x1b[1;1Hreplaced")
    three = frame_of(screen, [0])
    view.apply_frames([one, two, three])
    assert [view.line_text(y).rstrip() for y in range(3)] == ["replaced", "second", "third"]
    assert view.text.tag_ranges("cursor")[0].string == "1.8"
