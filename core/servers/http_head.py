"""Read an HTTP/1.x request head with hard limits, and a body of a declared length.

Shared by the CGI server (core/servers/cgi/) and the lab DNS server's DoH endpoint
(core/servers/dns/secure.py), so there is one reader to harden. The stdlib reader allows
64 KiB per line and 100 headers of 64 KiB each; a server that must stay responsive under
abuse wants far less, and a single error status per limit: 414 for a long request line,
431 for too many or too large headers, 400 for garbage, 413 for a body over the cap.

``rfile`` is anything with ``readline(limit)`` and ``read(size)`` like a binary file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

_METHOD = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")


class HttpError(Exception):
    """A request the server answers with ``status`` and closes."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status} {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """Bounds on what one request may cost the server."""

    max_request_line: int = 8192
    max_header_bytes: int = 32768
    max_headers: int = 100
    max_body: int = 8 * 1024 * 1024


@dataclass(slots=True)
class RequestHead:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    #: lower-cased name -> every value, in order
    by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: bytes the head took on the wire (request line, headers, blank line)
    size: int = 0

    def __post_init__(self) -> None:
        for name, value in self.headers:
            self.by_name.setdefault(name.lower(), []).append(value)

    def header(self, name: str) -> str | None:
        values = self.by_name.get(name.lower())
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self.by_name.get(name.lower(), [])

    @property
    def requestline(self) -> str:
        return f"{self.method} {self.target} {self.version}"

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for v in self.all("Connection") for t in v.split(",")}
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens


def read_request_head(rfile: BinaryIO, limits: RequestLimits) -> RequestHead | None:
    """Read one request head; None when the peer closed before sending anything."""
    line = rfile.readline(limits.max_request_line + 1)
    skipped = 0
    # RFC 9112 2.2: ignore at least one empty line before the request line
    if line in (b"\r\n", b"\n"):
        skipped = len(line)
        line = rfile.readline(limits.max_request_line + 1)
    if not line:
        return None
    if len(line) > limits.max_request_line:
        raise HttpError(414, "request line too long")
    if not line.endswith(b"\n"):
        raise HttpError(400, "request line incomplete")
    try:
        text = line.rstrip(b"\r\n").decode("ascii")
    except UnicodeDecodeError:
        raise HttpError(400, "request line is not ASCII") from None
    parts = text.split(" ")
    if len(parts) != 3 or not all(parts):
        raise HttpError(400, "request line must be 'METHOD /path HTTP/1.1'")
    method, target, version = parts
    if not _METHOD.match(method):
        raise HttpError(400, "bad method name")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        if re.match(r"^HTTP/\d\.\d$", version):
            raise HttpError(505, f"{version} is not supported")
        raise HttpError(400, "bad protocol version")
    if _CONTROL.search(target):
        raise HttpError(400, "control character in request target")

    headers: list[tuple[str, str]] = []
    total = 0
    while True:
        raw = rfile.readline(limits.max_header_bytes + 1)
        total += len(raw)
        if total > limits.max_header_bytes:
            raise HttpError(431, "request headers too large")
        if not raw.endswith(b"\n"):
            raise HttpError(400, "request headers incomplete")
        raw = raw.rstrip(b"\r\n")
        if not raw:
            break
        if len(headers) >= limits.max_headers:
            raise HttpError(431, "too many request headers")
        match = _HEADER.match(raw)
        if match is None:
            raise HttpError(400, "malformed header line")
        headers.append((match.group(1).decode("ascii"), match.group(2).decode("latin-1")))
    head = RequestHead(method, target, version, headers, size=skipped + len(line) + total)
    if version == "HTTP/1.1" and head.header("Host") is None:
        raise HttpError(400, "HTTP/1.1 request without a Host header")
    return head


def body_length(head: RequestHead, limits: RequestLimits) -> int | None:
    """The declared body size (None: no body), or HttpError for a bad or huge one."""
    values = {v.strip() for v in head.all("Content-Length")}
    if not values:
        return None
    if len(values) > 1:
        raise HttpError(400, "conflicting Content-Length headers")
    value = values.pop()
    if not value.isdigit() or not value.isascii():
        raise HttpError(400, f"Content-Length {value[:40]!r} is not a number")
    length = int(value)
    if length > limits.max_body:
        raise HttpError(413, f"body of {length} bytes is over the {limits.max_body}-byte limit")
    return length


def read_body(rfile: BinaryIO, length: int) -> bytes:
    """Exactly ``length`` bytes or HttpError 400 (the caller bounds the wait)."""
    chunks: list[bytes] = []
    remaining = length
    while remaining:
        try:
            chunk = rfile.read(min(remaining, 65536))
        except TimeoutError:
            chunk = b""
        if not chunk:
            raise HttpError(400, f"body ended after {length - remaining} of the "
                            f"{length} bytes Content-Length announced")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
