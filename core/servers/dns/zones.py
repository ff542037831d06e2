"""The lab's zones and how an authoritative server answers from them (no sockets here).

``wirebench.test`` holds one record of every common type, 200 A records at
``big.wirebench.test`` (too many for one UDP reply), a wildcard under ``batch.``, CNAME
chains, a NODATA name and names that misbehave on purpose. The root and ``test.`` zones
delegate down to it so a trace can walk root -> TLD -> authority offline.
:func:`respond` turns query bytes into reply bytes, truncating with TC for UDP.
"""

from __future__ import annotations

import struct

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset
import dns.zone

ZONE = "wirebench.test."
BIG_RECORDS = 200
EDNS_PAYLOAD = 1232

ZONE_NAME = dns.name.from_text(ZONE)
#: names in the lab zone that misbehave on purpose, to show how a client copes
MISBEHAVING: dict[str, int | str] = {
    "servfail": dns.rcode.SERVFAIL,  # a broken zone behind the server
    "refused": dns.rcode.REFUSED,  # policy says no
    "silent": "silent",  # never answered: the client's timeout and retries
}

SOA = "hostmaster.wirebench.test. 2026112501 3600 600 86400 60"


def auth_zone_text(v4: str) -> str:
    big = "\n".join(f"big A 10.0.{i // 250}.{i % 250 + 1}" for i in range(BIG_RECORDS))
    return f"""$ORIGIN wirebench.test.
$TTL 300
@ SOA ns1 {SOA}
@ NS ns1
@ A {v4}
@ AAAA ::1
@ MX 10 mail
@ MX 20 mail2
@ TXT "v=spf1 -all"
@ TXT "Wirebench lab zone: one record of every common type"
@ CAA 0 issue "letsencrypt.org"
@ CAA 0 iodef "mailto:hostmaster@wirebench.test"
ns1 A {v4}
ns2 A {v4}
mail A {v4}
mail2 A {v4}
www A {v4}
www AAAA ::1
ftp A {v4}
telnet A {v4}
smtp CNAME mail
alias CNAME www
chain CNAME alias
ptr PTR www.wirebench.test.
_ftp._tcp SRV 0 5 2121 ftp
_telnet._tcp SRV 0 5 2323 telnet
_smtp._tcp SRV 0 5 2525 mail
_http._tcp SRV 0 5 8000 www
_echo._tcp SRV 0 5 7000 www
custom TYPE65280 \\# 4 c0ffee00
*.batch A {v4}
nodata TXT "only TXT here"
{big}
"""


def noglue_zone_text(v4: str) -> str:
    """A zone whose delegation in test. has no glue: a resolver must look its server up."""
    return f"""$ORIGIN noglue.test.
$TTL 300
@ SOA ns2.wirebench.test. {SOA}
@ NS ns2.wirebench.test.
www A {v4}
"""


def reverse_v4_zone_text() -> str:
    return f"""$ORIGIN 127.in-addr.arpa.
$TTL 300
@ SOA ns1.wirebench.test. {SOA}
@ NS ns1.wirebench.test.
1.0.0 PTR wirebench.test.
2.0.0 PTR a.root-servers.test.
3.0.0 PTR ns.test.
"""


def reverse_v6_zone_text() -> str:
    origin = dns.reversename.from_address("::1").parent()
    return f"""$ORIGIN {origin}
$TTL 300
@ SOA ns1.wirebench.test. {SOA}
@ NS ns1.wirebench.test.
1 PTR wirebench.test.
"""


def _server_name(address: str) -> str:
    """The name of a lab name server: its address spelled as a domain name.

    ``dig +trace`` never uses glue: it looks each NS name up with the system resolver
    (BIND's dighost.c ``followup_lookup`` -> ``getaddresses``), which knows nothing of the
    lab's ``.test`` names. A name that reads as an address literal needs no lookup there,
    so dig can walk root -> TLD -> authority offline; resolvers that use glue (ours, the
    lab's own) find the same address in the additional section. (RFC 1123 2.1 keeps such
    names out of real host names; the lab is not the Internet.)
    """
    return f"{address}."


def root_zone_text(v4: str, root: str, tld: str) -> str:
    return f"""$ORIGIN .
$TTL 3600
@ SOA a.root-servers.test. {SOA}
@ NS {_server_name(root)}
{_server_name(root)} A {root}
test. NS {_server_name(tld)}
{_server_name(tld)} A {tld}
ns.test. A {tld}
a.root-servers.test. A {root}
127.in-addr.arpa. NS {_server_name(v4)}
{_server_name(v4)} A {v4}
"""


def tld_zone_text(v4: str, root: str, tld: str) -> str:
    return f"""$ORIGIN test.
$TTL 3600
@ SOA ns.test. {SOA}
@ NS ns
ns A {tld}
a.root-servers A {root}
wirebench NS {_server_name(v4)}
noglue NS ns2.wirebench.test.
"""


def _is_child_of_zone(name: dns.name.Name) -> bool:
    return len(name.labels) > 1 and name.parent() == ZONE_NAME


def load_zone(text: str) -> dns.zone.Zone:
    origin = next(line.split()[1] for line in text.splitlines() if line.startswith("$ORIGIN"))
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)


