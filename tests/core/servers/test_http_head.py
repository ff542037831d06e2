"""The shared HTTP request-head reader: limits, statuses, body length and body."""

from __future__ import annotations

import io

import pytest

from core.servers.http_head import (
    HttpError,
    RequestLimits,
    body_length,
    read_body,
    read_request_head,
)

LIMITS = RequestLimits(max_request_line=100, max_header_bytes=200, max_headers=5, max_body=1000)


def head_of(data: bytes):
    return read_request_head(io.BytesIO(data), LIMITS)


def test_reads_a_head() -> None:
    head = head_of(b"\r\nGET /x?y HTTP/1.1\r\nHost: h\r\nA:  spaced  \r\nA: 2\r\n\r\nrest")
    assert (head.method, head.target, head.version) == ("GET", "/x?y", "HTTP/1.1")
    assert head.header("host") == "h" and head.all("a") == ["spaced", "2"]
    assert head.keep_alive
    assert not head_of(b"GET / HTTP/1.0\r\n\r\n").keep_alive
    assert head_of(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive
    assert not head_of(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive


def test_eof_before_anything_is_none() -> None:
    assert head_of(b"") is None


@pytest.mark.parametrize(("data", "status"), [
    (b"GET /" + b"a" * 200 + b" HTTP/1.1\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"b" * 300 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: 1\r\n" * 6 + b"\r\n", 431),
    (b"GET / HTTP/3.0\r\n\r\n", 505),
    (b"GET / FTP/1.0\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"G(T / HTTP/1.1\r\n\r\n", 400),
    (b"GET /\x7f HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\n", 400),
    (b"GET / HT", 400),
])
def test_bad_heads(data: bytes, status: int) -> None:
    with pytest.raises(HttpError) as info:
        head_of(data)
    assert info.value.status == status


@pytest.mark.parametrize(("headers", "expected"), [
    (b"", None),
    (b"Content-Length: 10\r\n", 10),
    (b"Content-Length: 10\r\nContent-Length: 10\r\n", 10),
])
def test_body_length(headers: bytes, expected: int | None) -> None:
    head = head_of(b"POST / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
    assert body_length(head, LIMITS) == expected


@pytest.mark.parametrize(("headers", "status"), [
    (b"Content-Length: x\r\n", 400),
    (b"Content-Length: +5\r\n", 400),
    (b"Content-Length: 1\r\nContent-Length: 2\r\n", 400),
    (b"Content-Length: 1001\r\n", 413),
])
def test_bad_body_length(headers: bytes, status: int) -> None:
    head = head_of(b"POST / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
    with pytest.raises(HttpError) as info:
        body_length(head, LIMITS)
    assert info.value.status == status


def test_read_body() -> None:
    assert read_body(io.BytesIO(b"abcdef"), 4) == b"abcd"
    with pytest.raises(HttpError, match="after 3 of the 5 bytes"):
        read_body(io.BytesIO(b"abc"), 5)
