"""The one route from worker threads into Tk: outboxes drained on the Tk thread.

Workers only ever ``put()`` on an outbox (:class:`core.worker.Outbox`); this is the
single place events cross into Tk. Each drain takes at most ``max_events`` events or
``budget_ms`` of work, hands each subscriber its share as one list (so views can
coalesce a flood into one insert), and comes back soon when a backlog remains — the
event loop is never starved.

When does it drain? Every ``interval_ms`` with ``after()``, and at once when an outbox
is put to: :class:`Wakeup` owns one non-blocking pipe that Tk watches with
``createfilehandler`` (X11 and macOS Tk have it); a put writes one byte to it unless a
wake is already pending, so a flood costs one byte per drain, not one per event. Where
Tk cannot watch a file descriptor (Windows) the ``after()`` polling alone delivers.

:class:`~core.events.Callback` events (a worker's ``on_done``/``on_error``) are called
here, in order with the outbox's other events, instead of being handed to the tab.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable

from core.events import Callback, Event
from core.worker import Outbox

Handler = Callable[[list[Event]], None]


class Wakeup:
    """A pipe that another thread writes to and Tk watches: calls ``on_wake`` on the Tk
    thread soon after :meth:`notify`. ``active`` is False where Tk cannot watch it."""

    def __init__(self, root: tk.Misc, on_wake: Callable[[], None]) -> None:
        self._tk = root.tk
        self._on_wake = on_wake
        self._lock = threading.Lock()  # notify() never writes to a closed (reused) fd
        self._pending = False
        self._fds: tuple[int, int] | None = None
        r, w = os.pipe()
        try:
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._tk.createfilehandler(r, tk.READABLE, self._readable)
        except (AttributeError, OSError, tk.TclError):
            os.close(r)
            os.close(w)
            return
        self._fds = (r, w)

    @property
    def active(self) -> bool:
        return self._fds is not None

    def notify(self) -> None:
        """Any thread: wake the Tk thread (one byte, unless a wake is already pending)."""
        if self._pending:
            return
        with self._lock:
            if self._fds is None or self._pending:
                return
            self._pending = True
            # a full pipe means Tk has wakes to read already
            with contextlib.suppress(OSError):
                os.write(self._fds[1], b"\0")

    def _readable(self, fd: int, mask: int) -> None:
        with contextlib.suppress(OSError):
            os.read(fd, 4096)
        # cleared before the drain: a put during it wakes us again
        self._pending = False
        self._on_wake()

    def close(self) -> None:
        with self._lock:
            fds, self._fds = self._fds, None
        if fds is not None:
            with contextlib.suppress(tk.TclError):
                self._tk.deletefilehandler(fds[0])
            for fd in fds:
                os.close(fd)


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
        self.wakeup = Wakeup(root, self._woken)

    def attach(self, outbox: queue.SimpleQueue[Event], handler: Handler) -> None:
        """Deliver events from ``outbox`` to ``handler`` (a list per drain) on the Tk thread.

        An :class:`~core.worker.Outbox` also wakes the bridge whenever it is put to.
        """
        self._subs.append((outbox, handler))
        if isinstance(outbox, Outbox) and self.wakeup.active:
            outbox.notify = self.wakeup.notify
        self._schedule(self.interval_ms)

    def detach(self, outbox: queue.SimpleQueue[Event]) -> None:
        self._subs = [(o, h) for o, h in self._subs if o is not outbox]
        if isinstance(outbox, Outbox):
            outbox.notify = None

    def close(self) -> None:
        self._closed = True
        if self._after_id is not None:
            with contextlib.suppress(tk.TclError):
                self.root.after_cancel(self._after_id)
            self._after_id = None
        for outbox, _ in self._subs:
            if isinstance(outbox, Outbox):
                outbox.notify = None
        self._subs.clear()
        self.wakeup.close()

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

    def _woken(self) -> None:
        if self._closed:
            return
        if self.pump() and self._after_id is not None:
            # the backlog is drained on the next idle moment, not the next 20 ms tick
            with contextlib.suppress(tk.TclError):
                self.root.after_cancel(self._after_id)
            self._after_id = None
            self._schedule(1)

    def pump(self) -> bool:
        """One capped batch; returns True when events are still waiting."""
        deadline = time.perf_counter() + self.budget_s
        per_sub = max(1, self.max_events // max(1, len(self._subs)))
        backlog = False
        for outbox, handler in list(self._subs):
            batch: list[Event] = []
            get = outbox.get_nowait
            taken = 0
            try:
                while taken < per_sub:
                    event = get()
                    taken += 1
                    if event.__class__ is Callback:
                        # in order: what came before it first, then the call itself
                        if batch:
                            self._deliver(handler, batch)
                            batch = []
                        self._deliver(event.call)  # type: ignore[attr-defined]
                    else:
                        batch.append(event)
                    # checking the clock every event costs more than the events themselves
                    if taken % 256 == 0 and time.perf_counter() > deadline:
                        break
            except queue.Empty:
                pass
            else:
                backlog = True
            if batch:
                self._deliver(handler, batch)
            if time.perf_counter() > deadline:
                backlog = backlog or any(not o.empty() for o, _ in self._subs)
                break
        return backlog

    def _deliver(self, call: Callable[..., None], *args: object) -> None:
        try:
            call(*args)
        except Exception:
            # a broken view must not stop delivery to the others
            self.root.report_callback_exception(*sys.exc_info())
