"""The screen thread alone: bytes in, frames of changed lines out, requests in order."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from core.events import Event
from core.telnet.screen import TerminalScreen
from core.telnet.screen_thread import ScreenThread, TerminalFrame
from tests.fixtures.waiting import wait_for


class Frames:
    def __init__(self) -> None:
        self.frames: list[TerminalFrame] = []
        self.threads: set[str] = set()
        self.replies: list[str] = []

    def post(self, event: Event) -> None:
        assert isinstance(event, TerminalFrame)
        self.threads.add(threading.current_thread().name)
        self.frames.append(event)

    def text(self) -> str:
        """The last painted text of each row."""
        rows: dict[int, str] = {}
        for frame in self.frames:
            for y, runs in frame.lines:
                rows[y] = "".join(text for text, _ in runs)
        return "\n".join(rows[y].rstrip() for y in sorted(rows))


def test_received_text_becomes_frames_posted_from_the_screen_thread() -> None:
    out = Frames()
    painter = ScreenThread("t", out.post, out.replies.append)
    painter.start(TerminalScreen(20, 4, 100), "utf-8")
    seen: list[str] = []
    painter.add_listener(seen.append)
    try:
        painter.push("héllo\r\n\x1b[31mred\x1b[0m".encode())
        wait_for(lambda: "red" in out.text())
        assert out.text().splitlines()[:2] == ["héllo", "red"]
        assert out.threads == {"t:screen"}
        assert out.frames[-1].fed >= len("héllo\r\nred")
        assert "".join(seen) == "héllo\r\nred" and painter.recent_text().endswith("red")
        painter.push(b"\x1b[6n")  # a cursor position query is answered to the peer
        wait_for(lambda: out.replies)
        assert out.replies == ["\x1b[2;4R"]
    finally:
        painter.stop(1.0)
    assert not painter.running


def test_scrolling_back_repaints_from_history_and_finish_paints_the_rest() -> None:
    out = Frames()
    painter = ScreenThread("t", out.post, out.replies.append)
    painter.start(TerminalScreen(20, 3, 100), "utf-8")
    painter.push(b"".join(b"line %d\r\n" % i for i in range(10)))
    wait_for(lambda: "line 9" in out.text())
    painter.scroll(3)
    wait_for(lambda: out.frames[-1].offset == 3)
    assert out.frames[-1].history >= 3 and not out.frames[-1].cursor_visible
    painter.push(b"last")
    painter.finish()  # the connection ended: what is pending is still painted
    wait_for(lambda: not painter.running)
    painter.scroll(-(1 << 30))  # no thread: applied at once
    assert "last" in painter.transcript_text()


def test_a_keystroke_lifts_the_frame_cap_while_the_view_keeps_up(monkeypatch) -> None:
    """After a keystroke the next frame may follow at KEY_FPS, but only once the view
    said it painted the last one; without a keystroke (a flood) the cap stays FPS."""
    from core.telnet import screen_thread as module

    clock = [1000.0]
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    out = Frames()
    painter = ScreenThread("t", out.post, out.replies.append)  # not started: no thread
    assert painter._interval() == 1 / module.FPS
    painter.keystroke()
    assert painter._interval() == 1 / module.KEY_FPS
    painter.screen.dirty.add(0)
    painter._emit_frame()  # posted, not painted yet: no frame may overtake the view
    assert out.frames and painter._interval() == 1 / module.FPS
    painter.painted()
    assert painter._interval() == 1 / module.KEY_FPS
    clock[0] += module.KEY_WINDOW + 0.01  # the window after the keystroke is over
    assert painter._interval() == 1 / module.FPS


def test_a_tick_that_posts_nothing_leaves_the_frame_clock_alone() -> None:
    """Every keystroke scrolls to the bottom; at the bottom already that tick posts no
    frame, and must not count as one: the echo arriving a moment later would wait a
    whole frame interval (it did: idle key -> echo took 4.5 ms instead of 1.5 ms)."""
    out = Frames()
    painter = ScreenThread("t", out.post, out.replies.append)
    painter.start(TerminalScreen(20, 4, 100), "utf-8")
    try:
        painter.push(b"prompt$ ")
        wait_for(lambda: "prompt$" in out.text())
        painter.painted()
        clock, frames = painter._last_frame, len(out.frames)
        done = threading.Event()
        painter.keystroke()
        painter.scroll(-(1 << 30))  # what the tab does on every key: already at the bottom
        painter.request(done.set)
        assert done.wait(5)
        wait_for(lambda: not painter._requests)
        assert len(out.frames) == frames  # nothing changed, nothing posted
        assert painter._last_frame == clock
    finally:
        painter.stop(1.0)
