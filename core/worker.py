"""Blocking work on threads; results and errors become events in an outbox queue.

The Tk thread never waits here: it calls :meth:`Worker.submit`, which returns at once,
and later drains :attr:`Worker.outbox` (see ``gui/bridge.py``).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from core.errors import describe_error
from core.events import Event, Failed, TaskDone

log = logging.getLogger(__name__)

Outbox = queue.SimpleQueue  # SimpleQueue: put() is reentrant and never blocks

_ids = itertools.count(1)


def new_source(prefix: str) -> str:
    """A unique source id such as ``socket-3`` for events of one session."""
    return f"{prefix}-{next(_ids)}"


class Worker:
    """Runs callables on daemon threads and posts what they produce to ``outbox``.

    A callable that raises posts :class:`Failed` with a user-facing sentence; one that
    returns posts :class:`TaskDone` carrying the result (unless ``quiet``).
    """

    def __init__(self, source: str, outbox: queue.SimpleQueue[Event] | None = None) -> None:
        self.source = source
        self.outbox: queue.SimpleQueue[Event] = outbox if outbox is not None else Outbox()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def post(self, event: Event) -> None:
        self.outbox.put(event)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        task: str = "",
        quiet: bool = False,
        on_error: Callable[[BaseException], str] | None = None,
    ) -> threading.Thread:
        """Run ``fn(*args)`` on a new thread; return the thread (already started)."""
        name = task or getattr(fn, "__name__", "task")

        def run() -> None:
            try:
                result = fn(*args)
            except Exception as exc:  # every failure must reach the tab, not stderr
                log.debug("task %s failed", name, exc_info=True)
                message = on_error(exc) if on_error else describe_error(exc)
                self.post(Failed(source=self.source, message=message,
                                 field_name=getattr(exc, "field_name", "")))
            else:
                if not quiet:
                    self.post(TaskDone(source=self.source, task=name, result=result))
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"{self.source}:{name}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def busy(self) -> bool:
        with self._lock:
            return bool(self._threads)

    def join(self, timeout: float = 1.0) -> bool:
        """Wait up to ``timeout`` seconds in total; True when every task has ended."""
        import time

        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.busy()


def drain(outbox: queue.SimpleQueue[Event], limit: int = 1_000_000) -> list[Event]:
    """Everything currently queued (at most ``limit``), without blocking. For tests/CLI."""
    out: list[Event] = []
    while len(out) < limit:
        try:
            out.append(outbox.get_nowait())
        except queue.Empty:
            break
    return out
