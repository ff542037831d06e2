"""Socket sessions recorded, rendered, and replayed with the plain interpreter against the
same echo peer: the script gets back exactly the bytes the session got back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from core.codegen import render
from core.events import DataReceived
from core.sockets import SocketConfig, SocketSession
from tests.core.sockets.test_session import Watch
from tests.fixtures.socket_peers import EchoPeer
from tests.fixtures.waiting import wait_for

NASTY = bytes([0x00, 0xFF, 0x0D, 0x0A, 0x5C, 0x27, 0x22]) + "é".encode()


def run_script(script: str, tmp_path: Path) -> bytes:
    path = tmp_path / "session.py"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def session_echo(config: SocketConfig, payloads: list[bytes],
                 half_close: bool = False) -> tuple[SocketSession, bytes]:
    session = SocketSession()
    watch = Watch(session)
    try:
        if config.transport == "udp":
            session.open_datagram(config)
            watch.state("Bound")
        else:
            session.connect(config)
            watch.state("Established")
        if config.transport == "tcp":
            session.set_option("SO_KEEPALIVE", 1)
        expected = b""
        for payload in payloads:
            session.send(payload)
            expected += payload
            watch.wait_bytes(expected)
        if half_close:
            session.shutdown("write")
    finally:
        session.close()
    return session, b"".join(e.data for e in watch.of(DataReceived))


def test_tcp_session_replays_to_the_same_echo(tcp_echo: EchoPeer, tmp_path: Path) -> None:
    config = SocketConfig(host="127.0.0.1", port=tcp_echo.port)
    session, echoed = session_echo(config, [b"hello\r\n", NASTY * 10, bytes(range(256))],
                                   half_close=True)
    ops = [step.op for step in session.recording]
    assert ops == ["connect", "option", "send", "send", "send", "shutdown", "close"]
    script = render(session.recording)
    assert "SHUT_WR sends FIN" in script  # the choice is explained
    assert run_script(script, tmp_path) == echoed == b"hello\r\n" + NASTY * 10 + bytes(
        range(256))


def test_udp_session_replays_each_datagram(udp_echo: EchoPeer, tmp_path: Path) -> None:
    config = SocketConfig(transport="udp", host="127.0.0.1", port=udp_echo.port)
    session, echoed = session_echo(config, [NASTY, b"\x00" * 3])
    assert [step.op for step in session.recording] == ["connect", "send", "send", "close"]
    assert run_script(render(session.recording), tmp_path) == echoed == NASTY + b"\x00" * 3


def test_send_file_and_repeat_replay_to_the_same_echo(tcp_echo: EchoPeer, tmp_path: Path
                                                      ) -> None:
    from core.sockets.automation import RepeatPlan

    data = tmp_path / "payload.bin"
    data.write_bytes(NASTY * 50)
    session = SocketSession()
    watch = Watch(session)
    try:
        session.connect(SocketConfig(host="127.0.0.1", port=tcp_echo.port))
        watch.state("Established")
        session.send_file(data)
        watch.wait_bytes(NASTY * 50)
        session.start_repeat(RepeatPlan(template="tick\\n", fmt="text", count=3,
                                        interval_ms=0))
        watch.wait_bytes(NASTY * 50 + b"tick\n" * 3)
    finally:
        session.close()
    echoed = b"".join(e.data for e in watch.of(DataReceived))
    assert [s.op for s in session.recording] == ["connect", "send_file", "repeat", "close"]
    assert run_script(render(session.recording), tmp_path) == echoed


def test_tcp_session_replays_against_socat(socat_tee, tmp_path: Path) -> None:
    """A third-party peer that echoes and keeps what each connection sent."""
    port, seen = socat_tee
    session, echoed = session_echo(SocketConfig(host="127.0.0.1", port=port),
                                   [b"hello\r\n", NASTY * 10], half_close=True)
    assert run_script(render(session.recording), tmp_path) == echoed
    def files() -> list[bytes]:  # the readiness probe's file is empty
        return [p.read_bytes() for p in seen.iterdir() if p.stat().st_size]

    wait_for(lambda: len(files()) == 2, 10, f"socat kept {files()}")
    assert files() == [b"hello\r\n" + NASTY * 10] * 2
