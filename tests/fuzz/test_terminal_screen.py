"""Fuzzed: the terminal stream (core/telnet/screen.py): any text a server sends."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.telnet.screen import MAX_REPLY_BYTES, TerminalScreen, first_unsafe, strip_ansi
from tests.fuzz.budget import fuzz

_ESC = st.one_of(
    st.builds(lambda params, final: "\x1b[" + ";".join(map(str, params)) + final,
              st.lists(st.integers(-5, 100_000), max_size=4),
              st.sampled_from(list("ABCDHJKLMPSTXZ@`dfghlmnrsu") + ["?1049h", "6n", "c"])),
    st.builds(lambda body: "\x1b]0;" + body + "\x07", st.text(max_size=30)),
    st.sampled_from(["\x1b7", "\x1b8", "\x1bc", "\x1b(0", "\x1bM", "\x1bD", "\x1b#8",
                     "\r\n", "\t", "\b", "\x07", "\x0e", "\x0f", "\x1b", "\x9b"]))
TEXT = st.lists(st.one_of(st.text(max_size=40), _ESC), max_size=40).map("".join)


@fuzz(300)
@given(st.lists(TEXT, min_size=1, max_size=4), st.integers(2, 120), st.integers(2, 40))
def test_any_stream_keeps_the_screen_bounded(feeds: list[str], columns: int,
                                             lines: int) -> None:
    screen = TerminalScreen(columns, lines, scrollback=50)
    for text in feeds:
        screen.feed(text)
        assert sum(len(r) for r in screen.replies) <= MAX_REPLY_BYTES
        screen.take_replies()
    assert len(screen.scrollback) <= 50
    assert screen.columns == columns and screen.lines == lines
    assert 0 <= screen.cursor.x <= columns and 0 <= screen.cursor.y < lines
    for text in feeds:
        assert len(strip_ansi(text)) <= len(text)
        assert 0 <= first_unsafe(text) <= len(text)
