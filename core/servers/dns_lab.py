"""The lab DNS server: authoritative for ``wirebench.test`` plus a tiny root and TLD.

Three listeners share one port on three loopback addresses so an iterative trace works
with no network at all::

    127.0.0.2  "."      root: delegates test. (and 127.in-addr.arpa.)
    127.0.0.3  "test."  TLD: delegates wirebench.test.
    host       "wirebench.test." and the loopback reverse zones (authoritative)

Every listener answers over UDP and TCP; a UDP answer larger than the client's buffer
(512 bytes, or its EDNS size) is sent truncated with TC set, so a client must retry over
TCP — ``big.wirebench.test`` holds 200 A records to make that happen. Zones the server
does not hold get REFUSED; ``servfail.``, ``refused.`` and ``silent.wirebench.test``
misbehave on purpose (SERVFAIL, REFUSED, no answer at all). Built on dnspython's
message and zone classes.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import queue
import selectors
import socket
import struct
import threading

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

from core.events import Event
from core.servers.base import ServerController, ServerStartError
from core.servers.registry import ServeKind

LAB_PORT = 5353
LAB_TLS_PORT = 8853  # DoT and DoH
ROOT_HOST = "127.0.0.2"
TLD_HOST = "127.0.0.3"
ZONE = "wirebench.test."
BIG_RECORDS = 200
MAX_TCP_CLIENTS = 32
EDNS_PAYLOAD = 1232
PACKET_CACHE_SIZE = 4096

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


def root_zone_text(v4: str, root: str, tld: str) -> str:
    return f"""$ORIGIN .
$TTL 3600
@ SOA a.root-servers.test. {SOA}
@ NS a.root-servers.test.
test. NS ns.test.
ns.test. A {tld}
a.root-servers.test. A {root}
127.in-addr.arpa. NS ns1.wirebench.test.
ns1.wirebench.test. A {v4}
"""


def tld_zone_text(v4: str, root: str, tld: str) -> str:
    return f"""$ORIGIN test.
