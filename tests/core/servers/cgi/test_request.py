"""Reading request heads and bodies with hard limits."""

from __future__ import annotations

import io

import pytest

from core.servers.cgi.request import (
    HttpError,
    RequestLimits,
    body_length,
    byte_range,
    is_chunked,
    read_body,
    read_chunked_body,
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


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-3", (0, 3)),
    ("bytes=5-", (5, 9)),
    ("bytes=-4", (6, 9)),
    ("bytes=-40", (0, 9)),
    ("bytes=8-100", (8, 9)),
    ("bytes=0-1,4-5", None),
    ("items=0-1", None),
    ("bytes=4-2", None),
])
def test_byte_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=-0"])
def test_unsatisfiable_range(header: str) -> None:
    with pytest.raises(HttpError) as info:
        byte_range(header, 10)
    assert info.value.status == 416


def head_with(headers: bytes):
    return head_of(b"POST / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")


def test_chunked_framing() -> None:
    assert is_chunked(head_with(b"Transfer-Encoding: chunked\r\n"))
    assert not is_chunked(head_with(b"Content-Length: 3\r\n"))
    for headers, status in ((b"Transfer-Encoding: gzip, chunked\r\n", 501),
                            (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400)):
        with pytest.raises(HttpError) as info:
            is_chunked(head_with(headers))
        assert info.value.status == status


def test_read_chunked_body() -> None:
    data = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nnext"
    rfile = io.BytesIO(data)
    assert read_chunked_body(rfile, LIMITS) == b"Wikipedia in\r\n\r\nchunks."
    assert rfile.read() == b"next"


@pytest.mark.parametrize(("data", "status"), [
    (b"zz\r\n", 400),
    (b"-1\r\n", 400),
    (b"3\r\nabcdef\r\n0\r\n\r\n", 400),
    (b"3\r\nab", 400),
    (b"3E9\r\n", 413),
    (b"0\r\n", 400),
])
def test_bad_chunked_bodies(data: bytes, status: int) -> None:
    with pytest.raises(HttpError) as info:
        read_chunked_body(io.BytesIO(data), LIMITS)
    assert info.value.status == status
