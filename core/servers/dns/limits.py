"""What bounds the lab DNS server's work per peer: limits, a cheap gate, cache, RRL.

Everything here runs before dnspython sees a packet, in microseconds, so junk and
floods cost little of the one serving thread:

* :func:`gate` rejects by the 12-byte header alone what no real query looks like (more
  than one question, answers in a query), the way BIND answers FORMERR for them;
* :class:`PacketCache` keeps replies to well-formed queries up to a byte cap;
* :class:`ResponseRateLimiter` is response-rate limiting (RRL) as in BIND and Knot: the
  same answer to the same client network at most ``rate`` times a second; over that,
  every ``slip``-th one goes out as a tiny truncated reply (a real client retries over
  TCP, a spoofed victim gets no amplification) and the rest are dropped.
"""

from __future__ import annotations

import socket
import struct
import time
from collections import OrderedDict
from dataclasses import dataclass

from core.errors import UserError

FORMERR = 1
SERVFAIL = 2
_QR, _TC, _OPCODE = 0x8000, 0x0200, 0x7800


@dataclass(frozen=True)
class DnsLimits:
    """The lab DNS server's limits; each default is a mature server's."""

    #: TCP, DoT and DoH connections at once (BIND's tcp-clients 150); when full the
    #: connection idle longest is closed to make room, so a new client is always served
    tcp_clients: int = 150
    #: seconds a TCP client may wait between two queries (Knot's tcp-idle-timeout 10 s)
    tcp_idle_timeout: float = 10.0
    #: seconds to receive one whole TCP message once its first byte came (Knot's
    #: tcp-io-timeout 500 ms): a client dripping a byte at a time loses its slot
    tcp_io_timeout: float = 0.5
    #: largest UDP reply whatever EDNS size the client claims (BIND's max-udp-size 1232,
    #: the DNS Flag Day 2020 size); a bigger answer is sent truncated, TC set
    max_udp_size: int = 1232
    #: bytes of replies each listener caches (Unbound's msg-cache-size 4 MB)
    cache_bytes: int = 4 * 1024 * 1024
    #: identical UDP answers per second to one client network (Knot's rrl example
    #: rate-limit 20); 0 turns response-rate limiting off
    rrl_rate: int = 20
    #: every slip-th rate-limited answer is sent truncated, the rest dropped (BIND and
    #: Knot default slip 2)
    rrl_slip: int = 2

    def check(self) -> DnsLimits:
        if self.tcp_clients < 1:
            raise UserError("TCP clients must be at least 1.", "--tcp-clients")
        if self.tcp_idle_timeout <= 0 or self.tcp_io_timeout <= 0:
            raise UserError("TCP timeouts must be more than 0 seconds.", "--tcp-idle-timeout")
        if not 512 <= self.max_udp_size <= 65535:
            raise UserError(f"Max UDP size must be 512-65535 bytes, got {self.max_udp_size}.",
                            "--max-udp-size")
        if self.rrl_rate < 0 or self.rrl_slip < 0:
            raise UserError("RRL rate and slip must be 0 or more.", "--rrl-rate")
        return self


def formerr(wire: bytes) -> bytes:
    """A FORMERR reply built from the header alone (id and opcode kept, no question)."""
    qid, flags = struct.unpack("!HH", wire[:4])
    return struct.pack("!HHHHHH", qid, _QR | (flags & _OPCODE) | FORMERR, 0, 0, 0, 0)


def gate(wire: bytes) -> bytes | None | bool:
    """Judge a query by its header: True = answer it, None = drop, bytes = send those.

    A query has one question (RFC 9619), no answer or authority records, and at most
    an OPT and a TSIG record; a 60 KB datagram claiming 65,535 questions is answered
    FORMERR here without parsing one of them.
    """
    if len(wire) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    if flags & _QR:
        return None  # never answer an answer (no loops between servers)
    if qd != 1 or an or ns or ar > 2:
        return formerr(wire)
    return True


def question_key(wire: bytes) -> bytes | None:
    """The question (name lower-cased, type, class) of a gated query; None if malformed."""
    end = 12
    labels = 0
    while end < len(wire):
        length = wire[end]
        if length == 0:
            end += 1
            break
        if length > 63 or labels > 127:
            return None  # a pointer or a bad label: let the parser answer FORMERR
        end += 1 + length
        labels += 1
    else:
        return None
    if end + 4 > len(wire):
        return None
    return wire[12:end].lower() + wire[end:end + 4]


class PacketCache:
    """Reply bytes (without the id) by query bytes (without the id), capped in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, key: bytes) -> bytes | None:
        return self._entries.get(key)

    def put(self, key: bytes, reply: bytes) -> None:
        """Keep ``reply`` unless it is a FORMERR (junk is never worth remembering) or a
        SERVFAIL (a passing fault must not be served to the next asker)."""
        # ``reply`` lacks the 2-byte id: the rcode is in its second byte
        if len(reply) < 10 or reply[1] & 0x0F in (FORMERR, SERVFAIL):
            return
        cost = len(key) + len(reply)
        if cost > self.max_bytes // 16 or key in self._entries:
            return
        self._entries[key] = reply
        self.bytes += cost
        while self.bytes > self.max_bytes:
            old_key, old = self._entries.popitem(last=False)
            self.bytes -= len(old_key) + len(old)

    def __len__(self) -> int:
        return len(self._entries)


def client_network(address: str) -> bytes:
    """The netblock RRL counts a client in: /24 for IPv4, /56 for IPv6 (BIND's default).

    inet_pton, not ipaddress: this runs for every datagram of a flood (0.3 against 6 us).
    """
    try:
        return socket.inet_pton(socket.AF_INET, address)[:3]
    except OSError:
        pass
    try:
        return socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0])[:7]
    except OSError:
        return address.encode()


class ResponseRateLimiter:
    """Token buckets per (client network, question): "send", "slip" or "drop"."""

    #: buckets remembered at once (BIND's max-table-size 20000); full = start afresh
    MAX_TABLE = 20_000

    def __init__(self, rate: int, slip: int) -> None:
        self.rate = rate
        self.slip = slip
        self._buckets: dict[bytes, list[float]] = {}
        self.limited = 0

    def verdict(self, network: bytes, question: bytes, now: float | None = None) -> str:
        if self.rate <= 0:
            return "send"
        now = time.monotonic() if now is None else now
        key = network + question
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_TABLE:
                self._buckets.clear()
            self._buckets[key] = [self.rate - 1.0, now, 0.0]
            return "send"
        tokens = min(float(self.rate), bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return "send"
        bucket[0] = tokens
        bucket[2] += 1
        self.limited += 1
        if self.slip and bucket[2] % self.slip == 0:
            return "slip"
        return "drop"


def truncated_reply(wire: bytes, question: bytes) -> bytes:
    """The RRL "slip" answer: header with TC and the question only (no amplification)."""
    qid, flags = struct.unpack("!HH", wire[:4])
    return struct.pack("!HHHHHH", qid, _QR | _TC | (flags & (_OPCODE | 0x0100)), 1, 0, 0,
                       0) + wire[12:12 + len(question)]
