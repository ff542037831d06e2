"""The controller contract every embedded server follows.

``start()`` binds and returns once the server is ready, or raises
:class:`ServerStartError` with a sentence such as "Port 8000 is in use". ``stop()``
returns within about a second with every thread joined. While running, a ticker posts
:class:`~core.events.ServerStats` once a second to ``outbox``.

Serving threads run their loop through :meth:`ServerController.guarded`: an exception
that would end one silently is logged with its traceback, the server is stopped (its
sockets closed, so clients are refused rather than left hanging) and
:class:`~core.events.ServerCrashed` carries the reason to the Servers tab and to
``wirebench serve``, which exits non-zero. A server is never "listening" while dead.
"""

from __future__ import annotations

import errno
import logging
import queue
import resource
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from core.errors import UserError, describe_error
from core.events import Event, LogLine, ServerCrashed, ServerStarted, ServerStats, ServerStopped
from core.worker import Outbox

_logger = logging.getLogger("wirebench.servers")


class ServerStartError(UserError):
    """The server could not start; the message says why and what to change."""


def bind_error(exc: OSError, host: str, port: int) -> ServerStartError:
    """Translate a bind() failure into a ServerStartError naming the port."""
    if exc.errno == errno.EADDRINUSE:
        return ServerStartError(
            f"Port {port} on {host} is in use: stop the other server or choose another port.",
            "Port",
        )
    if exc.errno == errno.EACCES:
        return ServerStartError(
            f"Port {port} needs root: choose a port above 1023.", "Port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return ServerStartError(
            f"Host {host} is not an address of this machine: use 127.0.0.1 or one of its own.",
            "Host",
        )
    return ServerStartError(describe_error(exc, f"binding {host}:{port}"), "Host")


