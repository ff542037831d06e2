"""Threaded echo server against real sockets (the shared contract plus its own traits)."""

from __future__ import annotations

import threading

from core.servers.echo.threaded import ThreadedEchoServer
from tests.fixtures.server_peers import StreamEchoContract, connect, recv_all, wait_for


class TestThreadedEcho(StreamEchoContract):
    def make(self, **kwargs) -> ThreadedEchoServer:
        return ThreadedEchoServer("127.0.0.1", 0, **kwargs)


def test_one_thread_per_client(started) -> None:
    server = started(ThreadedEchoServer())
    before = threading.active_count()
    clients = [connect(server) for _ in range(4)]
    try:
        for sock in clients:
            sock.sendall(b"t")
            assert recv_all(sock, 1) == b"t"
        assert threading.active_count() == before + 4
        names = {t.name for t in threading.enumerate()}
        assert any(n.startswith("echo-tcp:127.0.0.1:") for n in names)
    finally:
        for sock in clients:
            sock.close()
    wait_for(lambda: threading.active_count() == before)
