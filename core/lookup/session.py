"""The Lookup tab's core: one place that names every operation and remembers recent ones.

The work itself lives in small modules — :mod:`core.lookup.resolver` (the C resolver, bounded),
:mod:`core.lookup.services`, :mod:`core.lookup.byteorder`, :mod:`core.lookup.dns_query`,
:mod:`core.lookup.dns_trace`, :mod:`core.lookup.dns_batch` — and :class:`LookupSession` runs any of
them on a worker thread so a tab (or a script) never blocks on the network.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from core.events import Event, Progress
from core.lookup import byteorder, dns_batch, dns_query, dns_trace, resolver, services
from core.lookup.dns_trace import TraceStepEvent
from core.lookup.dnsnames import is_address
from core.worker import Worker, new_source

T = TypeVar("T")
Done = Callable[[T], None]

__all__ = ["LookupSession", "RecentQueries", "byteorder", "dns_batch", "dns_query",
           "dns_trace", "resolver", "services"]


class Recorder(Protocol):
    """What a session records into (``core.recording.Recording`` has this shape)."""

    def add(self, op: str, **args: Any) -> None: ...


class RecentQueries:
    """Most recent first, no duplicates, bounded; stored as plain lists in settings."""

    def __init__(self, store: dict[str, Any], key: str = "recent", limit: int = 20) -> None:
        self.store = store
        self.key = key
        self.limit = limit

    def items(self) -> list[str]:
        value = self.store.get(self.key, [])
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    def add(self, text: str) -> list[str]:
        entry = (text or "").strip()
        if not entry:
            return self.items()
        rest = [v for v in self.items() if v != entry]
        self.store[self.key] = [entry, *rest][: self.limit]
        return self.items()


class LookupSession:
    """Runs lookups on worker threads; ``on_done(result)`` runs on the GUI thread.

    A failure arrives as :class:`~core.events.Failed` (naming the field at fault) in
    ``outbox``. Long jobs (trace, batch) also post their steps and progress as they go,
    and can be cancelled; one of each runs at a time.
    """

    def __init__(self, outbox: queue.SimpleQueue[Event] | None = None,
                 recording: Recorder | None = None) -> None:
        self.source = new_source("lookup")
        self.worker = Worker(self.source, outbox)
        self.outbox = self.worker.outbox
        self._cancel = threading.Event()
        #: where "Show as Python" steps go (a ``core.recording.Recording("dns")``)
        self.recording = recording

    def run(self, fn: Callable[..., T], *args: Any, on_done: Done[T] | None = None,
            record: tuple[str, dict[str, Any]] | None = None) -> threading.Thread:
        """Run ``fn(*args)`` on a worker; on success add ``record`` (op, args) as a step."""
        if record is None:
            return self.worker.submit(fn, *args, on_done=on_done)

        def work() -> T:
            result = fn(*args)
            if self.recording is not None:
                self.recording.add(record[0], **record[1])
            return result

        return self.worker.submit(work, on_done=on_done, name=getattr(fn, "__name__", ""))

    def resolver(self, fn: Callable[..., T], *args: Any,
                 on_done: Done[T] | None = None) -> threading.Thread:
        """A socket-module function (gethostbyname, getservbyname, …), recorded as such."""
        name = getattr(fn, "__name__", "resolver")
        return self.run(fn, *args, on_done=on_done,
                        record=("resolver", {"function": name, "args": list(args)}))

    def dns(self, request: dns_query.DnsRequest,
            on_done: Done[dns_query.DnsReply] | None = None) -> threading.Thread:
        port = int(request.port) if str(request.port or "").strip().isdigit() else 53
        server = request.server or next(iter(dns_query.system_nameservers()), "127.0.0.1")
        if request.reverse or (request.rdtype.upper() == "PTR"
                               and is_address(request.name.strip())):
            step = ("reverse", {"address": request.name.strip(), "server": server,
                                "port": port, "timeout": request.timeout})
        else:
            step = ("query", {"name": request.name.strip(), "rdtype": request.rdtype.upper(),
                              "server": server, "port": port,
                              "tcp": request.transport == "tcp",
                              "timeout": request.timeout})
        # DoT/DoH have no line in the generated script: record only what it can replay
        record = step if request.transport in ("udp", "tcp") else None
        return self.run(dns_query.query, request, on_done=on_done, record=record)

    def trace(self, name: str, rdtype: str, roots: str, port: int | str,
              timeout: float = 2.0, deadline: float = 30.0,
              on_done: Done[dns_trace.TraceResult] | None = None) -> threading.Thread:
        def on_step(step: dns_trace.TraceStep) -> None:
            self.worker.post(TraceStepEvent(source=self.source, step=step))

        return self.run(dns_trace.trace, name, rdtype, roots, port, timeout, deadline,
                        on_step, on_done=on_done)

    def batch(self, names: list[str], on_done: Done[dns_batch.BatchResult] | None = None,
              **options: Any) -> threading.Thread:
        self._cancel = threading.Event()
        cancel = self._cancel

        def on_progress(done: int, total: int) -> None:
            self.worker.post(Progress(source=self.source, done=done, total=total,
                                      label="batch"))

        def work() -> dns_batch.BatchResult:
            return dns_batch.run_batch(names, on_progress=on_progress, cancel=cancel,
                                       **options)

        return self.run(work, on_done=on_done)

    def cancel(self) -> None:
        self._cancel.set()

    def busy(self) -> bool:
        return self.worker.busy()

    def close(self, timeout: float = 1.0) -> None:
        self._cancel.set()
        self.worker.join(timeout)
