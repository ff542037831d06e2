from __future__ import annotations

import threading

from core.errors import UserError
from core.events import Failed, TaskDone
from core.worker import Worker, drain, new_source


def test_submit_posts_result_from_another_thread() -> None:
    worker = Worker("w")
    seen: list[str] = []
    worker.submit(lambda: seen.append(threading.current_thread().name) or 42, task="answer")
    assert worker.join(5)
    (event,) = drain(worker.outbox)
    assert isinstance(event, TaskDone) and event.result == 42 and event.task == "answer"
    assert seen and seen[0] != threading.current_thread().name


def test_exceptions_become_failed_events_with_user_sentences() -> None:
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


def test_sources_are_unique() -> None:
    assert new_source("socket") != new_source("socket")


def test_busy_and_join() -> None:
    worker = Worker("w")
    gate = threading.Event()
    worker.submit(gate.wait, quiet=True)
    assert worker.busy()
    assert not worker.join(0.05)
    gate.set()
    assert worker.join(5)
    assert drain(worker.outbox) == []
