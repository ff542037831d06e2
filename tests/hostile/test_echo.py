"""Idle clients against every echo server design (issue 14, item 13)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.hostile.served import (
    ServedProcess,
    hold_connections,
    served_among,
)

#: more idle clients than the default max clients (512) and than the soft open-files
#: limit the server is started with (256, below a distribution's usual 1024)
IDLE_CLIENTS = 600
MODES = {
    "threaded": ("--mode", "threaded"),
    # select holds 10,000 clients by default: its eviction is tested at the others' 512
    "select": ("--mode", "select", "--max-clients", "512"),
    "fork": ("--mode", "fork"),
    "fork-double": ("--mode", "fork", "--fork-style", "double"),
    "unix-threaded": ("--proto", "unix", "--mode", "threaded"),
}


def echo_time(served: ServedProcess, unix: bool) -> float:
    """Seconds for a normal client to connect and get its bytes back (inf if never)."""
    start = time.monotonic()
    family = socket.AF_UNIX if unix else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(served.host if unix else (served.host, served.port))
            sock.sendall(b"still served?")
            got = b""
            while len(got) < 13:
                chunk = sock.recv(64)
                if not chunk:
                    break
                got += chunk
    except OSError:
        return float("inf")
    return time.monotonic() - start if got == b"still served?" else float("inf")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_idle_clients_never_lock_out_a_new_one(mode: str, tmp_path) -> None:
    unix = mode.startswith("unix")
    extra = ("--path", str(tmp_path / "echo.sock")) if unix else ()
    with ServedProcess("echo", *MODES[mode], *extra, open_files=256) as served:
        def crowd() -> list[socket.socket]:
            idle = hold_connections(served.host, served.port, IDLE_CLIENTS,
                                    family=socket.AF_UNIX if unix else socket.AF_INET)
            assert len(idle) == IDLE_CLIENTS
            return idle

        served_among(served, crowd, lambda s: echo_time(s, unix), limit_log="max clients",
                     label=f"echo {mode} (soft fd limit 256)")
