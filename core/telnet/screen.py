"""A pyte screen with bounded scrollback, query answers, dirty tracking and a flood shortcut.

:class:`TerminalScreen` is a :class:`pyte.Screen` (not ``pyte.HistoryScreen``, whose
per-attribute wrapper costs more than the drawing) that

* keeps lines scrolled off the top in a bounded deque (the scrollback);
* collects answers to device-attribute and cursor-position queries in :attr:`replies`
  for the session to send back;
* renders any viewport line as runs of ``(text, Style)`` for a view to paint;
* skips work on floods: when a batch holds more lines than the screen plus its scrollback
  can show, and the part that would scroll away is only text, CR/LF and colour (SGR)
  codes, that part is not drawn at all — only its last colour state is kept. The result
  is identical to feeding everything (a test checks it) and many times faster.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from itertools import chain, repeat

import pyte
from pyte import modes as pyte_modes
from pyte.charsets import LAT1_MAP

#: control bytes (and escapes other than SGR) that make a stretch unsafe to skip
_UNSAFE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
# two searches are 2x faster than one; "38:5:9" colon forms are left to pyte, which
# does not read them as SGR
_UNSAFE_ESCAPE = re.compile(r"\x1b(?!\[[0-9;]*m)")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_SGR_SPLIT = re.compile(r"(\x1b\[[0-9;]*m)")
_RESETS = ("\x1b[0m", "\x1b[m")


def first_unsafe(text: str, start: int = 0, end: int | None = None) -> int:
    """Where the first character that is not text, CR, LF or an SGR code is (or end)."""
    end = len(text) if end is None else end
    found = [m.start() for m in (_UNSAFE_CONTROL.search(text, start, end),
                                 _UNSAFE_ESCAPE.search(text, start, end)) if m]
    return min(found) if found else end
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """Text without escape sequences (for logs and automation matching)."""
    return _ANSI.sub("", text)


#: below this many characters a batch is fed as is (skipping would not pay)
_SKIP_MIN = 16384
#: lines the flood shortcut hands to pyte in one batch before pyte takes the rest (a
#: flood with typing has one or two; see flood_shortcut)
_MAX_PASSES = 16


@dataclass(frozen=True, slots=True)
class Style:
    """How a run of cells looks; hashable so a view can map each to one Tk tag."""

    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    italics: bool = False
    underscore: bool = False
    reverse: bool = False
    strikethrough: bool = False


DEFAULT_STYLE = Style()


class SafeStream(pyte.Stream):
    """pyte's stream, except that a sequence its handler chokes on is dropped.

    pyte passes a CSI's parameters straight to the handler: ``ESC [ ; @`` calls
    ``insert_characters(0, 0)`` and raises TypeError, which would end the screen thread
    and freeze the terminal. pyte already resets its parser after a failure; we count
    the sequence as dropped and go on with the next character.
    """

    dropped = 0

    def _send_to_parser(self, data: str) -> bool | None:
        try:
            return super()._send_to_parser(data)
        except Exception:  # any handler failure: what a server sent must never raise
            self.dropped += 1
            return self._taking_plain_text


class _Capture(pyte.Screen):
    """A one-row screen that keeps every row scrolled off it."""

    def __init__(self, columns: int) -> None:
        self.rows: list = []
        super().__init__(columns, 1)

    def index(self) -> None:
        self.rows.append(self.buffer[0])
        super().index()


class _LazyBlock:
    """Lines that went to the scrollback as text; drawn the first time one is looked at."""

    __slots__ = ("text", "attrs", "columns", "count", "rows")

    def __init__(self, text: str, attrs: object, columns: int, count: int) -> None:
        self.text, self.attrs, self.columns, self.count = text, attrs, columns, count
        self.rows: list | None = None

    def row(self, index: int) -> dict:
        if self.rows is None:
            scratch = _Capture(self.columns)
            scratch.cursor.attrs = self.attrs
            SafeStream(scratch).feed(self.text)
            self.rows = scratch.rows
            self.text = ""
        return self.rows[index] if index < len(self.rows) else {}


class _LazyLine(tuple):
    """(block, index): one scrollback row of a :class:`_LazyBlock`. A tuple, so a
    flood's thousand rows per batch are made by ``map`` without a Python ``__init__``."""

    __slots__ = ()

    def get(self, x: int, default: object = None) -> object:
        return self[0].row(self[1]).get(x, default)
Run = tuple[str, Style]


_DECCOLM = 3  # the private mode number, before pyte shifts it
#: characters of terminal answers (DSR, DA) held between two feeds
MAX_REPLY_BYTES = 64 * 1024


