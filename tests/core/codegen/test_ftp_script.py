"""An FTP session (browsing + transfer queue) recorded, rendered, and replayed with the
plain interpreter against the same lab server: same listing, same file checksums."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from core.codegen import render
from core.ftp.options import FtpOptions
from core.ftp.session import FtpListed, FtpSession
from core.ftp.transfers import DONE, FAILED, TransferQueue
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER
from tests.core.ftp.test_transfers import wait_state
from tests.fixtures.waiting import EventCollector


def test_recorded_session_replays_listing_download_and_upload(ftp_lab, tmp_path: Path) -> None:
    local = tmp_path / "session"
    local.mkdir()
    (local / "notes.bin").write_bytes(bytes(range(256)) * 33 + b"\r\n\x00")
    options = FtpOptions("127.0.0.1", ftp_lab.port, user=LAB_USER, password=LAB_PASSWORD,
                         tls="none", timeout=10)
    session = FtpSession()
    collector = EventCollector(session.outbox)
    queue = TransferQueue(options, recording=session.recording)
    try:
        session.connect(options)
        collector.wait(FtpListed)
        session.change_dir("docs")
        listed = collector.wait(FtpListed, where=lambda e: e.path == "/docs")
        down = queue.add_download("/large.bin", local)
        wait_state(queue, down, (DONE, FAILED), [])
        up = queue.add_upload(local / "notes.bin", "/upload")
        wait_state(queue, up, (DONE, FAILED), [])
        assert queue.items[down].state == DONE and queue.items[up].state == DONE
        session.disconnect()
        session.close()
    finally:
        queue.close()
        session.close()
    ops = [step.op for step in session.recording]
    assert ops == ["connect", "list", "cwd", "list", "download", "upload", "quit"]
    script = render(session.recording)
    assert LAB_PASSWORD not in script
    (ftp_lab.root / "upload" / "notes.bin").unlink()  # the script must upload it again
    replay = tmp_path / "replay"
    replay.mkdir()
    (replay / "notes.bin").write_bytes((local / "notes.bin").read_bytes())
    script = script.replace(repr(str(local / "notes.bin")), repr("notes.bin"))
    (replay / "s.py").write_text(script)
    env = dict(os.environ, WIREBENCH_FTP_PASSWORD=LAB_PASSWORD)
    result = subprocess.run([sys.executable, "-I", "s.py"], cwd=replay, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = hashlib.sha256((ftp_lab.root / "large.bin").read_bytes()).hexdigest()
    assert f"downloaded large.bin {expected}" in result.stdout
    assert (replay / "large.bin").read_bytes() == (local / "large.bin").read_bytes()
    assert (ftp_lab.root / "upload" / "notes.bin").read_bytes() == (
        local / "notes.bin").read_bytes()
    for entry in listed.entries:  # the script lists the same folder
        assert entry.name in result.stdout
