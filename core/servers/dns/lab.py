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

from core.events import Event
from core.servers.base import ServerController, ServerStartError
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
    tld_zone_text,
)
from core.servers.registry import ServeKind

LAB_PORT = 5353
LAB_TLS_PORT = 8853  # DoT and DoH
ROOT_HOST = "127.0.0.2"
TLD_HOST = "127.0.0.3"
MAX_TCP_CLIENTS = 32
PACKET_CACHE_SIZE = 4096


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
        from core.servers.dns.secure import serve_secure

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
