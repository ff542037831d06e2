"""DNS over TLS and DNS over HTTPS (HTTP/1.1 here, HTTP/2 in doh_h2) on one TLS port.

The TLS handshake offers ALPN ``h2``, ``http/1.1`` and ``dot``; a client that picks
``h2`` gets HTTP/2 (``dig +https``, RFC 8484's recommended version).

After the handshake the first bytes tell the two apart: an HTTP request starts with a
method in capitals (``POST``, ``GET``), a DoT stream with a two-byte length (a query that
would spell capitals there is over 16 KB, which no real query is). DoH follows RFC 8484:
``POST /dns-query`` with an ``application/dns-message`` body, or ``GET /dns-query?dns=``
with the message in base64url.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from core.servers.dns.doh import DOH_PATH, Answer, counted, doh_response
from core.servers.http_head import (
    HttpError,
    RequestLimits,
    body_length,
    read_body,
    read_request_head,
)

#: a DoH request is a short head and a DNS message of at most 64 KiB
DOH_LIMITS = RequestLimits(max_request_line=8192, max_header_bytes=16 * 1024,
                           max_headers=100, max_body=65535)


class _Reader:
    """Exact reads and line reads over a (TLS) socket, keeping what was read ahead."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def exact(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    # readline/read: the file-like side that core.servers.http_head reads through
    def readline(self, limit: int) -> bytes:
        """Up to and including the next LF, at most ``limit`` bytes; b"" at EOF."""
        while b"\n" not in self.buffer[:limit] and len(self.buffer) < limit:
            chunk = self.conn.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        end = self.buffer.find(b"\n", 0, limit)
        size = end + 1 if end >= 0 else min(limit, len(self.buffer))
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read(self, size: int) -> bytes:
        """At most ``size`` bytes: what is buffered, else one receive; b"" at EOF."""
        if not self.buffer:
            self.buffer = self.conn.recv(65536)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def serve_secure(conn: socket.socket, answer: Answer, keep_going: Callable[[], bool],
                 count: Callable[..., None]) -> None:
    """Serve one TLS connection (already handshaken) until it closes."""
    alpn = getattr(conn, "selected_alpn_protocol", None)
    if alpn is not None and alpn() == "h2":
        from core.servers.dns.doh_h2 import serve_h2

        serve_h2(conn, answer, keep_going, count)
        return
    reader = _Reader(conn)
    head = reader.exact(4)
    if head is None:
        return
    reader.buffer = head + reader.buffer
    if head.rstrip(b" ").isalpha() and head.isupper():  # an HTTP method, not a length
        _serve_https(conn, reader, answer, keep_going, count)
    else:
        _serve_dot(conn, reader, answer, keep_going, count)


def _serve_dot(conn: socket.socket, reader: _Reader, answer: Answer,
               keep_going: Callable[[], bool], count: Callable[..., None]) -> None:
    while keep_going():
        head = reader.exact(2)
        if head is None:
            return
        wire = reader.exact(struct.unpack("!H", head)[0])
        if wire is None:
            return
        count(bytes_in=len(wire) + 2, requests=1)
        reply = answer(wire)
        if reply is None:
            return
        conn.sendall(struct.pack("!H", len(reply)) + reply)
        count(bytes_out=len(reply) + 2)


def _refuse(conn: socket.socket, exc: HttpError) -> None:
    """Answer a request the shared head reader refused, then the caller closes."""
    status = f"{exc.status} {HTTPStatus(exc.status).phrase}"
    _http(conn, status, f"{exc.detail}\n".encode(), "text/plain", False)


def _http(conn: socket.socket, status: str, body: bytes, content_type: str,
          keep_alive: bool) -> None:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: max-age=0\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    conn.sendall(head.encode("ascii") + body)


def _serve_https(conn: socket.socket, reader: _Reader, answer: Answer,
                 keep_going: Callable[[], bool], count: Callable[..., None]) -> None:
    answer = counted(answer, count)
    while keep_going():
        try:
            head = read_request_head(reader, DOH_LIMITS)
        except HttpError as exc:
            _refuse(conn, exc)
            return
        if head is None:
            return
        body = b""
        if head.method == "POST" and urlsplit(head.target).path == DOH_PATH:
            try:
                length = body_length(head, DOH_LIMITS)
            except HttpError as exc:
                _refuse(conn, exc)
                return
            try:
                body = read_body(reader, length) if length else b""
            except HttpError:
                return  # the client went away mid-body: nobody to answer
        response = doh_response(head.method, head.target, body, answer)
        keep_alive = head.keep_alive and not response.close
        _http(conn, f"{response.status} {HTTPStatus(response.status).phrase}", response.body,
              response.content_type, keep_alive)
        if not keep_alive:
            return
