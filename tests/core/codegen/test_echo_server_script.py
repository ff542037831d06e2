"""The document's echo servers as printed scripts: they run and echo."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.codegen import render
from core.recording import Recording


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode,style", [("threaded", ""), ("select", ""), ("fork", "simple"),
                                        ("fork", "double")])
def test_tcp_script_echoes(mode: str, style: str, tmp_path: Path) -> None:
    port = _free_port()
    rec = Recording("echo-server")
    rec.add("server", proto="tcp", mode=mode, fork_style=style or "simple",
            host="127.0.0.1", port=port)
    path = tmp_path / "echo.py"
    path.write_text(render(rec))
    proc = subprocess.Popen([sys.executable, "-I", str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert "listening on" in proc.stdout.readline()
        payload = bytes(range(256)) * 100
        for _ in range(3):  # several clients one after another
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)
                got = b""
                while chunk := client.recv(65536):
                    got += chunk
            assert got == payload
    finally:
        proc.terminate()
        proc.wait(10)


def test_udp_and_unix_scripts_echo(tmp_path: Path) -> None:
    port = _free_port()
    rec = Recording("echo-server")
    rec.add("server", proto="udp", host="127.0.0.1", port=port)
    (tmp_path / "udp.py").write_text(render(rec))
    sock_path = str(tmp_path / "echo.sock")
    rec2 = Recording("echo-server")
    rec2.add("server", proto="unix", path=sock_path)
    (tmp_path / "unix.py").write_text(render(rec2))
    procs = [subprocess.Popen([sys.executable, "-I", str(tmp_path / name)],
                              stdout=subprocess.PIPE, text=True)
             for name in ("udp.py", "unix.py")]
    try:
        for proc in procs:
            assert "listening on" in proc.stdout.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(5)
            udp.sendto(b"\x00\xff\r\n", ("127.0.0.1", port))
            assert udp.recvfrom(100)[0] == b"\x00\xff\r\n"
        with socket.socket(socket.AF_UNIX) as unix:
            unix.settimeout(5)
            unix.connect(sock_path)
            unix.sendall(b"over unix")
            assert unix.recv(100) == b"over unix"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    assert os.path.exists(sock_path)
