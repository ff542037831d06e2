"""Typing in a telnet session, turned into wire bytes (on the caller's thread).

Character mode sends every key at once; line mode edits the line locally until Enter
(erase keys, Ctrl-U) and echoes it when the server does not. Every typed line is also
handed to :class:`~core.telnet.recorder.TypedLines` with the exact bytes sent, so "Show
as Python" replays the wire; a secret line is not echoed locally.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.telnet.recorder import TypedLines

if TYPE_CHECKING:
    from core.telnet.session import TelnetSession

ENTER = re.compile(r"(\r\n|\r|\n)")


class Keyboard:
    def __init__(self, session: TelnetSession) -> None:
        self.session = session
        self.lines = TypedLines(session.recording)
        self.line = ""  # the local line-mode buffer

    def reset(self) -> None:
        self.line = ""
        self.lines.reset()

    def type(self, text: str, record: bool = True, hide: bool = False) -> None:
        """See :meth:`TelnetSession.send_text`."""
        session = self.session
        lines = self.lines if record else None
        for part in ENTER.split(text):
            if not part:
                continue
            if lines is not None:
                lines.start_line(session.screen_thread.recent_text())
            hidden = hide or (lines is not None and lines.secret)
            if part in ("\r\n", "\r", "\n"):
                self._enter(lines, hidden)
            elif session.character_mode:
                wire = self.send(session.encode(part))
                if lines is not None:
                    for ch in part:
                        lines.typed(ch, b"")
                    lines.sent(wire)
                if session.local_echo and not hidden:
                    session.echo_locally(part)
            else:
                for ch in part:
                    self._edit(ch, lines, hidden)

    def key(self, data: str) -> None:
        """A special key's sequence (arrows, F-keys): sent at once, part of the line."""
        self.lines.start_line(self.session.screen_thread.recent_text())
        self.lines.sent(self.send(self.session.encode(data)))

    def wire_of(self, text: str) -> bytes:
        """The bytes :meth:`type` puts on the wire for ``text`` (no erase keys) now."""
        out = bytearray()
        for part in ENTER.split(text):
            if part in ("\r\n", "\r", "\n"):
                out += self.session.enter_bytes
            elif part:
                out += self.session.encode(part)
        return self.wire(bytes(out))

    def wire(self, data: bytes) -> bytes:
        """``data`` as it goes out: IAC doubled in telnet mode, as is in raw mode."""
        protocol = self.session.protocol
        return protocol.send_data(data) if protocol is not None else data

    def send(self, data: bytes) -> bytes:
        """Queue ``data`` for the wire; returns the bytes as they go out."""
        if not data:
            return b""
        payload = self.wire(data)
        self.session.queue_out(payload)
        return payload

    def _enter(self, lines: TypedLines | None, hidden: bool) -> None:
        session = self.session
        line, self.line = self.line, ""
        if session.local_echo and not hidden:
            session.echo_locally("\r\n")
        enter = self.wire(session.enter_bytes)
        wire = self.wire(session.encode(line) + session.enter_bytes)
        if lines is not None:  # recorded first: the peer may answer and close at once
            lines.enter(wire, enter, remote_echo=not session.local_echo)
        session.queue_out(wire)

    def _edit(self, ch: str, lines: TypedLines | None, hidden: bool) -> None:
        """Line mode: one character edits the local line (control keys go at once)."""
        session = self.session
        echo = session.local_echo and not hidden
        wire = b""
        if ch in "\x7f\b":
            if self.line:
                self.line = self.line[:-1]
                if echo:
                    session.echo_locally("\b \b")
        elif ch == "\x15":  # Ctrl-U erases the line
            if echo and self.line:
                session.echo_locally("\b \b" * len(self.line))
            self.line = ""
        elif ch < " " and ch != "\t":
            # control keys go through at once (Ctrl-C, Ctrl-D ...)
            wire = self.send(session.encode(ch))
        else:
            self.line += ch
            if echo:
                session.echo_locally(ch)
        if lines is not None:
            lines.typed(ch, wire)
