"""Select echo server against real sockets (the shared contract plus its own traits)."""

from __future__ import annotations

import threading

from core.servers.echo.select_server import SelectEchoServer
from tests.fixtures.server_peers import StreamEchoContract, connect, recv_all


class TestSelectEcho(StreamEchoContract):
    def make(self, **kwargs) -> SelectEchoServer:
        return SelectEchoServer("127.0.0.1", 0, **kwargs)


def test_one_thread_for_all_clients(started) -> None:
    before = threading.active_count()
    server = started(SelectEchoServer())
    after_start = threading.active_count()
    clients = [connect(server) for _ in range(20)]
    try:
        for sock in clients:
            sock.sendall(b"s")
        for sock in clients:
            assert recv_all(sock, 1) == b"s"
        assert threading.active_count() == after_start  # no thread per client
        assert after_start - before == 2  # the loop and the stats ticker
    finally:
        for sock in clients:
            sock.close()
