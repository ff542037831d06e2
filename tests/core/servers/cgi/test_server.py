"""The CGI server as a whole through real HTTP clients on 127.0.0.1: the sample site, many
clients, slow clients, stop(), the registry hooks, ``wirebench serve cgi``, the browser."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.servers.cgi.server import SERVE_KINDS, CgiLimits, CgiServer, lab_peers, open_in_browser
from tests.core.servers.cgi.cgi_site import (  # noqa: F401 - fixtures
    Site,
    body_of,
    fetch,
    get,
    pretend_frozen,
    server_fixture,
    site_fixture,
    status_of,
)
from tests.fixtures.waiting import wait_for


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[CgiServer]:
    """The shipped sample site, exactly as the Servers tab constructs it."""
    srv = CgiServer(host="127.0.0.1", port=0, root=None, cgi_dir=None, outbox=None)
    srv.data_dir = tmp_path
    srv.start()
    yield srv
    srv.stop()


def test_sample_hello_scripts(sample: CgiServer) -> None:
    status, body, headers = fetch(sample, "/cgi-bin/hello.py")
    assert (status, body) == (200, b"Hello World!\n")
    assert headers["Content-Type"] == "text/html"
    status, body, _ = fetch(sample, "/cgi-bin/hello_centered.py")
    assert status == 200
    assert b"<title>CGI Test Page</title>" in body and b"center" in body
    status, body, headers = fetch(sample, "/cgi-bin/hello.sh")
    assert status == 200 and body.startswith(b"Hello World from Wirebench/")


def test_sample_index_links_all_work(sample: CgiServer) -> None:
    status, body, _ = fetch(sample, "/")
    assert status == 200
    links = re.findall(rb'href="([^"]+)"', body)
    assert {b"/comment.html", b"/personal.html", b"/cgi-bin/hello.py",
            b"/cgi-bin/hello_centered.py", b"/cgi-bin/hello.sh"} <= set(links)
    for link in links:
        status, page, _ = fetch(sample, link.decode().replace("&amp;", "&"))
        assert status == 200, link


def test_comment_form(sample: CgiServer) -> None:
    status, form, _ = fetch(sample, "/comment.html")
    assert b'action="/cgi-bin/comment.py"' in form and b'name="yourname"' in form
    status, body, _ = fetch(sample, "/cgi-bin/comment.py",
                            b"yourname=Ann+Lee&comment=%3Cscript%3Ehi")
    assert status == 200
    assert b"Your name: Ann Lee" in body and b"&lt;script&gt;hi" in body
    status, body, _ = fetch(sample, "/cgi-bin/comment.py", b"yourname=Ann")
    assert b"Error: fields have not been filled." in body
    status, body, _ = fetch(sample, "/cgi-bin/comment.py?yourname=Bo&comment=via+GET")
    assert b"Your comment: via GET" in body


def test_personal_form_appends_to_data_dir(sample: CgiServer, tmp_path: Path) -> None:
    for name in ("Ann", "Bob"):
        status, body, _ = fetch(sample, "/cgi-bin/personal.py",
                                f"name={name}&address=1+Main+St%0D%0AForged: x&tel=555".encode())
        assert status == 200 and b"Form submitted...ok." in body
    text = (tmp_path / "personal-data.txt").read_text()
    assert text == ("Name: Ann\nAddress: 1 Main St Forged: x\nPhone: 555\n\n"
                    "Name: Bob\nAddress: 1 Main St Forged: x\nPhone: 555\n\n")
    status, body, _ = fetch(sample, "/cgi-bin/personal.py", b"name=Ann")
    assert b"please fill in Address, Phone" in body
    assert (tmp_path / "personal-data.txt").read_text() == text


def test_slowloris_does_not_block_new_clients(server: CgiServer) -> None:
    slow = []
    for _ in range(30):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(sock)
    try:
        status, body, _ = fetch(server, "/page.txt")
        assert (status, body) == (200, b"plain page\n")
        # each slow client is answered 408 and closed once its head deadline passes
        for sock in slow:
            data = sock.recv(4096)
            assert status_of(data) == 408
    finally:
        for sock in slow:
            sock.close()


def test_a_crowd_of_slow_clients_is_cut_short(site: Site) -> None:
    limits = CgiLimits(head_timeout=60, max_connections=20, crowded_timeout=1.0)
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=limits) as srv:
        slow = []
        try:
            for _ in range(16):  # 3/4 of the slots
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                slow.append(sock)
            # far sooner than head_timeout, every slow client is answered 408 and closed
            for sock in slow:
                assert status_of(sock.recv(4096)) == 408
            status, body, _ = fetch(srv, "/page.txt")
            assert (status, body) == (200, b"plain page\n")
        finally:
            for sock in slow:
                sock.close()


def test_many_simultaneous_connections(server: CgiServer) -> None:
    socks = []
    try:
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"GET /page.txt HTTP/1.0\r\n\r\n")
            socks.append(sock)
        for sock in socks:
            assert sock.recv(4096).startswith(b"HTTP/1.0 200 OK")
    finally:
        for sock in socks:
            sock.close()


def test_no_file_descriptors_or_processes_leak(site: Site) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def children() -> set[str]:  # every live child process, zombies included
        tasks = Path("/proc/self/task")
        return {pid for task in tasks.iterdir()
                for pid in (task / "children").read_text().split()}

    before, before_children = open_fds(), children()
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir) as srv:
        for target in ("/cgi-bin/ok.sh", "/cgi-bin/raises.py", "/cgi-bin/no_blank.py",
                       "/cgi-bin/not_exec.sh", "/cgi-bin/local.py", "/page.txt", "/nope",
                       "/cgi-bin/status.py") * 3:
            assert status_of(get(srv.port, target)) in (200, 404, 500)
    assert open_fds() == before
    assert children() <= before_children


def test_stop_is_quick_and_leaves_no_threads(site: Site, tmp_path: Path) -> None:
    started = tmp_path / "started"
    (site.cgi_dir / "forever.py").write_text(
        f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(60)\n")
    srv = CgiServer(root=site.root, cgi_dir=site.cgi_dir,
                    limits=CgiLimits(head_timeout=30, script_timeout=30))
    srv.start()
    idle = socket.create_connection(("127.0.0.1", srv.port))
    idle.sendall(b"GET / HTTP/1.1\r\n")
    busy = socket.create_connection(("127.0.0.1", srv.port))
    busy.sendall(b"GET /cgi-bin/forever.py HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_for(started.exists, 10, "the script never started")
    assert srv.connections == 2
    srv.stop(timeout=1.0)
    assert not srv.running
    assert [t.name for t in threading.enumerate() if t.name.startswith("cgi:")] == []
    idle.close()
    busy.close()


def test_python_scripts_run_as_in_the_frozen_build(sample: CgiServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen build has no python: it runs scripts as ``wirebench --run-python SCRIPT``."""
    pretend_frozen(tmp_path, monkeypatch)
    status, body, _ = fetch(sample, "/cgi-bin/comment.py", b"yourname=Frozen&comment=ok")
    assert status == 200 and b"Your name: Frozen" in body


