"""The CGI server through real HTTP clients on 127.0.0.1: sample site, security, limits."""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError

import pytest

from core.events import LogLine
from core.servers.cgi import SERVE_KINDS, CgiLimits, CgiServer, lab_peers, open_in_browser
from core.servers.cgi_request import RequestLimits
from core.worker import drain
from tests.core.cgi_site import (
    SECRET,
    Site,
    body_of,
    build_site,
    get,
    raw_request,
    status_of,
)

LIMITS = CgiLimits(request=RequestLimits(max_body=6 * 1024 * 1024), head_timeout=1.0,
                   body_timeout=0.5, script_timeout=1.5)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def server(site: Site) -> Iterator[CgiServer]:
    srv = CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=LIMITS, data_dir=site.data)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[CgiServer]:
    """The shipped sample site, exactly as the Servers tab constructs it."""
    srv = CgiServer(host="127.0.0.1", port=0, root=None, cgi_dir=None, outbox=None)
    srv.data_dir = tmp_path
    srv.start()
    yield srv
    srv.stop()


def fetch(srv: CgiServer, path: str, data: bytes | None = None) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(srv.url(path), data=data, timeout=20) as response:
            return response.status, response.read(), dict(response.headers)
    except HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def logs(srv: CgiServer) -> list[LogLine]:
    return [e for e in drain(srv.outbox) if isinstance(e, LogLine)]


def env_of(srv: CgiServer, path: str = "/cgi-bin/env.py", extra: str = "") -> dict:
    response = get(srv.port, path, extra)
    assert status_of(response) == 200, response[:400]
    return json.loads(body_of(response))


# -- the sample site ---------------------------------------------------------------------
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


# -- meta-variables ------------------------------------------------------------------------
def test_meta_variables(server: CgiServer, site: Site) -> None:
    env = env_of(server, "/cgi-bin/env.py/extra/p%20ath?a=%20b&c",
                 "Proxy: http://evil:1/\r\nAuthorization: Basic eA==\r\n"
                 "X-Custom: one\r\nX-Custom: two\r\nContent_Length: 99\r\n"
                 "Cookie: a=1\r\nCookie: b=2\r\n")
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.py"
    assert env["PATH_INFO"] == "/extra/p ath"
    assert env["PATH_TRANSLATED"] == str(site.root.resolve() / "extra" / "p ath")
    assert env["QUERY_STRING"] == "a=%20b&c"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_PORT"] == str(server.port)
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_SOFTWARE"].startswith("Wirebench/")
    assert env["REMOTE_ADDR"] == "127.0.0.1" and int(env["REMOTE_PORT"]) > 0
    assert env["HTTP_X_CUSTOM"] == "one, two"
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["WIREBENCH_DATA_DIR"] == str(site.data)
    for absent in ("HTTP_PROXY", "HTTP_AUTHORIZATION", "CONTENT_LENGTH", "CONTENT_TYPE",
                   "HTTP_CONTENT_LENGTH"):
        assert absent not in env
    # the server's own environment is untouched
    assert "REQUEST_METHOD" not in os.environ and "GATEWAY_INTERFACE" not in os.environ


