"""What every echo server shares: limits, the listening socket object, connections.

:class:`ServerEndpoint` is the origin document's section 4.3.1 ``TCPServer`` in modern
form — ``open_server()`` / ``establish_connection()`` / ``close_connection()`` — and
each endpoint and connection carries a :class:`~core.states.ConnectionStateMachine`
(section 4.3.2), the same one the Socket tab uses.
"""

from __future__ import annotations

import errno
import itertools
import selectors
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.events import ServerStats, StateChanged
from core.servers.base import ServerController, ServerStartError, bind_error
from core.states import Closed, ConnectionState, ConnectionStateMachine

MODES: tuple[str, ...] = ("threaded", "select", "fork")
FORK_STYLES: tuple[str, ...] = ("simple", "double")


#: the select design's default client limit: one thread and ~1 KB per idle client, so it
#: holds C10K (the server lifts its open-files limit to the hard limit at start)
SELECT_MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class EchoLimits:
    """Per-server limits. When ``max_clients`` are connected, the one idle longest is
    closed to serve a new one: idle clients can never lock a new one out."""

    max_clients: int = 512
    #: seconds without traffic (or with the peer not reading) before a client is dropped
    idle_timeout: float = 300.0
    #: bytes queued for one client before the server stops reading from it (select mode)
    buffer_cap: int = 256 * 1024
    #: largest single recv() of a threaded or fork handler: its per-client buffer (the
    #: select loop shares one buffer and reads up to the room left under buffer_cap)
    recv_size: int = 64 * 1024

    def check(self) -> EchoLimits:
        from core.errors import UserError

        if self.max_clients < 1:
            raise UserError("Max clients must be at least 1.", "Max clients")
        if self.idle_timeout <= 0:
            raise UserError("Idle timeout must be more than 0 seconds.", "Idle timeout")
        if self.buffer_cap < 1024:
            raise UserError("Buffer cap must be at least 1024 bytes.", "Buffer cap")
        return self


@dataclass(frozen=True)
class ClientInfo:
    """One connected client as the Servers tab lists it."""

    peer: str
    state: str  # a core.states name: Established, ReadShut, ... (Bound for UDP peers)
    bytes_in: int = 0
    bytes_out: int = 0


def accepted(machine: ConnectionStateMachine, peer: str) -> None:
    """Move a fresh machine to Established for a socket that came from accept().

    The shared table has no Closed -> Established edge for the server side, so an
    accepted socket walks the client's path (connect, connected) with a detail that
    says what really happened.
    """
    if "accepted" in Closed.transitions:  # once core/states.py grows the edge, use it
        machine.apply("accepted", f"accepted {peer}")
    else:
        machine.apply("connect", f"accepted {peer}")
        machine.apply("connected", f"accepted {peer}")


_peer_ids = itertools.count(1)


class EchoConnection:
    """One accepted client: its socket, its state and its traffic counters."""

    __slots__ = ("sock", "peer", "machine", "bytes_in", "bytes_out", "requests",
                 "last_active", "outbuf", "reading", "interest", "flushed", "seen",
                 "dropped")

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self.machine = ConnectionStateMachine()
        accepted(self.machine, peer)
        self.bytes_in = 0
        self.bytes_out = 0
        self.requests = 0
        #: (bytes_in, bytes_out, requests) already added to the server's totals
        self.flushed = (0, 0, 0)
        self.last_active = time.monotonic()
        #: bytes moved when the idle sweep last looked, and why the server dropped it
        self.seen = 0
        self.dropped = ""
        # select mode only: bytes received but not yet echoed, and the selector interest
        self.outbuf = bytearray()
        self.reading = True
        self.interest = 0

    def idle_for(self, now: float) -> float:
        """Seconds without traffic, as an outside sweeper sees it (no clock per recv)."""
        moved = self.bytes_in + self.bytes_out
        if moved != self.seen:
            self.seen = moved
            self.last_active = now
        return now - self.last_active

    def wake(self, reason: str) -> None:
        """Make the thread using the socket return (recv gets EOF, send an error)
        without closing it under that thread's feet; the thread closes it."""
        self.dropped = self.dropped or reason
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def abort(self) -> None:
        """Unblock any thread using the socket, then close it (stop with clients on)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def describe_peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = f"[{address[0]}]" if ":" in str(address[0]) else address[0]
        return f"{host}:{address[1]}"
    # UNIX-domain clients are unnamed: number them so the log can tell them apart
    return f"unix-client#{next(_peer_ids)}"


def _family_for(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def prepare_unix_path(path: Path) -> None:
    """Remove a stale socket file; refuse a live one or anything that is not a socket."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ServerStartError(
            f"{path} exists and is not a socket: choose another path (it was left alone).",
            "Path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # nobody listens: a leftover of a crashed server
        return
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise ServerStartError(
        f"{path} is in use by a running server: stop it or choose another path.", "Path")


