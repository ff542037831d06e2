"""Fuzzed: the HTTP request head reader shared by CGI and DoH (core/servers/http_head.py)
and the CGI server's chunked body reader (core/servers/cgi/request.py)."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from core.servers.cgi.request import is_chunked, read_chunked_body
from core.servers.http_head import HttpError, RequestLimits, body_length, read_request_head
from tests.fuzz.budget import fuzz

LIMITS = RequestLimits(max_request_line=200, max_header_bytes=600, max_headers=8,
                       max_body=2000)
# mostly well-formed (so the deep paths run), sometimes not
_TOKEN = st.sampled_from([b"GET", b"POST", b"GET", b"POST", b"HEAD", b"G\x00T", b"", b"get"])
_TARGET = st.one_of(st.sampled_from([b"/", b"/cgi-bin/a.py?x=1", b"*", b"/%00"]),
                    st.sampled_from([b"/", b"/cgi-bin/a.py?x=1", b"*", b"/%00"]),
                    st.binary(max_size=30).filter(lambda b: b" " not in b))
_VERSION = st.sampled_from([b"HTTP/1.1"] * 4 + [b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1", b""])
_HEADER = st.one_of(
    st.sampled_from([b"Host: lab", b"Content-Length: 5", b"Transfer-Encoding: chunked",
                     b"Connection: close", b"X-Long: " + b"v" * 300]),
    st.builds(lambda n, v: n + b": " + v,
              st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding",
                               b"Connection", b"X y", b""]),
              st.one_of(st.sampled_from([b"chunked", b"10", b"-1", b"1e3", b"close",
                                         b"chunked, gzip"]),
                        st.text(max_size=20).map(lambda t: t.encode("latin-1", "replace")))),
    )
_HEADER = st.one_of(*[_HEADER] * 6, st.binary(max_size=40))  # mostly well-formed
_END = st.sampled_from([b"\r\n"] * 6 + [b"\n", b"\r", b""])


@st.composite
def request_head(draw: st.DrawFn) -> bytes:
    line = draw(_TOKEN) + b" " + draw(_TARGET) + b" " + draw(_VERSION) + draw(_END)
    fields = draw(st.lists(_HEADER, max_size=10))
    if draw(st.booleans()):
        fields.insert(0, b"Host: lab")
    headers = b"".join(h + draw(_END) for h in fields)
    return line + headers + draw(_END) + draw(st.binary(max_size=30))


@fuzz(500)
@given(st.one_of(request_head(), st.binary(max_size=800)))
def test_request_head_is_parsed_or_refused_within_its_limits(data: bytes) -> None:
    try:
        head = read_request_head(io.BytesIO(data), LIMITS)
        if head is None:
            return
        length = body_length(head, LIMITS)
        chunked = is_chunked(head)
    except HttpError as exc:
        assert 400 <= exc.status <= 599
        return
    assert len(head.requestline) <= LIMITS.max_request_line
    assert len(head.headers) <= LIMITS.max_headers
    assert sum(len(n) + len(v) for n, v in head.headers) <= LIMITS.max_header_bytes
    assert length is None or 0 <= length <= LIMITS.max_body
    assert not (chunked and length is not None)


@st.composite
def chunked_body(draw: st.DrawFn) -> bytes:
    out = bytearray()
    for data in draw(st.lists(st.binary(max_size=300), max_size=8)):
        size = draw(st.one_of(st.just(len(data)), st.just(len(data)), st.integers(0, 5000)))
        ext = draw(st.sampled_from([b"", b"", b"", b";x=1", b" ", b";" + b"a" * 1100]))
        out += f"{size:x}".encode() + ext + draw(_END) + data + draw(_END)
    if draw(st.integers(0, 3)):
        out += b"0" + draw(_END) + b"".join(draw(st.lists(_HEADER, max_size=3))) + draw(_END)
    return bytes(out) + draw(st.binary(max_size=20))


@fuzz(500)
@given(st.one_of(chunked_body(), st.binary(max_size=800)))
def test_chunked_body_is_read_or_refused_within_the_body_cap(data: bytes) -> None:
    try:
        body = read_chunked_body(io.BytesIO(data), LIMITS)
    except HttpError as exc:
        assert 400 <= exc.status <= 599
        return
    assert len(body) <= min(len(data), LIMITS.max_body)
