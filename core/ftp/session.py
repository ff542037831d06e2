"""The browsing session: one control connection driven from a thread, results as events.

Every method returns at once; the work runs in order on the session's own thread and
its outcome arrives in ``outbox``. While idle, the thread sends NOOP every
``options.keepalive`` seconds so that NAT boxes and server idle timers keep the
connection open. Transfers use their own connection (``core/ftp/transfers.py``), so
browsing goes on during a long download.

:meth:`FtpSession.stop` ends the running job (a login or listing a slow server holds)
the way a transfer's Cancel does: ``abort_io`` shuts the job's sockets down, which wakes
the blocked read on the session's thread; that thread then closes the connection, drops
the jobs queued behind and says it stopped (:class:`FtpStopped`).
"""

from __future__ import annotations

import ftplib
import posixpath
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core.errors import UserError, describe_error
from core.events import Closed, Connected, Event, Failed, LogLine, StateChanged
from core.ftp.client import CleartextRefused, FtpConnection, LoginInfo
from core.ftp.guards import check_argument
from core.ftp.listing import RemoteEntry
from core.ftp.options import TLS_NONE, FtpOptions
from core.ftp.wire import FtpTimeout
from core.recording import Recording
from core.states import ConnState
from core.worker import Outbox, new_source


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpLoggedIn(Event):
    info: LoginInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpListed(Event):
    path: str
    entries: tuple[RemoteEntry, ...]
    mlsd: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpTextViewed(Event):
    path: str
    text: str
    truncated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpSizeKnown(Event):
    path: str
    size: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpCleartextQuestion(Event):
    """AUTH TLS was refused: ask the user before sending the password in clear."""

    message: str
    options: FtpOptions


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpBusy(Event):
    """The session's thread started ``task``; "" once nothing is left to do (what the
    tab's Stop button follows)."""

    task: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FtpStopped(Event):
    """The user stopped ``task``; ``closed``: the connection with it (Connect starts
    afresh), else only queued requests were dropped."""

    task: str
    closed: bool = True


LOG_LEVELS = {">": "send", "<": "recv", "!": "warn", "i": "info"}


def friendly_error(exc: BaseException, target: str = "") -> str:
    """ftplib's error_perm etc. as a sentence; network errors via describe_error."""
    if isinstance(exc, ftplib.error_perm):
        return f"The server refused{(' ' + target) if target else ''}: {str(exc).strip()}"
    if isinstance(exc, ftplib.error_temp):
        return (f"The server could not do it now{(' ' + target) if target else ''}: "
                f"{str(exc).strip()} (try again).")
    if isinstance(exc, ftplib.error_reply | ftplib.error_proto):
        return f"Unexpected server reply{(' ' + target) if target else ''}: {str(exc).strip()}"
    if isinstance(exc, EOFError):
        return "The server closed the connection; connect again."
    if isinstance(exc, FtpTimeout):  # says which reply or transfer, and the setting
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}"
    return describe_error(exc, target)


