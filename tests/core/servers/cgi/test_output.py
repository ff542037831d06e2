"""Parsing a script's header block: Status, Location, framing, and the errors to explain."""

from __future__ import annotations

import pytest

from core.servers.cgi.output import CgiHeaderReader, CgiOutputError, parse_header_block


def read(*chunks: bytes):
    reader = CgiHeaderReader(limit=1024)
    for chunk in chunks:
        response = reader.feed(chunk)
        if response is not None:
            return response
    return reader.finish()


def test_content_type_and_body_start_across_chunks() -> None:
    response = read(b"Content-Ty", b"pe: text/html\n", b"\nHello", b" more")
    assert (response.status, response.reason) == (200, "OK")
    assert response.headers == [("Content-Type", "text/html")]
    assert response.body_start == b"Hello"


def test_crlf_and_mixed_endings() -> None:
    assert read(b"A: 1\r\nContent-Type: x\r\n\r\nbody").body_start == b"body"
    assert read(b"Content-Type: x\n\r\nbody").body_start == b"body"


def test_status_and_locations() -> None:
    response = read(b"Status: 404\nContent-Type: text/plain\n\n")
    assert (response.status, response.reason) == (404, "Not Found")
    response = read(b"Location: http://example.org/\n\n")
    assert response.status == 302 and not response.is_local_redirect
    response = read(b"Location: /other?x=1\n\n")
    assert response.status == 200 and response.is_local_redirect
    response = read(b"Status: 303 See Other\nLocation: /other\n\n")
    assert response.status == 303 and not response.is_local_redirect
    assert not read(b"Location: //evil.example/\n\n").is_local_redirect


def test_framing_headers_are_the_servers() -> None:
    response = read(b"Content-Type: x\nConnection: close\nTransfer-Encoding: chunked\n"
                    b"Content-Length: 4\n\nbody")
    assert response.headers == [("Content-Type", "x")] and response.content_length == 4


@pytest.mark.parametrize(("output", "problem"), [
    (b"", "no output"),
    (b"Content-Type: text/html\nHello", "no blank line after the headers"),
    (b"Hello World!\n\n", "malformed header"),
    (b"\nHello", "empty header block"),
    (b"X-Only: 1\n\n", "no Content-Type"),
    (b"Status: abc\n\n", "bad Status header"),
    (b"Status: 200\nStatus: 404\n\n", "bad Status header"),
    (b"Content-Type: x\n folded\n\n", "malformed header"),
    (b"Content-Length: -1\n\n", "bad Content-Length"),
    (b"Content-Type: x\nX-Injected: a\rSet-Cookie: b\n\n", "malformed header"),
])
def test_errors_explain_themselves(output: bytes, problem: str) -> None:
    with pytest.raises(CgiOutputError) as info:
        read(output)
    assert info.value.problem == problem and info.value.diagnosis


def test_header_block_is_bounded() -> None:
    reader = CgiHeaderReader(limit=100)
    with pytest.raises(CgiOutputError, match="too large"):
        reader.feed(b"X: " + b"a" * 200)


def test_parse_header_block_directly() -> None:
    response = parse_header_block(b"Content-Type: text/plain; charset=utf-8", b"x")
    assert response.headers[0][1] == "text/plain; charset=utf-8"
