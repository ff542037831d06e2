"""Directory listings from an FTP server: MLSD facts and LIST dialects, parsed into entries.

MLSD (RFC 3659) is machine-readable; LIST is whatever ``ls -l`` or IIS prints, so it is
tried against each dialect in turn (Unix, DOS/IIS). A line no dialect understands is kept
as a raw entry rather than dropped or allowed to crash the view.

Names arrive as bytes. They are decoded UTF-8 with ``surrogateescape`` so the exact bytes
go back to the server (``name``), while ``display`` shows undecodable bytes as U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ENCODING = "utf-8"
ERRORS = "surrogateescape"

#: entry kinds
FILE, DIR, LINK, OTHER, RAW = "file", "dir", "link", "other", "raw"

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def decode_wire(data: bytes) -> str:
    """Bytes from the server as a str that encodes back to the same bytes."""
    return data.decode(ENCODING, ERRORS)


def encode_wire(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)


def display_name(name: str) -> str:
    """A wire name for the screen: bad bytes become U+FFFD, control characters visible."""
    shown = encode_wire(name).decode(ENCODING, "replace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    """One listing line. ``kind`` is file/dir/link/other, or raw when nothing parsed it."""

    name: str
    kind: str
    size: int | None = None
    modified: dt.datetime | None = None
    permissions: str = ""
    target: str = ""
    raw: str = ""

    @property
    def display(self) -> str:
        return display_name(self.name)

    @property
    def is_dir(self) -> bool:
        return self.kind == DIR

    @property
    def is_raw(self) -> bool:
        return self.kind == RAW


# -- MLSD ---------------------------------------------------------------------------------
def parse_mlsd_line(line: str) -> RemoteEntry | None:
    """``type=file;size=12;modify=20240101120000; name`` → entry; cdir/pdir → None."""
    facts_part, sep, name = line.partition(" ")
    if not sep or "=" not in facts_part:
        return RemoteEntry(name=line, kind=RAW, raw=line)
    facts: dict[str, str] = {}
    for fact in facts_part.split(";"):
        key, eq, value = fact.partition("=")
        if eq:
            facts[key.strip().lower()] = value
    ftype = facts.get("type", "").lower()
    if ftype in ("cdir", "pdir"):
        return None
    kind = {"file": FILE, "dir": DIR}.get(ftype, OTHER)
    if ftype.startswith("os.unix=slink") or ftype.startswith("os.unix=symlink"):
        kind = LINK
    size = _int_or_none(facts.get("size") or facts.get("sizd"))
    modified = _mlsd_time(facts.get("modify", ""))
    perms = unix_mode_text(facts.get("unix.mode", ""), kind) or facts.get("perm", "")
    return RemoteEntry(name=name, kind=kind, size=size, modified=modified,
                       permissions=perms, raw=line)


def unix_mode_text(mode: str, kind: str = FILE) -> str:
    """MLSD's ``unix.mode=0755`` as ``ls -l`` shows it: ``-rwxr-xr-x`` (d for folders)."""
    try:
        bits = int(mode, 8)
    except ValueError:
        return ""
    text = "".join(flag if bits & (1 << (8 - i)) else "-"
                   for i, flag in enumerate("rwxrwxrwx"))
    return {DIR: "d", LINK: "l"}.get(kind, "-") + text


def _mlsd_time(value: str) -> dt.datetime | None:
    value = value.split(".")[0]
    try:
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# -- LIST: Unix ls -l ---------------------------------------------------------------------
_UNIX = re.compile(
    r"^(?P<perms>[-dlbcpsD?][-rwxsStTlL?]{9})[+@.]?\s+"
    r"(?:(?P<links>\d+)\s+)?"
    r"(?P<owner>\S+)\s+"
    r"(?:(?P<group>\S+)\s+)?"
    r"(?P<size>\d+)\s+"
    r"(?:(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}|\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})\s+(?P<isotime>\d{2}:\d{2}))"
    r" (?P<name>.+)$"
)


def parse_unix_line(line: str, now: dt.datetime | None = None) -> RemoteEntry | None:
    m = _UNIX.match(line)
    if not m:
        return None
    perms = m["perms"]
    kind = {"d": DIR, "-": FILE, "l": LINK}.get(perms[0], OTHER)
    name = m["name"]
    # the year column is right-aligned: "Jan  1  2020 name" leaves one extra space
    if m["when"] and ":" not in m["when"] and name.startswith(" "):
        name = name[1:]
    target = ""
    if kind == LINK and " -> " in name:
        name, target = name.split(" -> ", 1)
    modified = _unix_time(m, now)
    return RemoteEntry(name=name, kind=kind, size=int(m["size"]), modified=modified,
                       permissions=perms, target=target, raw=line)


def _unix_time(m: re.Match[str], now: dt.datetime | None) -> dt.datetime | None:
    try:
        if m["iso"]:
            return dt.datetime.strptime(f"{m['iso']} {m['isotime']}", "%Y-%m-%d %H:%M")
        month = _MONTHS.get(m["month"].lower())
        if month is None:
            return None
        day = int(m["day"])
        when = m["when"]
        if ":" in when:
            hour, minute = (int(x) for x in when.split(":"))
            now = now or dt.datetime.now()
            stamp = dt.datetime(now.year, month, day, hour, minute)
            # ls shows HH:MM for the last six months: a future date means last year
            if stamp > now + dt.timedelta(days=2):
                stamp = stamp.replace(year=now.year - 1)
            return stamp
        return dt.datetime(int(when), month, day)
    except ValueError:
        return None


# -- LIST: DOS / IIS ----------------------------------------------------------------------
_DOS = re.compile(
    r"^(?P<date>\d{2}-\d{2}-\d{2,4})\s+(?P<time>\d{1,2}:\d{2}\s*[AaPp][Mm])\s+"
    r"(?:(?P<dir><DIR>)|(?P<size>\d+))\s+(?P<name>.+)$"
)


def parse_dos_line(line: str) -> RemoteEntry | None:
    m = _DOS.match(line)
    if not m:
        return None
    modified = None
    for fmt in ("%m-%d-%y %I:%M%p", "%m-%d-%Y %I:%M%p"):
        try:
            modified = dt.datetime.strptime(f"{m['date']} {m['time'].replace(' ', '')}", fmt)
            break
        except ValueError:
            continue
    if m["dir"]:
        return RemoteEntry(name=m["name"], kind=DIR, modified=modified, raw=line)
    return RemoteEntry(name=m["name"], kind=FILE, size=int(m["size"]), modified=modified,
                       raw=line)


# -- whole listings -----------------------------------------------------------------------
def parse_list_line(line: str, now: dt.datetime | None = None) -> RemoteEntry | None:
    """One LIST line in any known dialect; ``total N`` → None; unknown → a raw entry."""
    stripped = line.rstrip("\r\n")
    if not stripped.strip() or re.match(r"^total\s+\d+", stripped):
        return None
    entry = parse_unix_line(stripped, now) or parse_dos_line(stripped)
    if entry is None:
        return RemoteEntry(name=stripped, kind=RAW, raw=stripped)
    if entry.name in (".", ".."):
        return None
    return entry


def parse_listing(lines: list[str], mlsd: bool, now: dt.datetime | None = None
                  ) -> list[RemoteEntry]:
    """Every entry of a listing (MLSD facts or LIST text), never raising on odd lines."""
    out: list[RemoteEntry] = []
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            continue
        entry = parse_mlsd_line(line) if mlsd else parse_list_line(line, now)
        if entry is not None and entry.name not in (".", ".."):
            out.append(entry)
    return out
