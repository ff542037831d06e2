"""Fuzzed: the parser of what a CGI script prints (core/servers/cgi/output.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.servers.cgi.output import CgiHeaderReader, CgiOutputError
from tests.fuzz.budget import fuzz

_FIELD = st.one_of(
    st.sampled_from([b"Content-Type: text/plain", b"Status: 404 Not Found",
                     b"Location: /x", b"Content-Length: 3"]),
    st.builds(lambda n, v: n + b":" + v,
              st.sampled_from([b"Content-Type", b"Status", b"Location", b"Content-Length",
                               b"Connection", b"X-A", b"Bad Name", b""]),
              st.one_of(st.sampled_from([b" text/html", b" 302 Found", b" /other", b" 99",
                                         b" -5", b"abc", b" 200"]),
                        st.text(max_size=20).map(lambda t: t.encode("latin-1", "replace")))),
    )
_FIELD = st.one_of(*[_FIELD] * 6, st.binary(max_size=30))  # mostly well-formed
OUTPUT = st.one_of(
    st.builds(lambda fields, ends, body: b"".join(
                  f + e for f, e in zip(fields, ends[:len(fields)], strict=True))
              + b"\r\n" + body,
              st.lists(_FIELD, max_size=8),
              st.lists(st.sampled_from([b"\r\n"] * 4 + [b"\n", b"\r"]), min_size=8,
                       max_size=8),
              st.binary(max_size=50)),
    st.binary(max_size=500))


@fuzz(500)
@given(OUTPUT, st.lists(st.integers(0, 600), max_size=5), st.integers(16, 600))
def test_script_output_is_parsed_or_explained(data: bytes, points: list[int],
                                              limit: int) -> None:
    reader = CgiHeaderReader(limit)
    marks = sorted({p % (len(data) + 1) for p in points})
    try:
        response = None
        for a, b in zip([0, *marks], [*marks, len(data)], strict=True):
            response = reader.feed(data[a:b])
            if response is not None:
                break
        if response is None:
            response = reader.finish()
    except CgiOutputError as exc:
        assert exc.problem and exc.diagnosis
        return
    assert 100 <= response.status <= 599
    assert len(response.body_start) <= len(data)
    assert sum(len(n) + len(v) for n, v in response.headers) <= len(data)
    assert response.content_length is None or response.content_length >= 0
    for name, value in response.headers:
        assert "\r" not in name + value and "\n" not in name + value  # no header splitting
