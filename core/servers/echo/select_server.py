"""Select echo server: one thread, non-blocking sockets (origin document, section 4.2.2).

The document's ``select.select(readers, writers, [], timeout)`` becomes ``selectors``
(epoll on Linux). Each client has a bounded output buffer: when it holds
``buffer_cap`` bytes the server stops *reading* from that client until it drains, so
a client that never reads costs at most ``buffer_cap`` bytes and stalls nobody else.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time

from core.servers.echo.common import (
    SELECT_MAX_CLIENTS,
    EchoConnection,
    OutOfDescriptors,
    StreamEchoServer,
    Waker,
    selector_for,
)

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class SelectEchoServer(StreamEchoServer):
    kind = "echo-tcp-select"
    title = "Echo (TCP, select)"
    mode = "select"
    default_max_clients = SELECT_MAX_CLIENTS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stopping = threading.Event()
        self._waker: Waker | None = None
        self._loop_thread: threading.Thread | None = None
        self._clients: set[EchoConnection] = set()
        # C10K: the sweeps touch only what moved. Clients in order of their last seen
        # activity (oldest first: the idle ones to drop or evict are at the front), and
        # the ones that read or wrote since the last sweep; a sweep over every client
        # cost ~7 ms at 10,000 clients, twice a second, in everybody's latency
        self._by_idle: dict[EchoConnection, None] = {}
        self._active: set[EchoConnection] = set()
        self._sel: selectors.BaseSelector | None = None
        # one buffer shared by every client (one thread), as big as a client's cap
        self._view = memoryview(bytearray(self.limits.buffer_cap))
        self._cap = self.limits.buffer_cap

    @property
    def running(self) -> bool:
        return self._loop_thread is not None and self._loop_thread.is_alive()

    def _start(self) -> None:
        endpoint = self._open_endpoint()
        self._stopping.clear()
        self._waker = Waker()
        self._sel = selector_for(endpoint.sock, self._waker)
        self._loop_thread = threading.Thread(target=self.guarded(self._loop),
                                             name=f"{self.kind}:loop", daemon=True)
        self._loop_thread.start()

    # -- the loop ------------------------------------------------------------------------
    def _loop(self) -> None:
        assert self._sel is not None and self._waker is not None
        sel = self._sel
        next_sweep = time.monotonic() + 0.5
        try:
            while not self._stopping.is_set():
                for key, mask in sel.select(0.5):
                    data = key.data
                    if data.__class__ is str:  # "listener" or "waker"; else a client
                        if data == "listener":
                            self._accept_pending()
                            continue
                        self._waker.drain()
                        continue
                    try:
                        if mask & READ:
                            self._read(data)
                        if mask & WRITE and data in self._clients:
                            self._flush_out(data)
                    except Exception as exc:  # one client's fault never stops the loop
                        self.log_limit("error", f"{data.peer}: {type(exc).__name__}: {exc}")
                        self._drop(data, f"internal error: {type(exc).__name__}")
                now = time.monotonic()
                if now >= next_sweep:
                    # activity is seen here, twice a second, not stamped on every recv
                    self._note_activity(now)
                    self._sweep_idle(now)
                    next_sweep = now + 0.5
        finally:
            for conn in list(self._clients):
                self._drop(conn, "server stopping")
            sel.close()

    def _accept_pending(self) -> None:
        assert self.endpoint is not None and self._sel is not None
        for _ in range(64):  # bounded so a connect flood cannot starve the clients
            try:
                conn = self.endpoint.establish_connection()
            except OutOfDescriptors:
                self.log_limit("open files", "out of file descriptors (open files "
                               "limit): evicting the idlest client")
                if self._clients:
                    self._note_activity(time.monotonic())
                    self._drop(next(iter(self._by_idle)),
                               "evicted: the server ran out of file descriptors")
                continue
            if conn is None:
                return
            if len(self._clients) >= self.limits.max_clients:
                now = time.monotonic()
                self._note_activity(now)  # activity since the last sweep counts too
                victim = next(iter(self._by_idle))
                self.log_limit("max clients", f"{victim.peer} evicted after "
                               f"{now - victim.last_active:.0f} s idle: "
                               f"{self.limits.max_clients} clients connected (max clients)")
                self._drop(victim, "evicted: the idlest when the server was full")
            conn.sock.setblocking(False)
            conn.interest = READ
            self._sel.register(conn.sock, READ, conn)
            self._clients.add(conn)
            self._by_idle[conn] = None
            self._opened(conn)

    def _read(self, conn: EchoConnection) -> None:
        room = self._cap - len(conn.outbuf)
        if room <= 0:  # full: recv_into(view, 0) would return 0 and look like EOF
            return
        sock = conn.sock
        view = self._view
        try:
            # one buffer for the whole loop (one thread): no allocation per recv
            n = sock.recv_into(view, room)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._drop(conn, "reset by peer" if isinstance(exc, ConnectionResetError)
                       else exc.strerror or type(exc).__name__)
            return
        if not n:
            conn.machine.apply("peer_closed")
            conn.reading = False
            self._update(conn)
            return
        conn.bytes_in += n
        conn.requests += 1
        self._active.add(conn)
        if conn.outbuf:
            conn.outbuf += view[:n]
        else:
            # optimistic send: most echoes leave at once without a WRITE round trip
            try:
                sent = sock.send(view[:n])
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._drop(conn, exc.strerror or type(exc).__name__)
                return
            conn.bytes_out += sent
            if sent == n:
                return  # the common case: nothing queued, interest unchanged
            conn.outbuf += view[sent:n]
        self._update(conn)

    def _flush_out(self, conn: EchoConnection) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._drop(conn, exc.strerror or type(exc).__name__)
            return
        del conn.outbuf[:sent]
        conn.bytes_out += sent
        self._active.add(conn)
        self._update(conn)

    def _update(self, conn: EchoConnection) -> None:
        """Set the selector interest from the buffer: read while room, write while data."""
        if not conn.reading and not conn.outbuf:
            # half-close: the peer sent FIN and got all its data back; send ours
            try:
                conn.sock.shutdown(socket.SHUT_WR)
                conn.machine.apply("shutdown_write")
            except OSError:
                pass
            self._drop(conn, "peer closed")
            return
        want = (READ if conn.reading and len(conn.outbuf) < self.limits.buffer_cap else 0) | (
            WRITE if conn.outbuf else 0)
        if want != conn.interest:
            # never 0 here: a full buffer always wants WRITE; a peer that never reads
            # simply stays WRITE-only until the idle sweep drops it
            assert self._sel is not None
            self._sel.modify(conn.sock, want, conn)
            conn.interest = want

    def _note_activity(self, now: float) -> None:
        """Fold what the clients active since the last call moved into the totals and
        move them to the back of the idle order."""
        by_idle = self._by_idle
        for conn in self._active:
            if conn in by_idle:
                self._flush(conn)
                conn.last_active = now
                del by_idle[conn]
                by_idle[conn] = None
        self._active.clear()

    def _sweep_idle(self, now: float) -> None:
        limit = self.limits.idle_timeout
        expired = []
        for conn in self._by_idle:  # oldest activity first: stop at the first recent one
            if now - conn.last_active <= limit:
                break
            expired.append(conn)
        for conn in expired:
            self._drop(conn, f"idle for {limit:g} s")

    def _drop(self, conn: EchoConnection, reason: str) -> None:
        if conn not in self._clients:
            return
        self._flush(conn)  # before it leaves _live(): totals never dip
        self._clients.discard(conn)
        self._by_idle.pop(conn, None)
        self._active.discard(conn)
        if conn.interest and self._sel is not None:
            try:
                self._sel.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        conn.interest = 0
        if conn.machine.name != "Closed":
            conn.machine.apply("close")
        conn.abort()
        self._closed(conn, reason)

    def _live(self) -> list[EchoConnection]:
        return list(self._clients)

    def _stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._waker is not None:
            self._waker.wake()
        if self._loop_thread is not None:
            self._loop_thread.join(timeout)
            self._loop_thread = None
        if self.endpoint is not None:
            self.endpoint.close_connection()
        if self._waker is not None:
            self._waker.close()
            self._waker = None
        self._sel = None