def raise_open_files_limit() -> int:
    """Lift the soft open-files limit (RLIMIT_NOFILE) to the hard one; the new soft limit.

    A distribution's soft limit is often 1024, so a server holding a thousand idle
    clients would fail accept() with EMFILE and serve nobody; nginx's
    worker_rlimit_nofile and systemd's own services raise it the same way.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard and (hard == resource.RLIM_INFINITY or soft < hard):
        # an unlimited hard limit is not a valid soft one on Linux: cap it at 1M fds
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            return soft
    return soft


class ServerController(ABC):
    """Base of every embedded server (echo, CGI, lab FTP/SMTP/telnet/DNS)."""

    #: short machine name, e.g. ``"echo-tcp"``; unique among lab peers
    kind: str = "server"
    #: human title for the Servers tab, e.g. ``"Echo (TCP, threaded)"``
    title: str = "Server"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        outbox: queue.SimpleQueue[Event] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.outbox: queue.SimpleQueue[Event] = outbox if outbox is not None else Outbox()
        self.connections = 0
        self.total_connections = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.requests = 0
        self._counter_lock = threading.Lock()
        self._ticker_stop = threading.Event()
        self._ticker: threading.Thread | None = None
        #: limit name -> (when last logged, hits not logged since)
        self._limit_logged: dict[str, tuple[float, int]] = {}
        #: why the server died ("" while it runs or after a clean stop)
        self.crash_reason = ""
        self._after_crash: threading.Thread | None = None

    # -- the contract -------------------------------------------------------------------
    @abstractmethod
    def _start(self) -> None:
        """Bind and begin serving; set ``self.port`` to the bound port. Raise on failure."""

    @abstractmethod
    def _stop(self, timeout: float) -> None:
        """Stop serving and join every thread within ``timeout``."""

    @property
    @abstractmethod
    def running(self) -> bool: ...

    @property
    def address(self) -> str:
        """Where clients connect, e.g. ``127.0.0.1:7000`` (or a UNIX path)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def describe(self) -> str:
        """One line for the Servers tab: credentials, root folder, modes."""
        return ""

    def start(self) -> str:
        if self._after_crash is not None:  # the crashed run must be fully stopped first
            self._after_crash.join(5.0)
            self._after_crash = None
        if self.running:
            return self.address
        raise_open_files_limit()
        self.crash_reason = ""
        try:
            self._start()
        except ServerStartError:
            raise
        except OSError as exc:
            raise bind_error(exc, self.host, self.port) from exc
        self.post(ServerStarted(source=self.kind, kind=self.kind, address=self.address))
        self.log(f"{self.title} listening on {self.address}")
        self._ticker_stop.clear()
        self._ticker = threading.Thread(target=self._tick, name=f"{self.kind}:stats", daemon=True)
        self._ticker.start()
        return self.address

    def stop(self, timeout: float = 1.0) -> None:
        self._ticker_stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout)
            self._ticker = None
        was_running = self.running
        self._stop(timeout)
        if was_running:
            self.post(ServerStopped(source=self.kind, kind=self.kind))
            self.log(f"{self.title} stopped")

    # -- crashes -----------------------------------------------------------------------
    def guarded(self, target: Callable[..., object], *, fatal: bool = True
                ) -> Callable[..., None]:
        """``target`` wrapped for a thread: an exception that escapes it is logged with its
        cause; with ``fatal`` (the serving loop) the whole server is reported as crashed
        and stopped. A per-connection thread passes ``fatal=False``: its client is lost,
        the server goes on."""

        def run(*args: object, **kwargs: object) -> None:
            try:
                target(*args, **kwargs)
            except Exception as exc:  # reported, never silent
                if fatal:
                    self.crashed(exc)
                else:
                    _logger.error("%s: a connection thread failed", self.title, exc_info=exc)
                    self.log(f"a connection failed: {_reason(exc)}", "error")

        return run

    def crashed(self, exc: BaseException) -> None:
        """Report the server as dead (log, event) and stop it from another thread."""
        if self.crash_reason:
            return  # one report per crash: several threads may fail together
        self.crash_reason = _reason(exc)
        _logger.error("%s on %s crashed", self.title, self.address, exc_info=exc)
        self.log(f"{self.title} crashed: {self.crash_reason}", "error")
        self.post(ServerCrashed(source=self.kind, kind=self.kind, reason=self.crash_reason))
        self._ticker_stop.set()
        # _stop joins the serving threads, the failing one included: not from itself
        self._after_crash = threading.Thread(target=self._stop, args=(1.0,), daemon=True,
                                             name=f"{self.kind}:after-crash")
        self._after_crash.start()

    # -- helpers for subclasses -------------------------------------------------------
    def post(self, event: Event) -> None:
        self.outbox.put(event)

    def log(self, text: str, level: str = "info") -> None:
        # control characters from the network never reach a log verbatim
        safe = "".join(ch if ch.isprintable() or ch == "\t" else repr(ch)[1:-1] for ch in text)
        self.post(LogLine(source=self.kind, text=safe, level=level))

    def log_limit(self, limit: str, text: str, every: float = 5.0) -> None:
        """Log that ``limit`` was hit, at most once per ``every`` seconds per limit (a
        flood must not become a log flood); the line says how many hits went unlogged."""
        now = time.monotonic()
        last, missed = self._limit_logged.get(limit, (-every, 0))
        if now - last < every:
            self._limit_logged[limit] = (last, missed + 1)
            return
        self._limit_logged[limit] = (now, 0)
        more = f" (and {missed} more since the last report)" if missed else ""
        self.log(f"{text} [{limit}]{more}", "warning")

    def count(self, *, bytes_in: int = 0, bytes_out: int = 0, requests: int = 0,
              opened: int = 0, closed: int = 0) -> None:
        with self._counter_lock:
            self.bytes_in += bytes_in
            self.bytes_out += bytes_out
            self.requests += requests
            self.connections += opened - closed
            self.total_connections += opened

    def stats(self) -> ServerStats:
        with self._counter_lock:
            return ServerStats(
                source=self.kind, kind=self.kind, connections=self.connections,
                total_connections=self.total_connections, bytes_in=self.bytes_in,
                bytes_out=self.bytes_out, requests=self.requests,
            )

    def _tick(self) -> None:
        while not self._ticker_stop.wait(1.0):
            self.post(self.stats())

    def __enter__(self) -> ServerController:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _reason(exc: BaseException) -> str:
    """``KeyError: 'x'``: the exception's type and message, one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
