"""The core FTP client (core/ftp/*) against vsftpd, driven headless as the FTP tab does:
plain, explicit FTPS with ``require_ssl_reuse=YES``, implicit FTPS; anonymous and a local
user who may write. Every file is compared by sha256."""

from __future__ import annotations

import ftplib
import queue
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.events import LogLine
from core.ftp.client import FtpConnection
from core.ftp.session import FtpListed, FtpLoggedIn, FtpSession, FtpSizeKnown
from core.ftp.transfers import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    TransferItem,
    TransferQueue,
)
from tests.fixtures.waiting import EventCollector, wait_for
from tests.interop.conftest import LOOPBACK, DaemonStarter, expect_event
from tests.interop.vsftpd_peer import (
    BIG_SIZE,
    LINK_NAME,
    SPACED_NAME,
    UNICODE_NAME,
    Vsftpd,
    VsftpdSite,
    pattern_bytes,
    sha256,
    start_vsftpd,
    vsftpd_site_in,
)

TRANSFER_DEADLINE = 60.0


@pytest.fixture
def vsftpd_site(tmp_path: Path) -> Iterator[VsftpdSite]:
    """The served tree, TLS files and a throw-away system account (removed after)."""
    with vsftpd_site_in(tmp_path) as site:
        yield site


@pytest.fixture
def vsftpd(start_daemon: DaemonStarter, vsftpd_site: VsftpdSite
           ) -> Iterator[Callable[..., Vsftpd]]:
    """``vsftpd(tls="none", local_max_rate=0)`` starts an instance over ``vsftpd_site``.

    Its instances stop here, before the site's account is removed (userdel refuses an
    account that a vsftpd session still runs as).
    """
    started: list[Vsftpd] = []

    def start(tls: str = "none", *, local_max_rate: int = 0) -> Vsftpd:
        server = start_vsftpd(start_daemon, vsftpd_site, tls, local_max_rate=local_max_rate)
        started.append(server)
        return server

    yield start
    for server in started:
        server.daemon.stop()


def run_until_idle(transfers: TransferQueue, timeout: float = TRANSFER_DEADLINE) -> None:
    wait_for(lambda: transfers.idle() and transfers.snapshot(), timeout,
             f"transfers still running after {timeout:.0f} s: {transfers.snapshot()}")


def item(transfers: TransferQueue, item_id: int) -> TransferItem:
    return next(i for i in transfers.snapshot() if i.id == item_id)


def cancel_once_bytes_flow(transfers: TransferQueue, item_id: int) -> int:
    """Cancel ``item_id`` as soon as its first bytes are counted; return the bytes done."""
    wait_for(lambda: item(transfers, item_id).done > 0 or item(transfers, item_id).state
             in (DONE, FAILED), TRANSFER_DEADLINE)
    assert item(transfers, item_id).state == RUNNING, item(transfers, item_id)
    transfers.cancel(item_id)
    wait_for(lambda: item(transfers, item_id).state == CANCELLED, TRANSFER_DEADLINE,
             f"not cancelled: {item(transfers, item_id)}")
    return item(transfers, item_id).done


def transfer_log(outbox: queue.SimpleQueue) -> list[str]:
    lines = []
    while not outbox.empty():
        event = outbox.get_nowait()
        if isinstance(event, LogLine):
            lines.append(event.text)
    return lines


def remote_tree_hashes(root: Path) -> dict[str, str]:
    """relative name -> sha256 of every file (symlinks followed, as RETR does)."""
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*"))
            if p.is_file()}


# -- plain FTP ------------------------------------------------------------------------------
def test_anonymous_listing_keeps_spaces_unicode_and_the_symlink(vsftpd, vsftpd_site):
    server = vsftpd()
    session = FtpSession()
    events = EventCollector(session.outbox)
    try:
        session.connect(server.options(anonymous=True))
        info = expect_event(events, FtpLoggedIn).info
        assert info.welcome.startswith("220") and not info.mlsd  # vsftpd: LIST only
        assert "UTF8" in info.features
        expect_event(events, FtpListed)
        session.change_dir("/pub")
        listed = expect_event(events, FtpListed)
    finally:
        session.close()
    entries = {e.name: e for e in listed.entries}
    assert listed.path == "/pub"
    assert set(entries) == {SPACED_NAME, UNICODE_NAME, "big.bin", LINK_NAME, "sub"}
    assert entries[LINK_NAME].kind == "link" and entries[LINK_NAME].target == "big.bin"
    assert entries["sub"].is_dir and entries["big.bin"].size == BIG_SIZE
    assert entries[SPACED_NAME].size == len(b"spaces survive\n")