def test_lab_peers_and_serve_kind() -> None:
    peers = lab_peers(ephemeral=True)
    assert len(peers) == 1 and isinstance(peers[0], CgiServer) and peers[0].port == 0
    assert lab_peers()[0].port == 8000
    assert "cgi" in SERVE_KINDS


def test_wirebench_serve_cgi(site: Site) -> None:
    repo = Path(__file__).resolve().parents[4]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "serve", "cgi", "--root", str(site.root),
         "--cgi-dir", str(site.cgi_dir), "--port", "0"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"cgi listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line + proc.stderr.read()
        response = get(int(match.group(1)), "/cgi-bin/ok.sh")
        assert body_of(response) == b"shell ok\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_serve_cgi_rejects_a_missing_root(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[4]
    result = subprocess.run(
        [sys.executable, "-m", "gui.cli", "serve", "cgi", "--root", str(tmp_path / "nope")],
        cwd=repo, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--root" in result.stderr and "not a folder" in result.stderr


def test_port_in_use_and_restart(site: Site) -> None:
    from core.servers.base import ServerStartError

    first = CgiServer(root=site.root, cgi_dir=site.cgi_dir)
    first.start()
    try:
        with pytest.raises(ServerStartError, match="is in use") as info:
            CgiServer(root=site.root, cgi_dir=site.cgi_dir, port=first.port).start()
        assert info.value.field_name == "Port"
        first.stop()
        first.start()  # the same controller serves again after a stop
        assert fetch(first, "/page.txt")[1] == b"plain page\n"
    finally:
        first.stop()


def test_start_rejects_a_missing_root(tmp_path: Path) -> None:
    from core.servers.base import ServerStartError

    with pytest.raises(ServerStartError, match="not a folder"):
        CgiServer(root=tmp_path / "missing").start()


def test_open_in_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "seen"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{browser} %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    assert open_in_browser("http://127.0.0.1:8000/") is True
    wait_for(seen.exists, 10, "the browser was not started")
    assert seen.read_text().strip() == "http://127.0.0.1:8000/"


def test_serve_cgi_root_runs_its_own_cgi_bin(tmp_path: Path) -> None:
    # as CGIHTTPServer does: DIR/cgi-bin, not the bundled "Hello World!" sample
    (tmp_path / "cgi-bin").mkdir()
    script = tmp_path / "cgi-bin" / "hello.py"
    script.write_text("#!/usr/bin/env python3\nprint('Content-Type: text/plain')\nprint()\n"
                      "print('hello from my own cgi-bin')\n")
    script.chmod(0o755)
    (tmp_path / "index.html").write_text("my index\n")
    repo = Path(__file__).resolve().parents[4]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "serve", "cgi", "--root", str(tmp_path),
         "--port", "0"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"cgi listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line + proc.stderr.read()
        port = int(match.group(1))
        assert body_of(get(port, "/cgi-bin/hello.py")) == b"hello from my own cgi-bin\n"
        assert body_of(get(port, "/")) == b"my index\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_a_root_without_cgi_bin_has_no_scripts(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("static only\n")
    srv = CgiServer(root=tmp_path)
    srv.start()
    try:
        assert fetch(srv, "/page.txt")[:2] == (200, b"static only\n")
        assert fetch(srv, "/cgi-bin/hello.py")[0] == 404  # never the bundled sample
        assert "scripts none" in srv.describe()
    finally:
        srv.stop()
