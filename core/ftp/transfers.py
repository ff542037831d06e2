"""The transfer queue: downloads and uploads on their own connection, one at a time.

Each item is a frozen :class:`TransferItem`; every change replaces it and posts a
:class:`TransferUpdated`, at most ten per second per item while bytes flow, so a view can
draw progress bars without drowning. A download writes ``NAME.part`` and renames it on
completion; an interrupted or cancelled one keeps the ``.part`` and resumes with REST.
An upload resumes with REST+STOR (or APPE when the server lacks REST STREAM). When the
target exists the queue asks (:class:`OverwriteQuestion`) and waits for :meth:`answer`.
"""

from __future__ import annotations

import ftplib
import itertools
import os
import posixpath
import queue
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import UserError
from core.events import Event, LogLine
from core.ftp.client import FtpConnection, TransferCancelled, TransferInterrupted
from core.ftp.guards import check_argument, local_component, safe_local_path
from core.ftp.options import FtpOptions
from core.ftp.session import LOG_LEVELS, friendly_error
from core.recording import Recording
from core.worker import Outbox, new_source

DOWNLOAD, UPLOAD = "download", "upload"
QUEUED, WAITING, RUNNING, DONE, FAILED, CANCELLED, SKIPPED = (
    "queued", "waiting", "running", "done", "failed", "cancelled", "skipped")