class ZoneAnswerer:
    """Authoritative answers from a set of zones; REFUSED for anything else."""

    def __init__(self, zones: list[dns.zone.Zone]) -> None:
        # deepest origin first, so 127.in-addr.arpa. wins over . for a reverse name
        self.zones = sorted(zones, key=lambda z: len(z.origin.labels), reverse=True)

    def zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        return next((z for z in self.zones if name.is_subdomain(z.origin)), None)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response, or None for a query the lab drops on purpose (silent.*)."""
        response = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
        response.flags &= ~dns.flags.RA  # authoritative only: no recursion offered
        response.flags |= query.flags & dns.flags.CD  # RFC 4035 3.1.6: CD is copied
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        zone = self.zone_for(question.name) if question.rdclass == dns.rdataclass.IN else None
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        # the root name has no parent (dns.name.NoParent): it is never a misbehaving name
        misbehaviour = MISBEHAVING.get(question.name.labels[0].decode("ascii", "replace")
                                       ) if _is_child_of_zone(question.name) else None
        if misbehaviour == "silent":
            return None
        if misbehaviour is not None:
            response.set_rcode(misbehaviour)
            return response
        self._fill(zone, question.name, question.rdtype, response)
        return response

    def _fill(self, zone: dns.zone.Zone, qname: dns.name.Name, qtype: int,
              response: dns.message.Message) -> None:
        # a delegation between the zone's apex and the name: refer, do not answer
        depth = len(zone.origin.labels)
        for cut in range(depth + 1, len(qname.labels) + 1):
            owner = dns.name.Name(qname.labels[-cut:])
            node = zone.get_node(owner)
            ns = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) if node else None
            if ns is not None:
                response.authority.append(dns.rrset.from_rdata_list(owner, ns.ttl, list(ns)))
                self._glue(zone, [rd.target for rd in ns], response)
                return
        response.flags |= dns.flags.AA
        name = qname
        for _ in range(8):  # follow CNAMEs inside the zone, bounded
            node = zone.get_node(name)
            owner = name
            if node is None:
                node = self._wildcard(zone, name)
            if node is None:
                if name == qname:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._soa(zone, response)
                return
            if qtype == dns.rdatatype.ANY:
                for rds in node.rdatasets:
                    response.answer.append(dns.rrset.from_rdata_list(owner, rds.ttl, list(rds)))
                return
            rds = node.get_rdataset(dns.rdataclass.IN, qtype)
            if rds is not None:
                response.answer.append(dns.rrset.from_rdata_list(owner, rds.ttl, list(rds)))
                self._additional(zone, qtype, rds, response)
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                self._soa(zone, response)  # NODATA: the name exists, not this type
                return
            response.answer.append(dns.rrset.from_rdata_list(owner, cname.ttl, list(cname)))
            name = cname[0].target
            if not name.is_subdomain(zone.origin):
                return

    def _wildcard(self, zone: dns.zone.Zone, name: dns.name.Name):
        parent = name.parent()
        while parent.is_subdomain(zone.origin):
            wild = zone.get_node(dns.name.Name((b"*",) + parent.labels))
            if wild is not None:
                return wild
            if zone.get_node(parent) is not None or parent == zone.origin:
                return None  # the closest encloser has no wildcard
            parent = parent.parent()
        return None

    def _soa(self, zone: dns.zone.Zone, response: dns.message.Message) -> None:
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            response.authority.append(dns.rrset.from_rdata_list(zone.origin, soa.ttl, list(soa)))

    def _glue(self, zone: dns.zone.Zone, targets: list[dns.name.Name],
              response: dns.message.Message) -> None:
        for target in targets:
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                rds = zone.get_rdataset(target, rdtype) if target.is_subdomain(
                    zone.origin) else None
                if rds is not None:
                    response.additional.append(
                        dns.rrset.from_rdata_list(target, rds.ttl, list(rds)))

    def _additional(self, zone: dns.zone.Zone, qtype: int, rds,
                    response: dns.message.Message) -> None:
        # in-zone addresses of the names an answer points to; for NS this is the glue a
        # resolver priming from this server (``dig +trace``) needs to reach them
        if qtype in (dns.rdatatype.MX, dns.rdatatype.SRV, dns.rdatatype.NS):
            targets = [rd.exchange if qtype == dns.rdatatype.MX else rd.target for rd in rds]
            self._glue(zone, targets, response)


def respond(answerer: ZoneAnswerer, wire: bytes, max_size: int | None) -> bytes | None:
    """The reply to one wire query, truncated with TC when over ``max_size`` (UDP)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.message.ShortHeader:
        return None
    except Exception:
        # FORMERR with the query's id, built by hand: the message did not parse
        qid = struct.unpack("!H", wire[:2])[0]
        return struct.pack("!HHHHHH", qid, 0x8000 | dns.rcode.FORMERR, 0, 0, 0, 0)
    if query.flags & dns.flags.QR:
        return None  # never answer an answer (no loops between servers)
    response = answerer.answer(query)
    if response is None:
        return None
    if max_size is None:  # TCP: without an explicit size dnspython caps at the EDNS one
        return response.to_wire(max_size=65535)
    limit = max(512, query.payload) if query.edns >= 0 else 512
    try:
        return response.to_wire(max_size=min(limit, max_size))
    except dns.exception.TooBig:
        short = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
        short.flags |= dns.flags.TC | (response.flags & dns.flags.AA)
        return short.to_wire()


def servfail(wire: bytes) -> bytes | None:
    """A SERVFAIL reply to ``wire`` (echoing its question when it parses), or None."""
    if len(wire) < 12:
        return None
    try:
        response = dns.message.make_response(dns.message.from_wire(wire))
    except Exception:  # any parse failure: answer with the bare header
        qid, flags = struct.unpack("!HH", wire[:4])
        return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | dns.rcode.SERVFAIL,
                           0, 0, 0, 0)
    response.set_rcode(dns.rcode.SERVFAIL)
    return response.to_wire()