class FtpSession:
    """A browsing session; see the module docstring."""

    def __init__(self, outbox: queue.SimpleQueue[Event] | None = None,
                 source: str | None = None) -> None:
        self.source = source or new_source("ftp")
        self.outbox: queue.SimpleQueue[Event] = outbox if outbox is not None else Outbox()
        self.options: FtpOptions | None = None
        self.conn: FtpConnection | None = None
        self.cwd = ""
        self._jobs: queue.SimpleQueue[tuple[str, Callable[[], Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        #: the job on the thread now, the connection it uses and whether Stop ended it
        #: (all under ``_thread_lock``, so a Stop never lands on the job after)
        self._running: str | None = None
        self._running_conn: FtpConnection | None = None
        self._stopped = False
        #: what "Show as Python" replays (core/codegen/ftp_script.py); the transfer
        #: queue records into it too. Never holds the password.
        self.recording = Recording("ftp")

    # -- events -----------------------------------------------------------------------
    def post(self, event: Event) -> None:
        self.outbox.put(event)

    def log(self, direction: str, text: str) -> None:
        prefix = {">": "> ", "<": "< "}.get(direction, "* ")
        self.post(LogLine(source=self.source, text=prefix + text,
                          level=LOG_LEVELS.get(direction, "info")))

    @property
    def connected(self) -> bool:
        return self.conn is not None and self.conn.connected

    @property
    def busy(self) -> bool:
        """A job is running or queued (what Stop would end)."""
        with self._thread_lock:
            return self._running is not None or not self._jobs.empty()

    # -- thread -------------------------------------------------------------------------
    def _submit(self, task: str, fn: Callable[[], Any]) -> None:
        with self._thread_lock:
            self._jobs.put((task, fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run,
                                                name=f"{self.source}:control", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Runs jobs in order; NOOP when idle and connected; ends when idle and closed."""
        while True:
            keepalive = self.options.keepalive if self.options else 30.0
            try:
                job = self._jobs.get(timeout=keepalive if self.connected else 0.5)
            except queue.Empty:
                if self.connected:
                    self._keepalive()
                    continue
                with self._thread_lock:
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            if job is None:
                with self._thread_lock:
                    self._thread = None
                return
            task, fn = job
            with self._thread_lock:
                self._running, self._running_conn, self._stopped = task, self.conn, False
            self.post(FtpBusy(source=self.source, task=task))
            try:
                fn()
            except Exception as exc:  # every failure reaches the tab as a sentence
                if not self._finish_job():
                    self._fail(exc, task)
            else:
                self._finish_job()
            if self._jobs.empty():
                self.post(FtpBusy(source=self.source, task=""))

    def _finish_job(self) -> bool:
        """Clear the running job; True (and the connection closed) when Stop ended it."""
        with self._thread_lock:
            stopped, task = self._stopped, self._running
            self._running, self._running_conn, self._stopped = None, None, False
        if stopped:
            if self.conn is not None:
                self._drop(f"you stopped {task}")
            self.post(FtpStopped(source=self.source, task=task or ""))
        return stopped

    def _fail(self, exc: BaseException, task: str) -> None:
        lost = isinstance(exc, EOFError | OSError) and not isinstance(exc, UserError)
        # "connecting" names the task, not the peer: errors name the server instead
        target = (f"{self.options.host}:{self.options.port}"
                  if task == "connecting" and self.options is not None else task)
        self.post(Failed(source=self.source, message=friendly_error(exc, target),
                         field_name=getattr(exc, "field_name", "")))
        if self.conn is not None and (lost or not self.conn.connected):
            self._drop("connection lost")

    def _keepalive(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.noop()
        except Exception as exc:
            self.log("!", f"keepalive failed: {exc}")
            self._drop("the server stopped answering keepalive NOOPs")

    def _drop(self, reason: str) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.post(StateChanged(source=self.source, state=ConnState.CLOSED, detail=reason))
        self.post(Closed(source=self.source, reason=reason))

    # -- public API (returns at once) ------------------------------------------------
    def connect(self, options: FtpOptions) -> None:
        """Validate now (raises UserError naming the field), connect in the background."""
        options = options.validated()
        self.options = options
        self._submit("connecting", lambda: self._connect(options))

    def _connect(self, options: FtpOptions) -> None:
        if self.conn is not None:
            self.conn.quit()
            self.conn = None
            self.recording.end("quit")
        self.post(StateChanged(source=self.source, state=ConnState.CONNECTING,
                               detail=options.display))
        conn = FtpConnection(options, self.log)
        with self._thread_lock:
            self._running_conn = conn
            stopped = self._stopped
        try:
            if stopped:  # Stop came before there was a socket to shut
                raise EOFError("stopped")
            info = conn.connect()
        except Exception as exc:
            self.post(StateChanged(source=self.source, state=ConnState.CLOSED))
            if isinstance(exc, CleartextRefused):
                self.post(FtpCleartextQuestion(source=self.source, message=str(exc),
                                               options=options))
                return
            raise
        self.conn = conn
        self.cwd = info.cwd
        # the security actually used: a refused AUTH TLS the user agreed to go on without
        # leaves the connection in clear, and so must the script
        used = options.tls if conn.secure else "none"
        self.recording.begin("connect", host=options.host, port=options.port,
                             user=options.user, anonymous=options.anonymous, tls=used,
                             asked_tls=options.tls, verify=options.verify,
                             ca_file=options.ca_file, passive=options.passive)
        peer = f"{options.host}:{options.port}"
        self.post(Connected(source=self.source, peer=peer))
        if info.tls:
            shown = f"{options.display} ({info.tls})"
        elif options.tls != TLS_NONE:  # the user agreed to go on in clear: say so
            shown = f"{replace(options, tls=TLS_NONE).display} (cleartext — AUTH TLS refused)"
        else:
            shown = options.display
        self.post(StateChanged(source=self.source, state=ConnState.ESTABLISHED, detail=shown))
        self.post(FtpLoggedIn(source=self.source, info=info))
        self._list(self.cwd)

    def _need(self) -> FtpConnection:
        if self.conn is None:
            raise UserError("Not connected: press Connect first.", "Host")
        return self.conn

    def _list(self, path: str) -> None:
        conn = self._need()
        entries = conn.listing()
        self.recording.add("list", path="", mlsd=conn.mlsd)
        self.post(FtpListed(source=self.source, path=path, entries=tuple(entries),
                            mlsd=conn.mlsd))

    def refresh(self) -> None:
        self._submit("listing the folder", lambda: self._list(self.cwd))

    def change_dir(self, path: str) -> None:
        check_argument(path, "Path")

        def run() -> None:
            self.cwd = self._need().cwd(path)
            self.recording.add("cwd", path=self.cwd)
            self._list(self.cwd)

        self._submit(f"changing to {path}", run)

    def up(self) -> None:
        def run() -> None:
            self.cwd = self._need().up()
            self.recording.add("cwd", path=self.cwd)
            self._list(self.cwd)

        self._submit("going up", run)

    def _mutate(self, task: str, fn: Callable[[FtpConnection], object],
                step: tuple[str, dict[str, str]] | None = None) -> None:
        def run() -> None:
            fn(self._need())
            if step is not None:
                self.recording.add(step[0], **step[1])
            self._list(self.cwd)

        self._submit(task, run)

    def mkd(self, name: str) -> None:
        check_argument(name, "Folder name")
        self._mutate(f"creating {name}", lambda c: c.mkd(name), ("mkd", {"path": name}))

    def rmd(self, name: str) -> None:
        check_argument(name, "Folder name")
        self._mutate(f"removing {name}", lambda c: c.rmd(name), ("rmd", {"path": name}))

    def remove_tree(self, name: str) -> None:
        """Delete a remote folder with everything in it."""
        check_argument(name, "Folder name")
        self._mutate(f"removing {name} and its contents", lambda c: c.remove_tree(name),
                     ("remove_tree", {"path": name}))

    def delete(self, name: str) -> None:
        check_argument(name, "File name")
        self._mutate(f"deleting {name}", lambda c: c.delete(name),
                     ("delete", {"path": name}))

    def rename(self, old: str, new: str) -> None:
        check_argument(old, "Old name")
        check_argument(new, "New name")
        self._mutate(f"renaming {old}", lambda c: c.rename(old, new),
                     ("rename", {"src": old, "dst": new}))

    def size(self, name: str) -> None:
        check_argument(name, "File name")

        def run() -> None:
            size = self._need().size(name)
            self.recording.add("size", path=name)
            self.post(FtpSizeKnown(source=self.source, path=name, size=size))

        self._submit(f"asking the size of {name}", run)

    def view(self, name: str) -> None:
        check_argument(name, "File name")

        def run() -> None:
            text, cut = self._need().read_text(name)
            self.recording.add("view", path=name)
            self.post(FtpTextViewed(source=self.source,
                                    path=posixpath.join(self.cwd or "/", name),
                                    text=text, truncated=cut))

        self._submit(f"viewing {name}", run)

    def stop(self) -> bool:
        """From any thread, at once: end the running job and drop the queued ones.

        Shuts the job's sockets down (no wait, no network exchange) so its blocked read
        ends now rather than at Timeout; False when nothing was running or queued."""
        with self._thread_lock:
            dropped = self._drop_queued()
            if self._running is None:
                if dropped:
                    self.post(FtpStopped(source=self.source, task="the queued requests",
                                         closed=False))
                return dropped
            self._stopped = True
            conn = self._running_conn
        if conn is not None:
            conn.abort_io()
        return True

    def _drop_queued(self) -> bool:
        """Empty the job queue (keeping an end-of-thread mark); True when a job was in it."""
        dropped, end = False, False
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                end = True
            else:
                dropped = True
        if end:
            self._jobs.put(None)
        return dropped

    def disconnect(self) -> None:
        def run() -> None:
            if self.conn is not None:
                self.conn.quit()
                self.conn = None
                self.recording.end("quit")
                self.post(StateChanged(source=self.source, state=ConnState.CLOSED,
                                       detail="you disconnected"))
                self.post(Closed(source=self.source, reason="you disconnected"))

        self._submit("disconnecting", run)

    def close(self, timeout: float = 2.0) -> None:
        """Quit and end the thread (within ``timeout``); a job a slow server holds is
        stopped first, so closing the tab does not wait for its Timeout."""
        self.stop()
        self.disconnect()
        with self._thread_lock:
            thread = self._thread
            if thread is not None:
                self._jobs.put(None)
        if thread is not None:
            thread.join(timeout)
        if self.conn is not None:
            self.conn.close()
            self.conn = None
