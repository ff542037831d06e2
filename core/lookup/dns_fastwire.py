"""A small hand-rolled DNS encoder/decoder for the batch hot path.

dnspython builds and parses full message objects (tens of microseconds each); a batch
of thousands of A/AAAA lookups needs only the header, the echoed question and address
records. Anything else — compression in odd places, other record types, EDNS options —
falls back to dnspython, so the fast path never guesses.
"""

from __future__ import annotations

import socket
import struct

import dns.message
import dns.rcode
import dns.rdatatype

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
FLAG_RD = 0x0100
FLAG_TC = 0x0200
CLASS_IN = 1


def encode_question(name: str, qtype: int) -> bytes:
    """QNAME QTYPE QCLASS for an ASCII name already checked by ``check_name``."""
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out.append(len(raw))
        out += raw
    out.append(0)
    out += struct.pack("!HH", qtype, CLASS_IN)
    return bytes(out)


def encode_query(qid: int, question: bytes, recurse: bool = True) -> bytes:
    return _HEADER.pack(qid, FLAG_RD if recurse else 0, 1, 0, 0, 0) + question


class FastReply:
    __slots__ = ("qid", "rcode", "truncated", "answers")

    def __init__(self, qid: int, rcode: str, truncated: bool, answers: tuple[str, ...]):
        self.qid = qid
        self.rcode = rcode
        self.truncated = truncated
        self.answers = answers


def _skip_name(wire: bytes, pos: int) -> int:
    while True:
        length = wire[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += length + 1


def decode_reply(wire: bytes, question: bytes, qtype: int) -> FastReply | None:
    """The reply's id, rcode, TC and answer values, or None when it is not ours.

    Raises ValueError when the message is malformed.
    """
    if len(wire) < 12:
        raise ValueError("short header")
    qid, flags, qdcount, ancount, _ns, _ar = _HEADER.unpack_from(wire)
    end = 12 + len(question)
    if qdcount != 1 or wire[12:end].lower() != question.lower():
        if flags & FLAG_TC and qdcount == 0:
            return FastReply(qid, dns.rcode.to_text(flags & 0xF), True, ())
        return None
    rcode = flags & 0xF
    truncated = bool(flags & FLAG_TC)
    if qtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        values = _addresses(wire, end, ancount, qtype)
        if values is not None:
            return FastReply(qid, dns.rcode.to_text(rcode), truncated, values)
    return _slow(wire, qid, rcode, truncated, qtype)


def _addresses(wire: bytes, pos: int, count: int, qtype: int) -> tuple[str, ...] | None:
    values = []
    try:
        for _ in range(count):
            pos = _skip_name(wire, pos)
            rtype, rclass, _ttl, rdlen = _RR.unpack_from(wire, pos)
            pos += 10
            rdata = wire[pos:pos + rdlen]
            pos += rdlen
            if rtype == dns.rdatatype.A and rdlen == 4:
                values.append(socket.inet_ntoa(rdata))
            elif rtype == dns.rdatatype.AAAA and rdlen == 16:
                values.append(socket.inet_ntop(socket.AF_INET6, rdata))
            else:
                return None  # a CNAME or something else: let dnspython read it
    except (IndexError, struct.error):
        raise ValueError("malformed answer") from None
    return tuple(values)


def _slow(wire: bytes, qid: int, rcode: int, truncated: bool, qtype: int) -> FastReply:
    try:
        message = dns.message.from_wire(wire, raise_on_truncation=False)
    except Exception as exc:
        raise ValueError(str(exc)) from None
    values = tuple(rd.to_text() for rrset in message.answer for rd in rrset
                   if rrset.rdtype in (qtype, dns.rdatatype.CNAME))
    return FastReply(qid, dns.rcode.to_text(message.rcode()), truncated, values)
