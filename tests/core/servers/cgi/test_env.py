"""RFC 3875 meta-variables built from a request, without touching os.environ."""

from __future__ import annotations

import os

import pytest

from core.servers.cgi.env import (
    CgiRequest,
    build_environ,
    header_variables,
    server_name,
)


def request(**changes: object) -> CgiRequest:
    fields: dict = dict(
        method="GET", protocol="HTTP/1.1", script_name="/cgi-bin/a.py", path_info="",
        path_translated="", query_string="q=%20", request_uri="/cgi-bin/a.py?q=%20",
        headers=[("Host", "example.test:8000"), ("User-Agent", "t")],
        remote_addr="127.0.0.1", remote_port=5555, server_host="127.0.0.1",
        server_port=8000, script_filename="/srv/cgi/a.py", document_root="/srv/www",
        body_length=None, content_type=None)
    fields.update(changes)
    return CgiRequest(**fields)


def test_required_variables() -> None:
    env = build_environ(request())
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["SERVER_NAME"] == "example.test"
    assert env["SERVER_PORT"] == "8000"
    assert env["QUERY_STRING"] == "q=%20"
    assert env["HTTP_USER_AGENT"] == "t"
    assert env["PATH"]
    assert "PATH_TRANSLATED" not in env and "CONTENT_LENGTH" not in env
    assert "CONTENT_TYPE" not in env


def test_body_and_path_info() -> None:
    env = build_environ(request(method="POST", body_length=0, content_type="text/plain",
                                path_info="/x", path_translated="/srv/www/x"))
    assert env["CONTENT_LENGTH"] == "0" and env["CONTENT_TYPE"] == "text/plain"
    assert env["PATH_INFO"] == "/x" and env["PATH_TRANSLATED"] == "/srv/www/x"


def test_server_environment_is_not_leaked_or_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    before = dict(os.environ)
    env = build_environ(request(), extra={"WIREBENCH_DATA_DIR": "/d"})
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["WIREBENCH_DATA_DIR"] == "/d"
    assert dict(os.environ) == before


def test_withheld_and_joined_headers() -> None:
    got = header_variables([
        ("Proxy", "http://evil/"), ("Authorization", "Basic x"),
        ("Proxy-Authorization", "y"), ("Content-Length", "3"), ("Content_Type", "z"),
        ("Accept", "a"), ("accept", "b"), ("Cookie", "c=1"), ("Cookie", "d=2"),
        ("X-Bad Name", "v")])
    assert got == {"HTTP_ACCEPT": "a, b", "HTTP_COOKIE": "c=1; d=2"}


@pytest.mark.parametrize(("host", "expected"), [
    ("example.test", "example.test"),
    ("example.test:81", "example.test"),
    ("[::1]:8000", "[::1]"),
    ("evil\r\nX: y", "fallback"),
    ("a/b", "fallback"),
    (None, "fallback"),
])
def test_server_name(host: str | None, expected: str) -> None:
    assert server_name(host, "fallback") == expected
