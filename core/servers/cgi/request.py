"""What the CGI server reads beyond a request head: chunked bodies and byte ranges.

The head and a body of declared length are read by :mod:`core.servers.http_head`, shared
with the DoH server; a chunked body is de-chunked here under the same size cap.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from core.servers.http_head import HttpError, RequestHead, RequestLimits, read_body

_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?\r?\n$")


def is_chunked(head: RequestHead) -> bool:
    """Whether the body comes in chunks; HttpError for framings that invite smuggling."""
    codings = [c.strip().lower() for v in head.all("Transfer-Encoding") for c in v.split(",")]
    if not codings:
        return False
    if codings != ["chunked"]:
        raise HttpError(501, "only the 'chunked' transfer coding is supported")
    if head.all("Content-Length"):
        # two framings for one body is how request smuggling starts (RFC 9112 6.3)
        raise HttpError(400, "Content-Length together with Transfer-Encoding")
    return True


def read_chunked_body(rfile: BinaryIO, limits: RequestLimits) -> bytes:
    """De-chunk a body (a CGI script needs CONTENT_LENGTH, so it is read whole first).

    Into one growing buffer: a list of 2-byte chunks would cost ~60 bytes of objects per
    2 bytes of data (6.6x the wire, past the byte cap in memory), the buffer ~1.1x.
    """
    body = bytearray()
    total = 0
    while True:
        match = _CHUNK_SIZE.match(rfile.readline(1024))
        if match is None:
            raise HttpError(400, "malformed or missing chunk size line")
        size = int(match.group(1), 16)
        if size == 0:
            break
        total += size
        if total > limits.max_body:
            raise HttpError(413, f"chunked body over the {limits.max_body}-byte limit")
        body += read_body(rfile, size)
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise HttpError(400, "chunk data longer than its size line said")
    for _ in range(limits.max_headers):  # trailer fields: read and dropped
        line = rfile.readline(limits.max_request_line + 1)
        if line in (b"\r\n", b"\n"):
            return bytes(body)
        if not line.endswith(b"\n"):
            raise HttpError(400, "chunked body ended before its final blank line")
    raise HttpError(431, "too many trailer fields")


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` bytes a single-range ``Range:`` asks for.

    None means "send the whole file" (no header, a multi-range or unparsable one — RFC 9110
    lets a server ignore those); HttpError 416 when the range lies outside the file.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0:
            raise HttpError(416, "an empty suffix range selects nothing")
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size:
        raise HttpError(416, f"range starts at {first}, the file has {size} bytes")
    if last < first:
        return None
    return first, min(last, size - 1)
