"""One connection's requests through real HTTP clients: meta-variables, path safety,
script output, the 5.1.3 diagnoses, static files and request limits."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import http.client
import json
import os
from pathlib import Path

import pytest

from core.servers.cgi.server import CgiServer
from tests.core.servers.cgi.cgi_site import (  # noqa: F401 - the *_fixture names are fixtures
    LIMITS,
    SECRET,
    Site,
    body_of,
    env_of,
    fetch,
    get,
    logs,
    raw_request,
    server_fixture,
    site_fixture,
    status_of,
    write_sleeper,
)

#: a server whose scripts may run for one second only
SHORT = dataclasses.replace(LIMITS, script_timeout=1.0)


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


def test_chunked_body_reaches_the_script_with_a_length(server: CgiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/cgi-bin/echo_body.py", body=iter([b"abc", b"defg"]),
                 encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    response = conn.getresponse()
    assert response.read() == b"abcdefg"
    conn.request("POST", "/cgi-bin/env.py", body=iter([b"abc", b"defg"]),
                 encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    env = json.loads(conn.getresponse().read())
    conn.close()
    assert env["CONTENT_LENGTH"] == "7" and "HTTP_TRANSFER_ENCODING" not in env


def test_large_body_in_and_stderr_do_not_deadlock(server: CgiServer) -> None:
    body = os.urandom(4 * 1024 * 1024)
    status, echoed, _ = fetch(server, "/cgi-bin/echo_body.py", body)
    assert status == 200 and echoed == body


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
    sleeper = write_sleeper(site, pid_file)
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=SHORT) as srv:
        response = get(srv.port, sleeper)
        assert status_of(response) == 504
        pid = int(pid_file.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert any("killed (504)" in e.text for e in logs(srv))


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
    (server.root / "page.txt").write_text("a new page\n")  # the cache never serves stale
    conn.request("GET", "/page.txt")
    assert conn.getresponse().read() == b"a new page\n"
    (server.root / "page.txt").write_text("plain page\n")
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


def test_threaded_pipes_serve_the_same(site: Site, tmp_path: Path) -> None:
    """The Windows way of driving script pipes, exercised through the whole server."""
    pid_file = tmp_path / "pid"
    sleeper = write_sleeper(site, pid_file)
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=LIMITS,
                   threaded_pipes=True) as srv:
        body = os.urandom(2 * 1024 * 1024)
        assert fetch(srv, "/cgi-bin/echo_body.py", body)[1] == body
        status, data, _ = fetch(srv, "/cgi-bin/big.py")
        assert status == 200 and len(data) == 10 * 1024 * 1024
        assert b"ZeroDivisionError" in get(srv.port, "/cgi-bin/raises.py")
    with CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=SHORT,
                   threaded_pipes=True) as srv:
        assert status_of(get(srv.port, sleeper)) == 504
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
