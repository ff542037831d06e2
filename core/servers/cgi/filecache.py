"""Contents of small static files, kept while their identity and timestamps stay the same.

The key is what the path walk already learnt from ``lstat`` (inode, size, mtime in ns), so
a hit costs no system call at all, and any change to the file — rewrite, replace, touch —
is a new key: stale content is never served. Files changed in the last two seconds are
not kept, so coarse file-system timestamps cannot hide a change either.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

FileKey = tuple[str, int, int, int, int]
#: files modified more recently than this are read afresh every time
_SETTLE_NS = 2_000_000_000


def file_key(path: str, info: os.stat_result) -> FileKey:
    return (path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class SmallFileCache:
    """A byte-bounded LRU of file contents."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024, max_file: int = 64 * 1024) -> None:
        self.max_bytes = max_bytes
        self.max_file = max_file
        self._entries: OrderedDict[FileKey, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: FileKey) -> bytes | None:
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def put(self, key: FileKey, data: bytes) -> None:
        if len(data) > self.max_file or len(data) != key[3]:
            return  # too big, or the file changed while it was read
        if time.time_ns() - key[4] < _SETTLE_NS:
            # "racily clean" (as git calls it): on a file system with coarse timestamps a
            # second rewrite within the same tick and of the same size would keep this key
            return
        with self._lock:
            if key in self._entries:
                return
            # an older version of the same path is dead weight now
            for old in [k for k in self._entries if k[0] == key[0]]:
                self._size -= len(self._entries.pop(old))
            self._entries[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._size
