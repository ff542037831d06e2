"""The controller base: the open-files limit raised at start, limit logs throttled, and
crash reporting (fault 6): a serving thread that dies is logged with its cause, reported
as ServerCrashed, and the server is stopped."""

from __future__ import annotations

import logging
import resource
import socket
import subprocess
import sys

import pytest

from core.events import LogLine, ServerCrashed, ServerStarted
from core.servers.base import ServerController
from core.servers.echo.select_server import SelectEchoServer
from core.worker import drain
from tests.fixtures.waiting import wait_for


def test_the_soft_open_files_limit_is_raised_to_the_hard_one() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def lower() -> None:  # a stock distribution's soft limit, in the child only
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    code = ("import resource\nfrom core.servers.base import raise_open_files_limit\n"
            "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], raise_open_files_limit(),"
            " resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         preexec_fn=lower, check=True, timeout=30).stdout.split()
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert [int(x) for x in out] == [256, expected, expected]


class _Quiet(ServerController):
    def _start(self) -> None: ...
    def _stop(self, timeout: float) -> None: ...
    running = False


def test_a_limit_is_logged_once_per_period_with_the_count_of_the_rest() -> None:
    server = _Quiet()
    for _ in range(5):
        server.log_limit("max clients", "full", every=60)
    server._limit_logged["max clients"] = (-100.0, 4)  # the period has passed
    server.log_limit("max clients", "full again", every=60)
    lines = []
    while not server.outbox.empty():
        lines.append(server.outbox.get().text)
    assert lines == ["full [max clients]",
                     "full again [max clients] (and 4 more since the last report)"]


class FailingLoopEcho(SelectEchoServer):
    """The select echo whose accept step fails: a stand-in for any bug in a serving loop
    (the real one found this way was the lab DNS's root-name query)."""

    kind = "echo-failing"

    def _accept_pending(self) -> None:
        raise KeyError("no such client table entry")


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_a_dead_serving_loop_is_reported_logged_and_stopped(caplog) -> None:
    server = FailingLoopEcho("127.0.0.1", 0)
    server.start()
    try:
        port = server.port
        with caplog.at_level(logging.ERROR, logger="wirebench.servers"), \
                socket.create_connection(("127.0.0.1", port), timeout=5):
            wait_for(lambda: not server.running)
        events = drain(server.outbox)
        [crash] = [e for e in events if isinstance(e, ServerCrashed)]
        assert crash.kind == "echo-failing"
        assert crash.reason == "KeyError: 'no such client table entry'"
        assert server.crash_reason == crash.reason
        errors = [e.text for e in events if isinstance(e, LogLine) and e.level == "error"]
        assert errors == [f"{server.title} crashed: {crash.reason}"]
        record = next(r for r in caplog.records if r.name == "wirebench.servers")
        assert record.exc_info and record.exc_info[0] is KeyError  # the traceback, logged
        wait_for(lambda: refused(port))  # never "listening" while dead
    finally:
        server.stop()


def test_a_restart_after_a_crash_clears_the_reason() -> None:
    server = FailingLoopEcho("127.0.0.1", 0)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            wait_for(lambda: not server.running)
        drain(server.outbox)
        server.start()
        assert server.running and server.crash_reason == ""
        assert any(isinstance(e, ServerStarted) for e in drain(server.outbox))
    finally:
        server.stop()


@pytest.mark.parametrize("fatal", [True, False])
def test_guarded_connection_threads_log_without_stopping_the_server(fatal: bool) -> None:
    server = SelectEchoServer("127.0.0.1", 0)
    server.start()
    try:
        server.guarded(lambda: 1 / 0, fatal=fatal)()
        events = drain(server.outbox)
        crashes = [e for e in events if isinstance(e, ServerCrashed)]
        errors = [e.text for e in events if isinstance(e, LogLine) and e.level == "error"]
        if fatal:
            assert [c.reason for c in crashes] == ["ZeroDivisionError: division by zero"]
            wait_for(lambda: not server.running)
        else:
            assert not crashes and server.running
            assert errors == ["a connection failed: ZeroDivisionError: division by zero"]
    finally:
        server.stop()
