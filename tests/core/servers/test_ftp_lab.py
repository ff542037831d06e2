"""The lab FTP server: sample root, anonymous read-only, lab user writes, registry, serve."""

from __future__ import annotations

import argparse
import ftplib
import io

import pytest

from core.servers.ftp_lab import (
    LAB_PASSWORD,
    LAB_PORT,
    LAB_USER,
    SERVE_KINDS,
    FtpLabServer,
    lab_peers,
)
from core.servers.registry import serve_kinds


def test_sample_root_and_permissions(ftp_lab):
    root = ftp_lab.root
    assert (root / "large.bin").stat().st_size > 1_000_000
    assert (root / "Résumé – café.txt").exists()
    assert LAB_USER in ftp_lab.describe() and LAB_PASSWORD in ftp_lab.describe()
    anon = ftplib.FTP()
    anon.connect("127.0.0.1", ftp_lab.port, timeout=5)
    anon.login()
    with pytest.raises(ftplib.error_perm):
        anon.storbinary("STOR upload/x", io.BytesIO(b"x"))
    anon.quit()
    user = ftplib.FTP()
    user.connect("127.0.0.1", ftp_lab.port, timeout=5)
    user.login(LAB_USER, LAB_PASSWORD)
    user.storbinary("STOR upload/x", io.BytesIO(b"x"))
    user.quit()
    assert (root / "upload" / "x").read_bytes() == b"x"


def test_stop_removes_the_temp_root_and_counts():
    server = FtpLabServer(port=0, large_size=100)
    server.start()
    root = server.root
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", server.port, timeout=5)
    ftp.login()
    ftp.retrbinary("RETR large.bin", lambda b: None)
    ftp.quit()
    server.stop()
    assert not server.running
    assert not root.exists()
    assert server.total_connections >= 1 and server.bytes_out >= 100


def test_registry_and_serve_kind():
    (peer,) = lab_peers()
    assert peer.port == LAB_PORT and peer.kind == "ftp" and peer.host == "127.0.0.1"
    assert lab_peers(ephemeral=True)[0].port == 0
    assert "ftp" in serve_kinds()
    parser = argparse.ArgumentParser()
    SERVE_KINDS["ftp"].add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--tls", "none", "--no-mlsd"])
    (built,) = SERVE_KINDS["ftp"].build(args)
    assert (built.port, built.tls, built.mlsd) == (0, "none", False)


def test_busy_port_is_a_clear_error(ftp_lab):
    from core.servers.base import ServerStartError

    with pytest.raises(ServerStartError, match="in use"):
        FtpLabServer(port=ftp_lab.port, large_size=10).start()


def test_wirebench_serve_ftp_runs_headless_and_stops_on_sigterm(tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    (tmp_path / "hello.txt").write_text("hi")
    proc = subprocess.Popen([sys.executable, "-m", "gui", "serve", "ftp", "--port", "0",
                             "--tls", "none", "--root", str(tmp_path)],
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ftp listening on 127.0.0.1:"), line
        port = int(line.split()[3].rsplit(":", 1)[1])
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", port, timeout=5)
        ftp.login()
        assert ftp.nlst() == ["hello.txt"]
        ftp.quit()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        proc.stdout.close()


_LOGIN_AND_FETCH = r"""
import ftplib
from core.servers.ftp_lab import FtpLabServer
from core.servers.lab_account import LAB_PASSWORD, LAB_USER
server = FtpLabServer(port=0, tls="none")
server.start()
with ftplib.FTP() as ftp:
    ftp.connect("127.0.0.1", server.port, timeout=5)
    ftp.login(LAB_USER, LAB_PASSWORD)
    ftp.retrbinary("RETR readme.txt", lambda block: None)
server.stop()
print("fetched")
"""


def test_sessions_and_transfers_print_nothing_on_stderr() -> None:
    """pyftpdlib's access lines ("[I …] USER 'lab' logged in") stay off the app's stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", _LOGIN_AND_FETCH], cwd=root, timeout=60,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0 and "fetched" in done.stdout, done.stderr
    assert "logged in" not in done.stderr and "[I " not in done.stderr, done.stderr
