"""Hostile FTP servers against the FTP client (issue 14, items 15, 17 and 19).

The server below speaks just enough FTP for a login and LIST; what it lists and how fast
it talks is the test's choice. Each test asserts the bound (timeout + 1 s, Cancel and
close within 1 s, memory within 64 MB in a process of its own) and that the lab server
is served normally afterwards.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.ftp.client import FtpConnection
from core.ftp.options import FtpOptions
from core.ftp.session import friendly_error
from core.ftp.transfers import CANCELLED, DONE, FINISHED, TransferQueue
from core.ftp.wire import FtpTimeout
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER
from tests.fixtures.waiting import wait_for
from tests.hostile.client_harness import GRACE, HostileServer, read_line, run_client
from tests.hostile.served import RSS_BOUND_MB

#: the issue's tree: three sub-folders in every folder down to 30 deep (inside the
#: client's 32-folder depth cap), three files at the bottom: 3**30 folders in all
THREE_FOLDERS = b"".join(b"drwxr-xr-x 2 u g 0 Jan 01 00:00 d%d\r\n" % i for i in range(3))
THREE_FILES = b"".join(b"-rw-r--r-- 1 u g 9 Jan 01 00:00 f%d\r\n" % i for i in range(3))
DEPTH = 30


@dataclass
class Behaviour:
    listing: Callable[[socket.socket, HostileServer, bytes], None]
    drip_banner: bool = False
    lists: int = 0


def ftp_server(behaviour: Behaviour) -> Callable[[socket.socket, HostileServer], None]:
    def handle(conn: socket.socket, server: HostileServer) -> None:
        if behaviour.drip_banner:
            for byte in b"220-hostile" + b"." * 10_000:
                if not server.pause(1.5):
                    return
                conn.sendall(bytes([byte]))
        conn.sendall(b"220 hostile\r\n")
        passive: socket.socket | None = None
        try:
            while line := read_line(conn):
                verb = line.split(b" ")[0].strip().upper()
                if verb == b"PASV":
                    passive = socket.create_server(("127.0.0.1", 0))
                    port = passive.getsockname()[1]
                    conn.sendall(b"227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n"
                                 % (port >> 8, port & 255))
                elif verb in (b"LIST", b"MLSD") and passive is not None:
                    conn.sendall(b"150 here it comes\r\n")
                    passive.settimeout(5)
                    data, _ = passive.accept()
                    passive.close()
                    passive = None
                    behaviour.lists += 1
                    with data:
                        try:
                            behaviour.listing(data, server, line[5:].strip())
                        except OSError:
                            pass  # the client cut the listing: answer its ABOR
                    conn.sendall(b"226 done\r\n")
                else:
                    conn.sendall({b"USER": b"331 go on\r\n", b"PASS": b"230 in\r\n",
                                  b"PWD": b'257 "/"\r\n', b"QUIT": b"221 bye\r\n"}
                                 .get(verb, b"200 ok\r\n"))
                    if verb == b"QUIT":
                        return
        finally:
            if passive is not None:
                passive.close()
    return handle


def three_folders(data: socket.socket, server: HostileServer, path: bytes) -> None:
    data.sendall(THREE_FOLDERS if path.count(b"/d") < DEPTH else THREE_FILES)


def dripping_listing(data: socket.socket, server: HostileServer, path: bytes) -> None:
    for byte in b"-rw-r--r-- 1 u g 1 Jan 01 00:00 f" * 1000:
        if not server.pause(1.5):
            return
        data.sendall(bytes([byte]))


def options(port: int, **kw: object) -> FtpOptions:
    return FtpOptions("127.0.0.1", port, user="u", password="p", **kw)


@pytest.fixture
def nesting_server() -> Iterator[tuple[HostileServer, Behaviour]]:
    behaviour = Behaviour(three_folders)
    with HostileServer(ftp_server(behaviour)) as server:
        yield server, behaviour


def lab_lists_normally(port: int) -> None:
    conn = FtpConnection(FtpOptions("127.0.0.1", port, user=LAB_USER, password=LAB_PASSWORD,
                                    timeout=5))
    conn.connect()
    assert any(entry.name == "large.bin" for entry in conn.listing())
    conn.quit()


def test_cancel_stops_a_folder_download_that_nests_without_end(nesting_server, ftp_lab,
                                                               tmp_path: Path) -> None:
    server, behaviour = nesting_server
    queue = TransferQueue(options(server.port, timeout=5))
    item = queue.add_download("/top", tmp_path, folder=True)
    wait_for(lambda: behaviour.lists >= 40)  # past the bottom, on its way across
    asked = time.monotonic()
    queue.cancel(item)
    wait_for(lambda: queue.items[item].state in FINISHED)
    took = time.monotonic() - asked
    lists_then = behaviour.lists
    assert queue.items[item].state == CANCELLED
    print(f"FIGURE ftp deep tree: Cancel took {took * 1000:.0f} ms after {lists_then} LISTs")
    assert took <= GRACE, f"Cancel took {took:.1f} s"
    queue.close()
    assert behaviour.lists <= lists_then + 1  # no LIST after the cancel (one in flight)
    lab_lists_normally(ftp_lab.port)


def test_close_stops_a_folder_download_that_nests_without_end(nesting_server,
                                                              tmp_path: Path) -> None:
    server, behaviour = nesting_server
    queue = TransferQueue(options(server.port, timeout=5))
    queue.add_download("/top", tmp_path, folder=True)
    wait_for(lambda: behaviour.lists >= 40)  # past the bottom, on its way across
    thread = queue._thread
    asked = time.monotonic()
    queue.close()
    took = time.monotonic() - asked
    assert thread is not None and not thread.is_alive()
    print(f"FIGURE ftp deep tree: close() took {took * 1000:.0f} ms")
    assert took <= GRACE, f"close() took {took:.1f} s"


def test_a_folder_download_stops_at_the_folder_entry_limit(nesting_server,
                                                           tmp_path: Path) -> None:
    server, behaviour = nesting_server
    queue = TransferQueue(options(server.port, timeout=5, max_folder_entries=30))
    item = queue.add_download("/top", tmp_path, folder=True)
    wait_for(lambda: queue.items[item].state in FINISHED)
    queue.close()
    assert queue.items[item].state == DONE
    assert "Folder entry limit; raise it" in queue.items[item].error
    assert behaviour.lists <= 31  # 30 entries: each a folder, listed in turn


def test_a_dripping_reply_cannot_hold_the_login_past_the_timeout(ftp_lab) -> None:
    with HostileServer(ftp_server(Behaviour(three_folders, drip_banner=True))) as server:
        started = time.monotonic()
        with pytest.raises(FtpTimeout):
            FtpConnection(options(server.port, timeout=2)).connect()
        took = time.monotonic() - started
    print(f"FIGURE ftp dripping reply: connect() ended after {took:.2f} s (timeout 2 s)")
    assert took <= 2 + GRACE, f"connect() ran {took:.1f} s with a 2 s timeout"
    lab_lists_normally(ftp_lab.port)


def test_a_dripping_listing_cannot_hold_the_client_past_the_timeout(ftp_lab) -> None:
    with HostileServer(ftp_server(Behaviour(dripping_listing))) as server:
        conn = FtpConnection(options(server.port, timeout=2))
        conn.connect()
        started = time.monotonic()
        with pytest.raises(FtpTimeout) as info:
            conn.listing()
        took = time.monotonic() - started
        conn.close()
    # the tab shows which transfer stalled and which setting bounds it
    assert "(Timeout)" in friendly_error(info.value, "listing the folder")
    print(f"FIGURE ftp dripping listing: listing() ended after {took:.2f} s (timeout 2 s)")
    assert took <= 2 + GRACE, f"listing() ran {took:.1f} s with a 2 s timeout"
    lab_lists_normally(ftp_lab.port)


def huge_listing(data: socket.socket, server: HostileServer, path: bytes) -> None:
    """180 MB of 150-byte LIST lines, as fast as the client takes them."""
    block = b"".join(b"-rw-r--r--   1 owner group   123456 Jan 01 00:00 %s_%06d.txt\r\n"
                     % (b"long-name" * 10, i) for i in range(10_000))
    for _ in range(180 * 1024 * 1024 // len(block)):
        if server.stopping.is_set():
            return
        data.sendall(block)


def test_a_180_mb_listing_is_cut_by_bytes_within_the_memory_bound(ftp_lab) -> None:
    with HostileServer(ftp_server(Behaviour(huge_listing))) as server:
        result = run_client(f"""
            from core.ftp.client import FtpConnection
            from core.ftp.options import FtpOptions
            log = []
            conn = FtpConnection(FtpOptions("127.0.0.1", {server.port}, user="u",
                                            password="p", timeout=10),
                                 lambda d, t: log.append(t))
            conn.connect()
            entries = conn.listing()
            result["entries"] = len(entries)
            del entries
            result["cut"] = [line for line in log if "cut" in line]
            conn.quit()
        """)
    print(f"FIGURE ftp 180 MB listing: RSS +{result['rss_growth_mb']:.1f} MB, "
          f"{result['entries']:,} entries kept")
    assert any("Listing limit; raise it" in line for line in result["cut"]), result
    assert result["rss_growth_mb"] <= RSS_BOUND_MB, result
    lab_lists_normally(ftp_lab.port)
