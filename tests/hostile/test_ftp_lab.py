"""Idle clients against the lab FTP server (issue 14, item 14)."""

from __future__ import annotations

import ftplib
import time

from tests.hostile.served import (
    ServedProcess,
    hold_connections,
    served_among,
)


def login_time(served: ServedProcess) -> float:
    """Seconds for a normal client to log in and list the root (inf if refused)."""
    start = time.monotonic()
    try:
        with ftplib.FTP() as ftp:
            ftp.connect(served.host, served.port, timeout=5)
            ftp.login()
            names = ftp.nlst()
    except (OSError, ftplib.Error):
        return float("inf")
    return time.monotonic() - start if "readme.txt" in names else float("inf")


def test_idle_clients_never_lock_out_a_new_one() -> None:
    # more idle clients than pyftpdlib's 512 (the lab's limit was 64: 421 for 300 s)
    with ServedProcess("ftp", "--tls", "none", "--large-size", "1024") as served:
        served_among(served, lambda: hold_connections(served.host, served.port, 600),
                     login_time, limit_log="max connections", label="ftp idle")
