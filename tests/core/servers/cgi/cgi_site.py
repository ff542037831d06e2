"""A throw-away web site for the CGI tests: a document root, a cgi-bin with scripts that
misbehave in every way the server must handle, and a secret outside both folders; the
``site`` and ``server`` fixtures (import them into a test module to use them)."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError

import pytest

from core.events import LogLine
from core.servers.cgi.server import CgiLimits, CgiServer
from core.servers.http_head import RequestLimits
from core.worker import drain

SECRET = "TOP-SECRET-6f1d"

SCRIPTS: dict[str, str] = {
    "env.py": (
        "import json, os\n"
        "print('Content-Type: application/json')\n"
        "print()\n"
        "print(json.dumps(dict(os.environ)))\n"
    ),
    "echo_body.py": (
        "import sys\n"
        "data = sys.stdin.buffer.read()\n"
        "sys.stderr.write('x' * 300000)\n"  # a full stderr pipe must not deadlock us
        "sys.stdout.buffer.write(b'Content-Type: application/octet-stream\\r\\n\\r\\n')\n"
        "sys.stdout.buffer.write(data)\n"
    ),
    "status.py": "print('Status: 404 Gone Fishing')\nprint('Content-Type: text/plain')\n"
                 "print()\nprint('not here')\n",
    "absolute.py": "print('Location: https://example.org/elsewhere')\nprint()\n",
    "moved.py": "print('Status: 301 Moved Permanently')\n"
                "print('Location: https://example.org/new')\nprint()\n",
    "local.py": "print('Location: /cgi-bin/env.py?from=local')\nprint()\n",
    "loop.py": "print('Location: /cgi-bin/loop.py')\nprint()\n",
    "big.py": (
        "import sys\n"
        "sys.stdout.buffer.write(b'Content-Type: application/octet-stream\\n\\n')\n"
        "block = bytes(range(256)) * 4096\n"  # 1 MiB
        "for _ in range(10):\n"
        "    sys.stdout.buffer.write(block)\n"
    ),
    "raises.py": "print('Content-Type: text/html')\nx = 1 / 0\n",
    "no_blank.py": "print('Content-Type: text/html')\nprint('Hello World!')\n",
    "nothing.py": "pass\n",
    "lengthy.py": "print('Content-Length: 5')\nprint('Content-Type: text/plain')\nprint()\n"
                  "print('hello and more')\n",
    "noisy.py": "import sys\nsys.stderr.write('red \\x1b[31m alert\\n')\n"
                "print('Content-Type: text/plain')\nprint()\nprint('ok')\n",
}

SHELL_SCRIPTS: dict[str, tuple[str, int]] = {
    "ok.sh": ("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nshell ok\\n'\n", 0o755),
    "no_shebang.sh": ("printf 'Content-Type: text/plain\\n\\nhi\\n'\n", 0o755),
    "bad_interp.sh": ("#!/nonexistent/bin/python9\nprint('hi')\n", 0o755),
    "env_missing.sh": ("#!/usr/bin/env no-such-interpreter-wb\nhi\n", 0o755),
    "not_exec.sh": ("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhi\\n'\n", 0o644),
}


@dataclass
class Site:
    base: Path
    root: Path
    cgi_dir: Path
    data: Path
    outside: Path

    @property
    def marker(self) -> Path:
        """Created by the outside script if it ever runs."""
        return self.outside / "RAN"


def build_site(base: Path) -> Site:
    root, cgi_dir, data, outside = (base / n for n in ("www", "cgi", "data", "outside"))
    for folder in (root, cgi_dir, data, outside):
        folder.mkdir()
    (root / "index.html").write_text("<a href='/cgi-bin/env.py'>env</a>\n")
    (root / "page.txt").write_text("plain page\n")
    (root / "sub").mkdir()
    (root / "sub" / "<b>odd&name.txt").write_text("odd\n")
    (root / ".hidden").write_text(SECRET)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "secret.py").write_text(
        f"open({str(outside / 'RAN')!r}, 'w').write('ran')\n"
        f"print('Content-Type: text/plain')\nprint()\nprint({SECRET!r})\n")
    for name, source in SCRIPTS.items():
        (cgi_dir / name).write_text(f"# {SECRET}\n{source}")
    for name, (source, mode) in SHELL_SCRIPTS.items():
        path = cgi_dir / name
        path.write_text(source)
        path.chmod(mode)
    os.symlink(outside / "secret.py", cgi_dir / "linked.py")
    os.symlink(outside / "secret.txt", root / "linked.txt")
    os.symlink(cgi_dir / "env.py", root / "source.py")
    os.symlink(cgi_dir, root / "scripts")
    return Site(base, root, cgi_dir, data, outside)


def pretend_frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the app believe it is the frozen build, whose scripts run as ``wirebench
    --run-python SCRIPT``: a wrapper stands in for the frozen executable and runs the
    real CLI entry point."""
    repo = Path(__file__).resolve().parents[4]
    frozen_exe = tmp_path / "wirebench"
    frozen_exe.write_text(f"#!/bin/sh\nexport PYTHONPATH={repo}\n"
                          f"exec {sys.executable} -m gui.cli \"$@\"\n")
    frozen_exe.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(frozen_exe))


def write_sleeper(site: Site, pid_file: Path) -> str:
    """A script that records its pid and hangs; returns its URL path."""
    path = site.cgi_dir / "sleepy.sh"
    path.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    path.chmod(0o755)
    return "/cgi-bin/sleepy.sh"


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes as they are (no client-side normalising) and read until close."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, target: str, extra: str = "") -> bytes:
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n"
    return raw_request(port, request.encode("latin-1"))


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def body_of(response: bytes) -> bytes:
    """The body of a raw response, chunked transfer coding undone."""
    head, _, body = response.partition(b"\r\n\r\n")
    if b"\r\ntransfer-encoding: chunked" not in head.lower():
        return body
    out = b""
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out += rest[:size]
        body = rest[size + 2:]


LIMITS = CgiLimits(request=RequestLimits(max_body=6 * 1024 * 1024), head_timeout=1.0,
                   body_timeout=0.5, script_timeout=10.0)


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path) -> Site:
    return build_site(tmp_path)


@pytest.fixture(name="server")
def server_fixture(site: Site) -> Iterator[CgiServer]:
    srv = CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=LIMITS, data_dir=site.data)
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
