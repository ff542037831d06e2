"""Persistent settings: one JSON file under the platform's config folder."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from core.paths import config_dir

TYPE_CHECKING = False  # typing is not imported at start-up (the window maps sooner)
if TYPE_CHECKING:
    from typing import Any


class Settings:
    """A small JSON-backed mapping; sections per tab (``settings.section("socket")``).

    Writes are atomic (temp file + rename) so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (config_dir() / "settings.json")
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._data = loaded
        except (OSError, ValueError):
            self._data = {}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value

    def section(self, name: str) -> dict[str, Any]:
        """A live dict for one tab's fields; saved with the rest by :meth:`save`."""
        with self._lock:
            sec = self._data.setdefault(name, {})
            if not isinstance(sec, dict):
                sec = self._data[name] = {}
            return sec

    def save(self) -> None:
        with self._lock:
            text = json.dumps(self._data, indent=2, sort_keys=True, default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only here: it pulls in shutil, random, bz2, lzma (~5 ms at start)

        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
