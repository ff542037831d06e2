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
import time

from core.events import Event
from core.servers.base import ServerController, ServerStartError
from core.servers.dns.limits import (
    DnsLimits,
    PacketCache,
    ResponseRateLimiter,
    client_network,
    gate,
    question_key,
    truncated_reply,
)
from core.servers.dns.transport import (
    REUSEPORT,
    UDP_SOCKETS,
    TcpClient,
    read_message,
    udp_socket,
)
from core.servers.dns.zones import (
    ZONE,
    ZoneAnswerer,
    auth_zone_text,
    load_zone,
    noglue_zone_text,
    respond,
    reverse_v4_zone_text,
    reverse_v6_zone_text,
    root_zone_text,
    servfail,
    tld_zone_text,
)
from core.servers.registry import ServeKind

LAB_PORT = 5353
LAB_TLS_PORT = 8853  # DoT and DoH
ROOT_HOST = "127.0.0.2"
TLD_HOST = "127.0.0.3"
TLS_ALPN = ["h2", "http/1.1", "dot"]


class _Listener:
    def __init__(self, host: str, answerer: ZoneAnswerer, label: str,
                 limits: DnsLimits) -> None:
        self.host = host
        self.answerer = answerer
        self.label = label
        self.udp: socket.socket | None = None
        #: the UDP sockets sharing the port (SO_REUSEPORT), ``udp`` the first of them
        self.udp_group: list[socket.socket] = []
        self.tcp: socket.socket | None = None
        self.packet_cache = PacketCache(limits.cache_bytes)

    def bind(self, port: int) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            # a plain bind first: "port in use" stays an error even for our own group
            probe = socket.socket(family, socket.SOCK_DGRAM)
            try:
                probe.bind((self.host, port))
                port = probe.getsockname()[1]
            finally:
                probe.close()
            self.udp_group = [udp_socket(family, self.host, port)
                              for _ in range(UDP_SOCKETS if REUSEPORT else 1)]
            self.udp = self.udp_group[0]
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind((self.host, port))
            # room for a burst of connects: each is accepted (evicting if full) at once
            self.tcp.listen(socket.SOMAXCONN)
        except OSError:
            self.close()
            raise
        self.tcp.setblocking(False)
        return port

    def close(self) -> None:
        for sock in [*self.udp_group, self.tcp]:
            if sock is not None:
                sock.close()
        self.udp_group = []
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
    title = "DNS (wirebench.test)"

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 outbox: queue.SimpleQueue[Event] | None = None,
                 hierarchy: bool | None = None, root_host: str = ROOT_HOST,
                 tld_host: str = TLD_HOST, tls_port: int | None = None,
                 limits: DnsLimits | None = None) -> None:
        super().__init__(host, port, outbox)
        self.limits = (limits or DnsLimits()).check()
        self._rrl = ResponseRateLimiter(self.limits.rrl_rate, self.limits.rrl_slip)
        #: DoT and DoH (HTTP/2 and HTTP/1.1) share this TLS port; None = off, 0 = any port
        self.tls_port = tls_port
        self._tls_sock: socket.socket | None = None
        self.hierarchy = _is_lab_loopback(host) if hierarchy is None else hierarchy
        self.root_host = root_host
        self.tld_host = tld_host
        self._listeners: list[_Listener] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: the connections holding a TCP slot (plain, DoT or DoH) by their thread
        self._clients: dict[threading.Thread, TcpClient] = {}
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
        limits = self.limits
        listeners = [_Listener(self.host, auth, "wirebench.test", limits)]
        if self.hierarchy:
            listeners.append(_Listener(self.root_host, ZoneAnswerer(
                [load_zone(root_zone_text(v4, self.root_host, self.tld_host))]), "root",
                limits))
            listeners.append(_Listener(self.tld_host, ZoneAnswerer(
                [load_zone(tld_zone_text(v4, self.root_host, self.tld_host))]), "test.",
                limits))
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
        self._thread = threading.Thread(target=self.guarded(self._serve), name="dns-lab:serve",
                                        daemon=True)
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
        # DoH over HTTP/2 (RFC 8484 5.2), DoH over HTTP/1.1, DoT (RFC 7858's "dot")
        self._tls_context.set_alpn_protocols(TLS_ALPN)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.tls_port or 0))
            sock.listen(socket.SOMAXCONN)
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
            for udp in listener.udp_group:
                selector.register(udp, selectors.EVENT_READ, ("udp", listener))
            selector.register(listener.tcp, selectors.EVENT_READ, ("tcp", listener))
        if self._tls_sock is not None:
            selector.register(self._tls_sock, selectors.EVENT_READ, ("tls", self._listeners[0]))
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(0.2):
                    kind, listener = key.data
                    try:
                        if kind == "udp":
                            self._serve_udp(key.fileobj, listener)
                        else:
                            self._accept(key.fileobj, listener, kind == "tls")
                    except Exception as exc:  # one bad packet never stops the server
                        self.log_limit("error", f"DNS request failed: "
                                       f"{type(exc).__name__}: {exc}")
        finally:
            selector.close()

    def _serve_udp(self, sock: socket.socket, listener: _Listener) -> None:
        for _ in range(256):  # drain a burst, then let the other sockets have a turn
            try:
                wire, peer = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.count(bytes_in=len(wire), requests=1)
            try:
                reply = self._udp_reply(wire, peer, listener)
            except Exception as exc:  # one bad packet never stops the server
                self.log_limit("error", f"DNS request failed: {type(exc).__name__}: {exc}")
                continue
            if reply is not None:
                try:
                    sock.sendto(reply, peer)
                    self.count(bytes_out=len(reply))
                except OSError:
                    pass

    def _udp_reply(self, wire: bytes, peer: tuple, listener: _Listener) -> bytes | None:
        verdict = gate(wire)
        if verdict is not True:
            return verdict or None  # junk: dropped, or FORMERR from the header alone
        question = question_key(wire)
        if question is not None and self.limits.rrl_rate:
            action = self._rrl.verdict(client_network(peer[0]), question)
            if action != "send":
                self.log_limit("rrl-rate", f"response-rate limit: more than "
                               f"{self.limits.rrl_rate} identical answers a second to "
                               f"{peer[0]}; sending truncated or nothing")
                return truncated_reply(wire, question) if action == "slip" else None
        # the zones never change while serving: an identical question (all but the
        # id) gets the same bytes back, as in PowerDNS's packet cache
        cache = listener.packet_cache
        key = wire[2:]
        cached = cache.get(key)
        if cached is not None:
            return wire[:2] + cached
        reply = self._answer(listener, wire, self.limits.max_udp_size, peer)
        if reply is not None and question is not None:
            cache.put(key, reply[2:])
        return reply

    def _answer(self, listener: _Listener, wire: bytes, max_size: int | None,
                peer: tuple) -> bytes | None:
        """The reply to one query; a fault in answering it is logged and answered SERVFAIL
        (RFC 1035 4.1.1: the server could not process the query), so the client hears
        at once instead of waiting out its timeout."""
        try:
            return respond(listener.answerer, wire, max_size)
        except Exception as exc:  # one bad packet must not stop the server
            self.log_limit("error", f"{listener.label}: answering a query from {peer[0]} "
                           f"failed ({type(exc).__name__}: {exc}); sent SERVFAIL")
            return servfail(wire)

    def _accept(self, sock: socket.socket, listener: _Listener, tls: bool = False) -> None:
        for _ in range(64):  # a burst of connects, bounded so UDP gets its turn too
            try:
                conn, _peer = sock.accept()
            except OSError:
                return
            client = TcpClient(conn)
            serve = self._serve_tls if tls else self._serve_tcp
            thread = threading.Thread(target=self.guarded(serve, fatal=False),
                                      args=(client, listener), name="dns-lab:tcp",
                                      daemon=True)
            with self._lock:
                if len(self._clients) >= self.limits.tcp_clients:
                    self._evict_idlest()
                self._clients[thread] = client
                self._client_socks.add(conn)
            self.count(opened=1)
            thread.start()

    def _evict_idlest(self) -> None:
        """Full: close the connection idle longest (caller holds the lock)."""
        thread, victim = min(self._clients.items(), key=lambda item: item[1].last_active)
        del self._clients[thread]
        victim.evicted = True
        try:
            victim.sock.shutdown(socket.SHUT_RDWR)  # its thread sees EOF and ends
        except OSError:
            pass
        self.log_limit("tcp-clients", f"{self.limits.tcp_clients} TCP clients connected "
                       "(tcp clients): closed the one idle longest to serve a new one")

    def _serve_tcp(self, client: TcpClient, listener: _Listener) -> None:
        conn = client.sock
        conn.setblocking(True)
        limits = self.limits
        try:
            peer = conn.getpeername()
            while not self._stopping.is_set():
                wire = read_message(conn, limits.tcp_idle_timeout, limits.tcp_io_timeout)
                if wire is None:
                    return
                client.last_active = time.monotonic()
                self.count(bytes_in=len(wire) + 2, requests=1)
                verdict = gate(wire)
                reply = (self._answer(listener, wire, None, peer) if verdict is True
                         else verdict or None)
                if reply is None:
                    return
                conn.settimeout(limits.tcp_idle_timeout)  # a reader too slow loses it
                conn.sendall(struct.pack("!H", len(reply)) + reply)
                self.count(bytes_out=len(reply) + 2)
        except TimeoutError:
            if not client.evicted:
                self.log_limit("tcp-io-timeout", "a TCP client was too slow to send a "
                               f"query (within {limits.tcp_io_timeout:g} s, tcp io "
                               f"timeout) or idle for {limits.tcp_idle_timeout:g} s: "
                               "closed")
        except OSError:
            return
        except Exception as exc:  # one bad query never stops the server
            self.log_limit("error", f"DNS request failed: {type(exc).__name__}: {exc}")
        finally:
            self._client_done(conn)

    def _serve_tls(self, client: TcpClient, listener: _Listener) -> None:
        from core.servers.dns.secure import serve_secure

        conn = client.sock
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
            peer = secure.getpeername()

            def count(**traffic: int) -> None:  # each message in or out is activity:
                client.last_active = time.monotonic()  # the idlest is evicted first
                self.count(**traffic)

            serve_secure(secure, lambda wire: self._answer(listener, wire, None, peer),
                         lambda: not self._stopping.is_set(), count)
        except OSError:
            pass
        except Exception as exc:  # one bad query never stops the server
            self.log_limit("error", f"DNS request failed: {type(exc).__name__}: {exc}")
        finally:
            secure.close()
            with self._lock:
                self._client_socks.discard(secure)
            self._client_done(conn)

    def _client_done(self, conn: socket.socket) -> None:
        conn.close()
        self.count(closed=1)
        with self._lock:
            self._clients.pop(threading.current_thread(), None)
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
    defaults = DnsLimits()
    parser.add_argument("--tcp-clients", type=int, default=defaults.tcp_clients,
                        help="TCP/DoT/DoH connections at once; when full the idlest is "
                             f"closed (default {defaults.tcp_clients}, as BIND)")
    parser.add_argument("--max-udp-size", type=int, default=defaults.max_udp_size,
                        help="largest UDP reply; bigger ones are truncated (default "
                             f"{defaults.max_udp_size}, as BIND)")
    parser.add_argument("--rrl-rate", type=int, default=defaults.rrl_rate,
                        help="identical UDP answers per second to one client network "
                             f"(default {defaults.rrl_rate}; 0 = no rate limit)")


def _build(args: argparse.Namespace) -> list[ServerController]:
    limits = DnsLimits(tcp_clients=args.tcp_clients, max_udp_size=args.max_udp_size,
                       rrl_rate=args.rrl_rate).check()
    return [DnsLabServer(args.host, args.port,
                         hierarchy=False if args.no_hierarchy else None,
                         tls_port=None if args.no_tls else args.tls_port, limits=limits)]


SERVE_KINDS = {
    "dns": ServeKind(
        help=f"lab DNS server: authoritative for {ZONE}, plus a root and test. TLD on "
             f"{ROOT_HOST}/{TLD_HOST} for offline traces",
        add_arguments=_add_arguments, build=_build),
}
