"""The FTP tab's local pane, off the Tk thread: list, create, rename and delete on disk.

A large or slow folder (a network mount, 100,000 files) must not freeze the window, so
every disk call runs on one short-lived worker thread, in the order asked, and results
come back as events in the tab's outbox: :class:`LocalListed` after each change, or
:class:`~core.events.Failed` with one sentence naming the item and the cause.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.events import Event, Failed

#: entries kept per listing; the rest are counted, not held (memory and sort time)
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class LocalEntry:
    name: str
    is_dir: bool
    size: int | None  # None for folders
    modified: float  # st_mtime, seconds since the epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalListed(Event):
    """The content of ``path``; ``total`` counts entries beyond :data:`MAX_ENTRIES` too."""

    path: Path
    entries: tuple[LocalEntry, ...]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.entries)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_name(name: str, what: str = "Folder name") -> str:
    """A single file or folder name, or :class:`UserError` naming the field and the fix."""
    name = name.strip()
    if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise UserError(f"{what} must be a single name without '/', got {name!r}.", what)
    return name


def scan(path: Path, limit: int = MAX_ENTRIES) -> tuple[list[LocalEntry], int]:
    """Entries of ``path`` (at most ``limit``) and how many there are; raises OSError."""
    entries: list[LocalEntry] = []
    total = 0
    with os.scandir(path) as it:
        for entry in it:
            total += 1
            if len(entries) >= limit:
                continue
            try:
                st = entry.stat()
                is_dir = entry.is_dir()
            except OSError:  # vanished or unreadable between readdir and stat: skip it
                continue
            entries.append(LocalEntry(entry.name, is_dir, None if is_dir else st.st_size,
                                      st.st_mtime))
    return entries, total


class LocalFolder:
    """The folder the local pane shows, and the file work done in it.

    Methods return at once; the work runs on a worker thread that exits when idle.
    :attr:`path` is the folder last listed successfully (updated on the worker before
    its :class:`LocalListed` is posted).
    """

    def __init__(self, outbox: queue.SimpleQueue[Event], path: Path,
                 source: str = "ftp-local") -> None:
        self.outbox = outbox
        self.source = source
        self.path = path
        self._jobs: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- verbs (any thread; they return at once) -----------------------------------------
    def refresh(self) -> None:
        self._submit(lambda: self._list(self.path))

    def change_dir(self, path: str | Path, fallback: Path | None = None) -> None:
        """Show ``path`` (relative to the current folder); if it is not a folder, say so,
        or quietly show ``fallback`` when one is given (a saved folder that is gone)."""
        target = Path(path).expanduser()

        def job() -> None:
            where = target if target.is_absolute() else self.path / target
            if where.is_dir():
                self._list(where.resolve())
            elif fallback is not None:
                self._list(fallback)
            else:
                self._fail(f"Local folder {where} does not exist: type an existing folder.")

        self._submit(job)

    def up(self) -> None:
        self._submit(lambda: self._list(self.path.parent))

    def mkdir(self, name: str) -> None:
        """Create folder ``name`` here; raises UserError at once for a bad name."""
        name = check_name(name)

        def job() -> None:
            try:
                (self.path / name).mkdir()
            except OSError as exc:
                self._fail(f"Cannot create {name}: {_reason(exc)}.")
            self._list(self.path)

        self._submit(job)

    def rename(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new`` here, never over an existing item."""
        new = check_name(new, "New name")

        def job() -> None:
            source, target = self.path / old, self.path / new
            try:
                if target.exists() or target.is_symlink():
                    self._fail(f"Cannot rename {old}: {new} already exists; choose another "
                               "name.")
                else:
                    source.rename(target)
            except OSError as exc:
                self._fail(f"Cannot rename {old}: {_reason(exc)}.")
            self._list(self.path)

        self._submit(job)

    def delete(self, names: Iterable[str]) -> None:
        """Delete files and folders (with everything in them) here; links, not targets."""
        names = list(names)

        def job() -> None:
            for name in names:
                item = self.path / name
                try:
                    if item.is_dir() and not item.is_symlink():
                        shutil.rmtree(item)
                    else:
                        item.unlink()
                except OSError as exc:
                    self._fail(f"Cannot delete {name}: {_reason(exc)}.")
            self._list(self.path)

        self._submit(job)

    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def close(self, timeout: float = 1.0) -> None:
        """Drop queued work and wait up to ``timeout`` s for the running job."""
        with self._lock:
            self._closed = True
            self._jobs.clear()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- the worker ------------------------------------------------------------------------
    def _submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"{self.source}:disk",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._thread = None  # the next submit starts a new thread
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception as exc:  # a surprise must reach the tab, not kill the worker
                self._fail(f"Local file operation failed: {exc}.")

    def _list(self, path: Path) -> None:
        try:
            entries, total = scan(path, MAX_ENTRIES)  # read now: tests lower it
        except OSError as exc:
            self._fail(f"Cannot list {path}: {_reason(exc)}.")
            return
        self.path = path
        self.outbox.put(LocalListed(source=self.source, path=path, entries=tuple(entries),
                                    total=total))

    def _fail(self, message: str) -> None:
        self.outbox.put(Failed(source=self.source, message=message))
