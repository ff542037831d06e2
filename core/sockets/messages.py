"""Saved messages of the Socket tab, as Packet Sender keeps them: a name, where it goes
(mode and target), how it is typed (format, line end, encoding) and the data; import and
export as one JSON file a colleague can load."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from core.errors import UserError
from core.paths import config_dir

#: an exported file larger than this is not a message list (and is not read whole)
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_MESSAGES = 1000


@dataclass(frozen=True, slots=True)
class SavedMessage:
    name: str
    mode: str = "TCP client"  # the Socket tab's mode names
    host: str = "127.0.0.1"
    port: str = "7000"
    path: str = ""  # UNIX modes
    format: str = "text"  # "text" (escapes allowed) or "hex"
    line_ending: str = "none"
    encoding: str = "utf-8"
    data: str = ""

    @property
    def target(self) -> str:
        return self.path if self.mode.startswith("UNIX") else f"{self.host}:{self.port}"


def _from_json(raw: object, where: Path) -> list[SavedMessage]:
    if not isinstance(raw, list):
        raise UserError(f"{where} is not a list of saved messages: export one from the "
                        "Saved messages window and import that.", "File")
    known = {f.name for f in fields(SavedMessage)}
    out: list[SavedMessage] = []
    for entry in raw[:MAX_MESSAGES]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            out.append(SavedMessage(**{k: str(v) for k, v in entry.items() if k in known}))
    return out


def read_messages(path: Path) -> list[SavedMessage]:
    """The messages in an exported (or the saved) file; UserError names the problem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB: "
                            "it is not a saved-messages file.", "File")
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: choose an exported messages file.",
                        "File") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} could not be read as saved messages ({exc}).",
                        "File") from exc
    return _from_json(raw, path)


def write_messages(path: Path, messages: list[SavedMessage]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps([asdict(m) for m in messages], indent=2), "utf-8")
    os.replace(tmp, path)


class MessageStore:
    """The saved messages in ``config_dir()/socket_messages.json``, sorted by name."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (config_dir() / "socket_messages.json")

    def load(self) -> list[SavedMessage]:
        if not self.path.exists():
            return []
        return read_messages(self.path)

    def save(self, message: SavedMessage) -> None:
        """Add ``message``, replacing one of the same name."""
        if not message.name.strip():
            raise UserError("Name is empty: type a name to save the message under.", "Name")
        self._write([m for m in self.load() if m.name != message.name] + [message])

    def delete(self, name: str) -> None:
        self._write([m for m in self.load() if m.name != name])

    def import_file(self, path: Path) -> int:
        """Add the messages of an exported file (same names are replaced); the count."""
        new = read_messages(path)
        names = {m.name for m in new}
        self._write([m for m in self.load() if m.name not in names] + new)
        return len(new)

    def export_file(self, path: Path) -> int:
        messages = self.load()
        write_messages(path, messages)
        return len(messages)

    def _write(self, messages: list[SavedMessage]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_messages(self.path, sorted(messages, key=lambda m: m.name.lower())[:MAX_MESSAGES])
