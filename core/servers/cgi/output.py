"""Parse what a CGI script writes: a header block, a blank line, then the body (RFC 3875 6).

Sans-I/O: feed chunks of the script's stdout to :class:`CgiHeaderReader` until it returns
a :class:`CgiResponse`; whatever followed the blank line is in ``body_start``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

MAX_HEADER_BLOCK = 64 * 1024

_FIELD = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*(.*?)[ \t]*$")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS = re.compile(r"^([1-5][0-9][0-9])(?:[ \t]+(.*))?$")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade",
                         "proxy-connection", "te", "trailer"})


class CgiOutputError(Exception):
    """The script's output is not a valid CGI response; ``diagnosis`` says how to fix it."""

    def __init__(self, problem: str, diagnosis: str) -> None:
        super().__init__(f"{problem}: {diagnosis}")
        self.problem = problem
        self.diagnosis = diagnosis


@dataclass(slots=True)
class CgiResponse:
    """The parsed header block of a script's output."""

    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    location: str | None = None
    content_length: int | None = None
    body_start: bytes = b""

    @property
    def is_local_redirect(self) -> bool:
        """RFC 3875 6.2.2: a bare ``Location: /path`` the server must fetch itself."""
        return (self.location is not None and self.location.startswith("/")
                and not self.location.startswith("//") and self.status == 200
                and not any(n.lower() not in ("location",) for n, _ in self.headers)
                and not self.body_start)


def _split_block(buffer: bytes) -> tuple[bytes, bytes] | None:
    """Split at the first blank line (CRLF or bare LF endings, as scripts mix them)."""
    candidates = [(i, 4) for i in [buffer.find(b"\r\n\r\n")] if i >= 0]
    candidates += [(i, 2) for i in [buffer.find(b"\n\n")] if i >= 0]
    candidates += [(i, 3) for i in [buffer.find(b"\n\r\n")] if i >= 0]
    if buffer.startswith(b"\r\n"):
        candidates.append((-2, 4))
    elif buffer.startswith(b"\n"):
        candidates.append((-1, 2))
    if not candidates:
        return None
    index, size = min(candidates)
    end = index + size
    return buffer[:max(index, 0)], buffer[end:]


def parse_header_block(block: bytes, body_start: bytes = b"") -> CgiResponse:
    """Turn the lines before the blank line into a :class:`CgiResponse` or raise."""
    response = CgiResponse(body_start=body_start)
    status_seen = False
    if not block.strip():
        raise CgiOutputError(
            "empty header block",
            "the script printed a blank line before any header: print "
            "'Content-Type: text/html' first, then the blank line")
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            raise CgiOutputError("malformed header", "header lines must not start with "
                                 "a space (obsolete line folding)")
        match = _FIELD.match(line)
        if match is None:
            shown = line[:60].decode("latin-1")
            raise CgiOutputError(
                "malformed header",
                f"{shown!r} is not 'Name: value' — no blank line after the headers? "
                "Print the headers, then an empty line, then the page")
        if _CONTROL.search(match.group(2)):
            raise CgiOutputError("malformed header", f"the {match.group(1).decode()} header "
                                 "holds a control character (a stray carriage return?)")
        name = match.group(1).decode("ascii")
        value = match.group(2).decode("latin-1")
        lname = name.lower()
        if lname == "status":
            status = _STATUS.match(value)
            if status is None or status_seen:
                raise CgiOutputError("bad Status header",
                                     f"'Status: {value}' must be a 3-digit code and a reason, "
                                     "e.g. 'Status: 404 Not Found'")
            status_seen = True
            response.status = int(status.group(1))
            try:
                default = HTTPStatus(response.status).phrase
            except ValueError:
                default = "Unknown"
            response.reason = (status.group(2) or default).strip() or default
            continue
        if lname in _HOP_BY_HOP:
            continue  # the server owns the connection's framing
        if lname == "location":
            response.location = value
        if lname == "content-length":
            if not value.isdigit():
                raise CgiOutputError("bad Content-Length",
                                     f"'Content-Length: {value}' is not a number")
            response.content_length = int(value)
            continue
        response.headers.append((name, value))
    names = {n.lower() for n, _ in response.headers}
    if not ({"content-type", "location"} & names) and not status_seen:
        raise CgiOutputError(
            "no Content-Type",
            "the header block has neither Content-Type, Location nor Status: "
            "print 'Content-Type: text/html' and a blank line before the page")
    if response.location is not None and not status_seen and not response.is_local_redirect:
        response.status, response.reason = 302, "Found"
    return response


class CgiHeaderReader:
    """Accumulate stdout until the header block is complete."""

    def __init__(self, limit: int = MAX_HEADER_BLOCK) -> None:
        self._buffer = b""
        self._limit = limit

    @property
    def pending(self) -> bytes:
        return self._buffer

    def feed(self, chunk: bytes) -> CgiResponse | None:
        self._buffer += chunk
        split = _split_block(self._buffer)
        if split is None:
            if len(self._buffer) > self._limit:
                raise CgiOutputError("header block too large",
                                     f"more than {self._limit} bytes without a blank line: "
                                     "print a blank line after the headers")
            return None
        return parse_header_block(*split)

    def finish(self) -> CgiResponse:
        """The script's stdout ended: parse what there is, or explain what is missing."""
        if not self._buffer:
            raise CgiOutputError("no output", "the script printed nothing: it must print "
                                 "'Content-Type: text/html', a blank line, then the page")
        split = _split_block(self._buffer)
        if split is not None:
            return parse_header_block(*split)
        # a header block with no blank line at all is still a response when every line is
        # a header — but the document's 5.1.3 warns about exactly this, so we say so
        raise CgiOutputError(
            "no blank line after the headers",
            "the output ended without an empty line after the headers: print one blank "
            "line between the headers and the page")
