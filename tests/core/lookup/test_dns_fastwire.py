"""The batch's hand-rolled wire codec agrees with dnspython on real lab replies."""

from __future__ import annotations

import socket

import dns.message
import dns.rdatatype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.lookup.dns_fastwire import decode_reply, encode_query, encode_question


def exchange(server, wire: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(wire, ("127.0.0.1", server.port))
        return sock.recv(65535)


def test_query_wire_matches_dnspython() -> None:
    question = encode_question("www.wirebench.test", dns.rdatatype.A)
    wire = encode_query(0x1234, question)
    parsed = dns.message.from_wire(wire)
    reference = dns.message.make_query("www.wirebench.test", "A", id=0x1234)
    assert parsed == reference


@pytest.mark.parametrize(("name", "rdtype"), [
    ("www.wirebench.test", "A"), ("www.wirebench.test", "AAAA"),
    ("alias.wirebench.test", "A"), ("wirebench.test", "MX"),
    ("nope.wirebench.test", "A"), ("example.com", "A"), ("big.wirebench.test", "A"),
])
def test_decode_agrees_with_dnspython(dns_lab, name, rdtype) -> None:
    qtype = dns.rdatatype.from_text(rdtype)
    question = encode_question(name, qtype)
    wire = exchange(dns_lab, encode_query(7, question))
    fast = decode_reply(wire, question, qtype)
    slow = dns.message.from_wire(wire)
    assert fast is not None and fast.qid == 7
    assert fast.rcode == dns.rcode.to_text(slow.rcode())
    assert fast.truncated == bool(slow.flags & dns.flags.TC)
    expected = tuple(rd.to_text() for rr in slow.answer for rd in rr
                     if rr.rdtype in (qtype, dns.rdatatype.CNAME))
    assert fast.answers == expected


def test_reply_to_another_question_is_not_ours(dns_lab) -> None:
    asked = encode_question("www.wirebench.test", dns.rdatatype.A)
    other = encode_question("ftp.wirebench.test", dns.rdatatype.A)
    wire = exchange(dns_lab, encode_query(9, asked))
    assert decode_reply(wire, other, dns.rdatatype.A) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=80))
def test_garbage_never_crashes(data: bytes) -> None:
    question = encode_question("a.test", dns.rdatatype.A)
    wire = data[:12] + question + data[12:] if len(data) >= 12 else data
    try:
        decode_reply(wire, question, dns.rdatatype.A)
    except ValueError:
        pass
