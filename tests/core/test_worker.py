from __future__ import annotations

import threading

from core.errors import UserError
from core.events import Callback, Failed, LogLine
from core.worker import Outbox, Worker, deliver, drain, new_source


def test_on_done_gets_the_result_when_the_outbox_is_delivered() -> None:
    worker = Worker("w")
    ran_on: list[str] = []
    results: list[tuple[int, str]] = []
    worker.submit(lambda: ran_on.append(threading.current_thread().name) or 42,
                  on_done=lambda result: results.append(
                      (result, threading.current_thread().name)))
    assert worker.join(5)
    assert results == []  # nothing runs on the worker: the callback waits in the outbox
    (event,) = drain(worker.outbox)
    assert isinstance(event, Callback)
    assert deliver([event]) == []
    here = threading.current_thread().name
    assert results == [(42, here)] and ran_on and ran_on[0] != here


def test_on_error_gets_the_sentence_and_on_done_is_not_called() -> None:
    worker = Worker("w")
    done: list[object] = []
    errors: list[str] = []

    def refuse() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    worker.submit(refuse, on_done=done.append, on_error=errors.append)
    assert worker.join(5)
    assert deliver(drain(worker.outbox)) == []
    assert done == [] and len(errors) == 1
    assert errors[0].startswith("Connection refused") and "Traceback" not in errors[0]


def test_describe_chooses_the_sentence() -> None:
    worker = Worker("w")
    errors: list[str] = []
    worker.submit(int, "x", on_error=errors.append,
                  describe=lambda exc: f"Count must be a number, got {exc.args[0][-3:]}.")
    assert worker.join(5)
    deliver(drain(worker.outbox))
    assert errors == ["Count must be a number, got 'x'."]


def test_without_on_error_exceptions_become_failed_events_with_the_field() -> None:
    worker = Worker("w")

    def refuse() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    def bad_field() -> None:
        raise UserError("Port must be 1–65535, got 70000.", "Port")

    worker.submit(refuse)
    worker.submit(bad_field)
    assert worker.join(5)
    failures = sorted((e for e in drain(worker.outbox) if isinstance(e, Failed)),
                      key=lambda e: e.message)
    assert [f.field_name for f in failures] == ["", "Port"]
    assert failures[0].message.startswith("Connection refused")
    assert "70000" in failures[1].message


def test_callbacks_keep_their_place_among_the_outbox_events() -> None:
    worker = Worker("w")
    order: list[str] = []
    gate = threading.Event()

    def work() -> str:
        worker.post(LogLine(source="w", text="step"))
        gate.wait(5)
        return "done"

    worker.submit(work, on_done=order.append)
    worker.post(LogLine(source="w", text="before"))
    gate.set()
    assert worker.join(5)
    worker.post(LogLine(source="w", text="after"))
    rest = deliver(drain(worker.outbox))
    assert order == ["done"]
    assert {e.text for e in rest} == {"step", "before", "after"}  # type: ignore[attr-defined]


def test_an_outbox_notifies_after_every_put() -> None:
    outbox = Outbox()
    seen: list[int] = []
    outbox.notify = lambda: seen.append(outbox.qsize())
    outbox.put(LogLine(text="a"))
    outbox.put(LogLine(text="b"))
    assert seen == [1, 2]  # called after the event is in the queue
    outbox.notify = None
    outbox.put(LogLine(text="c"))
    assert seen == [1, 2] and len(drain(outbox)) == 3


def test_sources_are_unique() -> None:
    assert new_source("socket") != new_source("socket")


def test_busy_and_join() -> None:
    worker = Worker("w")
    gate = threading.Event()
    worker.submit(gate.wait)
    assert worker.busy()
    assert not worker.join(0.05)
    gate.set()
    assert worker.join(5)
    assert drain(worker.outbox) == []
