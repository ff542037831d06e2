"""Chunked bodies and byte ranges of the CGI server (heads: test_http_head.py)."""

from __future__ import annotations

import io

import pytest

from core.servers.cgi.request import byte_range, is_chunked, read_chunked_body
from core.servers.http_head import HttpError, RequestLimits, read_request_head

LIMITS = RequestLimits(max_request_line=100, max_header_bytes=200, max_headers=5, max_body=1000)


def head_of(data: bytes):
    return read_request_head(io.BytesIO(data), LIMITS)


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
