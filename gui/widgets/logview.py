"""A scrolling text log that stays fast under floods and bounds its memory.

* ``append_many`` inserts a whole batch with one Tk call per tag run (coalescing).
* Lines are capped to ``max_lines``; the oldest are dropped in one delete.
* Long lines are hard-split every ``wrap_at`` characters and the widget never wraps:
  Tk's line layout is quadratic-ish in line length, a 1 MB line would stall it.
* Autoscroll follows the end unless the user scrolled up or pressed Pause.
"""

from __future__ import annotations

import re
import tkinter as tk
from collections.abc import Iterable
from tkinter import ttk

from gui.widgets.scrolling import grid_scrolled

MONO = ("TkFixedFont", 10)


def tk_columns(text: str) -> int:
    """How many index columns Tk 8.6 gives ``text``: a non-BMP character counts as two."""
    return len(text.encode("utf-16-le")) // 2


class LogView(ttk.Frame):
    def __init__(
        self,
        master: tk.Misc,
        max_lines: int = 10_000,
        wrap_at: int = 4096,
        height: int = 12,
        font: tuple = MONO,
        tags: dict[str, dict] | None = None,
    ) -> None:
        super().__init__(master)
        self.max_lines = max_lines
        self.wrap_at = wrap_at
        self.follow = True
        self.text = tk.Text(self, wrap="none", height=height, font=font, undo=False,
                            borderwidth=0, highlightthickness=0, padx=6, pady=4)
        grid_scrolled(self, self.text)
        self.text.configure(state="disabled")
        self.text.tag_configure("found", background="#ffe08a", foreground="#000")
        for name, options in (tags or {}).items():
            self.text.tag_configure(name, **options)
        self._lines = 0
        # user scrolling up pauses following; back at the bottom resumes it
        for seq in ("<MouseWheel>", "<Button-4>", "<Button-5>"):
            self.text.bind(seq, self._after_user_scroll, add="+")

    def _after_user_scroll(self, event: object = None) -> None:
        self.after_idle(lambda: setattr(self, "follow", self.text.yview()[1] >= 0.999))

    def _split(self, line: str) -> list[str]:
        if len(line) <= self.wrap_at:
            return [line]
        return [line[i:i + self.wrap_at] for i in range(0, len(line), self.wrap_at)]

    def append(self, text: str, tag: str = "") -> None:
        self.append_many([(text, tag)])

    def append_many(self, items: Iterable[tuple[str, str]]) -> None:
        """Append ``(text, tag)`` pairs; each text is one or more lines (no trailing \\n)."""
        args: list[str | tuple[str, ...]] = []
        added = 0
        for text, tag in items:
            parts: list[str] = []
            for line in text.split("\n"):
                parts.extend(self._split(line))
            added += len(parts)
            chunk = "\n".join(parts) + "\n"
            args.append(chunk)
            args.append((tag,) if tag else ())
        if not args:
            return
        self.text.configure(state="normal")
        self.text.insert("end-1c", *args)
        self._lines += added
        if self._lines > self.max_lines:
            drop = self._lines - self.max_lines
            self.text.delete("1.0", f"{drop + 1}.0")
            self._lines -= drop
        self.text.configure(state="disabled")
        if self.follow:
            self.text.see("end-1c")

    def clear(self) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.configure(state="disabled")
        self._lines = 0

    def get_text(self) -> str:
        return self.text.get("1.0", "end-1c")

    def line_count(self) -> int:
        return self._lines

    def find(self, needle: str, nocase: bool = True) -> int:
        """Highlight every match, show the first; returns the match count.

        The search runs in Python: a case-insensitive search by Tk 8.6's own Text
        widget crashes the whole process (segfault in libtcl) once the text holds a
        character outside the Basic Multilingual Plane, such as an emoji or binary that
        decodes to one.
        """
        self.text.tag_remove("found", "1.0", "end")
        if not needle:
            return 0
        pattern = re.compile(re.escape(needle), re.IGNORECASE if nocase else 0)
        count = 0
        first = None
        ranges: list[str] = []
        for row, line in enumerate(self.get_text().split("\n"), start=1):
            for match in pattern.finditer(line):
                start = f"{row}.{tk_columns(line[:match.start()])}"
                ranges += [start, f"{start}+{tk_columns(match.group())}c"]
                first = first or start
                count += 1
        if ranges:
            self.text.tag_add("found", *ranges)
        if first:
            self.follow = False
            self.text.see(first)
        return count

    def set_follow(self, follow: bool) -> None:
        self.follow = follow
        if follow:
            self.text.see("end-1c")
