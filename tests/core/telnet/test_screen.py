"""TerminalScreen: the flood shortcut gives the same screen, queries, colours, scrollback."""

from __future__ import annotations

import importlib.metadata

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st

from core.servers.telnet_samples import color_demo, ls_lr_lines
from core.telnet.screen import TerminalScreen


def same(a: TerminalScreen, b: TerminalScreen) -> None:
    assert [a.render_line(y) for y in range(a.lines)] == \
        [b.render_line(y) for y in range(b.lines)]
    assert a.history_text() == b.history_text()
    assert (a.cursor.x, a.cursor.y, a.cursor.attrs) == (b.cursor.x, b.cursor.y, b.cursor.attrs)


def plain_feed(screen: TerminalScreen, text: str) -> None:
    screen.stream.feed(text)  # no shortcut


def test_flood_shortcut_gives_the_same_screen_as_feeding_everything() -> None:
    flood = "\r\n".join(ls_lr_lines(6000)) + "\r\n\x1b[1;31mred tail"
    fast, slow = TerminalScreen(80, 24, 300), TerminalScreen(80, 24, 300)
    for s in (fast, slow):
        s.stream.feed("first line\r\n\x1b[4munderlined and not reset ")
    fast.feed(flood)
    plain_feed(slow, flood)
    assert fast.skipped_chars > len(flood) // 2
    same(fast, slow)
    assert "red tail" in fast.line_text(fast.cursor.y)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(["abc", "\x1b[31m", "\x1b[0m", "\x1b[1;44m", "x" * 95,
                                 "\r\n", "\r\n", "\r\n", "\t", "é", "\x1b[m", "q" * 30,
                                 "\x1b[38;2;1;2;3m", "\x1b[1;;4m", "\x1b[48;5;200m",
                                 "\x1b[7;39m", "\x1b[38:5:9m"]),
                min_size=50, max_size=200),
       st.integers(1, 3))
def test_flood_shortcut_matches_pyte_for_any_plain_stream(parts: list[str], rep: int) -> None:
    text = "".join(parts) * (25 * rep)
    fast, slow = TerminalScreen(40, 10, 20), TerminalScreen(40, 10, 20)
    fast.feed(text)
    plain_feed(slow, text)
    same(fast, slow)


def test_shortcut_is_not_taken_over_cursor_movement() -> None:
    """A line with cursor movement is drawn by pyte; only plain stretches around it are
    skipped, and the screen comes out as pyte alone makes it."""
    for text in ("\x1b[2;5Hmoved" + ("line\r\n" * 5000),
                 ("line\r\n" * 5000) + "\x1b[2;5Hmoved" + ("line\r\n" * 10),
                 ("line\r\n" * 3000) + "\x1b[2;5Hmoved\r\n" + ("line\r\n" * 3000)):
        fast, slow = TerminalScreen(80, 24, 100), TerminalScreen(80, 24, 100)
        fast.feed(text)
        plain_feed(slow, text)
        assert 0 < fast.skipped_chars < len(text) - len("\x1b[2;5Hmoved")
        same(fast, slow)


def test_device_attributes_and_cursor_position_are_answered() -> None:
    s = TerminalScreen(80, 24)
    s.feed("hello\r\nab\x1b[6n\x1b[c\x1b[5n")
    assert s.take_replies() == ["\x1b[2;3R", "\x1b[?62;22c", "\x1b[0n"]
    assert s.take_replies() == []


def test_colours_bold_underline_reverse() -> None:
    s = TerminalScreen(80, 30)
    s.feed("\r\n".join(color_demo()))
    styles = {style for y in range(s.lines) for _, style in s.render_line(y)}
    assert {"red", "brightred", "default"} <= {st.fg for st in styles}
    assert any(len(st.bg) == 6 for st in styles)  # 256-colour and true colour as hex
    assert any(st.bold for st in styles)
    assert any(st.underscore for st in styles)
    assert any(st.reverse for st in styles)
    assert any(st.fg == "ff8000" for st in styles)  # 38;2;255;128;0


def test_scrollback_viewport_and_limit() -> None:
    s = TerminalScreen(20, 5, scrollback=10)
    s.feed("".join(f"line {i}\r\n" for i in range(30)))
    assert len(s.scrollback) == 10
    assert s.line_text(0).strip() == "line 26"
    assert s.line_text(0, offset=3).strip() == "line 23"
    assert s.line_text(0, offset=10).strip() == "line 16"
    assert s.history_text()[0] == "line 16"


