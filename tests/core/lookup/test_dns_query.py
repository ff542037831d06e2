"""DNS queries against the lab server on 127.0.0.1 (port 0): every type, TCP retry, errors."""

from __future__ import annotations

import errno

import pytest

from core.errors import UserError
from core.lookup.dns_query import (
    DnsRequest,
    network_problem,
    parse_type,
    query,
    system_nameservers,
)


def ask(server, name: str, rdtype: str = "A", **kw):
    return query(DnsRequest(name, rdtype, server="127.0.0.1", port=server.port, **kw))


@pytest.mark.parametrize(("name", "rdtype", "expected"), [
    ("wirebench.test", "A", "127.0.0.1"),
    ("wirebench.test", "AAAA", "::1"),
    ("wirebench.test", "MX", "10 mail.wirebench.test."),
    ("wirebench.test", "NS", "ns1.wirebench.test."),
    ("wirebench.test", "TXT", '"v=spf1 -all"'),
    ("wirebench.test", "SOA", "ns1.wirebench.test. hostmaster.wirebench.test. 2026112501"),
    ("www.wirebench.test", "AAAA", "::1"),
    ("alias.wirebench.test", "CNAME", "www.wirebench.test."),
    ("ptr.wirebench.test", "PTR", "www.wirebench.test."),
    ("_ftp._tcp.wirebench.test", "SRV", "0 5 2121 ftp.wirebench.test."),
    ("wirebench.test", "CAA", '0 issue "letsencrypt.org"'),
    ("custom.wirebench.test", "TYPE65280", "\\# 4 c0ffee00"),
])
def test_every_record_type(dns_lab, name, rdtype, expected) -> None:
    reply = ask(dns_lab, name, rdtype)
    assert reply.rcode == "NOERROR" and reply.problem == ""
    assert "AA" in reply.flags and "QR" in reply.flags
    assert any(v.startswith(expected) for v in reply.short()), reply.short()
    assert reply.rtt_ms > 0 and reply.size > 12
    assert f"IN\t{reply.rdtype}" in reply.raw and "status: NOERROR" in reply.raw


def test_any_and_cname_chain(dns_lab) -> None:
    reply = ask(dns_lab, "wirebench.test", "ANY", transport="tcp")
    types = {r.rdtype for r in reply.answer}
    assert {"SOA", "NS", "A", "AAAA", "MX", "TXT", "CAA"} <= types
    chain = ask(dns_lab, "chain.wirebench.test", "A")
    assert [r.rdtype for r in chain.answer] == ["CNAME", "CNAME", "A"]


def test_truncated_udp_answer_is_retried_over_tcp(dns_lab) -> None:
    reply = ask(dns_lab, "big.wirebench.test", "A")
    assert reply.transport == "udp→tcp" and reply.retried_over_tcp
    assert len(reply.answer) == 200
    assert "Truncated, retrying in TCP mode" in reply.raw
    forced = ask(dns_lab, "big.wirebench.test", "A", transport="tcp")
    assert forced.transport == "tcp" and len(forced.answer) == 200
    small = ask(dns_lab, "www.wirebench.test", "A", edns=False)
    assert small.transport == "udp"
    # EDNS off means no OPT record at all (dnspython adds one whenever a payload is set)
    assert "EDNS" not in small.sent and "EDNS" not in small.raw
    assert "udp: 1232" in ask(dns_lab, "www.wirebench.test", "A").sent


def test_reverse_lookup_v4_and_v6(dns_lab) -> None:
    v4 = ask(dns_lab, "127.0.0.1", "A", reverse=True)
    assert v4.qname == "1.0.0.127.in-addr.arpa." and v4.rdtype == "PTR"
    assert v4.short() == ["wirebench.test."]
    v6 = ask(dns_lab, "::1", "PTR")  # PTR of an address reverses by itself
    assert v6.qname.endswith("ip6.arpa.") and v6.short() == ["wirebench.test."]
    with pytest.raises(UserError, match="not an IP address"):
        ask(dns_lab, "www.wirebench.test", "PTR", reverse=True)


def test_nxdomain_nodata_and_refused_are_explained(dns_lab) -> None:
    missing = ask(dns_lab, "nope.wirebench.test", "A")
    assert missing.rcode == "NXDOMAIN" and "does not exist" in missing.problem
    assert any(r.rdtype == "SOA" for r in missing.authority)
    nodata = ask(dns_lab, "nodata.wirebench.test", "A")
    assert nodata.rcode == "NOERROR" and "NODATA" in nodata.problem
    refused = ask(dns_lab, "example.com", "A")
    assert refused.rcode == "REFUSED" and "refused the query" in refused.problem


