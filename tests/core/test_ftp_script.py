"""Rendered FTP scripts against a real pyftpdlib server."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

from core.codegen import render
from core.recording import Recording


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    root = tmp_path / "root"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "data.bin").write_bytes(bytes(range(256)) * 4096)
    authorizer = DummyAuthorizer()
    authorizer.add_user("lab", "secret-pw", str(root), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1})
    thread.start()
    yield server.address[1], root
    server.close_all()
    thread.join(5)


def test_download_upload_listing_script(ftp_server: tuple[int, Path], tmp_path: Path) -> None:
    port, root = ftp_server
    work = tmp_path / "work"
    work.mkdir()
    (work / "up.txt").write_bytes(b"line\r\n\x00\xff")
    rec = Recording("ftp")
    rec.add("connect", host="127.0.0.1", port=port, user="lab", anonymous=False, tls="none",
            passive=True)
    rec.add("cwd", path="/pub")
    rec.add("list", path="", mlsd=True)
    rec.add("download", remote="data.bin", local="data.bin")
    rec.add("upload", local="up.txt", remote="up.txt")
    rec.add("quit")
    script = render(rec)
    assert "secret-pw" not in script and "WIREBENCH_FTP_PASSWORD" in script
    (work / "s.py").write_text(script)
    env = dict(os.environ, WIREBENCH_FTP_PASSWORD="secret-pw")
    result = subprocess.run([sys.executable, "-I", "s.py"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = hashlib.sha256((root / "pub" / "data.bin").read_bytes()).hexdigest()
    assert f"downloaded data.bin {expected}" in result.stdout
    assert (work / "data.bin").read_bytes() == (root / "pub" / "data.bin").read_bytes()
    assert (root / "pub" / "up.txt").read_bytes() == b"line\r\n\x00\xff"
    assert "data.bin" in result.stdout  # the listing
