"""Fuzzed: the lab DNS server's request handling (core/servers/dns/zones.py ``respond``,
what every UDP, TCP, DoT and DoH listener calls with the bytes a client sent)."""

from __future__ import annotations

import dns.message
import dns.rdatatype
from hypothesis import given
from hypothesis import strategies as st

from core.servers.dns.zones import (
    ZoneAnswerer,
    auth_zone_text,
    load_zone,
    noglue_zone_text,
    respond,
    reverse_v4_zone_text,
)
from tests.fuzz.budget import fuzz

ANSWERER = ZoneAnswerer([load_zone(auth_zone_text("127.0.0.1")),
                         load_zone(noglue_zone_text("127.0.0.1")),
                         load_zone(reverse_v4_zone_text())])
NAMES = ["wirebench.test", "www.wirebench.test", "big.wirebench.test", "x.y.wirebench.test",
         "1.0.0.127.in-addr.arpa", "example.com", "."]


def _query(name: str, rdtype: str, payload: int, edns: bool) -> bytes:
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns else None,
                                   payload=payload)
    return query.to_wire()


QUERY = st.builds(_query, st.sampled_from(NAMES),
                  st.sampled_from(["A", "AAAA", "MX", "TXT", "ANY", "NS", "SOA", "PTR"]),
                  st.integers(0, 65535), st.booleans())


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real query with a few bytes changed, cut or appended (what junk usually is)."""
    wire = bytearray(draw(QUERY))
    for _ in range(draw(st.integers(0, 4))):
        wire[draw(st.integers(0, len(wire) - 1))] = draw(st.integers(0, 255))
    wire = wire[:draw(st.integers(0, len(wire)))]
    return bytes(wire) + draw(st.binary(max_size=8))


@fuzz(600)
@given(st.one_of(st.binary(max_size=600), QUERY, mutated()),
       st.sampled_from([None, 512, 1232, 4096]))
def test_any_request_gets_a_bounded_answer_or_none(wire: bytes, max_size: int | None) -> None:
    answer = respond(ANSWERER, wire, max_size)
    if answer is None:
        return
    assert len(answer) <= (max_size if max_size is not None else 65535) or len(answer) <= 512
    assert len(answer) >= 12 and answer[:2] == wire[:2]  # the query's id, always
    assert answer[2] & 0x80  # QR: an answer, never a query that could loop
