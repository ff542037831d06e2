"""The lab zones answered from bytes to bytes, as an authoritative server must."""

from __future__ import annotations

import struct

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from core.servers.dns import zones
from core.servers.dns.zones import BIG_RECORDS, ZoneAnswerer, load_zone, respond

AUTH = ZoneAnswerer([load_zone(zones.auth_zone_text("127.0.0.1")),
                     load_zone(zones.noglue_zone_text("127.0.0.1")),
                     load_zone(zones.reverse_v4_zone_text())])
HINTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
ROOT = ZoneAnswerer([load_zone(zones.root_zone_text(*HINTS))])
TLD = ZoneAnswerer([load_zone(zones.tld_zone_text(*HINTS))])


def ask(answerer: ZoneAnswerer, name: str, rdtype: str = "A", max_size: int | None = 65535,
        **kw) -> dns.message.Message:
    wire = respond(answerer, dns.message.make_query(name, rdtype, **kw).to_wire(), max_size)
    assert wire is not None
    return dns.message.from_wire(wire)


def values(reply: dns.message.Message) -> list[str]:
    return [rd.to_text() for rrset in reply.answer for rd in rrset]


def test_answers_are_authoritative_and_complete() -> None:
    reply = ask(AUTH, "wirebench.test", "MX")
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
    assert sorted(values(reply)) == ["10 mail.wirebench.test.", "20 mail2.wirebench.test."]
    assert {rr.name.to_text() for rr in reply.additional} == {
        "mail.wirebench.test.", "mail2.wirebench.test."}  # glue for the exchanges


def test_cname_chain_nodata_nxdomain_wildcard() -> None:
    assert values(ask(AUTH, "chain.wirebench.test")) == [
        "alias.wirebench.test.", "www.wirebench.test.", "127.0.0.1"]
    nodata = ask(AUTH, "nodata.wirebench.test", "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    assert ask(AUTH, "nope.wirebench.test").rcode() == dns.rcode.NXDOMAIN
    assert values(ask(AUTH, "a.b.batch.wirebench.test")) == ["127.0.0.1"]
    assert ask(AUTH, "batchx.wirebench.test").rcode() == dns.rcode.NXDOMAIN


def test_delegations_refer_with_glue() -> None:
    root = ask(ROOT, "www.wirebench.test")
    assert root.authority[0].name.to_text() == "test." and not root.answer
    assert not root.flags & dns.flags.AA
    tld = ask(TLD, "www.noglue.test")
    assert tld.authority[0][0].target.to_text() == "ns2.wirebench.test."
    assert not tld.additional  # no glue on purpose
    reverse = ask(ROOT, "1.0.0.127.in-addr.arpa", "PTR")
    assert reverse.authority[0].name.to_text() == "127.in-addr.arpa."


def test_udp_truncation_follows_the_client_buffer() -> None:
    plain = ask(AUTH, "big.wirebench.test", max_size=65535)
    assert plain.flags & dns.flags.TC and not plain.answer  # 512 bytes without EDNS
    roomy = ask(AUTH, "big.wirebench.test", max_size=65535, use_edns=0, payload=8192)
    assert len(roomy.answer[0]) == BIG_RECORDS
    stream = ask(AUTH, "big.wirebench.test", max_size=None)
    assert not stream.flags & dns.flags.TC and len(stream.answer[0]) == BIG_RECORDS


@pytest.mark.parametrize(("name", "rcode"), [
    ("servfail.wirebench.test", dns.rcode.SERVFAIL),
    ("refused.wirebench.test", dns.rcode.REFUSED),
    ("example.org", dns.rcode.REFUSED),
])
def test_error_rcodes(name, rcode) -> None:
    assert ask(AUTH, name).rcode() == rcode


def test_silent_garbage_and_answers_are_not_answered() -> None:
    silent = dns.message.make_query("silent.wirebench.test", "A").to_wire()
    assert respond(AUTH, silent, 512) is None
    assert respond(AUTH, b"\x00\x01", 512) is None  # shorter than a header
    reply = dns.message.make_response(dns.message.make_query("www.wirebench.test", "A"))
    assert respond(AUTH, reply.to_wire(), 512) is None  # QR set: never answer an answer
    garbage = struct.pack("!HHHHHH", 7, 0, 1, 0, 0, 0) + b"\x05ab"
    qid, flags = struct.unpack("!HH", respond(AUTH, garbage, 512)[:4])
    assert qid == 7 and flags & 0xF == dns.rcode.FORMERR


def test_the_root_name_gets_the_root_servers_with_glue() -> None:
    reply = ask(ROOT, ".", "NS")
    assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA
    assert [rd.target.to_text() for rd in reply.answer[0]] == ["127.0.0.2."]
    assert [(rr.name.to_text(), rr[0].address) for rr in reply.additional] == [
        ("127.0.0.2.", "127.0.0.2")]
    assert ask(ROOT, ".", "SOA").answer[0][0].mname.to_text() == "a.root-servers.test."
    assert ask(AUTH, ".", "NS").rcode() == dns.rcode.REFUSED  # not a zone it holds
