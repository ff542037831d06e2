"""What a DoH request gets back (RFC 8484), whatever HTTP version carried it.

``POST /dns-query`` with an ``application/dns-message`` body, or ``GET /dns-query?dns=``
with the message in base64url; anything else is a plain-text HTTP error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

Answer = Callable[[bytes], bytes | None]
DOH_PATH = "/dns-query"
MAX_MESSAGE = 65535
DNS_MESSAGE = "application/dns-message"


def doh_response(method: str, target: str, body: bytes, answer: Answer
                 ) -> tuple[int, bytes, str]:
    """(status, body, content type) for one request; ``answer`` turns a query into a reply."""
    url = urlsplit(target)
    if url.path != DOH_PATH:
        return 404, b"DoH lives at /dns-query\n", "text/plain"
    if method == "POST":
        wire = body
        if not 0 < len(wire) <= MAX_MESSAGE:
            return 400, b"a POST needs a DNS message of 1-65535 bytes\n", "text/plain"
    elif method == "GET":
        value = parse_qs(url.query).get("dns", [""])[0]
        try:
            wire = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, binascii.Error):
            wire = b""
        if not wire:
            return 400, b"?dns= must be base64url\n", "text/plain"
    else:
        return 405, b"use GET or POST\n", "text/plain"
    reply = answer(wire)
    if reply is None:
        return 400, b"not a DNS query\n", "text/plain"
    return 200, reply, DNS_MESSAGE