def test_flags_reflect_the_request(dns_lab) -> None:
    reply = ask(dns_lab, "www.wirebench.test", "A", recurse=False, checking_disabled=True)
    assert "RD" not in reply.flags and "RA" not in reply.flags
    assert "CD" in reply.flags  # echoed by make_response
    assert "flags: qr aa cd;" in reply.raw
    dnssec = ask(dns_lab, "www.wirebench.test", "A", dnssec=True)
    assert "EDNS: version: 0" in dnssec.raw
    assert "EDNS: version: 0, flags: do; udp: 1232" in dnssec.sent  # +qr: what was sent
    assert ";; flags: cd;" in reply.sent and ";www.wirebench.test.\t\tIN\tA" in reply.sent


def test_timeout_and_refused_connection(closed_udp_port) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # hears, never answers
        silent.bind(("127.0.0.1", 0))
        with pytest.raises(UserError, match="timeout"):
            query(DnsRequest("x.test", "A", server="127.0.0.1",
                             port=silent.getsockname()[1], timeout=0.3))
    # UDP to a closed port: the ICMP "port unreachable" is reported, not waited out (a
    # timeout would say "No answer … within 30 s")
    with pytest.raises(UserError, match="Connection refused"):
        query(DnsRequest("x.test", "A", server="127.0.0.1", port=closed_udp_port,
                         timeout=30))
    with pytest.raises(UserError, match="Connection refused"):
        query(DnsRequest("x.test", "A", server="127.0.0.1", port=closed_udp_port,
                         transport="tcp", timeout=1))


def test_tls_to_a_plain_dns_port_fails_clearly(dns_lab) -> None:
    with pytest.raises(UserError) as info:
        ask(dns_lab, "www.wirebench.test", "A", transport="tls", timeout=0.5)
    assert "127.0.0.1" in str(info.value)


def test_no_network_sentence() -> None:
    problem = network_problem(OSError(errno.ENETUNREACH, "Network is unreachable"),
                              "192.0.2.1", 53, "udp", 2.0)
    assert str(problem).startswith("No network")


@pytest.mark.parametrize(("request_", "needle"), [
    (DnsRequest("", "A", server="127.0.0.1"), "Name is empty"),
    (DnsRequest("a..b", "A", server="127.0.0.1"), "empty label"),
    (DnsRequest("x" * 64 + ".test", "A", server="127.0.0.1"), "at most 63"),
    (DnsRequest("x.test", "BOGUS", server="127.0.0.1"), "unknown"),
    (DnsRequest("x.test", "A", server="127.0.0.1", port=0), "1–65535"),
    (DnsRequest("x.test", "A", server="127.0.0.1", port="99999"), "1–65535"),
    (DnsRequest("x.test", "A", server="127.0.0.1", transport="carrier-pigeon"), "Transport"),
    (DnsRequest("x.test", "A", server="127.0.0.1", timeout=0), "Timeout"),
    (DnsRequest("x.test", "A", server="bad..server"), "Server"),
])
def test_bad_input(request_, needle) -> None:
    with pytest.raises(UserError, match=needle):
        query(request_)


def test_parse_type_accepts_numeric_types() -> None:
    assert parse_type("type65280") == 65280
    assert parse_type("mx") == 15
    with pytest.raises(UserError):
        parse_type("TYPE99999")


def test_system_nameservers_read_resolv_conf() -> None:
    servers = system_nameservers()
    assert isinstance(servers, list)


@pytest.mark.parametrize("transport", ["tls", "https"])
def test_dot_and_doh_against_the_lab(secure_lab, transport) -> None:
    from core.tlscerts import self_signed

    cert, _key = self_signed()
    reply = query(DnsRequest("wirebench.test", "MX", server="127.0.0.1",
                             port=secure_lab.tls_port, transport=transport,
                             ca_file=str(cert)))
    assert reply.transport == transport
    assert "10 mail.wirebench.test." in reply.short()
    assert f"({transport.upper()})" in reply.raw
    # verification is on by default: the self-signed lab certificate is refused
    with pytest.raises(UserError, match="certificate rejected"):
        query(DnsRequest("wirebench.test", "A", server="127.0.0.1",
                         port=secure_lab.tls_port, transport=transport))
    unverified = query(DnsRequest("big.wirebench.test", "A", server="127.0.0.1",
                                  port=secure_lab.tls_port, transport=transport,
                                  verify_tls=False))
    assert len(unverified.answer) == 200  # streams carry what UDP cannot


@pytest.mark.parametrize("transport", ["tls", "https"])
def test_secure_transport_to_a_closed_port(closed_udp_port, transport) -> None:
    with pytest.raises(UserError, match="refused|Could not connect"):
        query(DnsRequest("wirebench.test", "A", server="127.0.0.1", port=closed_udp_port,
                         transport=transport, timeout=2))


def test_servfail_and_silent_names(dns_lab) -> None:
    failing = ask(dns_lab, "servfail.wirebench.test", "A")
    assert failing.rcode == "SERVFAIL" and "could not answer" in failing.problem
    policy = ask(dns_lab, "refused.wirebench.test", "A")
    assert policy.rcode == "REFUSED"
    with pytest.raises(UserError, match="timeout"):
        ask(dns_lab, "silent.wirebench.test", "A", timeout=0.3)