def test_shrinking_keeps_the_cursor_line_and_moves_top_to_scrollback() -> None:
    s = TerminalScreen(20, 10, scrollback=10)
    s.feed("login: ")
    s.resize(5, 20)
    assert s.line_text(0).startswith("login:")
    s.feed("\r\n" * 8 + "bottom")
    s.resize(3, 10)
    assert s.line_text(2).startswith("bottom")
    assert s.columns == 10 and len(s.scrollback) >= 2


def test_render_line_matches_pyte_display() -> None:
    s = TerminalScreen(30, 4)
    ref = pyte.Screen(30, 4)
    text = "\x1b[31mred\x1b[0m plain 日本 wide\r\n\x1b[7mrev"
    s.feed(text)
    pyte.Stream(ref).feed(text)
    assert s.display_text() == ref.display


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 400), st.integers(0, 120), st.integers(3, 30), st.integers(0, 3))
def test_lazy_scrollback_matches_pyte(before: int, scrollback: int, rows: int,
                                      seed: int) -> None:
    """Lines kept as text in the scrollback draw exactly as pyte would have drawn them."""
    from core.telnet.screen import _LazyLine

    lines = list(ls_lr_lines(before + 300 + scrollback, seed=seed + 1))
    head = "\r\n".join(lines[:before]) + ("\r\n" if before else "")
    flood = "\x1b[33mstart " + "\r\n".join(lines[before:]) + "\r\n\x1b[4mtail"
    fast, slow = TerminalScreen(80, rows, scrollback), TerminalScreen(80, rows, scrollback)
    plain_feed(fast, head)
    plain_feed(slow, head)
    fast.feed(flood)
    plain_feed(slow, flood)
    if scrollback:
        assert any(isinstance(line, _LazyLine) for line in fast.scrollback)
    same(fast, slow)
    for offset in (1, scrollback // 2, scrollback):
        assert [fast.render_line(y, offset) for y in range(rows)] == \
            [slow.render_line(y, offset) for y in range(rows)]


def test_flood_in_uneven_batches_matches_pyte() -> None:
    """Batches cut mid-line (as socket reads are) take the shortcut and stay exact."""
    text = "\r\n".join(ls_lr_lines(9000, seed=5)) + "\r\n$ "
    fast, slow = TerminalScreen(100, 20, 200), TerminalScreen(100, 20, 200)
    for start in range(0, len(text), 47_123):
        fast.feed(text[start:start + 47_123])
    plain_feed(slow, text)
    assert fast.skipped_chars > len(text) // 2
    same(fast, slow)


def test_batches_cut_inside_escape_sequences_still_take_the_shortcut() -> None:
    """A pty's reads split anywhere, also inside an SGR code: the next batch starts
    mid-escape. pyte finishes that sequence, the shortcut takes the rest, and the
    screen and scrollback are what pyte alone makes of the whole stream."""
    text = "\r\n".join(ls_lr_lines(6000, seed=3)) + "\r\n$ "
    # just after an ESC, about every 40 KB
    cuts = [i + 1 for i in range(len(text)) if text[i] == "\x1b"][::400]
    fast, slow = TerminalScreen(100, 20, 200), TerminalScreen(100, 20, 200)
    start = 0
    for cut in [*cuts, len(text)]:
        fast.feed(text[start:cut])
        start = cut
    plain_feed(slow, text)
    assert fast.skipped_chars > len(text) // 2
    same(fast, slow)


def test_an_sgr_code_at_the_edge_of_the_look_ahead_does_not_stop_the_shortcut() -> None:
    """After the line that finishes a cut escape, the shortcut looks 16 KiB ahead for
    the next unsafe character; an SGR code cut by that window's end is not one."""
    from core.telnet.screen import _SKIP_MIN

    filler = ("a" * 61 + "\r\n") * ((_SKIP_MIN - 4) // 63)  # 2 + len(filler) = 16382
    assert len(filler) == _SKIP_MIN - 4
    text = ("31mcut\x1b[0m\r\n" + filler + "\x1b[1;34mblue\x1b[0m\r\n"
            + "\r\n".join(ls_lr_lines(3000, seed=2)) + "\r\n")
    fast, slow = TerminalScreen(90, 12, 50), TerminalScreen(90, 12, 50)
    for s in (fast, slow):
        plain_feed(s, "before\r\n\x1b[1;")  # the read ended inside an SGR code
    fast.feed(text)
    plain_feed(slow, text)
    assert fast.skipped_chars > len(text) // 2
    same(fast, slow)


def test_an_unsafe_line_every_17_kb_is_bounded_work_and_stays_exact() -> None:
    """A hostile stream puts a cursor move every 17 KB: the shortcut resumes after a
    few of them, then pyte takes the rest; the screen is pyte's either way."""
    from core.telnet.screen import _MAX_PASSES

    lines = list(ls_lr_lines(20_000, seed=4))
    for index in range(len(lines) - 1, 0, -270):  # ~17 KB of lines apart
        lines[index] = "\x1b[5;5H" + lines[index]
    text = "\r\n".join(lines) + "\r\n"
    fast, slow = TerminalScreen(90, 12, 50), TerminalScreen(90, 12, 50)
    fast.feed(text)
    plain_feed(slow, text)
    assert text.count("\x1b[5;5H") > 2 * _MAX_PASSES  # the cap was reached
    assert fast.skipped_chars > 0
    same(fast, slow)


def test_charset_escape_before_a_flood_keeps_screens_equal() -> None:
    text = "\r\n".join("lqqk x" + str(i) for i in range(3000)) + "\r\n"
    fast, slow = TerminalScreen(40, 10, 50), TerminalScreen(40, 10, 50)
    for s in (fast, slow):
        plain_feed(s, "\x1b(0")  # DEC line drawing in G0
    fast.feed(text)
    plain_feed(slow, text)
    same(fast, slow)


@settings(max_examples=6, deadline=None)
@given(st.lists(st.sampled_from(["abc", "\x1b[31m", "\x1b[0m", "\x1b[1;44m", "q" * 12,
                                 "\r\n", "\r\n", "\x1b[m", "\x1b[38;2;1;2;3m", "\x1b[1;;4m",
                                 "\x1b[48;5;200m", "\x1b[7;39m"]),
                min_size=5, max_size=30))
def test_shortcut_drawing_matches_pyte_cell_for_cell(parts: list[str]) -> None:
    text = ("".join(parts) + "\r\n") * 200
    fast, slow = TerminalScreen(400, 10, 30), TerminalScreen(400, 10, 30)
    for start in range(0, len(text), 20_000):
        fast.feed(text[start:start + 20_000])
    plain_feed(slow, text)
    same(fast, slow)
    assert fast.skipped_chars > 0 or len(text) < 40_000


PYTE_PRIVATE = ("core/telnet/screen.py (flood_shortcut) reads pyte.Stream._taking_plain_text, "
                "a private attribute, to know the parser sits between escape sequences; "
                "pyte {version} changed it: adapt flood_shortcut or keep pyte below 0.9 "
                "(pyproject.toml pins it).")


def test_the_private_pyte_attribute_the_flood_shortcut_reads_still_means_the_same() -> None:
    """Fails loudly if a pyte upgrade renames or retypes ``Stream._taking_plain_text``."""
    message = PYTE_PRIVATE.format(version=importlib.metadata.version("pyte"))
    stream = pyte.Stream(pyte.Screen(10, 3))
    assert hasattr(stream, "_taking_plain_text"), message
    stream.feed("plain text")
    assert stream._taking_plain_text is True, message  # between sequences: shortcut allowed
    stream.feed("\x1b[")
    assert not stream._taking_plain_text, message  # inside a CSI: the shortcut must wait
    stream.feed("1m")
    assert stream._taking_plain_text is True, message


def test_a_sequence_pyte_chokes_on_is_dropped_not_raised() -> None:
    # found by tests/fuzz/test_terminal_screen.py: ESC [ ; @ made pyte call
    # insert_characters(0, 0), a TypeError that ended the screen thread
    screen = TerminalScreen(20, 3)
    screen.feed("a\x1b[;@b\x1b[1;2;3Xc")
    assert screen.display[0].startswith("abc")
    assert screen.stream.dropped >= 1
    for query in ("\x1b[;@", "\x1b[;;P", "\x1b[;;L"):
        screen.feed(query)
    screen.feed("\x1b[6n")
    assert screen.take_replies() == ["\x1b[1;4R"]


def test_many_terminal_queries_at_once_get_at_most_64_kib_of_answers() -> None:
    from core.telnet.screen import MAX_REPLY_BYTES

    screen = TerminalScreen(20, 3)
    screen.feed("\x1b[6n" * 20_000)
    answered = sum(len(reply) for reply in screen.take_replies())
    assert MAX_REPLY_BYTES - 10 <= answered <= MAX_REPLY_BYTES
    assert screen.replies_dropped > 0
    screen.feed("\x1b[6n")  # the cap is per batch: the next one is answered
    assert screen.take_replies() == ["\x1b[1;1R"]


def test_a_server_cannot_switch_the_screen_to_132_columns() -> None:
    # found by tests/fuzz/test_terminal_screen.py: DECCOLM resized the screen behind the
    # view's back; xterm ignores it by default (allowColumnMode false), so do we
    screen = TerminalScreen(40, 5)
    screen.feed("ab\x1b[?3h\x1b[?3l\x1b[?3;25h")
    assert screen.columns == 40 and screen.lines == 5
    assert screen.display[0].startswith("ab")


def reference_runs(screen: pyte.Screen, line: dict) -> list[tuple[str, tuple]]:
    """Runs of equal attributes over every cell, read from pyte's own cells."""
    runs: list[tuple[str, tuple]] = []
    for x in range(screen.columns):
        cell = line.get(x, screen.default_char) if hasattr(line, "get") else line[x]
        if runs and runs[-1][1] == cell[1:]:
            runs[-1] = (runs[-1][0] + cell.data, runs[-1][1])
        else:
            runs.append((cell.data, cell[1:]))
    return runs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["word", " ", "日本", "\x1b[31m", "\x1b[41m", "\x1b[0m",
                                 "\x1b[1;4;7m", "\x1b[K", "\x1b[2K", "\r\n", "\x1b[5G",
                                 "\x1b[30C", "e\u0301", "\x1b[H", "x" * 25]),
                max_size=40))
