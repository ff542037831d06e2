"""Blocking work on threads; what it returns comes back as a call on the GUI thread.

The Tk thread never waits here: it calls :meth:`Worker.submit`, which returns at once.
The result reaches ``on_done`` (an error's sentence reaches ``on_error``) as a
:class:`~core.events.Callback` in :attr:`Worker.outbox`, which ``gui/bridge.py`` runs on
the Tk thread in order with the outbox's other events (Porcupine's ``run_in_thread``).
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import describe_error
from core.events import Callback, Event, Failed

log = logging.getLogger(__name__)

T = TypeVar("T")
Notify = Callable[[], None]

_ids = itertools.count(1)


class Outbox(queue.SimpleQueue):  # type: ignore[type-arg]
    """A session's event queue: ``put()`` never blocks, and then calls :attr:`notify`.

    ``notify`` is the GUI's wake-up (``gui/bridge.py`` sets it when it attaches the
    outbox); it must be cheap and thread-safe, the bridge coalesces repeated calls.
    Without it (tests, the headless CLI) events simply wait to be drained.
    """

    notify: Notify | None = None

    def put(self, item: Event, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        notify = self.notify
        if notify is not None:
            notify()


def new_source(prefix: str) -> str:
    """A unique source id such as ``socket-3`` for events of one session."""
    return f"{prefix}-{next(_ids)}"


class Worker:
    """Runs callables on daemon threads and posts what they produce to ``outbox``.

    A callable that returns has its result passed to ``on_done``; one that raises has a
    user-facing sentence passed to ``on_error`` or, without one, posted as
    :class:`Failed` (with the exception's field name, so the tab can mark the field).
    """

    def __init__(self, source: str, outbox: Outbox | None = None) -> None:
        self.source = source
        self.outbox: Outbox = outbox if outbox is not None else Outbox()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def post(self, event: Event) -> None:
        self.outbox.put(event)

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        describe: Callable[[BaseException], str] = describe_error,
        name: str = "",
    ) -> threading.Thread:
        """Run ``fn(*args)`` on a new thread; return the thread (already started).

        ``on_done(result)`` and ``on_error(sentence)`` run later on the GUI thread;
        ``describe`` turns an exception into that sentence; ``name`` names the thread.
        """
        name = name or getattr(fn, "__name__", "task")

        def run() -> None:
            try:
                result = fn(*args)
            except Exception as exc:  # every failure must reach the tab, not stderr
                log.debug("task %s failed", name, exc_info=True)
                message = describe(exc)
                if on_error is not None:
                    self.post(Callback(source=self.source,
                                       call=functools.partial(on_error, message)))
                else:
                    self.post(Failed(source=self.source, message=message,
                                     field_name=getattr(exc, "field_name", "")))
            else:
                if on_done is not None:
                    self.post(Callback(source=self.source,
                                       call=functools.partial(on_done, result)))
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


def deliver(events: list[Event]) -> list[Event]:
    """Make the :class:`Callback` calls among ``events`` (in order); return the others.

    What the bridge does on the Tk thread, for tests and the headless CLI.
    """
    rest: list[Event] = []
    for event in events:
        if isinstance(event, Callback):
            event.call()
        else:
            rest.append(event)
    return rest
