"""The telnet session's screen thread: received text in, :class:`TerminalFrame` out.

It decodes what the I/O thread received, feeds the :class:`TerminalScreen` in batches
(so floods coalesce and can take the screen's shortcut), answers terminal queries,
feeds text listeners (automation) and the text log, and posts frames — only the lines
that changed, at most ``FPS`` per second — to the session's outbox, which wakes the GUI
through the bridge like every other event.
"""

from __future__ import annotations

import codecs
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from core.events import Event, LogLine
from core.telnet.screen import MAX_REPLY_BYTES, Run, TerminalScreen, strip_ansi

FPS = 30
#: after a keystroke, for KEY_WINDOW seconds, a frame may follow the last one as soon as
#: the view has painted it (at most KEY_FPS a second): the echo of what was typed is
#: painted when it arrives, not on the next FPS tick (up to 33 ms later), and never
#: queues behind frames the view has not caught up with; a flood nobody types into
#: stays at FPS
KEY_FPS = 250
KEY_WINDOW = 0.15
#: the I/O thread stops reading the socket while this much waits for the screen
MAX_PENDING = 8 << 20
#: the screen is fed in slices so a frame is never late by more than one slice
_FEED_SLICE = 8192

TextListener = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalFrame(Event):
    """Lines of the viewport that changed since the last frame, ready to paint."""

    lines: tuple[tuple[int, tuple[Run, ...]], ...]
    cursor: tuple[int, int]
    cursor_visible: bool
    columns: int
    rows: int
    offset: int  # lines scrolled back into history (0 = live)
    history: int  # lines available in the scrollback
    fed: int  # characters fed so far (lets a bench match an echo to its frame)
    title: str = ""


