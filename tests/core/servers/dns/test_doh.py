"""The DoH request mapping shared by HTTP/1.1 and HTTP/2: paths, methods, encodings."""

from __future__ import annotations

import base64

import dns.message

from core.servers.dns.doh import DohResponse, counted, doh_response


def echo(wire: bytes) -> bytes | None:
    return b"reply:" + wire


QUERY = dns.message.make_query("www.wirebench.test", "A").to_wire()
ENCODED = base64.urlsafe_b64encode(QUERY).rstrip(b"=").decode()


def test_post_and_get_reach_the_answerer() -> None:
    assert doh_response("POST", "/dns-query", QUERY, echo) == DohResponse(
        200, b"reply:" + QUERY, "application/dns-message")
    assert doh_response("GET", f"/dns-query?dns={ENCODED}", b"", echo).body == (
        b"reply:" + QUERY)


def test_bad_requests_are_named() -> None:
    assert doh_response("GET", "/other", b"", echo).status == 404
    assert doh_response("POST", "/dns-query", b"", echo) == DohResponse(
        400, b"Content-Length 1-65535 needed\n", close=True)
    assert doh_response("POST", "/dns-query", b"x" * 65536, echo).status == 400
    assert doh_response("GET", "/dns-query?dns=%%%", b"", echo).status == 400
    assert doh_response("GET", "/dns-query", b"", echo).status == 400
    assert doh_response("DELETE", "/dns-query", b"", echo).status == 405
    silent = doh_response("POST", "/dns-query", QUERY, lambda wire: None)
    assert (silent.status, silent.content_type, silent.close) == (400, "text/plain", True)
    assert silent.body == b"not a DNS query\n"


def test_counted_answers_count_what_goes_in_and_out() -> None:
    seen: list[dict] = []
    answer = counted(echo, lambda **kw: seen.append(kw))
    assert answer(b"q") == b"reply:q"
    assert seen == [{"bytes_in": 1, "requests": 1}, {"bytes_out": 7}]
