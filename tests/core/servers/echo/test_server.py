"""The echo factory, UNIX-domain echo in every mode, lab peers and ``wirebench serve echo``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UserError
from core.servers.base import ServerStartError
from core.servers.echo.server import (
    LAB_PORT,
    SERVE_KINDS,
    ForkEchoServer,
    SelectEchoServer,
    ThreadedEchoServer,
    UdpEchoServer,
    lab_peers,
    make_echo_server,
)
from core.servers.registry import serve_kinds
from tests.fixtures.server_peers import recv_all, round_trip

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(("mode", "style"), [("threaded", "simple"), ("select", "simple"),
                                             ("fork", "simple"), ("fork", "double")])
def test_unix_stream_echo_in_every_mode(started, tmp_path, mode: str, style: str) -> None:
    path = tmp_path / "e.sock"
    server = started(make_echo_server("unix", mode, path=str(path), fork_style=style))
    assert server.address == str(path)
    assert server.kind == f"echo-unix-{mode}"
    payload = os.urandom(200_000)
    assert round_trip(server, payload, half_close=True) == payload
    server.stop()
    assert not path.exists()


def test_unix_live_socket_refused_by_a_second_server(started, tmp_path) -> None:
    path = str(tmp_path / "e.sock")
    first = started(make_echo_server("unix", "select", path=path))
    with pytest.raises(ServerStartError, match="in use"):
        make_echo_server("unix", "threaded", path=path).start()
    assert round_trip(first, b"first still serves") == b"first still serves"


@pytest.mark.parametrize(("args", "field"), [
    ({"proto": "sctp"}, "Protocol"),
    ({"mode": "async"}, "Mode"),
    ({"proto": "unix", "path": ""}, "Path"),
    ({"proto": "unix", "path": "/tmp/" + "x" * 120}, "Path"),
    ({"mode": "fork", "fork_style": "triple"}, "Fork style"),
])
def test_bad_choices_name_the_field(args: dict, field: str) -> None:
    with pytest.raises(UserError) as info:
        make_echo_server(**args)
    assert info.value.field_name == field


def test_factory_builds_each_design() -> None:
    assert type(make_echo_server("tcp", "threaded")) is ThreadedEchoServer
    assert type(make_echo_server("tcp", "select")) is SelectEchoServer
    fork = make_echo_server("tcp", "fork", fork_style="double")
    assert type(fork) is ForkEchoServer and fork.fork_style == "double"
    assert type(make_echo_server("udp", "select")) is UdpEchoServer


def test_lab_peers_are_tcp_and_udp_on_port_7000() -> None:
    peers = lab_peers()
    assert [(p.kind, p.port) for p in peers] == [("echo-tcp", LAB_PORT), ("echo-udp", LAB_PORT)]
    assert all(p.port == 0 for p in lab_peers(ephemeral=True))


def test_lab_peers_serve(started) -> None:
    tcp, udp = (started(p) for p in lab_peers(ephemeral=True))
    assert round_trip(tcp, b"lab") == b"lab"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(b"lab-udp", ("127.0.0.1", udp.port))
        assert sock.recvfrom(100)[0] == b"lab-udp"


def test_registered_as_serve_kind() -> None:
    assert serve_kinds()["echo"] is SERVE_KINDS["echo"]


@pytest.mark.parametrize("argv", [
    ["--mode", "select"],
    ["--mode", "fork", "--fork-style", "double"],
    ["--proto", "udp"],
])
def test_wirebench_serve_echo_runs_until_sigterm(argv: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "serve", "echo", "--port", "0", *argv],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert " listening on 127.0.0.1:" in line, line + proc.stderr.read()
        port = int(line.split()[3].rsplit(":", 1)[1])
        if "udp" in argv:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(5)
                sock.sendto(b"cli", ("127.0.0.1", port))
                assert sock.recvfrom(10)[0] == b"cli"
        else:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"cli")
                assert recv_all(sock, 3) == b"cli"
        # serve.py installs its SIGTERM handler before it prints "listening"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert "stopped" in out
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_wirebench_serve_echo_unix_path(tmp_path) -> None:
    path = tmp_path / "cli.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "serve", "echo", "--proto", "unix",
         "--path", str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert f"echo-unix-threaded listening on {path}  (" in proc.stdout.readline()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(path))
            sock.sendall(b"unix cli")
            assert recv_all(sock, 8) == b"unix cli"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not path.exists()


def test_print_code_prints_the_seed_style_server_and_serves_nothing() -> None:
    import subprocess
    import sys
    from pathlib import Path

    from core.servers.echo.server import server_script

    root = Path(__file__).resolve().parents[4]
    result = subprocess.run(
        [sys.executable, "-m", "gui", "serve", "echo", "--mode", "select", "--port", "7123",
         "--print-code"], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "listening on" not in result.stderr
    expected = server_script("tcp", "select", "127.0.0.1", 7123)
    # the header carries the minute it was made; the code itself must be identical
    assert result.stdout.split('"""', 2)[2] == expected.split('"""', 2)[2]
    assert "selectors.DefaultSelector()" in result.stdout
    compile(result.stdout, "echo_select.py", "exec")