def test_render_line_runs_match_pyte_cells(parts: list[str]) -> None:
    """Each run's text and style equal pyte's cells, blank tails and wide halves too."""
    from core.telnet.screen import _style

    text = "".join(parts)
    ours, ref = TerminalScreen(24, 5), pyte.Screen(24, 5)
    ours.stream.feed(text)
    pyte.Stream(ref).feed(text)
    for y in range(5):
        expected = [(t, _style(key)) for t, key in reference_runs(ref, ref.buffer[y])]
        assert ours.render_line(y) == expected


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3999),
                          st.sampled_from(["\x1b[2;5H", "\x1b#8", "\x1b(0qq\x1b(B", "\x1b[?5h",
                                           "\x1b[?5l", "\x1b[3;9r", "\x1b[r", "\x07", "\b\b",
                                           "\x1b]0;title\x07", "#", "\x1b[K", "\x1b[4h",
                                           "\x1b[4l", "\x1b[?25l", "\x1b7\x1b8", "\t"])),
                max_size=6),
       st.lists(st.integers(1, 60_000), min_size=1, max_size=8))
def test_floods_with_unsafe_lines_in_any_batches_match_pyte(
        inserts: list[tuple[int, str]], cuts: list[int]) -> None:
    """Unsafe sequences (cursor moves, margins, modes, charsets, DECALN, a key's echo
    inside an SGR code) at any line of a flood, fed in batches cut anywhere: the
    shortcut takes the plain stretches between them and the result is pyte's."""
    lines = list(ls_lr_lines(4000, seed=11))
    for index, sequence in sorted(inserts, reverse=True):
        line = lines[index]
        at = line.find("\x1b") + 1 if sequence == "#" and "\x1b" in line else len(line) // 2
        lines[index] = line[:at] + sequence + line[at:]
    text = "\r\n".join(lines) + "\r\n$ "
    fast, slow = TerminalScreen(90, 12, 50), TerminalScreen(90, 12, 50)
    start = 0
    for cut in sorted({min(c, len(text)) for c in cuts} | {len(text)}):
        fast.feed(text[start:cut])
        start = cut
    plain_feed(slow, text)
    same(fast, slow)