def test_anonymous_folder_download_is_byte_identical(vsftpd, vsftpd_site, tmp_path):
    server = vsftpd()
    dest = tmp_path / "downloads"
    transfers = TransferQueue(server.options(anonymous=True))
    try:
        transfers.add_download("/pub", dest, folder=True)
        run_until_idle(transfers)
    finally:
        transfers.close()
    states = {i.remote_path: i.state for i in transfers.snapshot()}
    assert set(states.values()) == {DONE}, states
    expected = remote_tree_hashes(vsftpd_site.anon_root / "pub")
    assert remote_tree_hashes(dest / "pub") == expected
    assert expected[LINK_NAME] == expected["big.bin"]  # the symlink came as its target
    assert len(expected) == 6


def test_local_user_mkdir_rename_size_delete(vsftpd, vsftpd_site):
    server = vsftpd()
    home = vsftpd_site.home
    (home / "seed.txt").write_bytes(b"0123456789")
    session = FtpSession()
    events = EventCollector(session.outbox)
    try:
        session.connect(server.options())
        assert expect_event(events, FtpLoggedIn).info.cwd == str(home)
        expect_event(events, FtpListed)
        session.mkd("made here")
        assert "made here" in {e.name for e in expect_event(events, FtpListed).entries}
        session.rename("seed.txt", "renamed ü.txt")
        names = {e.name for e in expect_event(events, FtpListed).entries}
        assert {"renamed ü.txt", "made here"} <= names and "seed.txt" not in names
        session.size("renamed ü.txt")
        assert expect_event(events, FtpSizeKnown).size == 10
        session.delete("renamed ü.txt")
        expect_event(events, FtpListed)
        session.rmd("made here")
        assert expect_event(events, FtpListed).entries == ()
    finally:
        session.close()
    assert sorted(p.name for p in home.iterdir()) == []


def upload_then_download(server: Vsftpd, source: Path, back: Path) -> None:
    """Upload ``source`` to the user's home, download it into ``back``: both sha256-equal."""
    home = server.site.home
    transfers = TransferQueue(server.options())
    try:
        transfers.add_upload(source, str(home))
        run_until_idle(transfers)
        transfers.add_download(str(home / source.name), back)
        run_until_idle(transfers)
    finally:
        transfers.close()
    assert [i.state for i in transfers.snapshot()] == [DONE, DONE]
    assert sha256(home / source.name) == sha256(source)
    assert sha256(back / source.name) == sha256(source)


def test_local_user_upload_and_download_are_byte_identical(vsftpd, tmp_path):
    source = tmp_path / "up load ü.bin"
    source.write_bytes(pattern_bytes(1_234_567, b"upload"))
    upload_then_download(vsftpd(), source, tmp_path / "back")


def test_download_resumes_with_rest_after_a_cancel(vsftpd, vsftpd_site, tmp_path):
    server = vsftpd(local_max_rate=2_000_000)
    remote = vsftpd_site.home / "big.bin"  # the user cannot enter pytest's 0700 folders
    remote.write_bytes(pattern_bytes(BIG_SIZE, b"resume-down"))
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    transfers = TransferQueue(server.options(), outbox)
    try:
        item_id = transfers.add_download(str(remote), tmp_path)
        done = cancel_once_bytes_flow(transfers, item_id)
        part = tmp_path / "big.bin.part"
        assert 0 < part.stat().st_size < BIG_SIZE and not (tmp_path / "big.bin").exists()
        kept = part.stat().st_size
        transfers.resume(item_id)
        run_until_idle(transfers)
    finally:
        transfers.close()
    assert 0 < done <= kept
    assert transfers.snapshot()[0].state == DONE
    assert sha256(tmp_path / "big.bin") == sha256(remote)
    assert f"[transfer] > REST {kept}" in transfer_log(outbox)


