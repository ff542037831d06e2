"""SocketSession repeat and file sending against a real echo peer."""

from __future__ import annotations

import os
from pathlib import Path

from core.sockets import RepeatPlan, SocketConfig
from tests.fixtures.socket_peers import EchoPeer


def test_repeat_with_macros_and_send_file(session, tcp_echo: EchoPeer, tmp_path: Path) -> None:
    s, w = session
    s.connect(SocketConfig(host="127.0.0.1", port=tcp_echo.port))
    w.state("Established")
    s.start_repeat(RepeatPlan("n={{COUNTER}};", count=50, interval_ms=0))
    expected = b"".join(f"n={i};".encode() for i in range(1, 51))
    w.wait_bytes(expected)
    blob = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    s.send_file(path)
    w.until(lambda e: w.received().endswith(blob), timeout=20)
    assert bytes(tcp_echo.received) == expected + blob
