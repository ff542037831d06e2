"""UDP echo server (origin document, section 3.3): bind, then recvfrom / sendto.

No listen, no accept: the socket is Bound. A "connection" here is a peer address seen
within the idle timeout, so the Servers tab can still plot how many clients talk to it.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import OrderedDict

from core.events import StateChanged
from core.servers.base import ServerController
from core.servers.echo.common import ClientInfo, EchoLimits, Waker, describe_peer
from core.states import ConnectionState, ConnectionStateMachine

MAX_DATAGRAM = 65_535  # the largest UDP payload over IPv4 is 65,507; read a little more


class UdpEchoServer(ServerController):
    kind = "echo-udp"
    title = "Echo (UDP)"
    mode = "datagram"
    proto = "udp"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, outbox=None, *,
                 limits: EchoLimits | None = None) -> None:
        super().__init__(host, port, outbox)
        self.limits = (limits or EchoLimits()).check()
        self.machine = ConnectionStateMachine(self._on_state)
        self._sock: socket.socket | None = None
        self._waker: Waker | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: address -> [last seen (monotonic), bytes in, bytes out]
        #: peer address -> [last heard, bytes in, bytes out], quiet longest first
        self._peers: OrderedDict[tuple, list] = OrderedDict()

    def _on_state(self, state: ConnectionState, detail: str) -> None:
        self.post(StateChanged(source=self.kind, state=state.name, detail=detail))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def describe(self) -> str:
        return f"datagrams up to 65,507 bytes; a peer counts as connected for " \
               f"{self.limits.idle_timeout:g} s after its last datagram"

    def _start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self.machine.apply("bind", f"bound to {self.address}")
        self._peers.clear()
        self._stopping.clear()
        self._waker = Waker()
        self._thread = threading.Thread(target=self.guarded(self._loop), name=f"{self.kind}:loop",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        assert self._sock is not None and self._waker is not None
        sock = self._sock
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ, "sock")
        sel.register(self._waker.r, selectors.EVENT_READ, "waker")
        next_sweep = time.monotonic() + 1.0
        try:
            while not self._stopping.is_set():
                for key, _ in sel.select(1.0):
                    if key.data == "waker":
                        self._waker.drain()
                        continue
                    try:
                        self._echo_pending(sock)
                    except Exception as exc:  # one datagram's fault never stops the loop
                        self.log_limit("error", f"echo failed: {type(exc).__name__}: {exc}")
                now = time.monotonic()
                if now >= next_sweep:
                    self._forget_quiet_peers(now)
                    next_sweep = now + 1.0
        finally:
            sel.close()

    def _echo_pending(self, sock: socket.socket) -> None:
        for _ in range(256):  # bounded: let the stop check and sweep run under a flood
            try:
                data, address = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP port unreachable from an earlier reply, etc.
                self.log(f"receive error: {exc.strerror or exc}", "warning")
                return
            peer = self._peers.get(address)
            if peer is None:
                if len(self._peers) >= self.limits.max_clients:
                    # a flood from many ports: forget the peer heard from least recently
                    self._peers.popitem(last=False)
                    self.count(closed=1)
                    self.log_limit("max clients", f"{self.limits.max_clients} peers "
                                   "(max clients): forgot the one quiet longest")
                peer = self._peers[address] = [0.0, 0, 0]
                self.count(opened=1)
                self.log_limit("new peer", f"datagrams from {address[0]}:{address[1]}",
                               every=1.0)
            else:
                self._peers.move_to_end(address)  # oldest first: eviction order
            try:
                sent = sock.sendto(data, address)
            except OSError as exc:
                self.log(f"cannot reply to {address[0]}:{address[1]}: "
                         f"{exc.strerror or exc}", "warning")
                sent = 0
            peer[0] = time.monotonic()
            peer[1] += len(data)
            peer[2] += sent
            self.count(bytes_in=len(data), bytes_out=sent, requests=1)

    def clients(self, limit: int = 500) -> list[ClientInfo]:
        """Peers heard from within the idle timeout (no connection: the socket is Bound)."""
        return [ClientInfo(describe_peer(a), "Bound", b_in, b_out)
                for a, (_, b_in, b_out) in list(self._peers.items())[:limit]]

    def _forget_quiet_peers(self, now: float) -> None:
        quiet = [a for a, (seen, _, _) in self._peers.items()
                 if now - seen > self.limits.idle_timeout]
        for address in quiet:
            del self._peers[address]
        if quiet:
            self.count(closed=len(quiet))

    def _stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._waker is not None:
            self._waker.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.machine.apply("close", "socket closed")
        if self._waker is not None:
            self._waker.close()
            self._waker = None
        with self._counter_lock:
            self.connections = 0
        self._peers.clear()
