"""The composer's autosaved draft and the log of sent messages, in the data folder.

The draft is rewritten atomically (temp file + rename) so a crash mid-save never leaves
half a JSON file; the sent log is append-only JSON lines, read back newest first.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.paths import data_dir
from core.smtp.message import MailDraft


def smtp_dir() -> Path:
    path = data_dir() / "smtp"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True, slots=True)
class SentEntry:
    at: float
    server: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    size: int
    outcome: str
    refused: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "server": self.server, "sender": self.sender,
                "recipients": list(self.recipients), "subject": self.subject,
                "size": self.size, "outcome": self.outcome, "refused": list(self.refused)}

    @classmethod
    def from_dict(cls, data: dict) -> SentEntry:
        return cls(at=float(data.get("at", 0)), server=str(data.get("server", "")),
                   sender=str(data.get("sender", "")),
                   recipients=tuple(str(r) for r in data.get("recipients", [])),
                   subject=str(data.get("subject", "")), size=int(data.get("size", 0)),
                   outcome=str(data.get("outcome", "")),
                   refused=tuple(str(r) for r in data.get("refused", [])))


class DraftStore:
    """One current draft (``draft.json``) and the sent log (``sent.jsonl``)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or smtp_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.draft_path = self.folder / "draft.json"
        self.sent_path = self.folder / "sent.jsonl"

    def save(self, draft: MailDraft) -> None:
        payload = json.dumps({"saved_at": time.time(), "draft": draft.to_dict()},
                             ensure_ascii=False, indent=1)
        fd, tmp = tempfile.mkstemp(prefix=".draft-", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
            os.replace(tmp, self.draft_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> MailDraft | None:
        """The saved draft, or None when there is none or it is unreadable."""
        try:
            data = json.loads(self.draft_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("draft"), dict):
            return None
        return MailDraft.from_dict(data["draft"])

    def discard(self) -> None:
        self.draft_path.unlink(missing_ok=True)

    def log_sent(self, entry: SentEntry) -> None:
        with self.sent_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")

    def sent(self, limit: int = 200) -> list[SentEntry]:
        """The newest ``limit`` entries, newest first; broken lines are skipped."""
        try:
            lines = self.sent_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries: list[SentEntry] = []
        for line in reversed(lines):
            try:
                entries.append(SentEntry.from_dict(json.loads(line)))
            except (ValueError, TypeError, AttributeError):
                continue
            if len(entries) >= limit:
                break
        return entries
