"""Hostile clients against the lab DNS server (issue 14, items 3 to 6)."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from tests.hostile.served import (
    RSS_BOUND_MB,
    SERVE_BOUND,
    ServedProcess,
    close_all,
    hold_connections,
)

SERVE = ("dns", "--no-tls", "--no-hierarchy")


def tcp_query_time(served: ServedProcess, name: str = "www.wirebench.test") -> float:
    """Seconds for a normal TCP query to be answered (inf when it is not)."""
    start = time.monotonic()
    try:
        reply = dns.query.tcp(dns.message.make_query(name, "A"), served.host,
                              port=served.port, timeout=5)
    except (OSError, EOFError, dns.exception.DNSException):
        return float("inf")
    return time.monotonic() - start if reply.answer else float("inf")


def udp_answered(served: ServedProcess, name: str = "www.wirebench.test",
                 timeout: float = SERVE_BOUND) -> bool:
    try:
        reply = dns.query.udp(dns.message.make_query(name, "A"), served.host,
                              port=served.port, timeout=timeout)
    except (OSError, dns.exception.DNSException):
        return False
    return bool(reply.answer)


def test_dripping_and_idle_tcp_clients_do_not_hold_every_slot() -> None:
    with ServedProcess(*SERVE) as served:
        rss_before = served.rss_mb()
        # 200 clients that say nothing, then 100 that start a query and never finish
        # it (the newest: not the ones evicted): more than BIND's 150 TCP clients
        idle = hold_connections(served.host, served.port, 200)
        dripping = hold_connections(served.host, served.port, 100, first=b"\x00")
        waits = [tcp_query_time(served) for _ in range(7)]
        print(f"FIGURE dns tcp slots: slowest of 7 TCP answers {max(waits) * 1000:.0f} ms")
        assert max(waits) < SERVE_BOUND, f"TCP answers took {waits}"
        served.wait_log("tcp clients")
        served.wait_log("tcp io timeout")
        assert served.rss_mb() - rss_before < RSS_BOUND_MB
        close_all(dripping + idle)
        assert tcp_query_time(served) < SERVE_BOUND


#: a flooder in its own process (no GIL shared with the normal client), cycling through
#: 5,000 distinct names: more than the old 4,096-entry cache, so each one cost the old
#: server a full answer and its one queue overflowed
FLOODER = """
import socket, sys, dns.message
wires = [dns.message.make_query(f"f{i}.batch.wirebench.test", "A").to_wire()
         for i in range(5000)]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setblocking(False)
print("flooding", flush=True)
while True:
    for wire in wires:
        try:
            sock.sendto(wire, (sys.argv[1], int(sys.argv[2])))
        except OSError:
            pass
"""


def test_a_udp_flood_leaves_other_clients_answered() -> None:
    with ServedProcess(*SERVE) as served:
        rss_before = served.rss_mb()
        flooder = subprocess.Popen([sys.executable, "-c", FLOODER, served.host,
                                    str(served.port)], stdout=subprocess.PIPE)
        try:
            assert flooder.stdout is not None and flooder.stdout.readline()
            answered = sum(udp_answered(served) for _ in range(40))
        finally:
            flooder.kill()
            flooder.wait(10)
            if flooder.stdout is not None:
                flooder.stdout.close()
        # 20-26 of 40 answered before (one shared queue; the issue saw 62-71 %), 38-40
        # with a socket group; a loss left is a reuseport hash shared with the flooder
        print(f"FIGURE dns udp flood: {answered} of 40 answered")
        assert answered >= 36, f"{answered} of 40 answered during a UDP flood"
        assert served.rss_mb() - rss_before < RSS_BOUND_MB


def junk_query(i: int, questions: int, tail: bytes) -> bytes:
    """A query header claiming ``questions``, one real (distinct) question, then ``tail``."""
    question = dns.message.make_query(f"j{i}.wirebench.test", "A").to_wire()[12:]
    return struct.pack("!HHHHHH", i, 0x0100, questions, 0, 0, 0) + question + tail


def ask_formerr(sock: socket.socket, served: ServedProcess, wire: bytes) -> None:
    sock.sendto(wire, (served.host, served.port))
    reply = sock.recv(512)
    assert struct.unpack("!HH", reply[:4])[1] & 0xF == dns.rcode.FORMERR


def test_a_datagram_claiming_65535_questions_costs_nothing() -> None:
    with ServedProcess(*SERVE) as served, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        start = time.monotonic()
        for i in range(10):
            # one real question, then 10,000 that point back at it: 60 KB, 0.26 s of
            # parsing each before the fix (distinct, so no cache can answer them)
            ask_formerr(sock, served, junk_query(i, 65535, b"\xc0\x0c\x00\x01\x00\x01" * 10_000))
        rejecting = time.monotonic() - start
        print(f"FIGURE dns 65535 questions: 10 rejected in {rejecting * 1000:.0f} ms")
        assert rejecting < SERVE_BOUND, f"10 junk datagrams took {rejecting:.2f} s"
        assert udp_answered(served)


def test_junk_queries_are_not_cached() -> None:
    # a valid question, then 60 KB of trailing junk: FORMERR, and 60 KB per cache key
    with ServedProcess(*SERVE) as served, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        rss_before = served.rss_mb()
        for i in range(3000):
            ask_formerr(sock, served, junk_query(i, 1, struct.pack("!I", i) * 15_000))
        grown = served.rss_mb() - rss_before
        print(f"FIGURE dns junk cache: RSS +{grown:.1f} MB after 3,000 60 KB junk queries")
        assert grown < RSS_BOUND_MB, f"RSS grew {grown:.0f} MB caching junk"
        assert udp_answered(served)


def test_answers_do_not_amplify() -> None:
    with ServedProcess(*SERVE) as served:
        query = dns.message.make_query("big.wirebench.test", "A", use_edns=0, payload=65535)
        sent = query.to_wire()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.sendto(sent, (served.host, served.port))
            reply = sock.recv(65535)
        print(f"FIGURE dns amplification: {len(sent)} bytes asked, {len(reply)} answered")
        assert len(reply) <= 1232, f"{len(sent)} bytes asked, {len(reply)} answered"
        assert dns.message.from_wire(reply).flags & dns.flags.TC
        # a real client retries over TCP and gets everything
        assert tcp_query_time(served, "big.wirebench.test") < SERVE_BOUND
        # the same question 400 times in a burst (a spoofed victim's address): at most
        # the rate limit gets full answers, every second other one a truncated one
        any_query = dns.message.make_query("wirebench.test", "ANY", use_edns=0,
                                           payload=1232).to_wire()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            start = time.monotonic()
            for _ in range(400):
                sock.sendto(any_query, (served.host, served.port))
            full = truncated = 0
            while True:
                try:
                    answer = dns.message.from_wire(sock.recv(65535))
                except TimeoutError:
                    break
                if answer.flags & dns.flags.TC:
                    truncated += 1
                else:
                    full += 1
            elapsed = time.monotonic() - start
        print(f"FIGURE dns rrl: 400 identical queries -> {full} full, {truncated} truncated")
        assert full <= 20 * (elapsed + 1), f"{full} full answers in {elapsed:.1f} s"
        assert truncated > 0
        served.wait_log("response-rate limit")
        assert udp_answered(served)
