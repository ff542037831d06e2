"""The lab DNS server: zones, referrals, truncation, REFUSED, FORMERR, start/stop."""

from __future__ import annotations

import argparse
import socket
import ssl
import struct
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from core.servers.dns.lab import DnsLabServer, lab_peers
from core.servers.dns.zones import BIG_RECORDS
from core.servers.registry import serve_kinds


def udp(server, name, rdtype="A", host="127.0.0.1", **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    return dns.query.udp(q, host, port=server.port, timeout=2)


def test_root_and_tld_refer_downwards(dns_lab) -> None:
    root = udp(dns_lab, "www.wirebench.test", host="127.0.0.2")
    assert not root.answer and root.authority[0].name.to_text() == "test."
    assert not root.flags & dns.flags.AA
    tld = udp(dns_lab, "www.wirebench.test", host="127.0.0.3")
    assert tld.authority[0].name.to_text() == "wirebench.test."
    # servers are named by their address (dig +trace looks NS names up itself)
    assert tld.authority[0][0].target.to_text() == "127.0.0.1."


def test_truncation_without_and_with_edns(dns_lab) -> None:
    plain = udp(dns_lab, "big.wirebench.test")
    assert plain.flags & dns.flags.TC and not plain.answer
    edns = udp(dns_lab, "big.wirebench.test", use_edns=0, payload=1232)
    assert edns.flags & dns.flags.TC  # 200 records do not fit the usual 1232 bytes
    # a client claiming a huge buffer still gets at most BIND's max-udp-size 1232 over
    # UDP (no 69x amplification), so it retries over TCP
    roomy = udp(dns_lab, "big.wirebench.test", use_edns=0, payload=8192)
    assert roomy.flags & dns.flags.TC and len(roomy.to_wire()) <= 1232
    full = dns.query.tcp(dns.message.make_query("big.wirebench.test", "A"), "127.0.0.1",
                         port=dns_lab.port, timeout=2)
    assert len(full.answer[0]) == BIG_RECORDS


def test_refused_for_other_zones_and_formerr_for_garbage(dns_lab) -> None:
    assert udp(dns_lab, "example.org").rcode() == dns.rcode.REFUSED
    assert udp(dns_lab, "wirebench.test", host="127.0.0.3").rcode() == dns.rcode.NOERROR
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(struct.pack("!HHHHHH", 0xBEEF, 0, 1, 0, 0, 0) + b"\x05abc",
                    ("127.0.0.1", dns_lab.port))
        reply = sock.recv(512)
    qid, flags = struct.unpack("!HH", reply[:4])
    assert qid == 0xBEEF and flags & 0xF == dns.rcode.FORMERR


def test_wildcard_and_counters(dns_lab) -> None:
    before = dns_lab.stats().requests
    assert udp(dns_lab, "anything.batch.wirebench.test").answer[0][0].address == "127.0.0.1"
    assert dns_lab.stats().requests > before


def test_start_stop_and_describe() -> None:
    server = DnsLabServer("127.0.0.1", 0)
    assert server.hierarchy
    server.start()
    try:
        assert server.running and server.port
        assert "127.0.0.2" in server.describe()
        reply = udp(server, "www.wirebench.test")
        assert reply.answer
    finally:
        server.stop()
    assert not server.running
    solo = DnsLabServer("::1", 0)
    assert not solo.hierarchy and "no root" in solo.describe()


def test_registry_hooks() -> None:
    peers = lab_peers(ephemeral=True)
    assert [p.kind for p in peers] == ["dns"] and peers[0].port == 0
    assert lab_peers()[0].port == 5353
    kind = serve_kinds()["dns"]
    parser = argparse.ArgumentParser()
    kind.add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--no-hierarchy"])
    built = kind.build(args)
    assert built[0].port == 0 and not built[0].hierarchy


def test_without_the_extra_loopback_addresses_it_serves_the_zone_alone() -> None:
    # 192.0.2.1 (documentation range) is no address of this machine, as 127.0.0.2 is
    # not on macOS: the server must still come up, without root and TLD
    server = DnsLabServer("127.0.0.1", 0, root_host="192.0.2.1", tld_host="192.0.2.2")
    server.start()
    try:
        assert not server.hierarchy
        assert udp(server, "www.wirebench.test").answer
    finally:
        server.stop()
    from core.worker import drain

    assert any("not addresses of this machine" in getattr(e, "text", "")
               for e in drain(server.outbox))


def test_limits_are_settings_of_serve_dns(dns_lab) -> None:
    parser = argparse.ArgumentParser()
    serve_kinds()["dns"].add_arguments(parser)
    args = parser.parse_args(["--tcp-clients", "5", "--max-udp-size", "4096",
                              "--rrl-rate", "0"])
    (server,) = serve_kinds()["dns"].build(args)
    assert (server.limits.tcp_clients, server.limits.max_udp_size,
            server.limits.rrl_rate) == (5, 4096, 0)


def test_a_request_that_raises_is_logged_and_the_next_is_served(monkeypatch) -> None:
    import core.servers.dns.lab as lab_module

    real = lab_module.respond

    def respond_or_fail(answerer, wire, max_size):  # noqa: ANN001
        if b"\x04boom" in wire:
            raise RuntimeError("a fault while answering")
        return real(answerer, wire, max_size)

    monkeypatch.setattr(lab_module, "respond", respond_or_fail)
    server = DnsLabServer("127.0.0.1", 0, hierarchy=False)
    server.start()
    try:
        for send in (udp, lambda s, n: dns.query.tcp(dns.message.make_query(n, "A"),
                                                      "127.0.0.1", port=s.port, timeout=2)):
            try:
                send(server, "boom.wirebench.test")
            except (dns.exception.Timeout, EOFError, ConnectionError):
                pass  # no answer to the faulty one
            assert send(server, "www.wirebench.test").answer
        assert server.running
    finally:
        server.stop()
    lines = []
    while not server.outbox.empty():
        event = server.outbox.get()
        lines.append(getattr(event, "text", ""))
    assert any("RuntimeError" in line and "a fault while answering" in line
               for line in lines)


def test_a_root_name_query_is_answered_and_every_listener_lives_on() -> None:
    # `dig . NS` (resolver priming, the first step of dig +trace) once raised NoParent in
    # the answerer and killed the one thread that serves every listener
    server = DnsLabServer("127.0.0.1", 0, tls_port=0)
    server.start()
    try:
        for _ in range(2):
            root = udp(server, ".", "NS", host="127.0.0.2")
            assert root.rcode() == dns.rcode.NOERROR and root.flags & dns.flags.AA
            assert [rd.target.to_text() for rd in root.answer[0]] == ["127.0.0.2."]
            # glue: the address of the root's own server, in the additional section
            assert [rr.to_text() for rr in root.additional] == ["127.0.0.2. 3600 IN A 127.0.0.2"]
        for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            assert udp(server, "www.wirebench.test", host=host).rcode() == dns.rcode.NOERROR
            over_tcp = dns.query.tcp(dns.message.make_query("www.wirebench.test", "A"), host,
                                     port=server.port, timeout=2)
            assert over_tcp.rcode() == dns.rcode.NOERROR
        assert server.running
    finally:
        server.stop()


def test_a_fault_in_answering_one_query_is_logged_answered_servfail_and_survived(
        monkeypatch) -> None:
    from core.worker import drain

    server = DnsLabServer("127.0.0.1", 0, hierarchy=False)
    server.start()
    try:
        answerer = server._listeners[0].answerer

        def broken(query):
            raise RuntimeError("zone store unreadable")

        monkeypatch.setattr(answerer, "answer", broken)
        failed = udp(server, "fault.wirebench.test")
        assert failed.rcode() == dns.rcode.SERVFAIL
        assert failed.question[0].name.to_text() == "fault.wirebench.test."
        over_tcp = dns.query.tcp(dns.message.make_query("fault.wirebench.test", "A"),
                                 "127.0.0.1", port=server.port, timeout=2)
        assert over_tcp.rcode() == dns.rcode.SERVFAIL
        monkeypatch.undo()
        assert udp(server, "www.wirebench.test").answer[0][0].address == "127.0.0.1"
        # the SERVFAIL was not cached: the same question now gets its real answer
        assert udp(server, "fault.wirebench.test").rcode() == dns.rcode.NXDOMAIN
        assert server.running
    finally:
        server.stop()
    logged = [getattr(e, "text", "") for e in drain(server.outbox)]
    assert any("RuntimeError: zone store unreadable" in text and "SERVFAIL" in text
               for text in logged)


def test_a_busy_dot_client_outlives_idle_tcp_ones_when_the_slots_are_full() -> None:
    """DoT (and DoH) queries count as activity: the idlest connection is evicted for a
    newcomer, not the oldest DoT one that keeps asking (it was, before)."""
    from core.servers.dns.limits import DnsLimits

    server = DnsLabServer("127.0.0.1", 0, tls_port=0, hierarchy=False,
                          limits=DnsLimits(tcp_clients=3))
    server.start()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the lab's own
    held: list[socket.socket] = []
    try:
        dot = context.wrap_socket(socket.create_connection(("127.0.0.1", server.tls_port),
                                                           timeout=5))

        def ask() -> bool:
            reply = dns.query.tls(dns.message.make_query("www.wirebench.test", "A"),
                                  "127.0.0.1", port=server.tls_port, sock=dot, timeout=5)
            return bool(reply.answer)

        assert ask()
        for _ in range(2):  # two plain TCP clients that never ask: the slots are full
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.05)
        assert ask()  # the DoT client is the most recently active now
        held.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        assert held[0].recv(1) == b""  # the idlest plain client made room
        assert ask()
    finally:
        for sock in held:
            sock.close()
        server.stop()