class OutOfDescriptors(OSError):
    """accept() failed for want of a file descriptor: free one (evict) and retry."""


class ServerEndpoint:
    """The listening socket as an object (origin document, section 4.3.1).

    ``open_server()`` binds and listens, ``establish_connection()`` accepts one client
    (``None`` when nothing is pending: the socket is non-blocking), ``close_connection()``
    closes the listener. Its state machine goes Closed -> Listening -> Closed.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str | None = None,
                 on_change: Callable[[ConnectionState, str], None] | None = None) -> None:
        self.host = host
        self.port = port
        self.path = Path(path) if path else None
        self.sock: socket.socket | None = None
        self.machine = ConnectionStateMachine(on_change)

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_UNIX if self.path else _family_for(self.host)

    def open_server(self, backlog: int = socket.SOMAXCONN) -> socket.socket:
        # the kernel's own maximum (4096 on Linux 5.4+): a burst of connects waits in
        # the queue instead of failing (a UNIX socket's connect fails at once when full)
        self.machine.require("listen")
        if self.path is not None:
            prepare_unix_path(self.path)
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            if self.path is None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self.port))
                self.port = sock.getsockname()[1]
            else:
                sock.bind(str(self.path))
            sock.listen(backlog)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if self.path is not None:
                raise ServerStartError(
                    f"Cannot create the socket file {self.path}: {exc.strerror}. "
                    "Choose a path in a folder you can write.", "Path") from exc
            raise bind_error(exc, self.host, self.port) from exc
        self.sock = sock
        self.machine.apply("listen", f"listening on {self.address}")
        return sock

    @property
    def address(self) -> str:
        if self.path is not None:
            return str(self.path)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def establish_connection(self) -> EchoConnection | None:
        if self.sock is None:
            return None
        self.machine.require("accept")
        try:
            client, address = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            # the client gave up between the readiness and accept(): nothing to serve
            if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                return None
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                raise OutOfDescriptors(str(exc)) from exc
            raise
        self.machine.apply("accept")
        if client.family != socket.AF_UNIX:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return EchoConnection(client, describe_peer(address))

    def close_connection(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if not self.machine.is_(Closed):
            if self.path is not None:  # ours (open_server made it): remove it
                try:
                    self.path.unlink()
                except OSError:
                    pass
            self.machine.apply("close", "listener closed")


class Waker:
    """A socketpair that wakes a selector loop from another thread (stop requests)."""

    def __init__(self) -> None:
        self.r, self.w = socket.socketpair()
        self.r.setblocking(False)
        self.w.setblocking(False)

    def wake(self) -> None:
        try:
            self.w.send(b"x")
        except OSError:
            pass  # already full or closed: the loop will wake anyway

    def drain(self) -> None:
        try:
            while self.r.recv(4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self.r.close()
        self.w.close()


class StreamEchoServer(ServerController):
    """Base of the TCP / UNIX-stream echo servers: endpoint, limits, state events."""

    mode = "threaded"
    #: max clients when no limits are given (select mode holds far more)
    default_max_clients = EchoLimits.max_clients
    proto = "tcp"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, outbox=None, *,
                 path: str | None = None, limits: EchoLimits | None = None) -> None:
        super().__init__(host, port, outbox)
        self.path = path
        self.limits = (limits or EchoLimits(max_clients=self.default_max_clients)).check()
        self.endpoint: ServerEndpoint | None = None
        if path:
            self.proto = "unix"
            self.kind = f"echo-unix-{self.mode}"
            self.title = f"Echo (UNIX, {self.mode})"

    @property
    def address(self) -> str:
        return self.path if self.path else super().address

    def describe(self) -> str:
        lim = self.limits
        return (f"{self.mode} mode; max {lim.max_clients} clients, idle timeout "
                f"{lim.idle_timeout:g} s, buffer cap {lim.buffer_cap // 1024} KiB")

    def _on_listener_state(self, state: ConnectionState, detail: str) -> None:
        self.post(StateChanged(source=self.kind, state=state.name, detail=detail))

    def _open_endpoint(self) -> ServerEndpoint:
        endpoint = ServerEndpoint(self.host, self.port, self.path, self._on_listener_state)
        endpoint.open_server()
        self.port = endpoint.port
        self.endpoint = endpoint
        return endpoint

    def _evict_idlest(self, candidates: list[EchoConnection], now: float) -> None:
        """Full: shut down the connection idle longest (its handler closes it)."""
        live = [c for c in candidates if not c.dropped]
        if not live:
            return
        victim = max(live, key=lambda c: c.idle_for(now))
        reason = (f"evicted after {victim.idle_for(now):.0f} s idle: "
                  f"{self.limits.max_clients} clients connected (max clients)")
        self.log_limit("max clients", f"{victim.peer} {reason}")
        victim.wake(reason)

    def _flush(self, conn: EchoConnection) -> bool:
        """Add what ``conn`` moved since its last flush to the server's totals.

        Handlers count in the connection, without a lock; totals catch up here (at
        close, and in select mode twice a second) and in :meth:`stats`, which adds what
        live connections have not flushed yet. True when there was something to add.
        """
        with self._counter_lock:
            old = conn.flushed
            now = (conn.bytes_in, conn.bytes_out, conn.requests)
            if now == old:
                return False
            self.bytes_in += now[0] - old[0]
            self.bytes_out += now[1] - old[1]
            self.requests += now[2] - old[2]
            conn.flushed = now
        return True

    def _live(self) -> list[EchoConnection]:
        """Connections being served right now (subclasses that count in them)."""
        return []

    def clients(self, limit: int = 500) -> list[ClientInfo]:
        """A snapshot of the connected clients (no I/O: safe on any thread)."""
        return [ClientInfo(c.peer, c.machine.name, c.bytes_in, c.bytes_out)
                for c in self._live()[:limit]]

    def stats(self) -> ServerStats:
        with self._counter_lock:
            pending = [0, 0, 0]
            for conn in self._live():
                pending[0] += conn.bytes_in - conn.flushed[0]
                pending[1] += conn.bytes_out - conn.flushed[1]
                pending[2] += conn.requests - conn.flushed[2]
            return ServerStats(
                source=self.kind, kind=self.kind, connections=self.connections,
                total_connections=self.total_connections,
                bytes_in=self.bytes_in + pending[0], bytes_out=self.bytes_out + pending[1],
                requests=self.requests + pending[2])

    def _opened(self, conn: EchoConnection) -> None:
        self.count(opened=1)
        self.log(f"{conn.peer} connected")

    def _closed(self, conn: EchoConnection, reason: str) -> None:
        """Account for a connection that ended and log one line about it."""
        self._flush(conn)
        self.count(closed=1)
        self.log(f"{conn.peer} closed ({reason}): {conn.bytes_in} B in, "
                 f"{conn.bytes_out} B out")


def selector_for(sock: socket.socket, waker: Waker) -> selectors.BaseSelector:
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "listener")
    sel.register(waker.r, selectors.EVENT_READ, "waker")
    return sel


def join_all(threads: list[threading.Thread], deadline: float) -> None:
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