def test_body_variables_and_stdin(server: CgiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/cgi-bin/env.py", body=b"x=1",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    env = json.loads(conn.getresponse().read())
    conn.close()
    assert env["CONTENT_LENGTH"] == "3"
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["REQUEST_METHOD"] == "POST"


def test_large_body_in_and_stderr_do_not_deadlock(server: CgiServer) -> None:
    body = os.urandom(4 * 1024 * 1024)
    status, echoed, _ = fetch(server, "/cgi-bin/echo_body.py", body)
    assert status == 200 and echoed == body


# -- path safety -------------------------------------------------------------------------
TRAVERSALS = [
    "/cgi-bin/../../outside/secret.py",
    "/cgi-bin/%2e%2e/%2e%2e/outside/secret.py",
    "/cgi-bin/%2E%2E/outside/secret.py",
    "/cgi-bin/..%2f..%2foutside%2fsecret.py",
    "/cgi-bin/%252e%252e/%252e%252e/outside/secret.py",
    "/cgi-bin/..%5c..%5coutside%5csecret.py",
    "/cgi-bin/..\\..\\outside\\secret.py",
    "cgi-bin/../outside/secret.py",
    "cgi-bin/env.py",
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/sub/../../outside/secret.txt",
    "/cgi-bin/linked.py",
    "/linked.txt",
    "/source.py",
    "/scripts/env.py",
    "/.hidden",
    "/cgi-bin/",
    "/cgi-bin/env.py%00.txt",
    "//outside/secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_runs_or_discloses(server: CgiServer, site: Site, target: str) -> None:
    response = get(server.port, target)
    assert status_of(response) in (400, 403, 404), response[:300]
    assert SECRET.encode() not in response
    assert not site.marker.exists()


def test_refusals_are_logged(server: CgiServer) -> None:
    get(server.port, "/cgi-bin/linked.py")
    lines = [e for e in logs(server) if "refused" in e.text]
    assert lines and "outside cgi-bin" in lines[0].text and lines[0].level == "warning"


# -- script output -------------------------------------------------------------------------
def test_status_header_honoured(server: CgiServer) -> None:
    response = get(server.port, "/cgi-bin/status.py")
    assert response.startswith(b"HTTP/1.1 404 Gone Fishing\r\n")
    assert body_of(response) == b"not here\n"


def test_absolute_location_is_302(server: CgiServer) -> None:
    response = get(server.port, "/cgi-bin/absolute.py")
    assert status_of(response) == 302
    assert b"\r\nLocation: https://example.org/elsewhere\r\n" in response
    response = get(server.port, "/cgi-bin/moved.py")
    assert status_of(response) == 301 and b"Location: https://example.org/new" in response


def test_local_location_redirects_internally(server: CgiServer) -> None:
    env = env_of(server, "/cgi-bin/local.py")
    assert env["QUERY_STRING"] == "from=local" and env["SCRIPT_NAME"] == "/cgi-bin/env.py"
    response = get(server.port, "/cgi-bin/loop.py")
    assert status_of(response) == 500 and b"too many local redirects" in response


def test_script_content_length_is_respected(server: CgiServer) -> None:
    response = get(server.port, "/cgi-bin/lengthy.py")
    assert b"Content-Length: 5\r\n" in response and response.endswith(b"\r\n\r\nhello")


def test_ten_megabytes_stream(server: CgiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request("GET", "/cgi-bin/big.py")
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Transfer-Encoding") == "chunked"
    digest = hashlib.sha256()
    size = 0
    while chunk := response.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    # the connection stays usable after a chunked body
    conn.request("GET", "/page.txt")
    assert conn.getresponse().read() == b"plain page\n"
    conn.close()
    assert size == 10 * 1024 * 1024
    assert digest.hexdigest() == hashlib.sha256(bytes(range(256)) * 4096 * 10).hexdigest()


def test_timeout_kills_the_script(site: Site, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    (site.cgi_dir / "sleepy.py").write_text(
        "import os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n")
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=LIMITS) as srv:
        response = get(srv.port, "/cgi-bin/sleepy.py")
        assert status_of(response) == 504
        pid = int(pid_file.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert any("killed (504)" in e.text for e in logs(srv))


# -- the document's 5.1.3 troubleshooting list -----------------------------------------
@pytest.mark.parametrize(("script", "words"), [
    ("no_shebang.sh", b"does not start with '#!'"),
    ("bad_interp.sh", b"/nonexistent/bin/python9, which does not exist"),
    ("env_missing.sh", b"no 'no-such-interpreter-wb' is on the PATH"),
    ("not_exec.sh", b"lacks the executable bit: chmod a+rx"),
    ("no_blank.py", b"no blank line after the headers"),
    ("raises.py", b"ZeroDivisionError: division by zero"),
    ("nothing.py", b"the script printed nothing"),
])
def test_diagnostic_500(server: CgiServer, script: str, words: bytes) -> None:
    response = get(server.port, f"/cgi-bin/{script}")
    assert status_of(response) == 500
    assert words in html.unescape(response.decode()).encode(), response
    assert b"Checklist" in response
    assert SECRET.encode() not in response
    errors = [e for e in logs(server) if e.level == "error"]
    assert errors and script in errors[-1].text


def test_traceback_diagnosis_names_the_line(server: CgiServer) -> None:
    response = get(server.port, "/cgi-bin/raises.py")
    assert b"line 3" in response and b"Run the script in a console" in response
    stderr_lines = [e.text for e in logs(server) if "stderr:" in e.text]
    assert any("Traceback" in line for line in stderr_lines)


def test_stderr_is_logged_with_control_characters_escaped(server: CgiServer) -> None:
    assert body_of(get(server.port, "/cgi-bin/noisy.py")) == b"ok\n"
    lines = [e.text for e in logs(server) if "stderr" in e.text]
    assert lines == ["/cgi-bin/noisy.py stderr: red \\x1b[31m alert"]


# -- static files --------------------------------------------------------------------------
def test_static_files(server: CgiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/page.txt")
    response = conn.getresponse()
    assert response.read() == b"plain page\n"
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
    modified = response.getheader("Last-Modified")
    conn.request("GET", "/page.txt", headers={"If-Modified-Since": modified})
    response = conn.getresponse()
    assert response.status == 304 and response.read() == b""
    conn.request("HEAD", "/page.txt")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == "11" and response.read() == b""
    conn.request("GET", "/page.txt", headers={"Range": "bytes=6-"})
    response = conn.getresponse()
    assert response.status == 206 and response.read() == b"page\n"
    assert response.getheader("Content-Range") == "bytes 6-10/11"
    conn.request("GET", "/page.txt", headers={"Range": "bytes=0-4", "If-Range": "old"})
    assert conn.getresponse().read() == b"plain page\n"  # changed since: whole file
    conn.request("GET", "/page.txt", headers={"Range": "bytes=99-"})
    response = conn.getresponse()
    assert response.status == 416 and response.getheader("Content-Range") == "bytes */11"
    response.read()
    conn.request("POST", "/page.txt", body=b"x")
    response = conn.getresponse()
    assert response.status == 405 and response.getheader("Allow") == "GET, HEAD"
    response.read()
    conn.request("GET", "/missing.txt")  # a 404 keeps the connection open
    response = conn.getresponse()
    assert response.status == 404 and response.getheader("Connection") is None
    response.read()
    conn.request("GET", "/page.txt")
    assert conn.getresponse().read() == b"plain page\n"
    conn.close()
    response = get(server.port, "/sub")
    assert status_of(response) == 301 and b"Location: /sub/\r\n" in response
    response = get(server.port, "/sub/")
    assert b"&lt;b&gt;odd&amp;name.txt" in response and b"<b>" not in response
    assert get(server.port, "/").endswith(b"<a href='/cgi-bin/env.py'>env</a>\n")


# -- limits --------------------------------------------------------------------------------
def test_request_line_and_header_limits(server: CgiServer) -> None:
    assert status_of(get(server.port, "/" + "a" * 9000)) == 414
    assert status_of(get(server.port, "/", "X-Big: " + "b" * 40000 + "\r\n")) == 431
    many = "".join(f"X-{i}: v\r\n" for i in range(150))
    assert status_of(get(server.port, "/", many)) == 431
    assert status_of(raw_request(server.port, b"GET / HTTP/2.0\r\n\r\n")) == 505
    assert status_of(raw_request(server.port, b"garbage\r\n\r\n")) == 400
    assert status_of(raw_request(server.port, b"GET / HTTP/1.1\r\n\r\n")) == 400  # no Host


@pytest.mark.parametrize(("length", "body", "status"), [
    ("abc", b"", 400),
    ("-1", b"", 400),
    ("99999999999", b"", 413),
    ("100", b"only ten b", 400),
])
def test_bad_content_length(server: CgiServer, site: Site, length: str, body: bytes,
                            status: int) -> None:
    request = (f"POST /cgi-bin/echo_body.py HTTP/1.1\r\nHost: x\r\n"
               f"Content-Length: {length}\r\n\r\n").encode() + body
    # the server answers by itself (after body_timeout for the short body), no client close
    response = raw_request(server.port, request)
    assert status_of(response) == status


def test_error_answer_survives_unread_input(server: CgiServer) -> None:
    request = (b"POST /cgi-bin/echo_body.py HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: 99999999999\r\n\r\n" + b"z" * 500_000)
    response = raw_request(server.port, request)
    assert status_of(response) == 413 and b"over the" in response


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


def test_stop_is_quick_and_leaves_no_threads(site: Site, tmp_path: Path) -> None:
    (site.cgi_dir / "forever.py").write_text("import time\ntime.sleep(60)\n")
    srv = CgiServer(root=site.root, cgi_dir=site.cgi_dir,
                    limits=CgiLimits(head_timeout=30, script_timeout=30))
    srv.start()
    idle = socket.create_connection(("127.0.0.1", srv.port))
    idle.sendall(b"GET / HTTP/1.1\r\n")
    busy = socket.create_connection(("127.0.0.1", srv.port))
    busy.sendall(b"GET /cgi-bin/forever.py HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # let the script start
    assert srv.connections == 2
    srv.stop(timeout=1.0)
    assert not srv.running
    assert [t.name for t in threading.enumerate() if t.name.startswith("cgi:")] == []
    idle.close()
    busy.close()


# -- registry, CLI, browser -----------------------------------------------------------------
def test_lab_peers_and_serve_kind() -> None:
    peers = lab_peers(ephemeral=True)
    assert len(peers) == 1 and isinstance(peers[0], CgiServer) and peers[0].port == 0
    assert lab_peers()[0].port == 8000
    assert "cgi" in SERVE_KINDS


def test_wirebench_serve_cgi(site: Site) -> None:
    repo = Path(__file__).resolve().parents[2]
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
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "gui.cli", "serve", "cgi", "--root", str(tmp_path / "nope")],
        cwd=repo, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--root" in result.stderr and "not a folder" in result.stderr


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
    deadline = time.monotonic() + 10
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.read_text().strip() == "http://127.0.0.1:8000/"
