"""Fork echo server: the contract in both fork styles, the fireman, the helper process."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from core.servers.base import ServerStartError
from core.servers.echo.fork import ForkEchoServer
from tests.fixtures.server_peers import (
    StreamEchoContract,
    assert_hung_up,
    child_pids,
    connect,
    recv_all,
    round_trip,
    wait_for,
    zombies,
)


class TestSimpleForkEcho(StreamEchoContract):
    def make(self, **kwargs) -> ForkEchoServer:
        return ForkEchoServer("127.0.0.1", 0, fork_style="simple", **kwargs)


class TestDoubleForkEcho(StreamEchoContract):
    def make(self, **kwargs) -> ForkEchoServer:
        return ForkEchoServer("127.0.0.1", 0, fork_style="double", **kwargs)


@pytest.mark.parametrize("style", ["simple", "double"])
def test_no_zombie_after_100_connections(started, style: str) -> None:
    server = started(ForkEchoServer(fork_style=style))
    helper = server.helper_pid
    assert helper is not None and helper != os.getpid()
    for i in range(100):
        message = b"conn %d" % i
        assert round_trip(server, message, half_close=True) == message
    wait_for(lambda: server.connections == 0 and server.total_connections == 100)
    # the fireman reaps on SIGCHLD; give it the moment it needs, then nothing may remain
    wait_for(lambda: not child_pids(helper), message=f"children left: {child_pids(helper)}")
    assert zombies(helper) == []


def test_each_connection_is_served_by_its_own_process(started) -> None:
    server = started(ForkEchoServer())
    helper = server.helper_pid
    clients = [connect(server) for _ in range(3)]
    try:
        for sock in clients:
            sock.sendall(b"p")
            assert recv_all(sock, 1) == b"p"
        wait_for(lambda: len(child_pids(helper)) == 3)
    finally:
        for sock in clients:
            sock.close()
    wait_for(lambda: not child_pids(helper))


def test_double_fork_children_are_adopted_by_the_helper(started) -> None:
    # child one exits at once; child two, orphaned, is adopted (the helper is a
    # subreaper) and still serves
    server = started(ForkEchoServer(fork_style="double"))
    helper = server.helper_pid
    sock = connect(server)
    try:
        sock.sendall(b"d")
        assert recv_all(sock, 1) == b"d"
        wait_for(lambda: len(child_pids(helper)) == 1)
    finally:
        sock.close()
    wait_for(lambda: not child_pids(helper))
    assert zombies(helper) == []


def test_stop_kills_children_and_reaps_helper(started) -> None:
    server = started(ForkEchoServer())
    helper = server.helper_pid
    sock = connect(server)
    sock.sendall(b"k")
    assert recv_all(sock, 1) == b"k"
    children = child_pids(helper)
    assert len(children) == 1
    server.stop()
    assert helper not in child_pids()
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}")
    assert_hung_up(sock)


def test_port_in_use_is_reported_before_any_process_starts(started) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        server = ForkEchoServer("127.0.0.1", holder.getsockname()[1])
        before = child_pids()
        with pytest.raises(ServerStartError, match="in use"):
            server.start()
        assert child_pids() == before
    finally:
        holder.close()


def test_bad_fork_style_names_the_field() -> None:
    from core.errors import UserError

    with pytest.raises(UserError) as info:
        ForkEchoServer(fork_style="triple")
    assert info.value.field_name == "Fork style"


def test_helper_death_is_reported_as_a_crash_and_stop_still_cleans_up() -> None:
    from core.events import LogLine, ServerCrashed
    from core.worker import drain

    server = ForkEchoServer()
    server.start()
    try:
        os.kill(server.helper_pid, signal.SIGKILL)
        wait_for(lambda: not server.running)
        events: list = []
        wait_for(lambda: events.extend(drain(server.outbox)) or any(
            isinstance(e, ServerCrashed) for e in events))
        [crash] = [e for e in events if isinstance(e, ServerCrashed)]
        assert crash.reason == ("ChildProcessError: the fork helper process ended "
                                "unexpectedly (exit status -9); start the server again")
        assert any(isinstance(e, LogLine) and e.level == "error" and "unexpectedly" in e.text
                   for e in events)
    finally:
        server.stop()
    assert server.helper_pid is None
