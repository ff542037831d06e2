"""The fork helper run on its own, as the controller runs it: its report protocol."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from core.servers.echo.fork import HELPER
from core.servers.echo.fork_helper import HELPER_REPORTS, peer_name
from tests.fixtures.server_peers import child_pids, recv_all, wait_for, zombies


def start_helper(*extra: str) -> tuple[subprocess.Popen[bytes], socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), "--fd", str(listener.fileno()), *extra],
        pass_fds=(listener.fileno(),), stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().split()[0] == b"READY"
    return proc, listener


def stop_helper(proc: subprocess.Popen[bytes]) -> list[str]:
    os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=5)
    return out.decode().splitlines()


def test_reports_open_bytes_close_and_reaps() -> None:
    proc, listener = start_helper("--style", "simple")
    try:
        with socket.create_connection(listener.getsockname(), timeout=5) as sock:
            sock.sendall(b"hello helper")
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == b"hello helper"
        wait_for(lambda: not child_pids(proc.pid))
        assert zombies(proc.pid) == []
    finally:
        lines = stop_helper(proc)
        listener.close()
    words = [line.split()[0] for line in lines]
    assert words[0] == "OPEN" and "CLOSE" in words
    assert set(words) <= set(HELPER_REPORTS)
    close = next(line for line in lines if line.startswith("CLOSE"))
    assert close.split()[2:4] == ["12", "12"] and close.endswith("peer closed")
    assert proc.returncode == 0


def test_when_full_the_idlest_child_is_evicted_with_a_log_report() -> None:
    proc, listener = start_helper("--max-clients", "1")
    try:
        first = socket.create_connection(listener.getsockname(), timeout=5)
        first.sendall(b"1")
        assert recv_all(first, 1) == b"1"
        second = socket.create_connection(listener.getsockname(), timeout=5)
        assert recv_all(first) == b""  # the idle one made room
        second.sendall(b"2")
        assert recv_all(second, 1) == b"2"
        second.close()
        first.close()
    finally:
        lines = stop_helper(proc)
        listener.close()
    assert any(line.startswith("LOG warning") and "max clients" in line for line in lines)
    assert any(line.startswith("CLOSE") and "evicted" in line for line in lines)


def test_peer_names() -> None:
    assert peer_name(("127.0.0.1", 5), 1) == "127.0.0.1:5"
    assert peer_name(("::1", 5, 0, 0), 1) == "[::1]:5"
    assert peer_name("", 7) == "unix-client#7"
