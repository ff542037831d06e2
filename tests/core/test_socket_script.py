"""Rendered socket scripts run with the plain interpreter against real peers."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.codegen import render
from core.recording import Recording

NASTY = bytes([0x00, 0xFF, 0x0D, 0x0A, 0x5C, 0x27, 0x22]) + "é".encode()


@pytest.fixture
def tcp_echo() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            with client:
                while data := client.recv(65536):
                    client.sendall(data)

    thread = threading.Thread(target=serve)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


@pytest.fixture
def udp_echo() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            sock.sendto(data, addr)

    thread = threading.Thread(target=serve)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(5)
    sock.close()


def run_script(script: str, tmp_path: Path) -> bytes:
    path = tmp_path / "session.py"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def test_tcp_session_with_half_close_echoes_exact_bytes(tcp_echo: int, tmp_path: Path) -> None:
    rec = Recording("socket")
    rec.add("connect", family="tcp", host="127.0.0.1", port=tcp_echo)
    rec.add("option", level="IPPROTO_TCP", name="TCP_NODELAY", value=1)
    rec.add("send", data=b"hello\r\n")
    rec.add("send", data=NASTY * 10)
    rec.add("shutdown", how="SHUT_WR")
    rec.add("close")
    script = render(rec)
    assert "SHUT_WR sends FIN" in script  # the choice is explained
    assert run_script(script, tmp_path) == b"hello\r\n" + NASTY * 10


def test_udp_session_gets_each_datagram_back(udp_echo: int, tmp_path: Path) -> None:
    rec = Recording("socket")
    rec.add("connect", family="udp", host="127.0.0.1", port=udp_echo)
    rec.add("send", data=NASTY)
    rec.add("send", data=b"\x00" * 3)
    rec.add("close")
    assert run_script(render(rec), tmp_path) == NASTY + b"\x00" * 3


def test_every_byte_value_survives_the_literal(tcp_echo: int, tmp_path: Path) -> None:
    rec = Recording("socket")
    rec.add("connect", family="tcp", host="127.0.0.1", port=tcp_echo)
    rec.add("send", data=bytes(range(256)))
    rec.add("close")
    assert run_script(render(rec), tmp_path) == bytes(range(256))
