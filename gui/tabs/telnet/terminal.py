"""A terminal view: paints :class:`TerminalFrame` lines into a Text widget, maps keys.

Only the lines a frame carries are replaced (the session sends dirty lines at most 30
times a second), each run of cells with one Tk tag per distinct style. Keys become the
byte sequences an xterm sends; the view never talks to a socket — it calls back.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Iterable
from tkinter import font as tkfont

from core.telnet.screen import Style
from core.telnet.session import TerminalFrame

# xterm's default 16 colours, as pyte names them ("brown" is yellow)
PALETTE = {
    "black": "#000000", "red": "#cd0000", "green": "#00cd00", "brown": "#cdcd00",
    "yellow": "#cdcd00", "blue": "#0000ee", "magenta": "#cd00cd", "cyan": "#00cdcd",
    "white": "#e5e5e5", "brightblack": "#7f7f7f", "brightred": "#ff0000",
    "brightgreen": "#00ff00", "brightbrown": "#ffff00", "brightyellow": "#ffff00",
    "brightblue": "#5c5cff", "brightmagenta": "#ff00ff", "brightcyan": "#00ffff",
    "brightwhite": "#ffffff",
}
DEFAULT_FG = "#d0d0d0"
DEFAULT_BG = "#1e1e1e"
CURSOR_BG = "#f0c040"

# keysym -> sequence (normal cursor mode); application mode swaps CSI for SS3 on arrows
KEYS = {
    "Up": "\x1b[A", "Down": "\x1b[B", "Right": "\x1b[C", "Left": "\x1b[D",
    "Home": "\x1b[H", "End": "\x1b[F", "Prior": "\x1b[5~", "Next": "\x1b[6~",
    "Insert": "\x1b[2~", "Delete": "\x1b[3~", "Escape": "\x1b", "Tab": "\t",
    "ISO_Left_Tab": "\x1b[Z", "BackSpace": "\x7f",
    "F1": "\x1bOP", "F2": "\x1bOQ", "F3": "\x1bOR", "F4": "\x1bOS",
    "F5": "\x1b[15~", "F6": "\x1b[17~", "F7": "\x1b[18~", "F8": "\x1b[19~",
    "F9": "\x1b[20~", "F10": "\x1b[21~", "F11": "\x1b[23~", "F12": "\x1b[24~",
    "KP_Enter": "\r",
}
APP_CURSOR = {"Up": "\x1bOA", "Down": "\x1bOB", "Right": "\x1bOC", "Left": "\x1bOD",
              "Home": "\x1bOH", "End": "\x1bOF"}
_SHIFT, _CONTROL, _ALT = 0x1, 0x4, 0x8


def color(name: str, default: str) -> str:
    """A pyte colour name or hex triple as a Tk colour."""
    if name == "default":
        return default
    if name in PALETTE:
        return PALETTE[name]
    if len(name) == 6:
        try:
            int(name, 16)
        except ValueError:
            return default
        return f"#{name}"
    return default


class TerminalView(tk.Frame):
    """The screen. Callbacks: ``on_text(str)`` for typed text (Enter is "\\r"),
    ``on_key(seq)`` for special keys, ``on_scroll(lines)`` (positive = back),
    ``on_resize(columns, rows)``."""

    def __init__(self, master: tk.Misc, columns: int = 80, rows: int = 24,
                 font_size: int = 11) -> None:
        super().__init__(master, background=DEFAULT_BG)
        self.font = tkfont.Font(family="TkFixedFont", size=font_size)
        base = tkfont.nametofont("TkFixedFont").actual()
        self.font.configure(family=base["family"])
        self.fonts = {
            (b, i): tkfont.Font(family=base["family"], size=font_size,
                                weight="bold" if b else "normal",
                                slant="italic" if i else "roman")
            for b in (False, True) for i in (False, True)}
        # a small request: the view takes whatever room the window gives it
        self.text = tk.Text(self, wrap="none", font=self.font, width=40, height=10,
                            background=DEFAULT_BG, foreground=DEFAULT_FG,
                            insertwidth=0, borderwidth=0, highlightthickness=1,
                            highlightcolor="#4a90d9", highlightbackground=DEFAULT_BG,
                            padx=4, pady=2, undo=False, cursor="xterm",
                            selectbackground="#3a5f8f", exportselection=True)
        self.text.pack(fill="both", expand=True)
        self.text.tag_configure("cursor", background=CURSOR_BG, foreground="#000000")
        self.text.tag_raise("sel")
        self.columns, self.rows = columns, rows
        self._tags: dict[Style, str] = {}
        self.offset = 0
        self.history = 0
        self.frames_applied = 0
        self.paints = 0  # apply_frames calls that changed the widget
        self.app_cursor_keys: Callable[[], bool] = lambda: False
        self.on_text: Callable[[str], None] = lambda s: None
        self.on_key: Callable[[str], None] = lambda s: None
        self.on_scroll: Callable[[int], None] = lambda n: None
        self.on_resize: Callable[[int, int], None] = lambda c, r: None
        self.frame_listeners: list[Callable[[TerminalFrame], None]] = []
        self._resize_after: str | None = None
        self._size = (columns, rows)
        self._reset_lines(columns, rows)
        t = self.text
        t.bind("<Key>", self._on_key)
        t.bind("<<Paste>>", self._paste)
        t.bind("<Control-Shift-V>", self._paste)
        t.bind("<Control-Shift-C>", self._copy)
        t.bind("<Shift-Insert>", self._paste)
        t.bind("<Button-2>", self._paste_primary)
        t.bind("<ButtonRelease-1>", self._copy_selection)
        t.bind("<Button-1>", lambda e: t.focus_set())
        for seq, delta in (("<Button-4>", 3), ("<Button-5>", -3)):
            t.bind(seq, lambda e, d=delta: self._wheel(d))
        t.bind("<MouseWheel>", lambda e: self._wheel(3 if e.delta > 0 else -3))
        t.bind("<Configure>", self._on_configure)
        # Text's own bindings would edit the text: the view is painted, not typed into
        t.bind("<<Cut>>", lambda e: "break")
        t.bind("<<Clear>>", lambda e: "break")

    # -- painting ---------------------------------------------------------------------------
    def _reset_lines(self, columns: int, rows: int) -> None:
        self.columns, self.rows = columns, rows
        self.text.delete("1.0", "end")
        self.text.insert("1.0", "\n".join(" " * columns for _ in range(rows)))

    def _tag(self, style: Style) -> str:
        name = self._tags.get(style)
        if name is None:
            name = f"s{len(self._tags)}"
            fg = color(style.fg, DEFAULT_FG)
            bg = color(style.bg, DEFAULT_BG)
            if style.bold and style.fg in PALETTE and not style.fg.startswith("bright"):
                fg = PALETTE.get("bright" + style.fg, fg)  # bold brightens, as xterm does
            if style.reverse:
                fg, bg = bg, fg
            options: dict[str, object] = {"foreground": fg,
                                          "font": self.fonts[(style.bold, style.italics)]}
            if bg != DEFAULT_BG:
                options["background"] = bg
            if style.underscore:
                options["underline"] = True
            if style.strikethrough:
                options["overstrike"] = True
            self.text.tag_configure(name, **options)
            self.text.tag_lower(name, "cursor")
            self._tags[style] = name
        return name

    def apply_frames(self, frames: Iterable[TerminalFrame]) -> None:
        """Paint a batch: the latest version of each line, the latest cursor."""
        frames = list(frames)
        if not frames:
            return
        lines: dict[int, tuple] = {}
        last = frames[-1]
        for frame in frames:
            if (frame.columns, frame.rows) != (self.columns, self.rows):
                self._reset_lines(frame.columns, frame.rows)
                lines.clear()
            lines.update(frame.lines)
        # one Tk call per block of adjacent changed rows (a scrolling flood changes
        # them all): a frame is on the way from a keystroke to its echo
        t = self.text
        rows = [y for y in sorted(lines) if y < self.rows]
        while rows:
            first = end = rows.pop(0)
            while rows and rows[0] == end + 1:
                end = rows.pop(0)
            args: list[object] = []
            for y in range(first, end + 1):
                if y > first:
                    args += ("\n", ())
                for text, style in lines[y]:
                    args += (text, self._tag(style))
            t.delete(f"{first + 1}.0", f"{end + 1}.end")
            if args:
                t.insert(f"{first + 1}.0", *args)
        self._place_cursor(last.cursor, last.cursor_visible)
        self.offset, self.history = last.offset, last.history
        self.frames_applied += len(frames)
        self.paints += 1
        for listener in self.frame_listeners:
            listener(last)

    def _place_cursor(self, cursor: tuple[int, int], visible: bool) -> None:
        t = self.text
        t.tag_remove("cursor", "1.0", "end")
        x, y = cursor
        if visible and 0 <= y < self.rows:
            x = min(x, self.columns - 1)
            t.tag_add("cursor", f"{y + 1}.{x}", f"{y + 1}.{x + 1}")

    def show_message(self, lines: list[str]) -> None:
        """Dim text shown while there is no session (the next frame replaces it)."""
        self.text.tag_configure("hint", foreground="#8a8a8a")
        for y, line in enumerate(lines[:self.rows]):
            self.text.delete(f"{y + 2}.0", f"{y + 2}.end")
            self.text.insert(f"{y + 2}.0", "  " + line, ("hint",))

    def line_text(self, y: int) -> str:
        return self.text.get(f"{y + 1}.0", f"{y + 1}.end")

    def all_text(self) -> str:
        return self.text.get("1.0", "end-1c")

    def tags_at(self, y: int, x: int) -> dict[str, str]:
        """The look of a cell (for tests): foreground, background, underline, weight..."""
        out: dict[str, str] = {}
        for name in self.text.tag_names(f"{y + 1}.{x}"):
            if name.startswith("s"):
                for key in ("foreground", "background", "underline", "overstrike"):
                    value = self.text.tag_cget(name, key)
                    if value:
                        out[key] = str(value)
                font = self.text.tag_cget(name, "font")
                if font:
                    actual = tkfont.Font(name=str(font), exists=True).actual()
                    out["weight"], out["slant"] = actual["weight"], actual["slant"]
        return out

    # -- input ------------------------------------------------------------------------------
    def _on_key(self, event: tk.Event) -> str:
        keysym, state, char = event.keysym, int(event.state), event.char
        if keysym in ("Prior", "Next") and state & _SHIFT:
            self.on_scroll(self.rows - 1 if keysym == "Prior" else -(self.rows - 1))
            return "break"
        if keysym in ("Shift_L", "Shift_R", "Control_L", "Control_R", "Alt_L", "Alt_R",
                      "Meta_L", "Meta_R", "Super_L", "Super_R", "Caps_Lock", "Num_Lock"):
            return "break"
        if state & _CONTROL and len(keysym) == 1 and keysym in "123456qQsS":
            # Ctrl+1..6 switch the app's tabs, Ctrl+Q quits, Ctrl+S saves the transcript,
            # as everywhere else in the window (XON/XOFF would only freeze the session)
            return ""
        alt = bool(state & _ALT)
        prefix = "\x1b" if alt else ""
        if keysym in ("Return", "KP_Enter"):
            if prefix:
                self.on_key(prefix)
            self.on_text("\r")
            return "break"
        if keysym in APP_CURSOR and self.app_cursor_keys():
            self.on_key(prefix + APP_CURSOR[keysym])
            return "break"
        if keysym in KEYS:
            self.on_key(prefix + KEYS[keysym]) if keysym != "BackSpace" else \
                self.on_text(prefix + KEYS[keysym])
            return "break"
        if state & _CONTROL and len(keysym) == 1 and keysym.isalpha():
            self.on_text(prefix + chr(ord(keysym.lower()) - 96))
            return "break"
        if state & _CONTROL and keysym in ("space", "at"):
            self.on_text(prefix + "\x00")
            return "break"
        if char and (char >= " " or char in "\t"):
            self.on_text(prefix + char)
            return "break"
        if char:  # other control characters Tk already composed (Ctrl-[ etc.)
            self.on_text(prefix + char)
        return "break"

    def _paste(self, event: object = None) -> str:
        try:
            data = self.text.clipboard_get()
        except tk.TclError:
            return "break"
        if data:
            self.on_text(data.replace("\r\n", "\r").replace("\n", "\r"))
        return "break"

    def _paste_primary(self, event: object = None) -> str:
        """Middle click pastes the X selection, as in xterm (the clipboard elsewhere)."""
        try:
            data = self.text.selection_get(selection="PRIMARY")
        except tk.TclError:
            return self._paste()
        if data:
            self.on_text(data.replace("\r\n", "\r").replace("\n", "\r"))
        return "break"

    def _copy(self, event: object = None) -> str:
        self._copy_selection()
        return "break"

    def _copy_selection(self, event: object = None) -> None:
        try:
            selected = self.text.get("sel.first", "sel.last")
        except tk.TclError:
            return
        if selected:
            lines = [line.rstrip() for line in selected.split("\n")]
            self.text.clipboard_clear()
            self.text.clipboard_append("\n".join(lines))

    def _wheel(self, delta: int) -> str:
        self.on_scroll(delta)
        return "break"

    # -- size -------------------------------------------------------------------------------
    def cell_size(self) -> tuple[int, int]:
        return max(1, self.font.measure("0")), max(1, self.font.metrics("linespace"))

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        cw, ch = self.cell_size()
        pad = 2 * (4 + 1)  # padx + highlight on each side
        columns = max(20, (width - pad) // cw)
        rows = max(5, (height - 2 * (2 + 1)) // ch)
        return min(columns, 500), min(rows, 200)

    def _on_configure(self, event: tk.Event) -> None:
        size = self.size_for(event.width, event.height)
        if size == self._size:
            return
        self._size = size
        if self._resize_after is not None:
            self.after_cancel(self._resize_after)
        self._resize_after = self.after(120, self._emit_resize)

    def _emit_resize(self) -> None:
        self._resize_after = None
        self.on_resize(*self._size)