class ScreenThread:
    """Owns the screen while it runs; other threads hand it bytes and requests.

    ``post`` puts a frame on the outbox; ``reply`` sends terminal answers (bytes) back
    to the peer. Nothing here touches a socket.
    """

    def __init__(self, source: str, post: Callable[[Event], None],
                 reply: Callable[[str], None]) -> None:
        self.source = source
        self._post = post
        self._reply = reply
        self.screen = TerminalScreen()
        # inbox: received bytes and requests, under one condition
        self._cond = threading.Condition()
        # held while the screen changes; readers on other threads (transcript) take it
        # so they never see a half-updated scrollback
        self._screen_lock = threading.Lock()
        self._pending: list[bytes] = []
        self.pending_size = 0
        self._requests: list[Callable[[], None]] = []
        self._eof = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._offset = 0
        self._fed = 0
        self._listeners: list[TextListener] = []
        self._recent = ""  # tail of the plain received text (automation starts from it)
        #: called with the tail of every received text (the echo of a typed line)
        self.tail_sink: Callable[[str], None] | None = None
        #: called once the server closed and everything it sent was fed
        self.on_drained: Callable[[], None] | None = None
        self.textlog: IO[str] | None = None
        self._last_frame = 0.0  # when the last frame was posted (monotonic clock)
        self._posted = 0  # frames posted so far
        self._posted_key: tuple | None = None
        self._key_until = 0.0  # the keystroke window ends (monotonic clock)
        self._unpainted = False  # a frame was posted that the view has not painted yet
        self._told_dropped = False  # said once that query answers were dropped

    # -- lifecycle (session side) ---------------------------------------------------------
    def start(self, screen: TerminalScreen, encoding: str) -> None:
        self.screen = screen
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._pending.clear()
        self.pending_size = 0
        self._requests.clear()
        self._eof = False
        self._stop.clear()
        self._recent = ""
        self._told_dropped = False
        self._fed = self._offset = 0
        self._thread = threading.Thread(target=self._main, name=f"{self.source}:screen",
                                        daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive()

    def stop(self, timeout: float) -> None:
        """Stop at once (what is pending is dropped) and join."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def finish(self) -> None:
        """The connection ended: paint what is pending, then end."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def push(self, data: bytes) -> None:
        """Bytes to show (received, or echoed locally)."""
        with self._cond:
            self._pending.append(data)
            self.pending_size += len(data)
            self._cond.notify()

    def keystroke(self) -> None:
        """The user typed: paint what arrives next at once (see KEY_FPS)."""
        with self._cond:
            self._key_until = time.monotonic() + KEY_WINDOW
            self._cond.notify()

    def painted(self) -> None:
        """The view painted every frame posted so far (called on the GUI thread)."""
        with self._cond:
            self._unpainted = False
            self._cond.notify()

    def _interval(self) -> float:
        """Shortest time between frames now: 1/FPS, or in a keystroke window 1/KEY_FPS
        once the view has painted the last frame (a view that never says so: 1/FPS)."""
        if time.monotonic() < self._key_until and not self._unpainted:
            return 1.0 / KEY_FPS
        return 1.0 / FPS

    def request(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` with the screen to itself (scroll, resize)."""
        if not self.running:
            fn()  # no screen thread: nobody else touches the screen
            return
        with self._cond:
            self._requests.append(fn)
            self._cond.notify()

    # -- what the tab asks for ------------------------------------------------------------
    def scroll(self, delta: int) -> None:
        def apply() -> None:
            limit = len(self.screen.scrollback)
            new = max(0, min(limit, self._offset + delta))
            if new != self._offset:
                self._offset = new
                self.screen.dirty.update(range(self.screen.lines))
        self.request(apply)

    def add_listener(self, listener: TextListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: TextListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def recent_text(self) -> str:
        return self._recent

    def transcript_text(self) -> str:
        with self._screen_lock:
            screen = self.screen
            lines = screen.history_text() + [line.rstrip() for line in screen.display_text()]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines) + "\n"

    # -- the thread -----------------------------------------------------------------------
    def _main(self) -> None:
        """One tick per frame: take what arrived, feed it in one batch, paint.

        Ticks are at least 1/FPS apart (1/KEY_FPS just after a keystroke), so the view
        gets at most FPS frames a second from a flood nobody types into;
        batching a tick's input lets a flood take the screen's shortcut. Scroll and
        resize requests are applied at once but painted on the next tick.
        """
        unshown = False  # the screen changed since the last frame
        interval = 1.0 / FPS
        while True:
            with self._cond:
                while True:
                    if self._stop.is_set() or self._eof:
                        break
                    if self._requests:
                        requests, self._requests = self._requests, []
                        with self._screen_lock:
                            for request in requests:
                                request()
                        unshown = True
                    interval = self._interval()
                    left = self._last_frame + interval - time.monotonic()
                    if (self._pending or unshown) and left <= 0:
                        break
                    self._cond.wait(left if (self._pending or unshown) else 0.5)
                pending, self._pending = self._pending, []
                self.pending_size = 0
                requests, self._requests = self._requests, []
                stopped = self._stop.is_set()
                finished = self._eof or stopped
            if stopped:
                return
            with self._screen_lock:
                # the frame clock counts frames the view got: a tick that posts nothing
                # (a scroll-to-bottom at the bottom already, on every keystroke) must not
                # hold back the echo that arrives a moment later
                previous, posted = self._last_frame, self._posted
                self._last_frame = time.monotonic()  # the tick starts now
                for request in requests:
                    request()
                if pending:
                    self._feed(b"".join(pending), interval)
                self._emit_frame()
                if self._posted == posted:
                    self._last_frame = previous
                unshown = False
            if finished:
                with self._cond:
                    if not self._pending:
                        if self.on_drained is not None and not self._stop.is_set():
                            self.on_drained()
                        return

    def _feed(self, data: bytes, interval: float) -> None:
        text = self._decoder.decode(data)
        if not text:
            return
        if self.textlog is not None or self._listeners:
            plain = strip_ansi(text)
            if self.textlog is not None:
                self.textlog.write(plain.replace("\r\n", "\n").replace("\r", ""))
            for listener in list(self._listeners):
                listener(plain)
        else:
            plain = strip_ansi(text[-8192:])  # only the tail is kept
        self._recent = (self._recent + plain)[-4096:]
        if self.tail_sink is not None:
            self.tail_sink(plain[-8192:])
        screen = self.screen
        skipped = len(text)
        text = screen.flood_shortcut(text) if len(text) >= 4096 else text
        self._fed += skipped - len(text)
        for start in range(0, len(text), _FEED_SLICE):
            part = text[start:start + _FEED_SLICE]
            screen.stream.feed(part)
            self._fed += len(part)
            if time.monotonic() >= self._last_frame + min(interval, self._interval()):
                # a long batch (no shortcut) shows progress on the frame clock
                self._last_frame = time.monotonic()
                self._emit_frame()
        replies = screen.take_replies()
        if replies:
            self._reply("".join(replies))
        if screen.replies_dropped and not self._told_dropped:
            self._told_dropped = True
            self._post(LogLine(source=self.source, level="warn", text=(
                f"The server sent more than {MAX_REPLY_BYTES // 1024} KiB worth of terminal "
                "queries at once: the answers past that are dropped.")))

    def _emit_frame(self) -> None:
        screen = self.screen
        dirty = screen.take_dirty()
        offset = self._offset = min(self._offset, len(screen.scrollback))
        lines = tuple((y, tuple(screen.render_line(y, offset))) for y in sorted(dirty))
        cursor_visible = offset == 0 and not screen.cursor.hidden
        key = ((screen.cursor.x, screen.cursor.y), cursor_visible, screen.columns,
               screen.lines, offset)
        if not lines and key == self._posted_key:
            return
        self._posted_key = key
        self._posted += 1
        self._unpainted = True
        self._post(TerminalFrame(
            source=self.source, lines=lines, cursor=key[0], cursor_visible=cursor_visible,
            columns=screen.columns, rows=screen.lines, offset=offset,
            history=len(screen.scrollback), fed=self._fed, title=screen.title_text))
