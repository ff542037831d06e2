"""The bytes a telnet session has queued for the server, with caps for a peer that stops
reading.

A server can ask questions without end (terminal status queries, TTYPE SEND, option
requests) and never read the answers; each answer would then wait in memory for ever.
:class:`SendBacklog` holds what waits to be sent: automatic answers are dropped once
:data:`ANSWER_BACKLOG` bytes are unsent (said once in the log), typed input past
:data:`OUT_CAP`. Only the I/O thread sends from it; others add under :attr:`lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.events import Event, LogLine
from core.telnet.protocol import Negotiation

#: automatic answers (negotiation, TTYPE, terminal queries) wait only while the server
#: reads: past this unsent backlog they are dropped (64 KiB, a socket buffer's worth)
ANSWER_BACKLOG = 64 * 1024
#: typed bytes the server has not taken yet; past this further input is dropped
#: (16 MiB: a large paste to a slow server still fits)
OUT_CAP = 16 * 1024 * 1024
#: negotiation notes passed on per read: a server repeating TTYPE SEND 40,000 times in
#: one read would otherwise queue 80,000 events for the view
MAX_NOTES_PER_READ = 200


class SendBacklog(bytearray):
    """Bytes waiting for the socket; ``warn(text)`` says when something was dropped."""

    def __init__(self, warn: Callable[[str], None], wake: Callable[[], None]) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.answers_dropped = 0  # bytes of automatic answers dropped since the last clear
        self._warn = warn
        self._wake = wake

    def add_typed(self, payload: bytes) -> None:
        """What the user typed or pasted: queued, unless :data:`OUT_CAP` would be passed."""
        with self.lock:
            backlog = len(self)
            if backlog + len(payload) <= OUT_CAP:
                self += payload
                payload = b""
        if payload:
            self._warn(f"The server has not read the last {backlog:,} bytes sent: "
                       f"{len(payload):,} bytes of input dropped.")
        self._wake()

    def add_answer(self, payload: bytes) -> None:
        """An automatic answer: queued while the server reads, else dropped (said once)."""
        with self.lock:
            backlog = len(self)
            if backlog < ANSWER_BACKLOG:
                self += payload
                return
            first = not self.answers_dropped
            self.answers_dropped += len(payload)
        if first:
            self._warn(f"The server is not reading ({backlog:,} bytes unsent): automatic "
                       "answers to its queries are dropped from now on.")

    def answer_query(self, payload: bytes) -> None:
        """A terminal's answer from the screen thread: queued and the I/O thread woken."""
        self.add_answer(payload)
        self._wake()

    def clear(self) -> None:
        """Forget (and free) everything unsent: a new connection or the end of one."""
        with self.lock:
            del self[:]
            self.answers_dropped = 0


def thin_notes(events: list[Event], source: str) -> list[Event]:
    """``events`` with at most :data:`MAX_NOTES_PER_READ` negotiation notes, and a log
    line saying how many more there were."""
    notes = sum(isinstance(event, Negotiation) for event in events)
    if notes <= MAX_NOTES_PER_READ:
        return events
    kept: list[Event] = []
    seen = 0
    for event in events:
        if isinstance(event, Negotiation):
            seen += 1
            if seen > MAX_NOTES_PER_READ:
                continue
        kept.append(event)
    kept.append(LogLine(source=source, level="warn", text=(
        f"{notes - MAX_NOTES_PER_READ:,} more telnet negotiation messages in one read "
        "not shown: the server is repeating itself.")))
    return kept
