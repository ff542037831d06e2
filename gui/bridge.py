"""Drains core outboxes on the Tk thread with ``after()``, in capped, time-boxed batches.

Workers only ever ``put()``; this is the single place events cross into Tk. Each tick
takes at most ``max_events`` events or ``budget_ms`` of work, hands each subscriber its
share as one list (so views can coalesce a flood into one insert), and comes back soon
when a backlog remains — the event loop is never starved.
"""

from __future__ import annotations

import logging
import queue
import time
import tkinter as tk
from collections.abc import Callable

from core.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[list[Event]], None]


class Bridge:
    def __init__(
        self,
        root: tk.Misc,
        interval_ms: int = 20,
        max_events: int = 5000,
        budget_ms: float = 8.0,
    ) -> None:
        self.root = root
        self.interval_ms = interval_ms
        self.max_events = max_events
        self.budget_s = budget_ms / 1000.0
        self._subs: list[tuple[queue.SimpleQueue[Event], Handler]] = []
        self._after_id: str | None = None
        self._closed = False

    def attach(self, outbox: queue.SimpleQueue[Event], handler: Handler) -> None:
        """Deliver events from ``outbox`` to ``handler`` (a list per tick) on the Tk thread."""
        self._subs.append((outbox, handler))
        self._schedule(self.interval_ms)

    def detach(self, outbox: queue.SimpleQueue[Event]) -> None:
        self._subs = [(o, h) for o, h in self._subs if o is not outbox]

    def close(self) -> None:
        self._closed = True
        if self._after_id is not None:
            try:
                self.root.after_cancel(self._after_id)
            except tk.TclError:
                pass
            self._after_id = None
        self._subs.clear()

    def _schedule(self, delay: int) -> None:
        if self._closed or self._after_id is not None:
            return
        self._after_id = self.root.after(delay, self._tick)

    def _tick(self) -> None:
        self._after_id = None
        if self._closed:
            return
        backlog = self.pump()
        self._schedule(1 if backlog else self.interval_ms)

    def pump(self) -> bool:
        """One capped batch; returns True when events are still waiting."""
        deadline = time.perf_counter() + self.budget_s
        per_sub = max(1, self.max_events // max(1, len(self._subs)))
        backlog = False
        for outbox, handler in list(self._subs):
            batch: list[Event] = []
            get = outbox.get_nowait
            try:
                while len(batch) < per_sub:
                    batch.append(get())
                    # checking the clock every event costs more than the events themselves
                    if len(batch) % 256 == 0 and time.perf_counter() > deadline:
                        break
            except queue.Empty:
                pass
            else:
                backlog = True
            if batch:
                try:
                    handler(batch)
                except Exception:
                    # a broken view must not stop delivery to the others
                    self.root.report_callback_exception(*_exc_info())
            if time.perf_counter() > deadline:
                backlog = backlog or any(not o.empty() for o, _ in self._subs)
                break
        return backlog


def _exc_info():  # -> tuple
    import sys

    return sys.exc_info()
