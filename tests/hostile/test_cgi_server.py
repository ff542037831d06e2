"""Hostile clients and scripts against the CGI server (issue 14, items 10 to 12)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from tests.fixtures.waiting import wait_for
from tests.hostile.served import (
    RSS_BOUND_MB,
    SERVE_BOUND,
    ServedProcess,
    hold_connections,
    recv_until,
    served_among,
)


def get_time(served: ServedProcess, path: str = "/") -> float:
    """Seconds for a normal GET to be answered 200 (inf otherwise)."""
    start = time.monotonic()
    try:
        with socket.create_connection((served.host, served.port), timeout=5) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n"
                         .encode())
            answer = recv_until(sock, b"\r\n\r\n", 5)
    except OSError:
        return float("inf")
    return time.monotonic() - start if answer.startswith(b"HTTP/1.1 200") else float("inf")


def test_tiny_chunks_cost_about_their_bytes(tmp_path: Path) -> None:
    with ServedProcess("cgi") as served:
        peak_before = served.peak_mb()
        data_bytes = 3 * 1024 * 1024
        chunks = b"2\r\nab\r\n" * (data_bytes // 2) + b"0\r\n\r\n"
        with socket.create_connection((served.host, served.port), timeout=30) as sock:
            sock.sendall(b"POST /cgi-bin/comment.py HTTP/1.1\r\nHost: lab\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            sender = threading.Thread(target=sock.sendall, args=(chunks,), daemon=True)
            sender.start()
            answer = recv_until(sock, b"\r\n\r\n", 30)
            sender.join(30)
        assert answer.startswith(b"HTTP/1.1 "), answer[:100]
        # 3 MB of data in 2-byte chunks: 20 MB in memory before (6.6x), ~2x with a buffer
        grown = served.peak_mb() - peak_before
        print(f"FIGURE cgi chunked: peak +{grown:.1f} MB for {data_bytes >> 20} MB of data")
        assert grown < 3 * data_bytes / 2**20, f"peak grew {grown:.1f} MB"
        assert grown < RSS_BOUND_MB
        assert get_time(served) < SERVE_BOUND


ESCAPING_SCRIPT = """#!/bin/sh
setsid sleep {marker} </dev/null >/dev/null 2>&1 &
printf 'Content-Type: text/plain\\r\\n\\r\\nstarted\\n'
{tail}
"""


def sleepers(marker: str) -> list[int]:
    """Pids of live ``sleep <marker>`` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cmdline[:2] == [b"sleep", marker.encode()] and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_setsid_grandchild_ends_with_its_request(tmp_path: Path) -> None:
    cgi = tmp_path / "cgi-bin"
    cgi.mkdir()
    quick, slow = "987.25", "987.5"
    for name, marker, tail in (("quick.sh", quick, ""), ("slow.sh", slow, "sleep 30")):
        script = cgi / name
        script.write_text(ESCAPING_SCRIPT.format(marker=marker, tail=tail))
        script.chmod(0o755)
    try:
        with ServedProcess("cgi", "--root", str(tmp_path), "--cgi-dir", str(cgi),
                           "--script-timeout", "1") as served:
            with socket.create_connection((served.host, served.port), timeout=10) as sock:
                sock.sendall(b"GET /cgi-bin/quick.sh HTTP/1.1\r\nHost: lab\r\n"
                             b"Connection: close\r\n\r\n")
                assert b"started" in recv_until(sock, b"started", 10)
            wait_for(lambda: not sleepers(quick), 5, "the quick script's escapee to die")
            with socket.create_connection((served.host, served.port), timeout=10) as sock:
                sock.sendall(b"GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: lab\r\n"
                             b"Connection: close\r\n\r\n")
                recv_until(sock, b"\r\n\r\n", 10)
            wait_for(lambda: not sleepers(slow), 5, "the timed-out script's escapee to die")
            served.wait_log("escaped")
    finally:
        for pid in sleepers(quick) + sleepers(slow):
            os.kill(pid, 9)


def test_slow_clients_never_lock_out_a_new_one() -> None:
    with ServedProcess("cgi") as served:
        # more than the 512 connections, each with a request head that never ends
        served_among(served, lambda: hold_connections(
            served.host, served.port, 600, first=b"GET / HTTP/1.1\r\nHost: lab\r\n"),
            get_time, tries=20, limit_log="max connections", label="cgi slow heads")
