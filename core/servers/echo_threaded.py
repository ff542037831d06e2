"""Threaded echo server: a thread per connection (origin document, section 4.2.1).

As the document suggests, ``accept()`` runs on its own thread so the caller stays free;
each client gets a handler thread doing blocking ``recv`` / ``sendall``. A client that
never reads blocks only its own thread, and only until the idle timeout.
"""

from __future__ import annotations

import socket
import threading
import time

from core.servers.echo_common import (
    EchoConnection,
    StreamEchoServer,
    Waker,
    join_all,
    selector_for,
    set_idle_timeout,
)


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
        self._acceptor = threading.Thread(target=self._accept_loop, args=(endpoint.sock,),
                                          name=f"{self.kind}:accept", daemon=True)
        self._acceptor.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        assert self._waker is not None and self.endpoint is not None
        sel = selector_for(listener, self._waker)
        try:
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.data == "waker":
                        self._waker.drain()
                        continue
                    self._accept_pending()
        finally:
            sel.close()

    def _accept_pending(self) -> None:
        assert self.endpoint is not None
        while not self._stopping.is_set():
            conn = self.endpoint.establish_connection()
            if conn is None:
                return
            with self._lock:
                full = len(self._clients) >= self.limits.max_clients
                if not full:
                    thread = threading.Thread(target=self._handle, args=(conn,),
                                              name=f"{self.kind}:{conn.peer}", daemon=True)
                    self._clients[conn] = thread
            if full:
                self._refuse(conn)
                continue
            self._opened(conn)
            thread.start()

    def _handle(self, conn: EchoConnection) -> None:
        sock = conn.sock
        recv_size = self.limits.recv_size
        reason = "peer closed"
        try:
            set_idle_timeout(sock, self.limits.idle_timeout)
            sock.setblocking(True)
            # one buffer per connection, reused: recv() would allocate (and for large
            # sizes mmap and unmap) a new bytes object every time
            buf = bytearray(recv_size)
            view = memoryview(buf)
            while True:
                n = sock.recv_into(buf)
                if not n:
                    conn.machine.apply("peer_closed")
                    break
                conn.bytes_in += n
                sock.sendall(view[:n])
                conn.bytes_out += n
                conn.requests += 1
            # half-close: everything was echoed, now send our FIN too
            sock.shutdown(socket.SHUT_WR)
            conn.machine.apply("shutdown_write")
        except BlockingIOError:  # SO_RCVTIMEO / SO_SNDTIMEO fired
            reason = f"idle for {self.limits.idle_timeout:g} s"
        except ConnectionResetError:
            reason = "reset by peer"
        except OSError as exc:
            reason = "server stopping" if self._stopping.is_set() else (
                exc.strerror or type(exc).__name__)
        finally:
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
            conn.abort()  # shutdown() wakes a handler blocked in recv() or sendall()
        join_all([t for _, t in clients], deadline)
        if self._waker is not None:
            self._waker.close()
            self._waker = None
