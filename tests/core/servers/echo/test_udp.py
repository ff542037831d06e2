"""UDP echo server with real datagrams."""

from __future__ import annotations

import os
import socket

import pytest

from core.servers.base import ServerStartError
from core.servers.echo.common import EchoLimits
from core.servers.echo.udp import UdpEchoServer
from core.worker import drain
from tests.fixtures.server_peers import resources, settle, wait_for


def ask(server: UdpEchoServer, payload: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(payload, (server.host, server.port))
        data, address = sock.recvfrom(70_000)
        assert address == (server.host, server.port)
        return data


@pytest.mark.parametrize("size", [0, 1, 1400, 65_507], ids=["empty", "1B", "1400B", "65507B"])
def test_datagram_echoed_whole(started, size: int) -> None:
    server = started(UdpEchoServer())
    payload = os.urandom(size)
    assert ask(server, payload) == payload
    wait_for(lambda: server.stats().bytes_out == size and server.requests == 1)


def test_peers_count_as_connections_until_quiet(started) -> None:
    server = started(UdpEchoServer(limits=EchoLimits(idle_timeout=2.0)))
    for i in range(3):
        assert ask(server, b"p%d" % i) == b"p%d" % i  # three sockets, three peers
    assert server.connections == 3 and server.total_connections == 3
    # the server counts a reply once sendto() returned: maybe just after we got it
    wait_for(lambda: [(c.state, c.bytes_in, c.bytes_out) for c in server.clients()]
             == [("Bound", 2, 2)] * 3, message=f"clients: {server.clients()}")
    wait_for(lambda: server.connections == 0, timeout=15)


def test_state_goes_bound_then_closed() -> None:
    server = UdpEchoServer()
    server.start()
    assert server.machine.name == "Bound"
    server.stop()
    assert server.machine.name == "Closed"
    states = [e.state for e in drain(server.outbox) if type(e).__name__ == "StateChanged"]
    assert states == ["Bound", "Closed"]


def test_port_in_use_names_the_port() -> None:
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    try:
        with pytest.raises(ServerStartError, match=f"Port {holder.getsockname()[1]}"):
            UdpEchoServer("127.0.0.1", holder.getsockname()[1]).start()
    finally:
        holder.close()


def test_stop_leaks_nothing() -> None:
    before = resources()
    server = UdpEchoServer()
    server.start()
    assert ask(server, b"x") == b"x"
    server.stop()
    assert not server.running
    assert settle(before) == before


def test_peers_from_many_ports_are_capped_at_max_clients(started) -> None:
    # a flood from many source ports: the quietest peer is forgotten, memory stays bounded
    server = started(UdpEchoServer(limits=EchoLimits(max_clients=3)))
    for i in range(10):
        assert ask(server, b"p%d" % i) == b"p%d" % i
    wait_for(lambda: len(server.clients()) == 3 and server.connections == 3)
    assert server.total_connections == 10
