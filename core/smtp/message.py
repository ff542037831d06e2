"""Build an outgoing mail from composer fields: strict address parsing, MIME assembly,
SMTP-ready bytes.

Everything a user typed is checked here before any byte goes to a server: addresses
are parsed with the modern ``email`` header parser and refused on any defect (so
``a@b@<c@d>`` never becomes a recipient), header values carrying CR or LF are refused
(header injection), and the bytes come from ``email.policy.SMTP`` (CRLF line ends).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from core.errors import UserError

#: header names a user may not set through "extra headers" (the composer owns them)
RESERVED_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "reply-to", "subject", "content-type",
    "content-transfer-encoding", "mime-version",
})
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable, no colon
_DOMAIN = re.compile(r"^(?:[^\s@.<>()\[\],;:\"\\]+\.)*[^\s@.<>()\[\],;:\"\\]+$"
                     r"|^\[[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach; type guessed from its name, size read when added."""

    path: str
    content_type: str
    size: int

    @property
    def name(self) -> str:
        return Path(self.path).name


def attachment_from_path(path: str | Path) -> Attachment:
    """Describe a file for the attachment list, or raise naming the problem."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise UserError(f"Attachment {p} cannot be read ({exc.strerror}): choose an "
                        "existing file.", "Attachments") from exc
    if not p.is_file():
        raise UserError(f"Attachment {p} is not a regular file: choose a file.", "Attachments")
    ctype, encoding = mimetypes.guess_type(p.name)
    if ctype is None or encoding is not None:  # .tar.gz is a gzip file, not a tar
        ctype = "application/gzip" if encoding == "gzip" else "application/octet-stream"
    return Attachment(str(p), ctype, size)


@dataclass(slots=True)
class MailDraft:
    """Everything the composer holds; plain data so drafts can be saved as JSON."""

    sender: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    reply_to: str = ""
    subject: str = ""
    body: str = ""
    html: str = ""
    extra_headers: str = ""
    attachments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MailDraft:
        draft = cls()
        for name in cls.__slots__:
            value = data.get(name)
            if name == "attachments":
                if isinstance(value, list):
                    draft.attachments = [str(v) for v in value]
            elif isinstance(value, str):
                setattr(draft, name, value)
        return draft


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A built message: envelope plus the exact bytes DATA will carry."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    smtputf8: bool
    eight_bit: bool
    message: EmailMessage

    @property
    def size(self) -> int:
        return len(self.data)


def _refuse_line_breaks(value: str, field_name: str) -> None:
    if "\r" in value or "\n" in value:
        raise UserError(f"{field_name} contains a line break: header fields must be one "
                        "line (a CR or LF there would inject headers). Remove it.", field_name)


def parse_addresses(value: str, field_name: str, *, allow_empty: bool = True,
                    single: bool = False) -> list[Address]:
    """Parse a comma-separated address list strictly; raise naming the field and the fix."""
    _refuse_line_breaks(value, field_name)
    text = value.strip().rstrip(",").strip()
    if not text:
        if allow_empty:
            return []
        raise UserError(f"{field_name} is empty: enter an address such as "
                        "user@example.com.", field_name)
    try:
        header = policy.default.header_factory(field_name, text)
    except (IndexError, ValueError, TypeError):  # the parser can crash on "a@"
        raise UserError(f"{field_name} is not a valid address list: {text!r}. Use "
                        "name@domain, separated by commas.", field_name) from None
    bad = [d for d in header.defects
           if "non-ASCII" not in str(d)]  # internationalised local parts are allowed
    addresses = list(getattr(header, "addresses", ()))
    if bad or not addresses:
        raise UserError(f"{field_name} is not a valid address list: {text!r} "
                        f"({bad[0] if bad else 'no address'}). Use name@domain, separated "
                        "by commas, e.g. Ann <ann@example.com>.", field_name)
    for address in addresses:
        if not address.username or not address.domain or not _DOMAIN.match(address.domain):
            raise UserError(f"{field_name}: {address.addr_spec or text!r} is not a complete "
                            "address; write it as name@domain.", field_name)
    if single and len(addresses) != 1:
        raise UserError(f"{field_name} takes one address, got {len(addresses)}.", field_name)
    return addresses


def parse_extra_headers(text: str) -> list[tuple[str, str]]:
    """``Name: value`` per line; empty lines ignored; reserved or malformed names refused."""
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _HEADER_NAME.match(name):
            raise UserError(f"Extra headers line {number} ({line!r}) is not 'Name: value' "
                            "with a name of printable characters and no spaces.",
                            "Extra headers")
        if name.lower() in RESERVED_HEADERS:
            raise UserError(f"Extra headers line {number}: {name} is set by its own field "
                            "above; remove it here.", "Extra headers")
        _refuse_line_breaks(value, "Extra headers")
        headers.append((name, value.strip()))
    return headers


def _needs_utf8(addresses: list[Address]) -> bool:
    return any(not a.addr_spec.isascii() for a in addresses)


def _normalise_eols(data: bytes) -> bytes:
    # SMTP forbids bare CR and LF; a bare "\n.\r\n" must not end DATA early
    crlf = data.count(b"\r\n")
    if data.count(b"\n") == crlf and data.count(b"\r") == crlf:
        return data  # already clean: skip a regex pass that would hold the GIL for long
    return re.sub(rb"\r\n|\r|\n", b"\r\n", data)


def build_message(draft: MailDraft, *, read_files: bool = True) -> OutgoingMail:
    """Validate the draft and build the MIME message and its SMTP bytes."""
    senders = parse_addresses(draft.sender, "From", allow_empty=False, single=True)
    to = parse_addresses(draft.to, "To")
    cc = parse_addresses(draft.cc, "Cc")
    bcc = parse_addresses(draft.bcc, "Bcc")
    reply_to = parse_addresses(draft.reply_to, "Reply-To")
    if not (to or cc or bcc):
        raise UserError("No recipient: enter at least one address in To, Cc or Bcc.", "To")
    _refuse_line_breaks(draft.subject, "Subject")
    extra = parse_extra_headers(draft.extra_headers)
    everyone = senders + to + cc + bcc + reply_to
    utf8 = _needs_utf8(everyone)

    msg = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    msg["From"] = senders
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = draft.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=senders[0].domain.encode("idna").decode()
                                   if senders[0].domain.isascii() else None)
    for name, value in extra:
        msg[name] = value
    # quoted-printable keeps non-ASCII text 7-bit clean, so no 8BITMIME is needed
    body_cte = None if draft.body.isascii() else "quoted-printable"
    msg.set_content(draft.body, cte=body_cte)
    if draft.html.strip():
        html_cte = None if draft.html.isascii() else "quoted-printable"
        msg.add_alternative(draft.html, subtype="html", cte=html_cte)
    for path in draft.attachments:
        info = attachment_from_path(path)
        maintype, subtype = info.content_type.split("/", 1)
        payload = Path(path).read_bytes() if read_files else b""
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=info.name)

    try:
        data = msg.as_bytes()
    except (UnicodeError, ValueError) as exc:
        raise UserError(f"The message could not be encoded ({exc}); check the header "
                        "fields for unusual characters.", "Subject") from exc
    data = _normalise_eols(data)
    recipients = tuple(a.addr_spec for a in to + cc + bcc)
    return OutgoingMail(
        sender=senders[0].addr_spec, recipients=recipients, data=data, smtputf8=utf8,
        eight_bit=utf8 or not data.isascii(), message=msg,
    )


def total_attachment_size(paths: list[str]) -> int:
    """Sum of file sizes (files that vanished count as 0; build_message reports them)."""
    total = 0
    for path in paths:
        try:
            total += Path(path).stat().st_size
        except OSError:
            pass
    return total
