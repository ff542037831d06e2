"""The session's I/O loop (core/sockets/loop.py): the order of calls and a peer's FIN, and
how a stream is closed. Both faults were found by the interop suite (ncat, tests/interop)."""

from __future__ import annotations

import socket
import threading

from core.events import Failed
from core.sockets import LocalAddress, SocketConfig, SocketSession
from tests.core.sockets.conftest import Watch, tls_client_of_listener


class HeldSession(SocketSession):
    """A session whose I/O thread can be held between two turns of its loop, so calls
    and a peer's FIN both wait for it when it resumes (as when the GIL is busy)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold, self.held, self.release = (threading.Event() for _ in range(3))

    def _tick(self) -> None:
        super()._tick()
        if self.hold.is_set():
            self.hold.clear()
            self.held.set()
            self.release.wait(10)


def test_reply_and_shutdown_made_before_the_peers_fin_are_not_lost() -> None:
    s = HeldSession()
    w = Watch(s)
    try:
        s.listen(SocketConfig(host="127.0.0.1", port=0))
        port = int(w.until(lambda e: isinstance(e, LocalAddress)).address.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"hi")
            w.wait_bytes(b"hi")
            (peer,) = s.peers()
            s.hold.set()
            client.sendall(b"!")  # one more turn of the loop: the thread stops in _tick
            assert s.held.wait(5)
            s.send(b"reply", peer)
            s.shutdown("write", peer)
            client.shutdown(socket.SHUT_WR)  # the FIN is there before the thread resumes
            s.release.set()
            got = b""
            while chunk := client.recv(100):
                got += chunk
        assert got == b"reply"
        assert not w.of(Failed)
    finally:
        s.release.set()
        s.close()


def test_dropping_a_tls_peer_sends_close_notify(session) -> None:
    s, w = session
    with tls_client_of_listener(s, w, suppress_ragged_eofs=False) as client:
        (peer,) = s.peers()
        s.drop(peer)
        assert client.recv(100) == b""  # a cut without close_notify raises SSLEOFError