FINISHED = (DONE, FAILED, CANCELLED, SKIPPED)
#: answers to an overwrite question
OVERWRITE, RESUME, SKIP = "overwrite", "resume", "skip"
PROGRESS_INTERVAL = 0.1  # at most 10 progress events per second

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class TransferItem:
    id: int
    direction: str
    remote_path: str
    local_path: Path
    size: int | None = None
    done: int = 0
    state: str = QUEUED
    error: str = ""
    resumable: bool = False
    binary: bool = True
    policy: str = ""  # "" = ask when the target exists; or OVERWRITE / RESUME / SKIP
    rate: float = 0.0
    folder: bool = False

    @property
    def name(self) -> str:
        return posixpath.basename(self.remote_path) if self.direction == DOWNLOAD \
            else self.local_path.name

    @property
    def eta(self) -> float | None:
        if self.size is None or self.rate <= 0 or self.state != RUNNING:
            return None
        return max(0.0, (self.size - self.done) / self.rate)

    @property
    def fraction(self) -> float:
        if not self.size:
            return 1.0 if self.state == DONE else 0.0
        return min(1.0, self.done / self.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferUpdated(Event):
    item: TransferItem


@dataclass(frozen=True, slots=True, kw_only=True)
class OverwriteQuestion(Event):
    item: TransferItem
    existing_size: int | None


def part_path(final: Path) -> Path:
    return final.with_name(final.name + ".part")


class TransferQueue:
    """See the module docstring. Methods return at once; work runs on one thread."""

    def __init__(self, options: FtpOptions, outbox: queue.SimpleQueue[Event] | None = None,
                 source: str | None = None, recording: Recording | None = None) -> None:
        self.options = options.validated()
        #: completed transfers are added here for "Show as Python" (the browsing session's)
        self.recording = recording
        self.source = source or new_source("ftp-transfers")
        self.outbox: queue.SimpleQueue[Event] = outbox if outbox is not None else Outbox()
        self.items: dict[int, TransferItem] = {}
        self._order: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancels: dict[int, threading.Event] = {}
        self._thread: threading.Thread | None = None
        self.conn: FtpConnection | None = None

    # -- public API -------------------------------------------------------------------
    def add_download(self, remote_path: str, local_folder: Path, *, size: int | None = None,
                     binary: bool = True, folder: bool = False, policy: str = "") -> int:
        check_argument(remote_path, "Remote path")
        local = safe_local_path(local_folder, posixpath.basename(remote_path.rstrip("/")))
        return self._add(TransferItem(id=next(_ids), direction=DOWNLOAD,
                                      remote_path=remote_path, local_path=local,
                                      size=None if folder else size,
                                      binary=binary, folder=folder, policy=policy))

    def add_upload(self, local_path: Path, remote_folder: str, *, binary: bool = True,
                   policy: str = "", folder: bool | None = None,
                   size: int | None = None) -> int:
        """Queue an upload. A caller that already listed the item (the local pane) passes
        ``folder`` and ``size`` so no disk call happens here, on the caller's thread."""
        local_path = Path(local_path)
        name = local_path.name
        check_argument(name, "Local file name")
        check_argument(remote_folder, "Remote folder")
        if folder is None:
            folder = local_path.is_dir()
            size = None if folder else local_path.stat().st_size
        return self._add(TransferItem(id=next(_ids), direction=UPLOAD,
                                      remote_path=posixpath.join(remote_folder or "/", name),
                                      local_path=local_path,
                                      size=None if folder else size, binary=binary,
                                      folder=folder, policy=policy))

    def cancel(self, item_id: int) -> None:
        with self._lock:
            item = self.items.get(item_id)
            if item is None or item.state in FINISHED:
                return
            if item.state in (QUEUED, WAITING):
                self._set(item_id, state=CANCELLED, resumable=item.done > 0)
                return
            self._cancels.setdefault(item_id, threading.Event()).set()
            if item.folder and self.conn is not None:
                self.conn.abort_io()  # a folder walk may wait on a slow LIST: wake it

    def resume(self, item_id: int) -> None:
        """Queue a failed or cancelled item again; it continues from where it stopped."""
        with self._lock:
            item = self.items.get(item_id)
            if item is None or item.state not in (FAILED, CANCELLED):
                return
            self._set(item_id, state=QUEUED, error="", policy=RESUME)
        self._kick()

    def answer(self, item_id: int, choice: str) -> None:
        """Reply to an :class:`OverwriteQuestion`: overwrite, resume or skip."""
        if choice not in (OVERWRITE, RESUME, SKIP):
            raise UserError(f"Answer must be overwrite, resume or skip, not {choice!r}.")
        with self._lock:
            item = self.items.get(item_id)
            if item is None or item.state != WAITING:
                return
            if choice == SKIP:
                self._set(item_id, state=SKIPPED)
                return
            self._set(item_id, state=QUEUED, policy=choice)
        self._kick()

    def clear_finished(self) -> None:
        with self._lock:
            for item_id in [i for i in self._order if self.items[i].state in (DONE, SKIPPED)]:
                self._order.remove(item_id)
                del self.items[item_id]

    def snapshot(self) -> list[TransferItem]:
        with self._lock:
            return [self.items[i] for i in self._order]

    def idle(self) -> bool:
        with self._lock:
            return all(self.items[i].state not in (QUEUED, RUNNING) for i in self._order)

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        with self._lock:
            for event in self._cancels.values():
                event.set()
            if self._cancels and self.conn is not None:
                self.conn.abort_io()  # closing ends a blocked read now, not at its timeout
        self._wake.set()
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout)  # the thread QUITs its own connection
        self._thread = None

    # -- bookkeeping ------------------------------------------------------------------
    def _append(self, item: TransferItem) -> None:
        with self._lock:
            self.items[item.id] = item
            self._order.append(item.id)
        self.outbox.put(TransferUpdated(source=self.source, item=item))

    def _add(self, item: TransferItem) -> int:
        self._append(item)
        self._kick()
        return item.id

    def _set(self, item_id: int, **changes: object) -> TransferItem:
        """Replace an item (caller may hold the lock) and post the new state."""
        item = replace(self.items[item_id], **changes)
        self.items[item_id] = item
        self.outbox.put(TransferUpdated(source=self.source, item=item))
        return item

    def _update(self, item_id: int, **changes: object) -> TransferItem:
        with self._lock:
            return self._set(item_id, **changes)

    def _kick(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"{self.source}:queue",
                                            daemon=True)
            self._thread.start()
        self._wake.set()

    def _next(self) -> TransferItem | None:
        with self._lock:
            for item_id in self._order:
                if self.items[item_id].state == QUEUED:
                    self._cancels[item_id] = threading.Event()
                    return self._set(item_id, state=RUNNING, rate=0.0)
        return None

    def _log(self, direction: str, text: str) -> None:
        # the transfer connection shares the protocol log: mark its lines apart
        prefix = "[transfer] " + {">": "> ", "<": "< "}.get(direction, "* ")
        self.outbox.put(LogLine(source=self.source, text=prefix + text,
                                level=LOG_LEVELS.get(direction, "info")))

    # -- the worker thread ------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._next()
            if item is None:
                self._wake.clear()
                if not self._wake.wait(self.options.keepalive):
                    self._keepalive()
                continue
            self._process(item)
        if self.conn is not None:
            self.conn.quit()
            self.conn = None

    def _keepalive(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.noop()
        except Exception:
            self.conn.close()
            self.conn = None

    def _connection(self) -> FtpConnection:
        if self.conn is None or not self.conn.connected:
            conn = FtpConnection(self.options, self._log)
            conn.connect()
            self.conn = conn
        return self.conn

    def _process(self, item: TransferItem) -> None:
        cancel = self._cancels[item.id]
        try:
            conn = self._connection()
            if item.folder:
                self._expand(conn, item, _FolderBudget(self.options.max_folder_entries,
                                                       cancel))
            elif item.direction == DOWNLOAD:
                self._download(conn, item, cancel)
            else:
                self._upload(conn, item, cancel)
        except TransferCancelled:
            done = self.items[item.id].done
            self._update(item.id, state=CANCELLED, resumable=done > 0, rate=0.0)
        except Exception as exc:
            if cancel.is_set():
                if self.conn is not None:  # ABOR went wrong: the control channel is suspect
                    self.conn.close()
                    self.conn = None
                self._update(item.id, state=CANCELLED, resumable=True, rate=0.0)
            else:
                self._failed(item, exc)
        finally:
            with self._lock:
                self._cancels.pop(item.id, None)

    def _failed(self, item: TransferItem, exc: BaseException) -> None:
        refused = isinstance(exc, ftplib.error_perm | UserError) and not isinstance(
            exc, TransferInterrupted)
        if not refused and self.conn is not None:
            # the connection is in an unknown state after a network failure: start afresh
            self.conn.close()
            self.conn = None
        message = str(exc) if isinstance(exc, UserError) else friendly_error(exc, item.name)
        done = self.items[item.id].done
        resumable = not refused and not item.folder
        if resumable and done:
            message += " Press Resume to continue from there."
        self._update(item.id, state=FAILED, error=message, resumable=resumable, rate=0.0)

    def _ask(self, item: TransferItem, existing_size: int | None) -> bool:
        """True when the item must wait for the user's answer."""
        if item.policy:
            return False
        self._update(item.id, state=WAITING)
        self.outbox.put(OverwriteQuestion(source=self.source, item=self.items[item.id],
                                          existing_size=existing_size))
        return True

    def _progress(self, item_id: int, start: int):  # -> Callable[[int], None]
        started = time.monotonic()
        last = [0.0]
        total = [start]

        def on_bytes(n: int) -> None:
            total[0] += n
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                elapsed = max(now - started, 1e-6)
                self._update(item_id, done=total[0], rate=(total[0] - start) / elapsed)
            else:
                with self._lock:  # keep the count exact between events, post nothing
                    self.items[item_id] = replace(self.items[item_id], done=total[0])

        return on_bytes

    # -- downloads ---------------------------------------------------------------------
    def _download(self, conn: FtpConnection, item: TransferItem, cancel: threading.Event
                  ) -> None:
        final = item.local_path
        part = part_path(final)
        if final.exists() and item.policy not in (OVERWRITE, RESUME):
            if item.policy == SKIP:
                self._update(item.id, state=SKIPPED)
                return
            if self._ask(item, final.stat().st_size):
                return
        size = item.size
        if size is None:
            try:
                size = conn.size(item.remote_path)
            except ftplib.error_perm:
                size = None
        rest = part.stat().st_size if part.exists() and item.binary else 0
        if size is not None and rest > size:
            rest = 0  # the remote file shrank: the .part is not a prefix of it
        item = self._update(item.id, size=size, done=rest)
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "ab" if rest else "wb") as f:
            conn.retrieve(item.remote_path, f.write, rest=rest, binary=item.binary,
                          on_bytes=self._progress(item.id, rest), cancel=cancel,
                          expected=size)
        os.replace(part, final)
        got = final.stat().st_size
        if self.recording is not None:
            self.recording.add("download", remote=item.remote_path, local=final.name)
        self._update(item.id, state=DONE, done=got, size=size if size is not None else got,
                     resumable=False)

    # -- uploads -----------------------------------------------------------------------
    def _remote_size(self, conn: FtpConnection, path: str) -> int | None:
        try:
            return conn.size(path)
        except ftplib.error_perm:
            return None

    def _upload(self, conn: FtpConnection, item: TransferItem, cancel: threading.Event
                ) -> None:
        existing = self._remote_size(conn, item.remote_path)
        rest = 0
        if existing is not None:
            if item.policy == SKIP:
                self._update(item.id, state=SKIPPED)
                return
            if item.policy == RESUME and item.binary:
                rest = min(existing, item.size or 0)
            elif item.policy != OVERWRITE and self._ask(item, existing):
                return
        item = self._update(item.id, done=rest)
        append = rest > 0 and "REST" not in conn.features
        with open(item.local_path, "rb") as f:
            f.seek(rest)
            conn.store(item.remote_path, f, rest=rest, append=append,
                       binary=item.binary, on_bytes=self._progress(item.id, rest),
                       cancel=cancel)
        if self.recording is not None:
            self.recording.add("upload", local=str(item.local_path), remote=item.remote_path)
        self._update(item.id, state=DONE, done=item.size or 0, resumable=False)

    # -- folders -------------------------------------------------------------------------
    def _expand(self, conn: FtpConnection, item: TransferItem, budget: _FolderBudget
                ) -> None:
        """A folder item becomes its files (queued behind it) and local/remote folders."""
        if item.direction == DOWNLOAD:
            added = self._expand_download(conn, item.remote_path, item.local_path, item,
                                          budget)
        else:
            added = self._expand_upload(conn, item.local_path, item.remote_path, item, budget)
        note = f"{added} files queued"
        if budget.left <= 0:
            note += (f"; stopped after {budget.limit:,} entries (the Folder entry "
                     "limit; raise it in the FTP options to get more)")
            self._log("!", f"{item.name}: {note}")
        self._update(item.id, state=DONE, error=note, resumable=False)

    def _expand_download(self, conn: FtpConnection, remote: str, local: Path,
                         item: TransferItem, budget: _FolderBudget, depth: int = 0) -> int:
        if depth > 32:
            raise UserError(f"{remote} is nested more than 32 folders deep; stopped there.")
        budget.check()
        local.mkdir(parents=True, exist_ok=True)
        added = 0
        for entry in conn.listing(remote):
            if entry.is_raw:
                continue
            if not budget.take():
                break
            try:
                name = local_component(entry.name)
                check_argument(entry.name, "Remote name")
            except UserError as exc:
                self._log("!", str(exc))
                continue
            remote_child = posixpath.join(remote, entry.name)
            if entry.is_dir:
                added += self._expand_download(conn, remote_child, local / name, item,
                                               budget, depth + 1)
            elif entry.kind in ("file", "link"):
                self._append(TransferItem(
                    id=next(_ids), direction=DOWNLOAD, remote_path=remote_child,
                    local_path=safe_local_path(local, entry.name), size=entry.size,
                    binary=item.binary, policy=item.policy))
                added += 1
        return added

    def _expand_upload(self, conn: FtpConnection, local: Path, remote: str,
                       item: TransferItem, budget: _FolderBudget) -> int:
        budget.check()
        try:
            conn.mkd(remote)
        except ftplib.error_perm:
            pass  # already there: uploads go into it
        added = 0
        for path in sorted(local.iterdir()):
            if not budget.take():
                break
            check_argument(path.name, "Local file name")
            remote_child = posixpath.join(remote, path.name)
            if path.is_dir() and not path.is_symlink():
                added += self._expand_upload(conn, path, remote_child, item, budget)
            elif path.is_file():
                self._append(TransferItem(
                    id=next(_ids), direction=UPLOAD, remote_path=remote_child,
                    local_path=path, size=path.stat().st_size, binary=item.binary,
                    policy=item.policy))
                added += 1
        return added


class _FolderBudget:
    """How many more entries a folder walk may visit, and whether it was cancelled."""

    def __init__(self, limit: int, cancel: threading.Event) -> None:
        self.limit = self.left = limit
        self.cancel = cancel

    def check(self) -> None:
        if self.cancel.is_set():
            raise TransferCancelled()

    def take(self) -> bool:
        """Count one entry; False once the limit is reached (the walk stops)."""
        self.check()
        self.left -= 1
        return self.left >= 0
