"""What the lab mail sink received: records, a bounded in-memory store, optional mbox.

The store is what the SMTP tab's Inbox shows; it is shared between the sink's asyncio
thread (writer) and the Tk thread (reader), hence the lock and the immutable records.
"""

from __future__ import annotations

import itertools
import mailbox
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from core.events import Event

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MailPart:
    """One attachment (or inline non-text part) of a received message."""

    filename: str
    content_type: str
    size: int
    index: int  # position among the message's attachments, for payload()


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One message as the sink received it: envelope, session facts and raw bytes."""

    id: int
    received_at: float
    peer: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    auth_user: str = ""
    tls: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def footprint(self) -> int:
        """Bytes the record holds, envelope included (20,000 long RCPTs are not free)."""
        return (len(self.data) + len(self.mail_from) + len(self.peer) + len(self.auth_user)
                + sum(len(r) + 56 for r in self.rcpt_tos))  # + a str object's own size

    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)  # type: ignore[return-value]

    def _head(self) -> EmailMessage:
        # only the header block: parsing a 30 MB body to read a Subject is wasted work
        end = self.data.find(b"\r\n\r\n")
        head = self.data if end < 0 else self.data[:end + 4]
        return BytesParser(policy=policy.default).parsebytes(  # type: ignore[return-value]
            head, headersonly=True)

    def headers(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in self._head().items()]

    def header(self, name: str) -> str:
        return str(self._head().get(name, ""))

    def bodies(self) -> tuple[str, str]:
        """(plain text, HTML) of the message; either may be empty."""
        msg = self.message()
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        return (_text_of(plain), _text_of(html))

    def attachments(self) -> list[MailPart]:
        parts = []
        for index, part in enumerate(self.message().iter_attachments()):
            payload = part.get_payload(decode=True) or b""
            parts.append(MailPart(part.get_filename() or f"part-{index + 1}",
                                  part.get_content_type(), len(payload), index))
        return parts

    def attachment_payload(self, index: int) -> bytes:
        for i, part in enumerate(self.message().iter_attachments()):
            if i == index:
                return part.get_payload(decode=True) or b""
        raise IndexError(f"message {self.id} has no attachment {index}")

    def view(self, source_limit: int = 2_000_000) -> MailView:
        """Everything the Inbox shows, parsed once (slow for big mail: call off the Tk
        thread). Never raises: a message the parser cannot take (1,000 nested
        multiparts exhaust the recursion limit) comes back as its source and a note."""
        try:
            return self._parsed_view(source_limit)
        except Exception as exc:  # the email package raises many kinds on hostile mail
            reason = ("its parts nest too deeply" if isinstance(exc, RecursionError)
                      else f"{type(exc).__name__}: {exc}")
            return MailView(record=self, headers=self._safe_headers(),
                            plain=f"(This message could not be parsed: {reason}. "
                                  "Its source is shown as received.)",
                            html="", attachments=[], source=self.source_text(source_limit))

    def _safe_headers(self) -> list[tuple[str, str]]:
        try:
            return self.headers()
        except Exception:  # same as view(): the headers alone may be beyond parsing
            return []

    def _parsed_view(self, source_limit: int) -> MailView:
        msg = self.message()
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        parts = []
        payloads = []
        for index, part in enumerate(msg.iter_attachments()):
            payload = part.get_payload(decode=True) or b""
            payloads.append(payload)
            parts.append(MailPart(part.get_filename() or f"part-{index + 1}",
                                  part.get_content_type(), len(payload), index))
        return MailView(record=self, headers=[(n, str(v)) for n, v in msg.items()],
                        plain=_text_of(plain), html=_text_of(html), attachments=parts,
                        source=self.source_text(source_limit), payloads=tuple(payloads))

    def source_text(self, limit: int = 2_000_000) -> str:
        """Raw source for display, cut at ``limit`` characters (a 25 MB mail would not fit)."""
        text = self.data[:limit].decode("utf-8", "replace")
        if len(self.data) > limit:
            text += f"\n[… {len(self.data) - limit:,} more bytes not shown]"
        return text


@dataclass(frozen=True, slots=True)
class MailView:
    """A parsed message ready for display; attachment bytes already decoded."""

    record: MailRecord
    headers: list[tuple[str, str]]
    plain: str
    html: str
    attachments: list[MailPart]
    source: str
    payloads: tuple[bytes, ...] = ()


def _text_of(part: EmailMessage | None) -> str:
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailReceived(Event):
    """The sink stored a message."""

    record_id: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str = ""
    size: int = 0


@dataclass
class MailStore:
    """Received messages, newest last; the oldest go when the count or byte cap is hit."""

    max_messages: int = 500
    max_bytes: int = 256 * 1024 * 1024
    mbox_path: Path | None = None
    _records: list[MailRecord] = field(default_factory=list)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *, peer: str, mail_from: str, rcpt_tos: list[str] | tuple[str, ...],
            data: bytes, auth_user: str = "", tls: bool = False) -> MailRecord:
        """Keep a message: in the mbox (when set) and the Inbox, or in neither (raises
        OSError when the mbox cannot be written, so a retry cannot duplicate it)."""
        record = MailRecord(id=next(_ids), received_at=time.time(), peer=peer,
                            mail_from=mail_from, rcpt_tos=tuple(rcpt_tos), data=data,
                            auth_user=auth_user, tls=tls)
        with self._lock:
            if self.mbox_path is not None:
                self._append_mbox(record)  # first: if it fails, nothing was kept
            self._records.append(record)
            self._bytes += record.footprint
            while self._records and (len(self._records) > self.max_messages
                                     or self._bytes > self.max_bytes) and len(self._records) > 1:
                self._bytes -= self._records.pop(0).footprint
        return record

    def _append_mbox(self, record: MailRecord) -> None:
        assert self.mbox_path is not None
        self.mbox_path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(str(self.mbox_path))
        try:
            box.lock()
            # the From_ line carries the envelope sender as UTF-8 bytes (an SMTPUTF8
            # sender is not ASCII), as Postfix's local delivery writes it; mailbox
            # copies a message's own leading "From " line verbatim
            sender = "".join(ch for ch in record.mail_from if ch.isprintable() and ch != " ")
            stamp = time.asctime(time.gmtime(record.received_at))
            from_line = f"From {sender or 'MAILER-DAEMON'} {stamp}\n".encode()
            box.add(from_line + record.data.replace(b"\r\n", b"\n"))
            box.flush()
        finally:
            box.unlock()
            box.close()

    def all(self) -> list[MailRecord]:
        with self._lock:
            return list(self._records)

    def get(self, record_id: int) -> MailRecord | None:
        with self._lock:
            return next((r for r in self._records if r.id == record_id), None)

    def remove(self, record_id: int) -> bool:
        with self._lock:
            for i, record in enumerate(self._records):
                if record.id == record_id:
                    self._bytes -= record.footprint
                    del self._records[i]
                    return True
        return False

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