def test_upload_resumes_with_rest_after_a_cancel(vsftpd, vsftpd_site, tmp_path):
    server = vsftpd(local_max_rate=2_000_000)
    source = tmp_path / "big upload.bin"
    source.write_bytes(pattern_bytes(BIG_SIZE, b"resume-up"))
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    transfers = TransferQueue(server.options(), outbox)
    remote = vsftpd_site.home / source.name
    try:
        item_id = transfers.add_upload(source, str(vsftpd_site.home))
        cancel_once_bytes_flow(transfers, item_id)
        kept = remote.stat().st_size
        assert 0 < kept < BIG_SIZE
        assert remote.read_bytes() == source.read_bytes()[:kept]
        transfers.resume(item_id)
        run_until_idle(transfers)
    finally:
        transfers.close()
    assert transfers.snapshot()[0].state == DONE
    assert sha256(remote) == sha256(source)
    log = transfer_log(outbox)
    assert f"[transfer] > REST {kept}" in log
    assert f"[transfer] > STOR {remote}" in log


# -- FTPS -------------------------------------------------------------------------------------
def stdlib_retrieve(server: Vsftpd, name: str) -> bytes:
    """What plain ``ftplib.FTP_TLS`` gets: it starts a new TLS session per data connection."""
    context = ssl.create_default_context(cafile=str(server.site.ca_file))
    ftp = ftplib.FTP_TLS(context=context, timeout=10)
    try:
        ftp.connect(LOOPBACK, server.port)
        ftp.login(server.site.user, server.site.password)
        ftp.prot_p()
        chunks: list[bytes] = []
        ftp.retrbinary(f"RETR {name}", chunks.append)
        return b"".join(chunks)
    finally:
        ftp.close()


def test_explicit_ftps_requires_session_reuse_which_stdlib_lacks(vsftpd, vsftpd_site,
                                                                 tmp_path):
    server = vsftpd(tls="explicit")
    (vsftpd_site.home / "secret.bin").write_bytes(pattern_bytes(300_000, b"tls"))
    # the control: the standard library's FTP_TLS is refused on the data connection
    with pytest.raises((ftplib.error_temp, ftplib.error_perm), match="^522"):
        stdlib_retrieve(server, "secret.bin")
    conn = FtpConnection(server.options())
    try:
        info = conn.connect()
        assert info.tls.startswith("TLS")
        names = {e.name for e in conn.listing()}
        received = bytearray()
        conn.retrieve("secret.bin", received.extend)
    finally:
        conn.quit()
    assert names == {"secret.bin"}
    assert bytes(received) == (vsftpd_site.home / "secret.bin").read_bytes()
    assert conn.ftp.data_sessions == conn.ftp.data_sessions_reused == 2


def test_explicit_ftps_transfers_both_ways(vsftpd, tmp_path):
    source = tmp_path / "tls up.bin"
    source.write_bytes(pattern_bytes(2_500_000, b"tls-up"))
    upload_then_download(vsftpd(tls="explicit"), source, tmp_path / "back")


def test_explicit_ftps_refuses_an_unknown_certificate(vsftpd, vsftpd_site):
    server = vsftpd(tls="explicit")
    conn = FtpConnection(server.options(ca_file=None))
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.connect()
    assert not conn.connected


def test_implicit_ftps_anonymous_download(vsftpd, vsftpd_site, tmp_path):
    server = vsftpd(tls="implicit")
    conn = FtpConnection(server.options(anonymous=True))
    try:
        info = conn.connect()
        assert info.welcome.startswith("220") and info.tls.startswith("TLS")
        assert SPACED_NAME in {e.name for e in conn.listing("/pub")}
        received = bytearray()
        conn.retrieve(f"/pub/{UNICODE_NAME}", received.extend)
    finally:
        conn.quit()
    assert bytes(received) == (vsftpd_site.anon_root / "pub" / UNICODE_NAME).read_bytes()
    assert conn.ftp.data_sessions_reused == conn.ftp.data_sessions == 2
