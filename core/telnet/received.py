"""Raw mode's "what was received": a capped copy of the bytes, saved or opened as a page.

The I/O thread appends; the Tk thread asks for a copy or a save (a save is a small local
file write of at most :data:`MAX_RECEIVED` bytes).
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

from core.errors import UserError

#: what "save received" keeps in raw mode
MAX_RECEIVED = 32 << 20


class ReceivedBytes:
    def __init__(self, limit: int = MAX_RECEIVED) -> None:
        self.limit = limit
        self._data = bytearray()

    def add(self, data: bytes) -> None:
        room = self.limit - len(self._data)
        if room > 0:
            self._data += data[:room]

    def clear(self) -> None:
        self._data.clear()

    def data(self) -> bytes:
        return bytes(self._data)

    def body_for_browser(self) -> bytes:
        """The received bytes, minus HTTP headers when the reply is an HTTP response."""
        data = bytes(self._data)
        if data.startswith(b"HTTP/"):
            head, sep, body = data.partition(b"\r\n\r\n")
            if not sep:
                head, sep, body = data.partition(b"\n\n")
            if sep:
                return body
        return data

    def save(self, path: str | Path) -> Path:
        path = Path(path).expanduser()
        if not self._data:
            raise UserError("Nothing received yet: connect and send a request first.",
                            "Save")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.body_for_browser())
        except OSError as exc:
            raise UserError(f"Could not save to {path}: {exc.strerror}. Choose another "
                            "folder.", "Save") from exc
        return path


def open_in_browser(path: str | Path) -> bool:
    """The document's webbrowser example: show the saved page."""
    return webbrowser.open(Path(path).resolve().as_uri())
