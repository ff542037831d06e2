"""ChunkView: sent and received chunks as text, hexdump or both, flood-proof.

Records (core.transcript.Record) are queued by :meth:`ChunkView.add` and drawn in
frames: one insert of at most ``frame_chars`` characters, so one frame stays short and
the event loop keeps breathing between slices. When more waits than could be drawn in
time (``max_pending_chars``), the oldest is dropped from the view and one note line says
so; the transcript keeps everything.
Lines are hard-split and never wrapped (LogView), so a 1 MB line costs one insert.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections import deque
from collections.abc import Callable, Iterable

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


def looks_binary(data: bytes, sample: int = 4096) -> bool:
    """More than a quarter of control bytes (tabs and line ends aside) in the first 4 KiB."""
    head = data[:sample]
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 13)) or b == 127)
    return bool(head) and controls * 4 > len(head)


class ChunkView(LogView):
    def __init__(self, master: tk.Misc, max_lines: int = 10_000, wrap_at: int = 1024,
                 frame_ms: int = 40, frame_chars: int = 160_000,
                 max_pending_chars: int = 2_400_000, **kwargs: object) -> None:
        super().__init__(master, max_lines=max_lines, wrap_at=wrap_at,
                         tags=DIRECTION_TAGS, **kwargs)  # type: ignore[arg-type]
        self.mode = "text"
        self.show_time = True
        self.show_peer = True
        self.encoding = "utf-8"
        self.frame_ms = frame_ms
        #: characters drawn per frame at most: one frame must stay well under 50 ms
        self.frame_chars = frame_chars
        #: waiting beyond this is dropped (oldest first): it could never be drawn in time
        self.max_pending_chars = max_pending_chars
        #: (record, cost, first slice?): a record too big for one frame is drawn in slices
        self._pending: deque[tuple[Record, int, bool]] = deque()
        self._pending_chars = 0
        self._skipped = [0, 0]  # chunks, bytes dropped since the last note
        self._after: str | None = None
        self._drawn_at = 0.0
        #: bytes drawn so far per (direction, peer): the next hex dump's first offset
        self._offsets: dict[tuple[str, str], int] = {}
        #: datagrams are messages of their own: each one's dump starts at offset 0
        self.per_message_offsets = False
        self.chunks_drawn = 0
        self.chunks_skipped = 0
        self.bytes_skipped = 0
        #: called with the records just drawn (benchmarks time the display with it)
        self.on_drawn: Callable[[list[Record]], None] | None = None
        self.text.configure(spacing1=1, cursor="xterm")

    def set_dark(self, dark: bool) -> None:
        for name, options in (DARK_TAGS if dark else DIRECTION_TAGS).items():
            self.text.tag_configure(name, **options)

    # -- feeding ------------------------------------------------------------------------
    def add(self, records: Iterable[Record]) -> None:
        for record in records:
            cost = self._cost(record)
            self._pending.append((record, cost, True))
            self._pending_chars += cost
        self._trim_pending()
        if self._after is None and self._pending:
            # draw soon after a quiet spell, then at most once per frame while data flows
            wait = self.frame_ms - (time.monotonic() - self._drawn_at) * 1000
            self._after = self.after(max(1, int(wait)), self._frame)

    def flush(self) -> None:
        """Draw everything pending now (tests and explicit refreshes)."""
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        while self._pending:
            self._draw_some(self.max_pending_chars)

    def redraw(self, records: Iterable[Record]) -> None:
        """Clear and draw ``records`` again (after a mode, encoding or column change)."""
        self._pending.clear()
        self._pending_chars = 0
        self._skipped = [0, 0]
        self.clear()
        self.add(records)

    def clear(self) -> None:
        super().clear()
        self._offsets.clear()

    def _frame(self) -> None:
        self._after = None
        self._draw_some(self.frame_chars)
        if self._pending:  # more waiting: the next slice right after pending UI events
            self._after = self.after(1, self._frame)

    # -- rendering ----------------------------------------------------------------------
    def _cost(self, record: Record) -> int:
        """Roughly the characters a record becomes in the current mode.

        From the size alone: in a flood this runs for every chunk, most of which are
        then dropped, so it must not scan the bytes."""
        size = len(record.data)
        text, hexed = 2 * size + 40, 5 * size + 40  # escapes/line prefixes; 78 chars per 16 B
        return {"text": text, "hex": hexed}.get(self.mode, text + hexed)

    def _trim_pending(self) -> None:
        while self._pending_chars > self.max_pending_chars and len(self._pending) > 1:
            record, cost, _ = self._pending.popleft()
            self._pending_chars -= cost
            self._skipped[0] += 1
            self._skipped[1] += len(record.data)
            self.bytes_skipped += len(record.data)
            self._advance(record)

    def _draw_some(self, budget: int) -> None:
        items: list[tuple[str, str]] = []
        if self._skipped[0]:
            chunks, size = self._skipped
            items.append((f"… {chunks} chunks ({size:,} bytes) came faster than they can be "
                          "shown; all are in the transcript (Save).", "skip"))
            self.chunks_skipped += chunks
            self._skipped = [0, 0]
        drawn: list[Record] = []
        while self._pending and (not drawn or self._pending[0][1] <= budget):
            record, cost, first = self._pending.popleft()
            self._pending_chars -= cost
            if cost > budget and len(record.data) > 4096:
                record, cost = self._slice(record, cost, budget)
            budget -= cost
            drawn.append(record)
            items.extend(self._render(record, first))
        self.chunks_drawn += len(drawn)
        if items:
            self.append_many(items)
        self._drawn_at = time.monotonic()
        if self.on_drawn is not None and drawn:
            self.on_drawn(drawn)

    def _prefix(self, record: Record) -> str:
        parts = []
        if self.show_time:
            parts.append(stamp(record.at))
        parts.append(ARROWS.get(record.direction, "•"))
        if self.show_peer and record.peer:
            parts.append(record.peer)
        return " ".join(parts)

    def _slice(self, record: Record, cost: int, budget: int) -> tuple[Record, int]:
        """Cut what fits this frame off ``record``; the rest goes back to the queue front.

        Cuts after a newline (text) or on a 16-byte row (hex) when one is near."""
        data = record.data
        cut = max(1024, int(len(data) * budget / cost))
        if self.mode == "text":
            newline = data.rfind(b"\n", 0, cut)
            if newline > cut // 2:
                cut = newline + 1
        else:
            cut -= cut % 16
        if not 0 < cut < len(data):
            return record, cost
        rest = Record(record.direction, data[cut:], record.peer, record.at)
        rest_cost = cost * len(rest.data) // len(data)
        self._pending.appendleft((rest, rest_cost, False))
        self._pending_chars += rest_cost
        return Record(record.direction, data[:cut], record.peer, record.at), cost - rest_cost

    def _render(self, record: Record, first: bool = True) -> list[tuple[str, str]]:
        """Lines for one record; a later slice of a record (``first`` False) has no header."""
        tag = record.direction
        prefix = self._prefix(record)
        if record.direction == NOTE:
            if record.starts_stream:
                for direction in (IN, OUT):
                    self._offsets.pop((direction, record.peer), None)
            return [(f"{prefix}  {record.data.decode('utf-8', 'replace')}", tag)]
        out: list[tuple[str, str]] = []
        # "both" shows binary as Packet Sender does, as the dump with its ASCII column:
        # an escaped text line of \x01\x02… above it would only repeat it, unreadably
        binary = self.mode == "both" and looks_binary(record.data)
        if self.mode in ("text", "both"):
            if self.mode == "both" and first:
                out.append((f"{prefix}  {len(record.data)} bytes" + (" (binary)" if binary
                                                                     else ""), "meta"))
            if not binary:
                text = display_text(record.data, self.encoding)
                out.append((f"{prefix}  {text}" if self.mode == "text" and first else text,
                            tag))
        if self.mode in ("hex", "both"):
            if self.mode == "hex" and first:
                out.append((f"{prefix}  {len(record.data)} bytes", "meta"))
            key = (record.direction, record.peer)
            if self.per_message_offsets and first:
                self._offsets[key] = 0  # a new datagram (its later slices continue)
            offset = self._offsets.get(key, 0)
            if record.data:
                out.append((hexdump(record.data, offset), tag))
        self._advance(record)
        return out

    def _advance(self, record: Record) -> None:
        if record.direction in (IN, OUT):
            key = (record.direction, record.peer)
            self._offsets[key] = self._offsets.get(key, 0) + len(record.data)