class TerminalScreen(pyte.Screen):
    def __init__(self, columns: int = 80, lines: int = 24, scrollback: int = 1000) -> None:
        self.scrollback: deque = deque(maxlen=max(0, scrollback))
        self.replies: list[str] = []
        self._reply_bytes = 0
        self.replies_dropped = 0  # answers past MAX_REPLY_BYTES (a flood of queries)
        self.title_text = ""
        super().__init__(columns, lines)
        self.stream = SafeStream(self)
        self.skipped_chars = 0  # how much a flood shortcut saved (for the bench)
        #: attributes -> {character: shared Char} for the flood shortcut's drawing
        self._cells: dict[tuple, dict[str, object]] = {}

    # -- pyte hooks -----------------------------------------------------------------------
    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and self.scrollback.maxlen:
            self.scrollback.append(self.buffer[top])
        super().index()

    def write_process_input(self, data: str) -> None:
        # a server can ask a thousand questions per KiB it sends: answers held between
        # two takes are capped, the rest counted and dropped
        if self._reply_bytes + len(data) > MAX_REPLY_BYTES:
            self.replies_dropped += 1
            return
        self._reply_bytes += len(data)
        self.replies.append(data)

    def report_device_attributes(self, mode: int = 0, **kwargs: bool) -> None:
        # pyte answers VT102 ("?6c"); say VT220 with ANSI colour like xterm does, so
        # full-screen programs pick their colour paths
        if mode == 0 and not kwargs.get("private"):
            self.write_process_input("\x1b[?62;22c")

    # xterm ignores 80/132-column switching (DECCOLM, private mode 3) unless the user
    # allows it: the width is the view's, and NAWS has told the server what it is
    def set_mode(self, *modes: int, **kwargs: bool) -> None:
        if kwargs.get("private"):
            modes = tuple(m for m in modes if m != _DECCOLM)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: bool) -> None:
        if kwargs.get("private"):
            modes = tuple(m for m in modes if m != _DECCOLM)
        super().reset_mode(*modes, **kwargs)

    def set_title(self, param: str) -> None:
        super().set_title(param)
        self.title_text = param

    def erase_in_display(self, how: int = 0, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:
            self.scrollback.clear()

    def reset(self) -> None:
        super().reset()
        self.scrollback.clear()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Like xterm: a shorter screen drops empty lines below the cursor first, then
        moves top lines into the scrollback (pyte would delete them)."""
        lines = lines or self.lines
        if lines < self.lines:
            drop = self.lines - lines
            below = max(0, self.lines - 1 - self.cursor.y)
            from_top = drop - min(below, drop)
            old = dict(self.buffer)
            if self.scrollback.maxlen:
                for y in range(from_top):
                    self.scrollback.append(self.buffer[y])
            self.buffer.clear()
            for y in range(lines):
                if y + from_top in old:
                    self.buffer[y] = old[y + from_top]
            self.cursor.y = max(0, self.cursor.y - from_top)
            self.lines = lines
            self.margins = None
        super().resize(lines, columns)
        self.dirty.update(range(self.lines))

    # -- input ------------------------------------------------------------------------------
    def take_replies(self) -> list[str]:
        out, self.replies = self.replies, []
        self._reply_bytes = 0
        return out

    def feed(self, text: str) -> None:
        """Feed decoded text, taking the flood shortcut when it is exact."""
        if len(text) >= _SKIP_MIN:
            text = self.flood_shortcut(text)
        self.stream.feed(text)

    def flood_shortcut(self, text: str) -> str:
        """Take the flood shortcut on ``text``; return what is left to feed normally.

        A line the shortcut cannot take (an escape other than SGR, a control byte, or
        the batch starting inside an escape sequence the last read cut in two) is drawn
        by pyte, and the shortcut goes on after it: a pty's reads split anywhere, and a
        tty echoes a typed key into the middle of a flood's SGR codes. Fed whole, the
        64 KiB after such a line took pyte 80-200 ms, with the typed key's echo in it.
        """
        # each pass scans what is left: a hostile stream with an unsafe byte every
        # 16 KiB must not make a batch quadratic, so after a few passes pyte has the rest
        passes = 0
        while self.margins is None and (passes == 0 or len(text) >= _SKIP_MIN):
            passes += 1
            if passes > _MAX_PASSES:
                break
            at = 0  # where pyte's part starts: a cut escape sequence, at once
            if self.stream._taking_plain_text:
                rest = self._lazy_flood(text)
                if rest is None:
                    rest = self._drop_flood(text)
                if len(rest) < len(text):
                    text = rest
                    continue
                at = first_unsafe(text, 0, _SKIP_MIN)
            # pyte draws to the end of that line; the shortcut goes on after it only
            # when a long plain stretch follows (dense escapes, as from top, are pyte's)
            end = text.find("\r\n", at, _SKIP_MIN)
            if end < 0:
                break
            self.stream.feed(text[:end])
            text = text[end:]
            window = min(len(text), _SKIP_MIN)
            # an SGR code the window's end cuts reads as unsafe: only what lies well
            # inside the window counts
            if first_unsafe(text, 0, window) < window - (64 if window < len(text) else 0):
                break
        return text

    def _apply_sgr(self, text: str, start: int, end: int) -> None:
        """Bring the cursor's colours to what text[start:end] would leave them."""
        reset = max(text.rfind(r, start, end) for r in _RESETS)
        if reset >= 0:
            self.cursor.attrs = self.default_char
            start = reset
        sgr = "".join(_SGR.findall(text, start, end))
        if sgr:
            self.stream.feed(sgr)

    def _lazy_flood(self, text: str) -> str | None:
        """The fast shortcut, or None when ``text`` does not qualify.

        Over the plain stretch (text, CR LF, SGR only), after ``lines + 1`` lines the
        cursor sits on a fresh bottom row, and from then on every line is drawn there
        and scrolled up: the screen ends as the last ``lines - 1`` lines over a blank
        row, the scrollback gains the lines before them. So only those last lines are
        drawn; the scrollback's share is kept as text and drawn when someone scrolls
        back to it; everything older is never drawn at all.
        """
        if (self.charset != 0 or self.g0_charset is not LAT1_MAP
                or pyte_modes.DECSCNM in self.mode or pyte_modes.IRM in self.mode):
            return None  # lines kept as text are drawn later on a plain scratch screen
        plain_end = text.rfind("\r\n", 0, first_unsafe(text))
        if plain_end < 0:
            return None
        plain_end += 2
        bottom = self.lines - 1
        maxlen = self.scrollback.maxlen or 0
        # phase 1: the first lines + 1 lines go through pyte, unless the cursor already
        # waits at the start of a blank bottom row (as after the previous batch)
        # (on the bottom row, ending the current line is enough: its LF scrolls)
        phase1 = 0
        row = self.buffer.get(bottom) if hasattr(self.buffer, "get") else None
        fresh = self.cursor.y == bottom and self.cursor.x == 0 and not row
        needed = 0 if fresh else 1 if self.cursor.y == bottom else self.lines + 1
        for _ in range(needed):
            phase1 = text.find("\r\n", phase1, plain_end)
            if phase1 < 0:
                return None
            phase1 += 2
        # the visible part: the last ``bottom`` lines; before it the scrollback part
        visible = plain_end
        for _ in range(bottom + 1):  # the first find is the last line's own CR LF
            visible = text.rfind("\r\n", phase1, visible)
            if visible < 0:
                return None
        visible += 2
        if text.count("\r\n", phase1, visible) < 64:
            return None  # not worth it
        # the scrollback's share: the last ``maxlen`` lines before the visible part
        parts = text[phase1:visible].rsplit("\r\n", maxlen + 1) if maxlen else [""]
        if len(parts) > maxlen + 1:
            keep, kept = phase1 + len(parts[0]) + 2, maxlen
        else:
            keep, kept = phase1, len(parts) - 1
        drawn = text[keep:plain_end]
        if "\t" in drawn or drawn.count("\n") != drawn.count("\r\n"):
            return None
        plain = _SGR.sub("", drawn)
        if not plain.isascii() or max(map(len, plain.split("\r\n"))) > self.columns:
            return None  # a line would wrap: rows would not be one per line
        self.stream.feed(text[:phase1])
        # the rows on screen scroll into the scrollback first, then the kept lines
        self._apply_sgr(text, phase1, keep)
        if kept < maxlen:
            for y in range(bottom):
                self.scrollback.append(self.buffer[y])
        if kept:
            block = _LazyBlock(text[keep:visible], self.cursor.attrs, self.columns, kept)
            self.scrollback.extend(map(_LazyLine, zip(repeat(block), range(kept))))
        self._apply_sgr(text, keep, visible)
        self.buffer.clear()
        self.cursor.x = self.cursor.y = 0
        self._draw_plain_lines(text[visible:plain_end])
        self.dirty.update(range(self.lines))
        self.skipped_chars += visible - phase1
        return text[plain_end:]

    def _draw_plain_lines(self, text: str) -> None:
        """Draw CR LF-ended lines of printable ASCII and SGR codes, none wider than the
        screen, from the cursor's row down — what pyte's draw would store, cell for
        cell, without its per-character work (the flood tests compare the two)."""
        row_y = self.cursor.y
        cache = self._cells
        if len(cache) > 4096:
            cache.clear()
        for line in text.split("\r\n")[:-1]:
            row = self.buffer[row_y]
            x = 0
            for i, part in enumerate(_SGR_SPLIT.split(line)):
                if i % 2:
                    params = part[2:-1]
                    if params:
                        self.select_graphic_rendition(
                            *[min(int(p), 9999) if p else 0 for p in params.split(";")])
                    else:
                        self.select_graphic_rendition()
                elif part:
                    # one shared Char per (attributes, character), stored C-level
                    attrs = self.cursor.attrs
                    cells = cache.get(attrs)
                    if cells is None:
                        cells = cache[attrs] = {}
                    for ch in set(part).difference(cells):
                        cells[ch] = attrs._replace(data=ch)
                    row.update(enumerate(map(cells.__getitem__, part), x))
                    x += len(part)
            row_y += 1
        self.cursor.x = 0
        self.cursor.y = row_y

    def _drop_flood(self, text: str) -> str:
        """The plain shortcut: drop what would scroll out of the scrollback unseen."""
        keep = (self.scrollback.maxlen or 0) + self.lines + 2
        # only the plain stretch before the first cursor movement (or other control)
        # counts: every newline in it scrolls one line out, which is what flushes the
        # screen and the scrollback of everything before the cut
        cut = first_unsafe(text)
        for _ in range(keep + 1):
            cut = text.rfind("\n", 0, cut)
            if cut < 0:
                return text
        cut += 1  # just after the newline that starts the kept part
        if text[cut - 2:cut] != "\r\n":
            return text
        self._apply_sgr(text, 0, cut)
        # what the skipped lines would have done: push everything off screen and history
        self.scrollback.clear()
        self.buffer.clear()
        self.cursor.x = 0
        self.cursor.y = self.lines - 1
        self.dirty.update(range(self.lines))
        self.skipped_chars += cut
        return text[cut:]

    # -- output -----------------------------------------------------------------------------
    def viewport_line(self, y: int, offset: int = 0) -> object:
        """The line shown at row ``y`` when scrolled ``offset`` lines back into history."""
        if offset <= 0:
            return self.buffer[y]
        index = len(self.scrollback) - offset + y
        if index < len(self.scrollback):
            return self.scrollback[index] if index >= 0 else {}
        return self.buffer[index - len(self.scrollback)]

    def render_line(self, y: int, offset: int = 0) -> list[Run]:
        """Row ``y`` as ``(text, Style)`` runs covering ``columns`` cells.

        The right half of a wide character is stored as "" by pyte and stays "".
        """
        line = self.viewport_line(y, offset)
        default = self.default_char
        columns = self.columns
        # cells past a row's last stored one are blank: one wide cell stands for them,
        # not a lookup each (a frame renders every row of a scrolling flood, on the way
        # from a keystroke to its echo)
        width = columns
        if type(line) is not _LazyLine:
            width = min(columns, max(line, default=-1) + 1)  # type: ignore[call-overload]
        cells = map(line.get, range(width), repeat(default))
        if width < columns:
            cells = chain(cells, [default._replace(data=default.data * (columns - width))])
        runs: list[Run] = []
        text: list[str] = []
        current: tuple | None = None
        for char in cells:
            key = char[1:]
            if key != current:
                if text:
                    runs.append(("".join(text), _style(current)))
                text = []
                current = key
            text.append(char[0])
        if text:
            runs.append(("".join(text), _style(current)))
        return runs

    def line_text(self, y: int, offset: int = 0) -> str:
        return "".join(t for t, _ in self.render_line(y, offset))

    def display_text(self) -> list[str]:
        return [self.line_text(y) for y in range(self.lines)]

    def history_text(self) -> list[str]:
        """Every scrollback line as text (for copy-all and transcripts)."""
        default = self.default_char
        out = []
        for line in self.scrollback:
            out.append("".join(line.get(x, default).data for x in range(self.columns)).rstrip())
        return out

    def take_dirty(self) -> set[int]:
        dirty = {y for y in self.dirty if 0 <= y < self.lines}
        self.dirty.clear()
        return dirty


_style_cache: dict[tuple, Style] = {}


def _style(key: tuple | None) -> Style:
    """Style of a pyte Char's attributes (``char[1:]``: fg, bg, bold, italics,
    underscore, strikethrough, reverse, blink)."""
    if key is None:
        return DEFAULT_STYLE
    style = _style_cache.get(key)
    if style is None:
        if len(_style_cache) > 4096:
            _style_cache.clear()
        fg, bg, bold, italics, underscore, strike, reverse = key[:7]
        style = Style(fg=fg, bg=bg, bold=bold, italics=italics, underscore=underscore,
                      reverse=reverse, strikethrough=strike)
        _style_cache[key] = style
    return style
