"""The DoH request mapping shared by HTTP/1.1 and HTTP/2: paths, methods, encodings."""

from __future__ import annotations

import base64

import dns.message

from core.servers.dns.doh import doh_response


def echo(wire: bytes) -> bytes | None:
    return b"reply:" + wire


QUERY = dns.message.make_query("www.wirebench.test", "A").to_wire()
ENCODED = base64.urlsafe_b64encode(QUERY).rstrip(b"=").decode()


def test_post_and_get_reach_the_answerer() -> None:
    assert doh_response("POST", "/dns-query", QUERY, echo) == (
        200, b"reply:" + QUERY, "application/dns-message")
    assert doh_response("GET", f"/dns-query?dns={ENCODED}", b"", echo)[1] == b"reply:" + QUERY


def test_bad_requests_are_named() -> None:
    assert doh_response("GET", "/other", b"", echo)[0] == 404
    assert doh_response("POST", "/dns-query", b"", echo)[0] == 400
    assert doh_response("POST", "/dns-query", b"x" * 65536, echo)[0] == 400
    assert doh_response("GET", "/dns-query?dns=%%%", b"", echo)[0] == 400
    assert doh_response("GET", "/dns-query", b"", echo)[0] == 400
    assert doh_response("DELETE", "/dns-query", b"", echo)[0] == 405
    status, body, kind = doh_response("POST", "/dns-query", QUERY, lambda wire: None)
    assert (status, kind) == (400, "text/plain") and b"not a DNS query" in body
