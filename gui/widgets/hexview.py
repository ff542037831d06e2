"""ChunkView: sent and received chunks as text, hexdump or both, flood-proof.

Records (core.transcript.Record) are queued by :meth:`ChunkView.add` and drawn at most
every ``frame_ms`` in one insert. When more arrives in a frame than the view can hold,
only the newest part is drawn (the older part would be scrolled out of the line cap at
once anyway) and one note line says what was skipped; the transcript keeps everything.
Lines are hard-split and never wrapped (LogView), so a 1 MB line costs one insert.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterable

from core.codec import display_text, hexdump
from core.transcript import IN, NOTE, OUT, Record, stamp
from gui.widgets.logview import LogView

MODES = ("text", "hex", "both")
ARROWS = {IN: "◀", OUT: "▶", NOTE: "•"}
DIRECTION_TAGS = {
    IN: {"foreground": "#1f5fbf"},
    OUT: {"foreground": "#1e7f3c"},
    NOTE: {"foreground": "#7a7a7a"},
    "meta": {"foreground": "#8a8a8a"},
    "skip": {"foreground": "#b26b00"},
}
DARK_TAGS = {IN: {"foreground": "#7fb4ff"}, OUT: {"foreground": "#7fd99a"},
             NOTE: {"foreground": "#9a9a9a"}, "meta": {"foreground": "#8a8a8a"},
             "skip": {"foreground": "#e0a040"}}


class ChunkView(LogView):
    def __init__(self, master: tk.Misc, max_lines: int = 10_000, wrap_at: int = 2048,
                 frame_ms: int = 40, **kwargs: object) -> None:
        super().__init__(master, max_lines=max_lines, wrap_at=wrap_at,
                         tags=DIRECTION_TAGS, **kwargs)  # type: ignore[arg-type]
        self.mode = "text"
        self.show_time = True
        self.show_peer = True
        self.encoding = "utf-8"
        self.frame_ms = frame_ms
        self._pending: list[Record] = []
        self._after: str | None = None
        self._offsets = {IN: 0, OUT: 0}
        self.chunks_drawn = 0
        self.chunks_skipped = 0
        self.text.configure(spacing1=1, cursor="xterm")

    def set_dark(self, dark: bool) -> None:
        for name, options in (DARK_TAGS if dark else DIRECTION_TAGS).items():
            self.text.tag_configure(name, **options)

    # -- feeding ------------------------------------------------------------------------
    def add(self, records: Iterable[Record]) -> None:
        self._pending.extend(records)
        if self._after is None and self._pending:
            self._after = self.after(self.frame_ms, self.flush)

    def flush(self) -> None:
        """Draw what is pending now (the frame timer calls this; tests may too)."""
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        pending, self._pending = self._pending, []
        if pending:
            self._draw(pending)

    def redraw(self, records: Iterable[Record]) -> None:
        """Clear and draw ``records`` again (after a mode, encoding or column change)."""
        self._pending.clear()
        self.clear()
        self._offsets = {IN: 0, OUT: 0}
        self._draw(list(records))

    # -- rendering ----------------------------------------------------------------------
    def _estimate_lines(self, record: Record) -> int:
        size = len(record.data)
        text_lines = record.data.count(b"\n") + 1 + size // self.wrap_at
        hex_lines = (size + 15) // 16 + 1
        return {"text": text_lines, "hex": hex_lines}.get(self.mode, text_lines + hex_lines)

    def _draw(self, records: list[Record]) -> None:
        budget = self.max_lines
        start = len(records)
        while start > 0 and budget > 0:
            start -= 1
            budget -= self._estimate_lines(records[start])
        if budget < 0 and start < len(records) - 1:
            start += 1  # keep at least the newest chunk, even when it alone is huge
        items: list[tuple[str, str]] = []
        if start:
            skipped = records[:start]
            for record in skipped:
                if record.direction in self._offsets:
                    self._offsets[record.direction] += len(record.data)
            size = sum(len(r.data) for r in skipped)
            items.append((f"… {len(skipped)} chunks ({size:,} bytes) came faster than they "
                          "can be shown; all are in the transcript (Save).", "skip"))
            self.chunks_skipped += len(skipped)
        for record in records[start:]:
            items.extend(self._render(record))
        self.chunks_drawn += len(records) - start
        self.append_many(items)

    def _prefix(self, record: Record) -> str:
        parts = []
        if self.show_time:
            parts.append(stamp(record.at))
        parts.append(ARROWS.get(record.direction, "•"))
        if self.show_peer and record.peer:
            parts.append(record.peer)
        return " ".join(parts)

    def _render(self, record: Record) -> list[tuple[str, str]]:
        tag = record.direction
        prefix = self._prefix(record)
        if record.direction == NOTE:
            return [(f"{prefix}  {record.data.decode('utf-8', 'replace')}", tag)]
        out: list[tuple[str, str]] = []
        if self.mode in ("text", "both"):
            text = display_text(record.data, self.encoding)
            if self.mode == "both":
                out.append((f"{prefix}  {len(record.data)} bytes", "meta"))
                out.append((text, tag))
            else:
                out.append((f"{prefix}  {text}", tag))
        if self.mode in ("hex", "both"):
            if self.mode == "hex":
                out.append((f"{prefix}  {len(record.data)} bytes", "meta"))
            offset = self._offsets[record.direction]
            if record.data:
                out.append((hexdump(record.data, offset), tag))
        self._offsets[record.direction] += len(record.data)
        return out
