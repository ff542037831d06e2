"""What a DoH request gets back (RFC 8484), whatever HTTP version carried it.

``POST /dns-query`` with an ``application/dns-message`` body, or ``GET /dns-query?dns=``
with the message in base64url; anything else is a plain-text HTTP error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

Answer = Callable[[bytes], bytes | None]
DOH_PATH = "/dns-query"
MAX_MESSAGE = 65535
DNS_MESSAGE = "application/dns-message"


@dataclass(frozen=True, slots=True)
class DohResponse:
    status: int
    body: bytes
    content_type: str = "text/plain"
    #: HTTP/1.1 closes after it (the request made no sense as DNS); HTTP/2 ignores it
    close: bool = False


def doh_response(method: str, target: str, body: bytes, answer: Answer) -> DohResponse:
    """The response to one request; ``answer`` turns a query into a reply (None: not DNS)."""
    url = urlsplit(target)
    if url.path != DOH_PATH:
        return DohResponse(404, b"DoH lives at /dns-query\n")
    if method == "POST":
        wire = body
        if not 0 < len(wire) <= MAX_MESSAGE:
            return DohResponse(400, b"Content-Length 1-65535 needed\n", close=True)
    elif method == "GET":
        value = parse_qs(url.query).get("dns", [""])[0]
        try:
            wire = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, binascii.Error):
            wire = b""
        if not wire:
            return DohResponse(400, b"?dns= must be base64url\n")
    else:
        return DohResponse(405, b"use GET or POST\n")
    reply = answer(wire)
    if reply is None:
        return DohResponse(400, b"not a DNS query\n", close=True)
    return DohResponse(200, reply, DNS_MESSAGE)


def counted(answer: Answer, count: Callable[..., None]) -> Answer:
    """``answer`` that also counts the query in and the reply out on the server's gauges."""
    def answer_and_count(wire: bytes) -> bytes | None:
        count(bytes_in=len(wire), requests=1)
        reply = answer(wire)
        if reply is not None:
            count(bytes_out=len(reply))
        return reply

    return answer_and_count
