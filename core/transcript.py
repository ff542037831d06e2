"""A bounded record of everything a session sent and received, exportable three ways.

Each :class:`Record` keeps the time, direction, peer and the exact bytes. The transcript
drops its oldest records when it holds more than ``max_records`` or ``max_bytes`` (a
flood must not eat the machine), and says how much it dropped in every export.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.codec import display_text, hexdump

IN, OUT, NOTE = "in", "out", "note"
ARROWS = {IN: "<<", OUT: ">>", NOTE: "--"}
EXPORT_KINDS = ("text", "hexdump", "raw-in", "raw-out")


@dataclass(frozen=True, slots=True)
class Record:
    direction: str  # IN, OUT or NOTE (a line the session or user wrote, e.g. "connected")
    data: bytes
    peer: str = ""
    at: float = field(default_factory=time.time)
    #: a note that begins a connection with ``peer``: its hex offsets count from 0 again
    starts_stream: bool = False


def stamp(at: float) -> str:
    """``HH:MM:SS.mmm`` local time, the format every view and export uses."""
    return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"


def header(record: Record) -> str:
    peer = f" {record.peer}" if record.peer else ""
    return f"{stamp(record.at)} {ARROWS.get(record.direction, '--')}{peer}"


class Transcript:
    def __init__(self, max_records: int = 100_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._records: deque[Record] = deque()
        self._bytes = 0
        self.dropped_records = 0
        self.dropped_bytes = 0

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records)

    @property
    def size(self) -> int:
        return self._bytes

    def add(self, direction: str, data: bytes, peer: str = "", at: float | None = None) -> Record:
        record = Record(direction, bytes(data), peer, time.time() if at is None else at)
        self.extend([record])
        return record

    def note(self, text: str, peer: str = "") -> Record:
        return self.add(NOTE, text.encode("utf-8"), peer)

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self._records.append(record)
            self._bytes += len(record.data)
        while self._records and (len(self._records) > self.max_records
                                 or self._bytes > self.max_bytes):
            old = self._records.popleft()
            self._bytes -= len(old.data)
            self.dropped_records += 1
            self.dropped_bytes += len(old.data)

    def clear(self) -> None:
        self._records.clear()
        self._bytes = 0
        self.dropped_records = self.dropped_bytes = 0

    # -- exports ------------------------------------------------------------------------
    def _preamble(self) -> list[str]:
        if not self.dropped_records:
            return []
        return [f"-- {self.dropped_records} older chunks ({self.dropped_bytes} bytes) were "
                "dropped by the transcript limit --"]

    def as_text(self, encoding: str = "utf-8") -> str:
        """One block per chunk: time, direction, peer, then the bytes as escaped text."""
        lines = self._preamble()
        for record in self._records:
            if record.direction == NOTE:
                lines.append(f"{header(record)} {record.data.decode('utf-8', 'replace')}")
            else:
                lines.append(f"{header(record)} ({len(record.data)} bytes)")
                lines.append(display_text(record.data, encoding))
        return "\n".join(lines) + ("\n" if lines else "")

    def as_hexdump(self) -> str:
        """One block per chunk; offsets count bytes per direction, as on the wire."""
        lines = self._preamble()
        offsets = {IN: 0, OUT: 0}
        for record in self._records:
            if record.direction == NOTE:
                lines.append(f"{header(record)} {record.data.decode('utf-8', 'replace')}")
                continue
            lines.append(f"{header(record)} ({len(record.data)} bytes)")
            if record.data:
                lines.append(hexdump(record.data, offsets[record.direction]))
            offsets[record.direction] += len(record.data)
        return "\n".join(lines) + ("\n" if lines else "")

    def raw(self, direction: str, peer: str | None = None) -> bytes:
        """Exactly the bytes that went one way (optionally to/from one peer)."""
        return b"".join(r.data for r in self._records
                        if r.direction == direction and (peer is None or r.peer == peer))

    def export(self, kind: str, path: str | Path, encoding: str = "utf-8") -> int:
        """Write one of :data:`EXPORT_KINDS` to ``path``; returns the bytes written."""
        if kind == "text":
            data = self.as_text(encoding).encode("utf-8")
        elif kind == "hexdump":
            data = self.as_hexdump().encode("utf-8")
        elif kind in ("raw-in", "raw-out"):
            data = self.raw(IN if kind == "raw-in" else OUT)
        else:
            raise ValueError(f"unknown export kind {kind!r}")
        Path(path).write_bytes(data)
        return len(data)
