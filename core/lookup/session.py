"""The Lookup tab's core: one place that names every operation and remembers recent ones.

The work itself lives in small modules — :mod:`core.lookup.resolver` (the C resolver, bounded),
:mod:`core.lookup.services`, :mod:`core.lookup.byteorder`, :mod:`core.lookup.dns_query`,
:mod:`core.lookup.dns_trace`, :mod:`core.lookup.dns_batch` — and :class:`LookupSession` runs any of
them on a worker thread so a tab (or a script) never blocks on the network.

A tab holds one :class:`LookupSession` and calls its verbs (``session.gethostbyname(host,
on_done=...)``); what to record for "Show as Python" is decided here, not in the views.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from core.errors import UserError, describe_error
from core.events import Event, Progress
from core.lookup import byteorder, dns_batch, dns_query, dns_trace, resolver, services
from core.lookup.dns_trace import TraceStepEvent
from core.lookup.dnsnames import is_address
from core.worker import Worker, new_source

T = TypeVar("T")
Done = Callable[[T], None]
#: ``on_error(sentence, field_name)``: the view that asked shows it and marks the field
Failure = Callable[[str, str], None]

__all__ = ["LookupSession", "RecentQueries", "byteorder", "dns_batch", "dns_query",
           "dns_trace", "resolver", "services"]


class Recorder(Protocol):
    """What a session records into (``core.recording.Recording`` has this shape)."""

    def add(self, op: str, **args: Any) -> None: ...


#: a recorded step: (op, args)
Step = tuple[str, dict[str, Any]]


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
            on_error: Failure | None = None,
            record: Step | Callable[[Any], Step] | None = None) -> threading.Thread:
        """Run ``fn(*args)`` on a worker; on success add ``record`` (op, args) as a step
        (``record`` may be a function of the result, for what only the result knows).

        ``on_done(result)`` / ``on_error(sentence, field_name)`` run on the GUI thread;
        without ``on_error`` a failure is posted as :class:`~core.events.Failed`.
        """
        def work() -> T:
            result = fn(*args)
            if record is not None and self.recording is not None:
                op, step_args = record(result) if callable(record) else record
                self.recording.add(op, **step_args)
            return result

        name = getattr(fn, "__name__", "")
        if on_error is None:
            return self.worker.submit(work, on_done=on_done, name=name)
        field: list[str] = []  # set on the worker before the failure is posted

        def describe(exc: BaseException) -> str:
            field.append(getattr(exc, "field_name", ""))
            return describe_error(exc)

        def failed(message: str) -> None:
            on_error(message, field[-1] if field else "")

        return self.worker.submit(work, on_done=on_done, on_error=failed, describe=describe,
                                  name=name)

    def resolver(self, fn: Callable[..., T], *args: Any, on_done: Done[T] | None = None,
                 on_error: Failure | None = None) -> threading.Thread:
        """A socket-module function (gethostbyname, getservbyname, …), recorded as such."""
        name = getattr(fn, "__name__", "resolver")
        return self.run(fn, *args, on_done=on_done, on_error=on_error,
                        record=("resolver", {"function": name, "args": list(args)}))

    # -- verbs: the socket module's functions (origin document 2.7) -----------------------
    def machine(self, on_done: Done[tuple[str, str, str]],
                on_error: Failure | None = None) -> threading.Thread:
        """(gethostname, getfqdn, what a web server here would bind) — section 4.1."""
        return self.run(_machine, on_done=on_done, on_error=on_error)

    def gethostbyname(self, host: str, on_done: Done[str],
                      on_error: Failure | None = None) -> threading.Thread:
        return self.resolver(resolver.gethostbyname, host, on_done=on_done, on_error=on_error)

    def gethostbyname_ex(self, host: str, on_done: Done[resolver.HostEntry],
                         on_error: Failure | None = None) -> threading.Thread:
        return self.resolver(resolver.gethostbyname_ex, host, on_done=on_done,
                             on_error=on_error)

    def gethostbyaddr(self, address: str, on_done: Done[resolver.HostEntry],
                      on_error: Failure | None = None) -> threading.Thread:
        return self.resolver(resolver.gethostbyaddr, address, on_done=on_done,
                             on_error=on_error)

    def getfqdn(self, host: str, on_done: Done[str],
                on_error: Failure | None = None) -> threading.Thread:
        """This machine's name when ``host`` is blank, as ``socket.getfqdn()``."""
        args = (host,) if host.strip() else ()
        return self.resolver(resolver.getfqdn, *args, on_done=on_done, on_error=on_error)

    def getaddrinfo(self, host: str, port: str, family: str, socktype: str,
                    flags: list[str], on_done: Done[list[resolver.AddrInfo]],
                    on_error: Failure | None = None) -> threading.Thread:
        """``family``/``socktype``/``flags`` are the names the tab shows (resolver tables)."""
        port = port.strip()
        bits = 0
        for flag in flags:
            bits |= resolver.AI_FLAGS.get(flag, 0)
        step = {"function": "getaddrinfo", "args": [
            host.strip() or None, int(port) if port.isdigit() else (port or None),
            resolver.FAMILIES.get(family, 0), resolver.SOCKTYPES.get(socktype, 0), 0, bits]}
        return self.run(resolver.getaddrinfo, host, port, family, socktype, flags,
                        on_done=on_done, on_error=on_error, record=("resolver", step))

    def service_tables(self, on_done: Done[tuple[list[services.ServiceEntry],
                                                 list[services.ProtocolEntry]]],
                       on_error: Failure | None = None) -> threading.Thread:
        """/etc/services and /etc/protocols, parsed (for browsing and search)."""
        return self.run(_service_tables, on_done=on_done, on_error=on_error)

    def getservbyname(self, name: str, proto: str, on_done: Done[int],
                      on_error: Failure | None = None) -> threading.Thread:
        return self.resolver(services.getservbyname, name.strip(), proto, on_done=on_done,
                             on_error=on_error)

    def getservbyport(self, port: str, proto: str, on_done: Done[str],
                      on_error: Failure | None = None) -> threading.Thread:
        port = port.strip()
        step = {"function": "getservbyport",
                "args": [int(port) if port.isdigit() else port, proto]}
        return self.run(services.getservbyport, port, proto, on_done=on_done,
                        on_error=on_error, record=("resolver", step))

    def getprotobyname(self, name: str, on_done: Done[int],
                       on_error: Failure | None = None) -> threading.Thread:
        return self.resolver(services.getprotobyname, name.strip(), on_done=on_done,
                             on_error=on_error)

    def getprotobynumber(self, number: str, on_done: Done[str],
                         on_error: Failure | None = None) -> threading.Thread:
        # the socket module has no getprotobynumber: the script names it as left out
        number = number.strip()
        return self.run(services.getprotobynumber, number, on_done=on_done, on_error=on_error,
                        record=("resolver", {"function": "getprotobynumber", "args": [
                            int(number) if number.isdigit() else number]}))

    # byte order is arithmetic on this machine: answered at once, on the caller's thread
    def convert(self, name: str, value: str) -> byteorder.Conversion:
        """htons/ntohs/htonl/ntohl of ``value``; raises UserError naming the field."""
        conversion = byteorder.CONVERSIONS[name](value)
        self._record_now(name, [conversion.value])
        return conversion

    def address(self, name: str, text: str, family: str = "IPv4") -> byteorder.PackedAddress:
        """inet_aton/ntoa/pton/ntop of ``text``; raises UserError naming the field."""
        if name == "inet_aton":
            packed = byteorder.inet_aton(text)
        elif name == "inet_ntoa":
            packed = byteorder.inet_ntoa(text)
        elif name == "inet_pton":
            packed = byteorder.inet_pton(family, text)
        elif name == "inet_ntop":
            packed = byteorder.inet_ntop(family, text)
        else:
            raise UserError(f"Unknown address function {name!r}.", "Function")
        raw = bytes.fromhex(packed.packed_hex.replace(" ", ""))
        af = socket.AF_INET6 if packed.family == "IPv6" else socket.AF_INET
        self._record_now(name, {"inet_aton": [packed.text], "inet_ntoa": [raw],
                                "inet_pton": [af, packed.text], "inet_ntop": [af, raw]}[name])
        return packed

    def _record_now(self, function: str, args: list[Any]) -> None:
        if self.recording is not None:
            self.recording.add("resolver", function=function, args=args)

    # -- verbs: DNS --------------------------------------------------------------------
    def dns(self, request: dns_query.DnsRequest,
            on_done: Done[dns_query.DnsReply] | None = None,
            on_error: Failure | None = None) -> threading.Thread:
        reverse = request.reverse or (request.rdtype.upper() == "PTR"
                                      and is_address(request.name.strip()))

        def step(reply: dns_query.DnsReply) -> Step:
            # every transport (UDP, TCP, DoT, DoH) and option, with the server and port
            # the query actually went to
            args = {"server": reply.server, "port": reply.port,
                    "transport": request.transport, "timeout": request.timeout,
                    "recurse": request.recurse, "edns": request.edns,
                    "dnssec": request.dnssec, "cd": request.checking_disabled,
                    "verify": request.verify_tls, "ca_file": request.ca_file or None,
                    "doh_path": request.doh_path}
            if reverse:
                return "reverse", dict(args, address=request.name.strip())
            return "query", dict(args, name=request.name.strip(),
                                 rdtype=request.rdtype.upper())

        return self.run(dns_query.query, request, on_done=on_done, on_error=on_error,
                        record=step)

    def trace(self, name: str, rdtype: str, roots: str, port: int | str,
              timeout: float = 2.0, deadline: float = 30.0,
              on_done: Done[dns_trace.TraceResult] | None = None,
              on_error: Failure | None = None) -> threading.Thread:
        def on_step(step: dns_trace.TraceStep) -> None:
            self.worker.post(TraceStepEvent(source=self.source, step=step))

        def step(_result: Any) -> Step:
            return "trace", {"name": name.strip(), "rdtype": rdtype.upper(),
                             "roots": [list(pair) for pair in dns_trace.parse_roots(roots)],
                             "port": int(port), "timeout": timeout}

        return self.run(dns_trace.trace, name, rdtype, roots, port, timeout, deadline,
                        on_step, on_done=on_done, on_error=on_error, record=step)

    def batch(self, names: list[str], on_done: Done[dns_batch.BatchResult] | None = None,
              on_error: Failure | None = None, **options: Any) -> threading.Thread:
        self._cancel = threading.Event()
        cancel = self._cancel

        def on_progress(done: int, total: int) -> None:
            self.worker.post(Progress(source=self.source, done=done, total=total,
                                      label="batch"))

        def work() -> dns_batch.BatchResult:
            return dns_batch.run_batch(names, on_progress=on_progress, cancel=cancel,
                                       **options)

        def step(_result: Any) -> Step:
            server = str(options.get("server") or "") or next(
                iter(dns_query.system_nameservers()), "127.0.0.1")
            port = str(options.get("port", 53)).strip()
            return "batch", {"names": [str(n) for n in names],
                             "rdtype": str(options.get("rdtype", "A")).upper(),
                             "server": server, "port": int(port) if port.isdigit() else 53,
                             "mode": str(options.get("mode", "dns")),
                             "timeout": float(options.get("timeout", 2.0)),
                             "tries": int(options.get("tries", 2))}

        return self.run(work, on_done=on_done, on_error=on_error, record=step)

    def cancel(self) -> None:
        self._cancel.set()

    def busy(self) -> bool:
        return self.worker.busy()

    def close(self, timeout: float = 1.0) -> None:
        self._cancel.set()
        self.worker.join(timeout)


def _machine() -> tuple[str, str, str]:
    # the origin document's 4.1: what a web server starting here would bind to
    name = resolver.gethostname()
    try:
        bind = f"({name!r}, {services.getservbyname('http', 'tcp')})"
    except UserError as exc:
        bind = f"unknown: {exc}"
    return name, resolver.getfqdn(), bind


def _service_tables() -> tuple[list[services.ServiceEntry], list[services.ProtocolEntry]]:
    return services.service_table(), services.protocol_table()
