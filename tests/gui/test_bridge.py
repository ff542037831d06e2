"""The bridge under a flood: every event arrives, in order, and timers keep firing."""

from __future__ import annotations

import threading
import time

from core.events import DataReceived, Event
from core.worker import Outbox
from gui.bridge import Bridge


def test_100k_events_from_a_worker_reach_the_handler_while_timers_fire(app,
                                                                       wait_until) -> None:
    root = app.root
    bridge = Bridge(root)
    outbox = Outbox()
    received: list[int] = []
    batches: list[int] = []

    def handler(events: list[Event]) -> None:
        batches.append(len(events))
        received.extend(int(e.peer) for e in events)  # type: ignore[attr-defined]

    ticks: list[float] = []

    def ticker() -> None:
        ticks.append(time.monotonic())
        if len(received) < 100_000:
            root.after(10, ticker)

    bridge.attach(outbox, handler)
    root.after(10, ticker)

    def flood() -> None:
        for i in range(100_000):
            outbox.put(DataReceived(source="flood", data=b"x", peer=str(i)))

    sender = threading.Thread(target=flood)
    sender.start()
    wait_until(lambda: len(received) == 100_000, timeout=120)
    sender.join()
    bridge.close()
    assert received == list(range(100_000))
    assert max(batches) <= bridge.max_events
    assert len(batches) > 1  # it was spread over several ticks
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert gaps and max(gaps) < 1.0, f"event loop starved for {max(gaps):.2f} s"


def test_a_failing_handler_does_not_stop_the_others(app, wait_until) -> None:
    bridge = Bridge(app.root)
    bad, good = Outbox(), Outbox()
    got: list[Event] = []
    errors: list[BaseException] = []
    original = app.root.report_callback_exception
    app.root.report_callback_exception = lambda e, v, tb: errors.append(v)
    try:
        bridge.attach(bad, lambda events: 1 / 0)
        bridge.attach(good, got.extend)
        bad.put(Event(source="bad"))
        good.put(Event(source="good"))
        wait_until(lambda: got and errors)
    finally:
        app.root.report_callback_exception = original
        bridge.close()
    assert isinstance(errors[0], ZeroDivisionError) and got[0].source == "good"


def test_detach_and_close_stop_delivery(app) -> None:
    bridge = Bridge(app.root)
    outbox = Outbox()
    got: list[Event] = []
    bridge.attach(outbox, got.extend)
    bridge.detach(outbox)
    outbox.put(Event(source="x"))
    bridge.pump()
    assert got == []
    bridge.close()
    assert bridge._after_id is None
