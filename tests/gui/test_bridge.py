"""The bridge: the one route into Tk. Floods arrive in order while timers keep firing,
a put wakes Tk without waiting for the poll, worker callbacks run on the Tk thread, and
no other module watches a file descriptor for Tk."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import gui
from core.events import DataReceived, Event, LogLine
from core.worker import Outbox, Worker
from gui.bridge import Bridge, Wakeup

GUI = Path(gui.__file__).resolve().parent
#: a poll interval no test waits for: what arrives came through the wake-up pipe
NEVER_MS = 3_600_000


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


def test_a_put_from_another_thread_wakes_tk_without_the_poll(app, wait_until) -> None:
    bridge = Bridge(app.root, interval_ms=NEVER_MS)
    assert bridge.wakeup.active  # X11 Tk watches file descriptors
    outbox = Outbox()
    got: list[Event] = []
    bridge.attach(outbox, got.extend)
    try:
        sender = threading.Thread(target=lambda: outbox.put(LogLine(source="t", text="hi")))
        sender.start()
        sender.join()
        wait_until(lambda: got, message="the put did not wake the bridge")
        assert [e.text for e in got] == ["hi"]  # type: ignore[attr-defined]
    finally:
        bridge.close()
    assert outbox.notify is None  # a closed bridge is no longer woken


def test_wakes_coalesce_into_one_until_tk_has_run(app, wait_until) -> None:
    woken: list[int] = []
    wakeup = Wakeup(app.root, lambda: woken.append(1))
    try:
        threads = [threading.Thread(target=wakeup.notify) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_until(lambda: woken)
        app.root.update()  # had more than one byte been written, a second wake ran here
        assert woken == [1]
        wakeup.notify()  # once Tk ran the handler, the next notify wakes it again
        wait_until(lambda: len(woken) == 2)
    finally:
        wakeup.close()
    wakeup.notify()  # after close: nothing to write to, no error


def test_submit_callbacks_run_on_the_tk_thread_in_order(app, wait_until) -> None:
    bridge = Bridge(app.root, interval_ms=NEVER_MS)
    worker = Worker("bridge-test")
    seen: list[tuple[str, object, str]] = []
    bridge.attach(worker.outbox, lambda events: seen.extend(
        ("event", e.text, threading.current_thread().name) for e in events))  # type: ignore[attr-defined]

    def work() -> int:
        worker.post(LogLine(source="w", text="progress"))
        return 42

    def refuse() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    def on_done(result: int) -> None:
        seen.append(("done", result, threading.current_thread().name))

    def on_error(message: str) -> None:
        seen.append(("error", message, threading.current_thread().name))

    try:
        worker.submit(work, on_done=on_done, on_error=on_error)
        wait_until(lambda: any(kind == "done" for kind, *_ in seen))
        worker.submit(refuse, on_done=on_done, on_error=on_error)
        wait_until(lambda: any(kind == "error" for kind, *_ in seen))
    finally:
        bridge.close()
        worker.join(5)
    tk_thread = threading.current_thread().name
    assert [(kind, thread) for kind, _, thread in seen] == [
        ("event", tk_thread), ("done", tk_thread), ("error", tk_thread)]
    assert seen[0][1] == "progress" and seen[1][1] == 42
    message = str(seen[2][1])
    assert message.startswith("Connection refused") and "Traceback" not in message


def test_a_failing_callback_is_reported_and_delivery_goes_on(app, wait_until) -> None:
    bridge = Bridge(app.root, interval_ms=NEVER_MS)
    worker = Worker("bridge-test")
    got: list[Event] = []
    errors: list[BaseException] = []
    original = app.root.report_callback_exception
    app.root.report_callback_exception = lambda e, v, tb: errors.append(v)
    bridge.attach(worker.outbox, got.extend)
    try:
        worker.submit(lambda: 0, on_done=lambda result: 1 / result)
        worker.join(5)
        worker.post(LogLine(source="w", text="later"))
        wait_until(lambda: got and errors)
    finally:
        app.root.report_callback_exception = original
        bridge.close()
    assert isinstance(errors[0], ZeroDivisionError) and got[0].text == "later"  # type: ignore[attr-defined]


# -- the plan: only gui/bridge.py wakes Tk from another thread -----------------------------
WAKE_CALLS = {"createfilehandler", "deletefilehandler", "pipe", "socketpair"}


def _wake_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(GUI.parent)}:{node.lineno} calls {node.func.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in WAKE_CALLS]


def test_only_the_bridge_sets_up_a_wake_up_for_tk() -> None:
    bridge = GUI / "bridge.py"
    assert any("createfilehandler" in c for c in _wake_calls(bridge))  # the walk sees it
    offenders = [c for path in GUI.rglob("*.py") if path != bridge for c in _wake_calls(path)]
    assert offenders == []


def test_only_the_bridge_hooks_outboxes() -> None:
    """Setting ``outbox.notify`` is how Tk gets woken; nobody but the bridge does it."""
    offenders = []
    for path in GUI.rglob("*.py"):
        if path.name == "bridge.py" and path.parent == GUI:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(GUI.parent)}:{node.lineno}"
                      for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr == "notify"
                      and isinstance(node.ctx, ast.Store)]
    assert offenders == []


def test_every_outbox_the_app_drains_can_wake_it(app) -> None:  # noqa: ANN001
    """A session whose outbox cannot notify would wait for the 20 ms poll: none does."""
    from gui.app import TABS

    for *_, key in TABS:
        app.tab(key)
    subs = list(app.bridge._subs)
    assert len(subs) >= len(TABS)
    assert [type(o).__name__ for o, _ in subs if not isinstance(o, Outbox)] == []
    assert all(o.notify == app.bridge.wakeup.notify for o, _ in subs)  # type: ignore[attr-defined]