$TTL 3600
@ SOA ns.test. {SOA}
@ NS ns.test.
ns A {tld}
a.root-servers A {root}
wirebench NS ns1.wirebench.test.
ns1.wirebench A {v4}
noglue NS ns2.wirebench.test.
"""


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
        misbehaviour = MISBEHAVING.get(question.name.labels[0].decode("ascii", "replace")
                                       ) if question.name.parent() == ZONE_NAME else None
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
        if qtype in (dns.rdatatype.MX, dns.rdatatype.SRV):
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


class _Listener:
    def __init__(self, host: str, answerer: ZoneAnswerer, label: str) -> None:
        self.host = host
        self.answerer = answerer
        self.label = label
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self.packet_cache: dict[bytes, bytes] = {}

    def bind(self, port: int) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.udp.bind((self.host, port))
            port = self.udp.getsockname()[1]
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind((self.host, port))
            self.tcp.listen(64)
        except OSError:
            self.close()
            raise
        self.udp.setblocking(False)
        self.tcp.setblocking(False)
        return port

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            if sock is not None:
                sock.close()
        self.udp = self.tcp = None


def _is_lab_loopback(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.version == 4 and addr.is_loopback and host not in (ROOT_HOST, TLD_HOST)


class DnsLabServer(ServerController):
    """Authoritative lab DNS on threads (one UDP/accept loop, one thread per TCP client)."""

    kind = "dns"
    title = "DNS (lab zone wirebench.test)"

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 outbox: queue.SimpleQueue[Event] | None = None,
                 hierarchy: bool | None = None, root_host: str = ROOT_HOST,
                 tld_host: str = TLD_HOST, tls_port: int | None = None) -> None:
        super().__init__(host, port, outbox)
        #: DoT and DoH (HTTP/1.1) share this TLS port; None = off, 0 = any free port
        self.tls_port = tls_port
        self._tls_sock: socket.socket | None = None
        self.hierarchy = _is_lab_loopback(host) if hierarchy is None else hierarchy
        self.root_host = root_host
        self.tld_host = tld_host
        self._listeners: list[_Listener] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._clients: set[threading.Thread] = set()
        self._client_socks: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def zone_address(self) -> str:
        """IPv4 address the zone's A records point to (the server itself on loopback)."""
        try:
            addr = ipaddress.ip_address(self.host)
        except ValueError:
            return "127.0.0.1"
        return self.host if addr.version == 4 and not addr.is_unspecified else "127.0.0.1"

    def _make_listeners(self) -> list[_Listener]:
        v4 = self.zone_address
        auth = ZoneAnswerer([load_zone(auth_zone_text(v4)), load_zone(noglue_zone_text(v4)),
                             load_zone(reverse_v4_zone_text()),
                             load_zone(reverse_v6_zone_text())])
        listeners = [_Listener(self.host, auth, "wirebench.test")]
        if self.hierarchy:
            listeners.append(_Listener(self.root_host, ZoneAnswerer(
                [load_zone(root_zone_text(v4, self.root_host, self.tld_host))]), "root"))
            listeners.append(_Listener(self.tld_host, ZoneAnswerer(
                [load_zone(tld_zone_text(v4, self.root_host, self.tld_host))]), "test."))
        return listeners

    def _start(self) -> None:
        try:
            self._bind_all()
        except OSError as exc:
            if not self.hierarchy or exc.errno != errno.EADDRNOTAVAIL:
                raise
            # macOS and some containers have only 127.0.0.1: serve the zone, no trace root
            self.log(f"{self.root_host}/{self.tld_host} are not addresses of this machine: "
                     "serving without the lab root and TLD (trace needs them)", "warning")
            self.hierarchy = False
            self._bind_all()
        if self.tls_port is not None:
            try:
                self._bind_tls()
            except OSError:
                for listener in self._listeners:
                    listener.close()
                raise
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="dns-lab:serve", daemon=True)
        self._thread.start()

    def _bind_all(self) -> None:
        listeners = self._make_listeners()
        # port 0: the first bind picks a port; the other addresses must get the same one,
        # so on a clash start over with a new port (a few tries)
        for _attempt in range(20 if self.port == 0 else 1):
            port = self.port
            try:
                for listener in listeners:
                    port = listener.bind(port)
            except OSError as exc:
                for listener in listeners:
                    listener.close()
                if self.port != 0 or exc.errno == errno.EADDRNOTAVAIL:
                    raise
                continue
            self.port = port
            break
        else:
            raise ServerStartError("Could not find one free port on all three lab DNS "
                                   "addresses; try again or give a port.", "Port")
        self._listeners = listeners

    def _bind_tls(self) -> None:
        from core.tlscerts import server_context

        self._tls_context = server_context()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.tls_port or 0))
            sock.listen(32)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.tls_port = sock.getsockname()[1]
        self._tls_sock = sock

    def describe(self) -> str:
        secure = (f"; DoT and DoH (https://{self.host}:{self.tls_port}/dns-query, "
                  "self-signed) on port " + str(self.tls_port)) if self._tls_sock else ""
        if not self.hierarchy:
            return f"zone {ZONE} (no root/TLD: they need a 127.x host){secure}"
        return (f"zone {ZONE}; root {self.root_host} and test. {self.tld_host} on port "
                f"{self.port} (trace root){secure}")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        for listener in self._listeners:
            selector.register(listener.udp, selectors.EVENT_READ, ("udp", listener))
            selector.register(listener.tcp, selectors.EVENT_READ, ("tcp", listener))
        if self._tls_sock is not None:
            selector.register(self._tls_sock, selectors.EVENT_READ, ("tls", self._listeners[0]))
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(0.2):
                    kind, listener = key.data
                    if kind == "udp":
                        self._serve_udp(key.fileobj, listener)
                    else:
                        self._accept(key.fileobj, listener, kind == "tls")
        finally:
            selector.close()

    def _serve_udp(self, sock: socket.socket, listener: _Listener) -> None:
        cache = listener.packet_cache
        for _ in range(64):  # drain a burst, then let the other sockets have a turn
            try:
                wire, peer = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            # the zones never change while serving: an identical question (all but the
            # id) gets the same bytes back, as in PowerDNS's packet cache
            key = wire[2:]
            cached = cache.get(key)
            if cached is not None:
                reply: bytes | None = wire[:2] + cached
            else:
                reply = respond(listener.answerer, wire, 65535)
                if reply is not None and len(wire) >= 12:
                    if len(cache) >= PACKET_CACHE_SIZE:
                        cache.pop(next(iter(cache)))
                    cache[key] = reply[2:]
            self.count(bytes_in=len(wire), requests=1)
            if reply is not None:
                try:
                    sock.sendto(reply, peer)
                    self.count(bytes_out=len(reply))
                except OSError:
                    pass

    def _accept(self, sock: socket.socket, listener: _Listener, tls: bool = False) -> None:
        try:
            conn, _peer = sock.accept()
        except OSError:
            return
        with self._lock:
            if len(self._clients) >= MAX_TCP_CLIENTS:
                conn.close()
                self.log("too many TCP clients: connection dropped", "warning")
                return
            thread = threading.Thread(target=self._serve_tls if tls else self._serve_tcp,
                                      args=(conn, listener), name="dns-lab:tcp", daemon=True)
            self._clients.add(thread)
            self._client_socks.add(conn)
        self.count(opened=1)
        thread.start()

    def _serve_tcp(self, conn: socket.socket, listener: _Listener) -> None:
        conn.setblocking(True)
        conn.settimeout(5.0)
        try:
            while not self._stopping.is_set():
                head = _recv_exact(conn, 2)
                if head is None:
                    return
                wire = _recv_exact(conn, struct.unpack("!H", head)[0])
                if wire is None:
                    return
                self.count(bytes_in=len(wire) + 2, requests=1)
                reply = respond(listener.answerer, wire, None)
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
                self.count(bytes_out=len(reply) + 2)
        except OSError:
            return
        finally:
            self._client_done(conn)

    def _serve_tls(self, conn: socket.socket, listener: _Listener) -> None:
        from core.servers.dns_secure import serve_secure

        conn.setblocking(True)
        conn.settimeout(5.0)
        try:
            secure = self._tls_context.wrap_socket(conn, server_side=True)
        except (OSError, ValueError) as exc:
            self.log(f"TLS handshake failed: {exc}", "warning")
            self._client_done(conn)
            return
        with self._lock:
            self._client_socks.add(secure)
        try:
            serve_secure(secure, lambda wire: respond(listener.answerer, wire, None),
                         lambda: not self._stopping.is_set(), self.count)
        except OSError:
            pass
        finally:
            secure.close()
            with self._lock:
                self._client_socks.discard(secure)
            self._client_done(conn)

    def _client_done(self, conn: socket.socket) -> None:
        conn.close()
        self.count(closed=1)
        with self._lock:
            self._clients.discard(threading.current_thread())
            self._client_socks.discard(conn)

    def _stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            clients = list(self._clients)
            for conn in self._client_socks:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in clients:
            thread.join(timeout)
        for listener in self._listeners:
            listener.close()
        self._listeners = []
        if self._tls_sock is not None:
            self._tls_sock.close()
            self._tls_sock = None


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    return [DnsLabServer(host, 0 if ephemeral else LAB_PORT,
                         tls_port=0 if ephemeral else LAB_TLS_PORT)]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.servers.serve import add_common_arguments

    add_common_arguments(parser, LAB_PORT)
    parser.add_argument("--no-hierarchy", action="store_true",
                        help=f"serve only {ZONE} (no root on {ROOT_HOST}, no test. on "
                             f"{TLD_HOST})")
    parser.add_argument("--tls-port", type=int, default=LAB_TLS_PORT,
                        help=f"DoT and DoH port (default {LAB_TLS_PORT}; 0 = any free port)")
    parser.add_argument("--no-tls", action="store_true", help="no DoT/DoH port")


def _build(args: argparse.Namespace) -> list[ServerController]:
    return [DnsLabServer(args.host, args.port,
                         hierarchy=False if args.no_hierarchy else None,
                         tls_port=None if args.no_tls else args.tls_port)]


SERVE_KINDS = {
    "dns": ServeKind(
        help=f"lab DNS server: authoritative for {ZONE}, plus a root and test. TLD on "
             f"{ROOT_HOST}/{TLD_HOST} for offline traces",
        add_arguments=_add_arguments, build=_build),
}
