"""Threaded echo server: a thread per connection (origin document, section 4.2.1).

As the document suggests, ``accept()`` runs on its own thread so the caller stays free;
each client gets a handler thread doing blocking ``recv`` / ``sendall``. A client that
never reads blocks only its own thread, and only until the idle timeout: the accept
thread sweeps the connections and shuts down those that moved no byte for that long
(a sweep costs nothing per recv; a kernel SO_RCVTIMEO arms a timer on every wait).
"""

from __future__ import annotations

import socket
import threading
import time

from core.servers.echo.common import (
    EchoConnection,
    OutOfDescriptors,
    StreamEchoServer,
    Waker,
    join_all,
    selector_for,
)
from core.servers.echo.relay import echo_until_eof


class ThreadedEchoServer(StreamEchoServer):
    kind = "echo-tcp"
    title = "Echo (TCP, threaded)"
    mode = "threaded"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stopping = threading.Event()
        self._waker: Waker | None = None
        self._acceptor: threading.Thread | None = None
        self._lock = threading.Lock()
        self._clients: dict[EchoConnection, threading.Thread] = {}

    @property
    def running(self) -> bool:
        return self._acceptor is not None and self._acceptor.is_alive()

    def _start(self) -> None:
        endpoint = self._open_endpoint()
        self._stopping.clear()
        self._waker = Waker()
        self._acceptor = threading.Thread(target=self.guarded(self._accept_loop),
                                          args=(endpoint.sock,),
                                          name=f"{self.kind}:accept", daemon=True)
        self._acceptor.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        assert self._waker is not None and self.endpoint is not None
        sel = selector_for(listener, self._waker)
        idle_limit = self.limits.idle_timeout
        sweep_every = min(1.0, idle_limit / 3)
        next_sweep = time.monotonic() + sweep_every
        try:
            while not self._stopping.is_set():
                for key, _ in sel.select(sweep_every):
                    if key.data == "waker":
                        self._waker.drain()
                        continue
                    self._accept_pending()
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + sweep_every
                    for conn in self._live():
                        if conn.idle_for(now) >= idle_limit:
                            conn.wake(f"idle for {idle_limit:g} s")
        finally:
            sel.close()

    def _accept_pending(self) -> None:
        assert self.endpoint is not None
        while not self._stopping.is_set():
            try:
                conn = self.endpoint.establish_connection()
            except OutOfDescriptors:
                # out of fds: the idlest client gives its own back (its thread closes it)
                self.log_limit("open files", "out of file descriptors (open files "
                               "limit): evicting the idlest client")
                with self._lock:
                    self._evict_idlest(list(self._clients), time.monotonic())
                self._stopping.wait(0.01)
                continue
            if conn is None:
                return
            with self._lock:
                # evicted ones leave the table when their thread ends: not counted
                live = [c for c in self._clients if not c.dropped]
                if len(live) >= self.limits.max_clients:
                    self._evict_idlest(live, time.monotonic())
                thread = threading.Thread(target=self.guarded(self._handle, fatal=False),
                                          args=(conn,),
                                          name=f"{self.kind}:{conn.peer}", daemon=True)
                self._clients[conn] = thread
            self._opened(conn)
            thread.start()

    def _handle(self, conn: EchoConnection) -> None:
        sock = conn.sock
        recv_size = self.limits.recv_size
        reason = "peer closed"
        try:
            sock.setblocking(True)
            echo_until_eof(sock, conn, recv_size)
            if not conn.dropped:  # not the sweep or stop() that shut it down: the peer
                conn.machine.apply("peer_closed")
                # half-close: everything was echoed, now send our FIN too
                sock.shutdown(socket.SHUT_WR)
                conn.machine.apply("shutdown_write")
        except ConnectionResetError:
            reason = "reset by peer"
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
        finally:
            reason = conn.dropped or reason
            if conn.machine.name != "Closed":
                conn.machine.apply("close")
            try:
                sock.close()
            except OSError:
                pass
            self._flush(conn)  # before it leaves _live(): totals never dip
            with self._lock:
                self._clients.pop(conn, None)
            self._closed(conn, reason)

    def _live(self) -> list[EchoConnection]:
        return list(self._clients)  # one C-level copy: safe against the handlers

    def _stop(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._stopping.set()
        if self._waker is not None:
            self._waker.wake()
        if self._acceptor is not None:
            self._acceptor.join(max(0.0, deadline - time.monotonic()))
            self._acceptor = None
        if self.endpoint is not None:
            self.endpoint.close_connection()
        with self._lock:
            clients = list(self._clients.items())
        for conn, _ in clients:
            conn.wake("server stopping")  # a handler in recv() or sendall() returns
        join_all([t for _, t in clients], deadline)
        for conn, thread in clients:
            if thread.is_alive():  # should not happen; never leave the socket open
                conn.abort()
        if self._waker is not None:
            self._waker.close()
            self._waker = None
