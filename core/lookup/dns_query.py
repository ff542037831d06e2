"""One DNS query, as dig makes it: any type, any server, UDP/TCP/TLS/HTTPS, with a deadline.

UDP answers that come back truncated (TC) are asked again over TCP automatically, within
what is left of the same deadline. The reply keeps everything a user may look at: flags,
rcode, the three sections, round-trip time and a dig-like text of the raw message.
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import dataclass, field

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.reversename

from core.errors import UserError, check_port, describe_error
from core.lookup.dnsnames import check_name, is_address, to_dns_name

TRANSPORTS = ("udp", "tcp", "tls", "https")
DEFAULT_PORTS = {"udp": 53, "tcp": 53, "tls": 853, "https": 443}
COMMON_TYPES = ("A", "AAAA", "MX", "NS", "TXT", "SOA", "CNAME", "PTR", "SRV", "CAA", "ANY",
                "DS", "DNSKEY", "HTTPS", "SVCB", "NAPTR", "SSHFP", "TLSA")
FLAG_NAMES = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")
EDNS_PAYLOAD = 1232


def doh_available() -> bool:
    return bool(getattr(dns.query, "have_doh", False))


def transport_note(transport: str) -> str:
    """Why a transport cannot be used here, or '' when it can."""
    if transport == "https" and not doh_available():
        return ("DNS over HTTPS needs the httpx2 and h2 packages "
                "(pip install 'dnspython[doh]'); they are not installed.")
    return ""


def parse_type(text: str) -> int:
    raw = (text or "").strip().upper()
    if not raw:
        raise UserError("Type is empty: choose A, AAAA, MX, … or TYPEnn.", "Type")
    try:
        return dns.rdatatype.from_text(raw)
    except (dns.rdatatype.UnknownRdatatype, ValueError):
        raise UserError(f"Record type {raw[:20]!r} is unknown: use A, AAAA, MX, TXT, … or "
                        "TYPEnn with nn 0–65535.", "Type") from None


def system_nameservers() -> list[str]:
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return []
    return [str(ns) for ns in resolver.nameservers]


@dataclass(frozen=True, slots=True)
class RecordRow:
    name: str
    ttl: int
    rdclass: str
    rdtype: str
    value: str

    def text(self) -> str:
        return f"{self.name}\t{self.ttl}\t{self.rdclass}\t{self.rdtype}\t{self.value}"


def rows_of(section: list) -> list[RecordRow]:
    return [RecordRow(rrset.name.to_text(), rrset.ttl, dns.rdataclass.to_text(rrset.rdclass),
                      dns.rdatatype.to_text(rrset.rdtype), rd.to_text())
            for rrset in section for rd in rrset]


@dataclass(frozen=True, slots=True)
class DnsRequest:
    name: str
    rdtype: str = "A"
    server: str = ""  # '' = the system's first nameserver; for https also a URL
    port: int | str | None = None  # None = the transport's usual port
    transport: str = "udp"
    timeout: float = 3.0
    recurse: bool = True
    edns: bool = True
    dnssec: bool = False  # set DO, ask for signatures
    checking_disabled: bool = False
    reverse: bool = False  # name is an address: ask PTR of its in-addr/ip6.arpa name
    verify_tls: bool = True
    ca_file: str = ""  # trust this CA (PEM) for DoT/DoH, e.g. the lab certificate
    doh_path: str = "/dns-query"


@dataclass(frozen=True, slots=True)
class DnsReply:
    qname: str
    rdtype: str
    server: str
    port: int
    transport: str  # what was used: 'udp', 'tcp', 'udp→tcp' (truncated), 'tls', 'https'
    rtt_ms: float
    rcode: str
    flags: tuple[str, ...]
    answer: list[RecordRow] = field(default_factory=list)
    authority: list[RecordRow] = field(default_factory=list)
    additional: list[RecordRow] = field(default_factory=list)
    size: int = 0
    raw: str = ""
    sent: str = ""  # the query as sent, dig +qr style
    problem: str = ""  # a sentence when rcode is not NOERROR or the answer is empty

    @property
    def retried_over_tcp(self) -> bool:
        return self.transport == "udp→tcp"

    def short(self) -> list[str]:
        """``dig +short``: the values of the answer records."""
        return [r.value for r in self.answer]


def build_query(request: DnsRequest) -> tuple[dns.message.Message, str]:
    """The query message and the name it asks about (after reverse mapping)."""
    rdtype = parse_type(request.rdtype)
    raw = (request.name or "").strip()
    if request.reverse or (rdtype == dns.rdatatype.PTR and is_address(raw)):
        if not raw:
            raise UserError("Address is empty: type an IPv4 or IPv6 address to reverse.",
                            "Name")
        if not is_address(raw):
            raise UserError(f"{raw[:45]!r} is not an IP address: a reverse lookup needs "
                            "one, such as 127.0.0.1 or ::1.", "Name")
        qname = dns.reversename.from_address(raw.split("%", 1)[0])
        rdtype = dns.rdatatype.PTR
    else:
        qname = to_dns_name(raw, "Name")
    edns = request.edns or request.dnssec
    # False, not None: dnspython turns EDNS on by itself whenever a payload is given
    query = dns.message.make_query(
        qname, rdtype, use_edns=0 if edns else False,
        payload=EDNS_PAYLOAD if edns else None, want_dnssec=request.dnssec)
    if not request.recurse:
        query.flags &= ~dns.flags.RD
    if request.checking_disabled:
        query.flags |= dns.flags.CD
    return query, qname.to_text()


def _server(request: DnsRequest) -> tuple[str, int]:
    transport = request.transport
    if transport not in TRANSPORTS:
        raise UserError(f"Transport must be one of {', '.join(TRANSPORTS)}.", "Transport")
    if request.port in (None, ""):
        port = DEFAULT_PORTS[transport]
    else:
        port = check_port(request.port, "Port")
    server = (request.server or "").strip()
    if transport == "https" and server.lower().startswith("https://"):
        return server, port
    if not server:
        found = system_nameservers()
        if not found:
            raise UserError("No system DNS server is configured (/etc/resolv.conf lists "
                            "none): type a server address.", "Server")
        return found[0], port
    if is_address(server):
        return server, port
    if transport == "https":
        return server, port  # a host name for DoH goes into the URL
    host = check_name(server, "Server")
    from core.lookup.resolver import gethostbyname

    return gethostbyname(host, deadline=min(request.timeout, 5.0)), port


def _flags(message: dns.message.Message) -> tuple[str, ...]:
    value = message.flags
    bits = {"QR": dns.flags.QR, "AA": dns.flags.AA, "TC": dns.flags.TC, "RD": dns.flags.RD,
            "RA": dns.flags.RA, "AD": dns.flags.AD, "CD": dns.flags.CD}
    return tuple(name for name in FLAG_NAMES if value & bits[name])


def rcode_problem(rcode: int, qname: str, server: str, has_answer: bool,
                  rdtype: str) -> str:
    """One sentence for a reply that carries no usable answer."""
    text = dns.rcode.to_text(rcode)
    if rcode == dns.rcode.NOERROR:
        return "" if has_answer else f"{qname} exists but has no {rdtype} records (NODATA)."
    if rcode == dns.rcode.NXDOMAIN:
        return f"{qname} does not exist (NXDOMAIN from {server}): check the spelling."
    if rcode == dns.rcode.SERVFAIL:
        return (f"{server} could not answer for {qname} (SERVFAIL): its upstream or the zone "
                "is broken; try again later or ask another server.")
    if rcode == dns.rcode.REFUSED:
        return (f"{server} refused the query for {qname} (REFUSED): it does not serve that "
                "zone or will not recurse for you; ask another server.")
    if rcode == dns.rcode.FORMERR:
        return f"{server} could not parse the query (FORMERR); try without EDNS."
    if rcode == dns.rcode.NOTIMP:
        return f"{server} does not implement this kind of query (NOTIMP)."
    return f"{server} answered {text} for {qname}."


def network_problem(exc: BaseException, server: str, port: int, transport: str,
                    timeout: float) -> UserError:
    where = f"{server}:{port} over {transport.upper()}"
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, ssl.SSLCertVerificationError):
        reason = text.split("certificate verify failed:")[-1].split("(_ssl")[0].strip()
        return UserError(f"TLS certificate rejected by {where}: {reason or text}. Give a CA "
                         "file that signs it, or turn off Verify TLS for this test.",
                         "Server")
    if type(exc).__module__.split(".")[0].startswith("httpx"):
        # DoH errors come from the HTTP client; map the usual ones by their kind
        kind = type(exc).__name__
        cause = exc.__cause__ or exc.__context__
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__cause__ or cause.__context__
        if "Timeout" in kind:
            exc = TimeoutError(text)
        elif cause is not None:
            exc = cause
        elif "refused" in text.lower():
            exc = ConnectionRefusedError(text)
        elif kind == "ConnectError":
            return UserError(f"Could not connect to {where}: nothing listens there or the "
                             "network is down; check the server and port.", "Port")
        else:
            return UserError(f"HTTPS request to {where} failed: {text or kind}.", "Server")
    if isinstance(exc, dns.exception.Timeout | TimeoutError | socket.timeout):
        hint = " or try TCP" if transport == "udp" else ""
        return UserError(f"No answer from {where} within {timeout:g} s (timeout): check the "
                         f"server address and port{hint}.", "Server")
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH,
                                                  errno.EADDRNOTAVAIL):
        return UserError(f"No network: {where} cannot be reached ({exc.strerror}); check "
                         "your connection and routes.", "Server")
    if isinstance(exc, ConnectionRefusedError):
        return UserError(f"Connection refused by {where}: no DNS server listens there; "
                         "check the port.", "Port")
    if isinstance(exc, ssl.SSLError):
        return UserError(describe_error(exc, where), "Server")
    if isinstance(exc, dns.message.Truncated):
        return UserError(f"{where} sent a truncated answer and TCP is not possible.",
                         "Transport")
    if isinstance(exc, dns.exception.FormError | dns.message.BadEDNS):
        return UserError(f"{where} sent a reply that is not valid DNS ({exc}).", "Server")
    return UserError(describe_error(exc, where), "Server")


def _connected_udp(server: str, port: int) -> socket.socket:
    """A non-blocking UDP socket connected to the server, as dig uses.

    Connected, it hears the ICMP "port unreachable" of a closed port as ECONNREFUSED at
    once; an unconnected socket never does and the query would wait for its timeout.
    """
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.connect((server, port))
    except OSError:
        sock.close()
        raise
    return sock


def _send(query: dns.message.Message, request: DnsRequest, server: str, port: int,
          deadline: float) -> tuple[dns.message.Message, str]:
    transport = request.transport
    left = max(0.05, deadline - time.monotonic())
    if transport == "udp":
        try:
            with _connected_udp(server, port) as sock:
                reply = dns.query.udp(query, server, timeout=left, port=port, sock=sock,
                                      ignore_unexpected=True, raise_on_truncation=True)
            return reply, "udp"
        except dns.message.Truncated:
            left = deadline - time.monotonic()
            if left <= 0:
                raise dns.exception.Timeout(timeout=request.timeout) from None
            return dns.query.tcp(query, server, timeout=left, port=port), "udp→tcp"
    if transport == "tcp":
        return dns.query.tcp(query, server, timeout=left, port=port), "tcp"
    if transport == "tls":
        from core.tlscerts import client_context

        context = client_context(verify=request.verify_tls, ca_file=request.ca_file or None)
        # an address is checked against the certificate's IP entries, a name against DNS
        return dns.query.tls(query, server, timeout=left, port=port, ssl_context=context,
                             server_hostname=server), "tls"
    note = transport_note("https")
    if note:
        raise UserError(note, "Transport")
    from core.tlscerts import client_context

    verify: bool | ssl.SSLContext = (client_context(True, request.ca_file or None)
                                     if request.verify_tls else False)
    return dns.query.https(query, server, timeout=left, port=port, path=request.doh_path,
                           verify=verify), "https"


def query(request: DnsRequest) -> DnsReply:
    """Ask once; raise :class:`UserError` for bad input and network failures.

    A reply with an error rcode is not an exception: it comes back with ``problem`` set.
    """
    if not 0 < request.timeout <= 120:
        raise UserError("Timeout must be between 0 and 120 seconds.", "Timeout")
    message, qname = build_query(request)
    server, port = _server(request)
    start = time.monotonic()
    deadline = start + request.timeout
    try:
        reply, used = _send(message, request, server, port, deadline)
    except UserError:
        raise
    except Exception as exc:
        raise network_problem(exc, server, port, request.transport, request.timeout) from None
    rtt = (time.monotonic() - start) * 1000.0
    rdtype = dns.rdatatype.to_text(message.question[0].rdtype)
    wire_size = len(reply.wire) if reply.wire else len(reply.to_wire(max_size=65535))
    answer = rows_of(reply.answer)
    return DnsReply(
        qname=qname, rdtype=rdtype, server=server, port=port, transport=used,
        rtt_ms=rtt, rcode=dns.rcode.to_text(reply.rcode()), flags=_flags(reply),
        answer=answer, authority=rows_of(reply.authority),
        additional=rows_of(reply.additional), size=wire_size,
        raw=dig_text(message, reply, server, port, used, rtt, wire_size),
        sent=query_text(message),
        problem=rcode_problem(reply.rcode(), qname, server, bool(answer), rdtype))


def _section_text(title: str, rrsets: list) -> list[str]:
    if not rrsets:
        return []
    lines = [f";; {title} SECTION:"]
    for rrset in rrsets:
        for rd in rrset:
            lines.append(f"{rrset.name.to_text()}\t\t{rrset.ttl}\t"
                         f"{dns.rdataclass.to_text(rrset.rdclass)}\t"
                         f"{dns.rdatatype.to_text(rrset.rdtype)}\t{rd.to_text()}")
    lines.append("")
    return lines


def message_text(message: dns.message.Message) -> list[str]:
    """Header, OPT pseudo-section and sections of one message, as dig prints them."""
    counts = (f"QUERY: {len(message.question)}, "
              f"ANSWER: {sum(len(r) for r in message.answer)}, "
              f"AUTHORITY: {sum(len(r) for r in message.authority)}, "
              f"ADDITIONAL: {sum(len(r) for r in message.additional)}")
    lines = [
        f";; ->>HEADER<<- opcode: {dns.opcode.to_text(message.opcode())}, "
        f"status: {dns.rcode.to_text(message.rcode())}, id: {message.id}",
        f";; flags: {' '.join(f.lower() for f in _flags(message))}; {counts}",
        "",
    ]
    if message.edns >= 0:
        do = " do" if message.ednsflags & dns.flags.DO else ""
        lines += [";; OPT PSEUDOSECTION:",
                  f"; EDNS: version: {message.edns}, flags:{do}; udp: {message.payload}", ""]
    lines.append(";; QUESTION SECTION:")
    for question in message.question:
        lines.append(f";{question.name.to_text()}\t\t"
                     f"{dns.rdataclass.to_text(question.rdclass)}\t"
                     f"{dns.rdatatype.to_text(question.rdtype)}")
    lines.append("")
    lines += _section_text("ANSWER", message.answer)
    lines += _section_text("AUTHORITY", message.authority)
    lines += _section_text("ADDITIONAL", message.additional)
    return lines


def query_text(query_msg: dns.message.Message) -> str:
    """The query as sent (``dig +qr``)."""
    size = len(query_msg.to_wire())
    return "\n".join([";; Sending:", *message_text(query_msg),
                      f";; QUERY SIZE: {size}"]) + "\n"


def dig_text(query_msg: dns.message.Message, reply: dns.message.Message, server: str,
             port: int, transport: str, rtt_ms: float, size: int) -> str:
    """The reply as ``dig`` prints it (header, OPT, sections, stats)."""
    question = query_msg.question[0]
    qtype = dns.rdatatype.to_text(question.rdtype)
    lines = [
        f"; <<>> Wirebench <<>> @{server} -p {port} {question.name.to_text()} {qtype}"
        + ("" if transport.startswith("udp") else f" +{transport}"),
        ";; Got answer:",
    ]
    if transport == "udp→tcp":
        lines.insert(1, ";; Truncated, retrying in TCP mode.")
    lines += message_text(reply)
    host = f"[{server}]" if ":" in server else server
    lines += [
        f";; Query time: {rtt_ms:.1f} msec",
        f";; SERVER: {host}#{port}({server}) ({transport.upper()})",
        f";; WHEN: {time.strftime('%a %b %d %H:%M:%S %Z %Y')}",
        f";; MSG SIZE  rcvd: {size}",
    ]
    return "\n".join(lines) + "\n"
