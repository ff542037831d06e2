"""DNS over TLS and DNS over HTTPS (HTTP/1.1) on one TLS port of the lab DNS server.

After the handshake the first bytes tell the two apart: an HTTP request starts with a
method in capitals (``POST``, ``GET``), a DoT stream with a two-byte length (a query that
would spell capitals there is over 16 KB, which no real query is). DoH follows RFC 8484:
``POST /dns-query`` with an ``application/dns-message`` body, or ``GET /dns-query?dns=``
with the message in base64url.
"""

from __future__ import annotations

import base64
import socket
import struct
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

Answer = Callable[[bytes], bytes | None]
MAX_HEADER = 16 * 1024
DOH_PATH = "/dns-query"


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

    def until(self, marker: bytes, limit: int) -> bytes | None:
        while marker not in self.buffer:
            if len(self.buffer) > limit:
                return None
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        data, _, self.buffer = self.buffer.partition(marker)
        return data


def serve_secure(conn: socket.socket, answer: Answer, keep_going: Callable[[], bool],
                 count: Callable[..., None]) -> None:
    """Serve one TLS connection (already handshaken) until it closes."""
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


def _http(conn: socket.socket, status: str, body: bytes, content_type: str,
          keep_alive: bool) -> None:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: max-age=0\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    conn.sendall(head.encode("ascii") + body)


def _serve_https(conn: socket.socket, reader: _Reader, answer: Answer,
                 keep_going: Callable[[], bool], count: Callable[..., None]) -> None:
    while keep_going():
        header = reader.until(b"\r\n\r\n", MAX_HEADER)
        if header is None:
            return
        lines = header.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            _http(conn, "400 Bad Request", b"bad request line\n", "text/plain", False)
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close"
        url = urlsplit(target)
        wire: bytes | None = None
        if url.path != DOH_PATH:
            _http(conn, "404 Not Found", b"DoH lives at /dns-query\n", "text/plain",
                  keep_alive)
        elif method == "POST":
            try:
                length = int(headers.get("content-length", "-1"))
            except ValueError:
                length = -1
            if not 0 < length <= 65535:
                _http(conn, "400 Bad Request", b"Content-Length 1-65535 needed\n",
                      "text/plain", False)
                return
            wire = reader.exact(length)
            if wire is None:
                return
        elif method == "GET":
            value = parse_qs(url.query).get("dns", [""])[0]
            try:
                wire = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except ValueError:
                wire = b""
            if not wire:
                _http(conn, "400 Bad Request", b"?dns= must be base64url\n", "text/plain",
                      keep_alive)
                wire = None
        else:
            _http(conn, "405 Method Not Allowed", b"use GET or POST\n", "text/plain",
                  keep_alive)
        if wire is not None:
            count(bytes_in=len(wire), requests=1)
            reply = answer(wire)
            if reply is None:
                _http(conn, "400 Bad Request", b"not a DNS query\n", "text/plain", False)
                return
            _http(conn, "200 OK", reply, "application/dns-message", keep_alive)
            count(bytes_out=len(reply))
        if not keep_alive:
            return
