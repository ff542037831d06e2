"""The lab DNS server's gate, byte-capped cache and response-rate limiter."""

from __future__ import annotations

import struct

import dns.message
import pytest

from core.errors import UserError
from core.servers.dns.limits import (
    DnsLimits,
    PacketCache,
    ResponseRateLimiter,
    client_network,
    formerr,
    gate,
    question_key,
    truncated_reply,
)


def query(name: str = "www.wirebench.test") -> bytes:
    return dns.message.make_query(name, "A").to_wire()


def test_gate_rejects_by_header_alone() -> None:
    assert gate(query()) is True
    assert gate(b"\x00" * 11) is None
    answer = bytearray(query())
    answer[2] |= 0x80  # QR: never answer an answer
    assert gate(bytes(answer)) is None
    many = struct.pack("!HHHHHH", 7, 0x0100, 65535, 0, 0, 0)
    reply = gate(many)
    assert isinstance(reply, bytes) and reply == formerr(many)
    assert struct.unpack("!HH", reply[:4]) == (7, 0x8001)


def test_question_key_is_case_blind_and_refuses_pointers() -> None:
    assert question_key(query("WWW.wirebench.test")) == question_key(query())
    pointer = struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"
    assert question_key(pointer) is None
    assert question_key(query()[:-3]) is None  # type and class cut short


def test_packet_cache_is_capped_in_bytes_and_skips_formerr() -> None:
    cache = PacketCache(max_bytes=16_000)
    reply = b"\x84\x00" + b"r" * 98
    for i in range(1000):
        cache.put(f"key{i}".encode() * 10, reply)
    assert cache.bytes <= 16_000 and 0 < len(cache) < 1000
    assert cache.get(b"key999" * 10) == reply  # newest kept, oldest gone
    assert cache.get(b"key0" * 10) is None
    cache.put(b"junk", b"\x80\x01" + b"\x00" * 8)  # FORMERR: never cached
    assert cache.get(b"junk") is None
    cache.put(b"fault", b"\x80\x02" + b"\x00" * 8)  # SERVFAIL: never cached
    assert cache.get(b"fault") is None
    cache.put(b"huge", b"\x84\x00" + b"x" * 2000)  # over 1/16 of the cap: not kept
    assert cache.get(b"huge") is None


def test_rate_limiter_sends_rate_then_slips_every_second() -> None:
    rrl = ResponseRateLimiter(rate=5, slip=2)
    net, q = client_network("192.0.2.9"), question_key(query())
    assert q is not None
    verdicts = [rrl.verdict(net, q, now=100.0) for _ in range(11)]
    assert verdicts[:5] == ["send"] * 5
    assert verdicts[5:] == ["drop", "slip"] * 3
    assert rrl.verdict(client_network("192.0.3.9"), q, now=100.0) == "send"  # other net
    assert rrl.verdict(net, q, now=101.0) == "send"  # a second later: tokens back
    assert ResponseRateLimiter(rate=0, slip=2).verdict(net, q) == "send"


def test_client_network_groups_by_24_and_56() -> None:
    assert client_network("10.1.2.3") == client_network("10.1.2.200") != client_network(
        "10.1.3.3")
    assert client_network("2001:db8:0:1::1") == client_network("2001:db8:0:1::2")


def test_truncated_reply_carries_only_the_question() -> None:
    wire = query()
    q = question_key(wire)
    assert q is not None
    reply = dns.message.from_wire(truncated_reply(wire, q))
    assert reply.flags & dns.flags.TC and reply.id == dns.message.from_wire(wire).id
    assert not reply.answer and str(reply.question[0].name) == "www.wirebench.test."


def test_limits_check_names_the_setting() -> None:
    with pytest.raises(UserError, match="TCP clients"):
        DnsLimits(tcp_clients=0).check()
    with pytest.raises(UserError, match="512-65535"):
        DnsLimits(max_udp_size=100).check()
