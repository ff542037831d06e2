"""Select echo server against real sockets (the shared contract plus its own traits)."""

from __future__ import annotations

import threading

from core.servers.echo.select_server import SelectEchoServer
from tests.fixtures.server_peers import StreamEchoContract, connect, recv_all, wait_for


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


def test_the_select_design_holds_ten_thousand_clients_by_default() -> None:
    from core.servers.echo.common import SELECT_MAX_CLIENTS, EchoLimits
    from core.servers.echo.server import make_echo_server

    assert SELECT_MAX_CLIENTS == 10_000
    assert make_echo_server("tcp", "select").limits.max_clients == SELECT_MAX_CLIENTS
    assert make_echo_server("tcp", "threaded").limits.max_clients == EchoLimits.max_clients
    given = EchoLimits(max_clients=7)
    assert make_echo_server("tcp", "select", limits=given).limits.max_clients == 7


def test_when_full_the_client_idle_longest_is_evicted(started) -> None:
    from core.servers.echo.common import EchoLimits

    server = started(SelectEchoServer(limits=EchoLimits(max_clients=2)))
    first, second = connect(server), connect(server)
    try:
        for sock in (first, second):
            sock.sendall(b"x")
            assert recv_all(sock, 1) == b"x"
        # activity is noted twice a second, not per recv: let a sweep note both, then
        # only first speaks again, so second is the idlest
        wait_for(lambda: not server._active)  # noqa: SLF001
        first.sendall(b"x")
        assert recv_all(first, 1) == b"x"
        with connect(server) as third:
            third.sendall(b"new")
            assert recv_all(third, 3) == b"new"
            assert recv_all(second) == b""  # evicted
            first.sendall(b"still")
            assert recv_all(first, 5) == b"still"
    finally:
        first.close()
        second.close()


def test_the_idle_sweep_keeps_clients_that_keep_talking(started) -> None:
    """Only clients that moved since the last sweep are looked at: one that talks must
    be seen as active, one that is silent dropped."""
    import time

    from core.servers.echo.common import EchoLimits

    server = started(SelectEchoServer(limits=EchoLimits(idle_timeout=0.6)))
    talker, silent = connect(server), connect(server)
    try:
        silent.sendall(b"s")
        assert recv_all(silent, 1) == b"s"
        end = time.monotonic() + 1.6  # more than two idle timeouts, several sweeps
        while time.monotonic() < end:
            talker.sendall(b"t")
            assert recv_all(talker, 1) == b"t"
            time.sleep(0.1)
        assert recv_all(silent) == b""  # dropped as idle
        talker.sendall(b"alive")
        assert recv_all(talker, 5) == b"alive"
    finally:
        talker.close()
        silent.close()


def test_serve_echo_select_defaults_to_ten_thousand_clients() -> None:
    import argparse

    from core.servers.echo.server import SERVE_KINDS

    kind = SERVE_KINDS["echo"]
    parser = argparse.ArgumentParser()
    kind.add_arguments(parser)
    select, = kind.build(parser.parse_args(["--mode", "select", "--port", "0"]))
    threaded, = kind.build(parser.parse_args(["--port", "0"]))
    capped, = kind.build(parser.parse_args(["--mode", "select", "--max-clients", "9",
                                            "--port", "0"]))
    assert (select.limits.max_clients, threaded.limits.max_clients,
            capped.limits.max_clients) == (10_000, 512, 9)
