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


def browse_and_transfer(options: FtpOptions, folder: str, remote: str, local: Path,
                        upload: tuple[Path, str] | None = None) -> tuple[FtpSession, FtpListed]:
    """What a person does in the tab: connect, open a folder, download (and upload)."""
    session = FtpSession()
    collector = EventCollector(session.outbox)
    queue = TransferQueue(options, recording=session.recording)
    try:
        session.connect(options)
        collector.wait(FtpListed)
        session.change_dir(folder)
        listed = collector.wait(FtpListed, where=lambda e: e.path == "/" + folder)
        jobs = [queue.add_download(remote, local)]
        wait_state(queue, jobs[0], (DONE, FAILED), [])
        if upload is not None:
            jobs.append(queue.add_upload(*upload))
            wait_state(queue, jobs[1], (DONE, FAILED), [])
        assert [queue.items[job].state for job in jobs] == [DONE] * len(jobs)
        session.disconnect()
        session.close()
    finally:
        queue.close()
        session.close()
    return session, listed


def test_recorded_session_replays_listing_download_and_upload(ftp_lab, tmp_path: Path) -> None:
    local = tmp_path / "session"
    local.mkdir()
    (local / "notes.bin").write_bytes(bytes(range(256)) * 33 + b"\r\n\x00")
    options = FtpOptions("127.0.0.1", ftp_lab.port, user=LAB_USER, password=LAB_PASSWORD,
                         tls="none", timeout=10)
    session, listed = browse_and_transfer(options, "docs", "/large.bin", local,
                                          upload=(local / "notes.bin", "/upload"))
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


def test_cleartext_fallback_the_user_accepted_is_what_the_script_uses(tmp_path: Path) -> None:
    """Fault 4: FTPS was asked for, the server refused AUTH TLS, the user agreed to go on in
    clear: the script must log in in clear too (it used FTPS and failed with 530)."""
    from core.ftp.session import FtpLoggedIn, FtpSizeKnown, FtpTextViewed
    from core.servers.ftp_lab import FtpLabServer

    server = FtpLabServer(port=0, tls="none", large_size=1024)
    server.start()
    session = FtpSession()
    collector = EventCollector(session.outbox)
    try:
        options = FtpOptions("127.0.0.1", server.port, user=LAB_USER, password=LAB_PASSWORD,
                             tls="explicit", allow_cleartext=True, timeout=10)
        session.connect(options)
        collector.wait(FtpLoggedIn)
        session.mkd("made-by-hand")
        collector.wait(FtpListed, where=lambda e: any(x.name == "made-by-hand"
                                                      for x in e.entries))
        session.size("readme.txt")
        collector.wait(FtpSizeKnown)
        session.view("readme.txt")
        viewed = collector.wait(FtpTextViewed)
        session.disconnect()
        session.close()
        ops = [step.op for step in session.recording]
        assert ops == ["connect", "list", "mkd", "list", "size", "view", "quit"]
        script = render(session.recording)
        assert "ftplib.FTP(timeout=30)" in script and "FTP_TLS(" not in script
        assert LAB_PASSWORD not in script
        (server.root / "made-by-hand").rmdir()
        (tmp_path / "s.py").write_text(script)
        result = subprocess.run([sys.executable, "-I", str(tmp_path / "s.py")],
                                env=dict(os.environ, WIREBENCH_FTP_PASSWORD=LAB_PASSWORD),
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        assert (server.root / "made-by-hand").is_dir()  # the peer saw the same MKD
        size = (server.root / "readme.txt").stat().st_size
        assert f"size of readme.txt {size}" in result.stdout
        assert viewed.text.strip() in result.stdout
    finally:
        session.close()
        server.stop()


def test_ftps_session_replays_against_vsftpd_requiring_session_reuse(vsftpd_tls,
                                                                     tmp_path: Path) -> None:
    port, root, ca_file = vsftpd_tls
    options = FtpOptions("127.0.0.1", port, anonymous=True, tls="explicit",
                         ca_file=str(ca_file), timeout=10)
    local = tmp_path / "session"
    local.mkdir()
    session, listed = browse_and_transfer(options, "pub", "/pub/data.bin", local)
    ops = [step.op for step in session.recording]
    assert ops == ["connect", "list", "cwd", "list", "download", "quit"]
    script = render(session.recording)
    assert "ReusingFTP_TLS(context=context" in script
    replay = tmp_path / "replay"
    replay.mkdir()
    (replay / "s.py").write_text(script)
    result = subprocess.run([sys.executable, "-I", "s.py"], cwd=replay, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    original = (root / "pub" / "data.bin").read_bytes()
    assert (replay / "data.bin").read_bytes() == (local / "data.bin").read_bytes() == original
    for entry in listed.entries:
        assert entry.name in result.stdout
