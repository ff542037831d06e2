"""The hardened ftplib client against pyftpdlib and against a scripted hostile server."""

from __future__ import annotations

import ftplib
import hashlib
import io
import ssl
import threading
import time

import pytest

from core.errors import UserError
from core.ftp.client import (
    CleartextRefused,
    FtpConnection,
    TransferCancelled,
    TransferInterrupted,
)
from core.ftp.options import FtpOptions
from core.ftp.wire import FtpProtocolError, mask
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER, FtpLabServer
from tests.fixtures.ftp_peers import SMALL_LARGE, Script
from tests.fixtures.waiting import wait_for


def connect(port: int, logs: list[str] | None = None, **kw) -> FtpConnection:
    kw.setdefault("anonymous", True)
    conn = FtpConnection(FtpOptions("127.0.0.1", port, timeout=5, **kw),
                         (lambda d, t: logs.append(d + t)) if logs is not None else None)
    conn.connect()
    return conn


def lab_user(port: int, logs: list[str] | None = None, **kw) -> FtpConnection:
    return connect(port, logs, anonymous=False, user=LAB_USER, password=LAB_PASSWORD, **kw)


# -- login ------------------------------------------------------------------------------
def test_anonymous_login_sends_user_at_host_and_lists_with_mlsd(ftp_lab):
    logs: list[str] = []
    conn = connect(ftp_lab.port, logs)
    try:
        assert conn.mlsd
        assert ">USER anonymous" in logs
        names = {e.name: e for e in conn.listing()}
        assert names["large.bin"].size == SMALL_LARGE
        assert names["docs"].is_dir
        assert "Résumé – café.txt" in names
        assert ">MLSD" in logs
    finally:
        conn.quit()


def test_user_login_masks_the_password_in_the_log(ftp_lab):
    logs: list[str] = []
    conn = lab_user(ftp_lab.port, logs)
    conn.quit()
    assert ">PASS ********" in logs
    assert not any(LAB_PASSWORD in line for line in logs)
    assert mask("pass secret") == "PASS ********"


def test_wrong_password_is_refused(ftp_lab):
    with pytest.raises(Exception) as info:
        connect(ftp_lab.port, anonymous=False, user=LAB_USER, password="wrong")
    assert "530" in str(info.value)


def test_list_parsed_when_the_server_has_no_mlsd(ftp_lab_list_only):
    logs: list[str] = []
    conn = connect(ftp_lab_list_only.port, logs)
    try:
        assert not conn.mlsd
        entries = {e.name: e for e in conn.listing()}
        assert ">LIST" in logs
        assert entries["name with spaces.txt"].kind == "file"
        assert entries["Résumé – café.txt"].size == len("Non-ASCII names travel as UTF-8.\n")
        assert entries["docs"].is_dir and entries["upload"].is_dir
        assert not any(e.is_raw for e in entries.values())
    finally:
        conn.quit()


# -- operations -------------------------------------------------------------------------
def test_every_operation_round_trips(ftp_lab):
    conn = lab_user(ftp_lab.port)
    try:
        assert conn.pwd() == "/"
        assert conn.cwd("docs") == "/docs"
        assert conn.up() == "/"
        conn.cwd("upload")
        assert conn.mkd("made") == "/upload/made"
        assert (ftp_lab.root / "upload" / "made").is_dir()
        conn.store("a.txt", io.BytesIO(b"hello\n").read)
        assert conn.size("a.txt") == 6
        conn.rename("a.txt", "b.txt")
        assert (ftp_lab.root / "upload" / "b.txt").read_bytes() == b"hello\n"
        text, cut = conn.read_text("b.txt")
        assert (text, cut) == ("hello\n", False)
        conn.delete("b.txt")
        conn.rmd("made")
        assert conn.listing() == []
    finally:
        conn.quit()


def test_view_text_is_bounded(ftp_lab):
    conn = connect(ftp_lab.port)
    try:
        text, cut = conn.read_text("large.bin", limit=1000)
        assert cut and len(text) <= 1000
        assert conn.noop().startswith("200")  # control channel still in step after ABOR
    finally:
        conn.quit()


def test_anonymous_cannot_write(ftp_lab):
    conn = connect(ftp_lab.port)
    try:
        with pytest.raises(Exception) as info:
            conn.mkd("upload/nope")
        assert "550" in str(info.value)
    finally:
        conn.quit()


def test_crlf_in_a_name_is_refused_before_sending(ftp_lab):
    logs: list[str] = []
    conn = connect(ftp_lab.port, logs)
    try:
        before = len(logs)
        with pytest.raises(UserError) as info:
            conn.delete("x\r\nDELE readme.txt")
        assert info.value.field_name == "File name"
        assert len(logs) == before
        assert (ftp_lab.root / "readme.txt").exists()
    finally:
        conn.quit()


# -- transfers --------------------------------------------------------------------------
def test_download_and_upload_checksums_match(ftp_lab):
    conn = lab_user(ftp_lab.port)
    try:
        sink = io.BytesIO()
        assert conn.retrieve("large.bin", sink.write) == SMALL_LARGE
        original = (ftp_lab.root / "large.bin").read_bytes()
        assert hashlib.sha256(sink.getvalue()).digest() == hashlib.sha256(original).digest()
        conn.store("upload/copy.bin", io.BytesIO(original).read)
        stored = (ftp_lab.root / "upload" / "copy.bin").read_bytes()
        assert hashlib.sha256(stored).digest() == hashlib.sha256(original).digest()
    finally:
        conn.quit()


def test_cancel_then_resume_gives_an_identical_file(ftp_lab):
    conn = connect(ftp_lab.port)
    try:
        cancel = threading.Event()
        sink = io.BytesIO()

        def on_bytes(n: int) -> None:
            if sink.tell() > 1_000_000:
                cancel.set()

        with pytest.raises(TransferCancelled):
            conn.retrieve("large.bin", sink.write, on_bytes=on_bytes, cancel=cancel)
        have = sink.tell()
        assert 0 < have < SMALL_LARGE
        assert conn.noop().startswith("200")
        conn.retrieve("large.bin", sink.write, rest=have)
        assert sink.getvalue() == (ftp_lab.root / "large.bin").read_bytes()
    finally:
        conn.quit()


def test_upload_resume_with_rest_and_with_appe(ftp_lab):
    data = bytes(range(256)) * 2000
    conn = lab_user(ftp_lab.port)
    try:
        conn.store("upload/r.bin", io.BytesIO(data[:100_000]).read)
        conn.store("upload/r.bin", io.BytesIO(data[100_000:]).read, rest=100_000)
        assert (ftp_lab.root / "upload" / "r.bin").read_bytes() == data
        conn.store("upload/a.bin", io.BytesIO(data[:7]).read)
        conn.store("upload/a.bin", io.BytesIO(data[7:]).read, append=True)
        assert (ftp_lab.root / "upload" / "a.bin").read_bytes() == data
    finally:
        conn.quit()


def test_ascii_mode_download_translates_line_ends(ftp_lab):
    (ftp_lab.root / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    conn = connect(ftp_lab.port)
    try:
        sink = io.BytesIO()
        conn.retrieve("crlf.txt", sink.write, binary=False)
        assert sink.getvalue() == b"a\nb\n"
    finally:
        conn.quit()


def test_active_mode_transfer(ftp_lab):
    logs: list[str] = []
    conn = connect(ftp_lab.port, logs, passive=False)
    try:
        assert [e.name for e in conn.listing("docs")]
        assert any(line.startswith(">PORT") for line in logs)
    finally:
        conn.quit()


def test_passive_refused_falls_back_to_active(tmp_path):
    server = FtpLabServer(port=0, tls="none", large_size=10)
    server.start()
    try:
        logs: list[str] = []
        conn = connect(server.port, logs)
        conn.ftp.sendcmd("NOOP")
        # a server that refuses PASV: pyftpdlib answers 502 to an unknown command
        conn.ftp.makepasv = lambda: (_ for _ in ()).throw(  # type: ignore[method-assign]
            __import__("ftplib").error_perm("502 PASV not allowed"))
        assert conn.listing()
        assert any("switching to active mode" in line for line in logs)
        assert any(line.startswith(">PORT") for line in logs)
        conn.quit()
    finally:
        server.stop()


# -- FTPS -------------------------------------------------------------------------------
def test_explicit_ftps_verifies_with_the_ca_and_reuses_tls_sessions(trusted_ftps):
    server, ca_file = trusted_ftps
    logs: list[str] = []
    conn = connect(server.port, logs, tls="explicit", ca_file=str(ca_file))
    try:
        assert conn.secure
        assert ">AUTH TLS" in logs and ">PROT P" in logs
        assert any(line.startswith("iTLS: version TLSv1") and "subject" in line
                   for line in logs)
        sink = io.BytesIO()
        conn.retrieve("large.bin", sink.write)
        assert sink.getvalue() == (server.root / "large.bin").read_bytes()
        conn.listing()
        assert conn.ftp.data_sessions == 2
        assert conn.ftp.data_sessions_reused == 2
    finally:
        conn.quit()


def test_explicit_ftps_fails_verification_without_the_ca(trusted_ftps):
    server, _ = trusted_ftps
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(server.port, tls="explicit")


def test_implicit_ftps(tmp_path):
    server = FtpLabServer(port=0, tls="implicit", large_size=1000)
    server.start()
    try:
        logs: list[str] = []
        conn = connect(server.port, logs, tls="implicit", verify=False)
        assert conn.secure and ">AUTH TLS" not in logs
        sink = io.BytesIO()
        conn.retrieve("large.bin", sink.write)
        assert len(sink.getvalue()) == 1000
        conn.quit()
    finally:
        server.stop()


def test_refused_auth_tls_does_not_send_the_password(scripted_ftp):
    server = scripted_ftp(Script())
    with pytest.raises(CleartextRefused):
        connect(server.port, anonymous=False, user="u", password="secret", tls="explicit")
    wait_for(server.idle, 5, "the client kept the refused session open")
    assert not any(c.startswith("PASS") for c in server.commands)
    conn = connect(server.port, anonymous=False, user="u", password="secret",
                   tls="explicit", allow_cleartext=True)
    conn.quit()
    assert "PASS secret" in server.commands


# -- hostile server -----------------------------------------------------------------------
def test_foreign_pasv_address_is_ignored(scripted_ftp):
    server = scripted_ftp(Script(pasv_host="10,99,99,99",
                                 listing=["-rw-r--r-- 1 u g 5 Jan 01 2020 ok.txt"]))
    logs: list[str] = []
    conn = connect(server.port, logs)
    try:
        assert [e.name for e in conn.listing()] == ["ok.txt"]
        assert any("using the control peer 127.0.0.1" in line for line in logs)
    finally:
        conn.quit()


def test_pasv_port_out_of_range_is_a_protocol_error(scripted_ftp):
    server = scripted_ftp(Script(pasv_port=(999, 999)))
    conn = connect(server.port)
    try:
        with pytest.raises(FtpProtocolError, match="outside 1–65535"):
            conn.listing()
    finally:
        conn.quit()


def test_257_with_doubled_quotes(scripted_ftp):
    server = scripted_ftp(Script(pwd_reply='257 "/a/b""c" is current'))
    conn = connect(server.port)
    try:
        assert conn.pwd() == '/a/b"c'
    finally:
        conn.quit()


def test_endless_banner_is_stopped(scripted_ftp):
    server = scripted_ftp(Script(banner_lines=-1))
    started = time.monotonic()
    with pytest.raises(FtpProtocolError, match="did not end"):
        connect(server.port)
    assert time.monotonic() - started < 30


def test_non_utf8_names_survive_and_show_replacement_chars(scripted_ftp):
    server = scripted_ftp(Script(listing=["-rw-r--r-- 1 u g 5 Jan 01 2020 caf\udce9.txt"]))
    conn = connect(server.port)
    try:
        (entry,) = conn.listing()
        assert entry.display == "caf\ufffd.txt"
        assert entry.name.encode("utf-8", "surrogateescape") == b"caf\xe9.txt"
    finally:
        conn.quit()


def test_dropped_data_connection_is_a_resumable_interruption(scripted_ftp):
    body = bytes(range(256)) * 400
    server = scripted_ftp(Script(files={"f.bin": body}, drop_after=30_000))
    conn = connect(server.port)
    try:
        sink = io.BytesIO()
        with pytest.raises(TransferInterrupted, match="can be resumed"):
            conn.retrieve("f.bin", sink.write, expected=len(body))
        assert sink.tell() == 30_000
        conn.retrieve("f.bin", sink.write, rest=sink.tell())
        assert sink.getvalue() == body
    finally:
        conn.quit()


def test_ipv6_uses_epsv(tmp_path):
    server = FtpLabServer(host="::1", port=0, tls="none", large_size=2000)
    server.start()
    try:
        logs: list[str] = []
        conn = FtpConnection(FtpOptions("::1", server.port, anonymous=True, timeout=5),
                             lambda d, t: logs.append(d + t))
        conn.connect()
        sink = io.BytesIO()
        conn.retrieve("large.bin", sink.write)
        conn.quit()
        assert len(sink.getvalue()) == 2000
        assert ">EPSV" in logs and ">PASV" not in logs
    finally:
        server.stop()


def test_over_long_reply_line_is_stopped(scripted_ftp):
    server = scripted_ftp(Script(pwd_reply='257 "/' + "a" * 20_000 + '"'))
    conn = FtpConnection(FtpOptions("127.0.0.1", server.port, anonymous=True, timeout=5))
    with pytest.raises(FtpProtocolError, match="longer than"):
        conn.connect()  # the PWD after login gets the monster reply
    assert not conn.connected


def test_remove_tree_deletes_a_folder_with_its_contents(ftp_lab):
    base = ftp_lab.root / "upload" / "tree"
    (base / "a" / "b").mkdir(parents=True)
    (base / "a" / "b" / "deep.txt").write_text("x")
    (base / "top.txt").write_text("y")
    conn = lab_user(ftp_lab.port)
    try:
        assert conn.remove_tree("/upload/tree") == 5
        assert not base.exists()
        assert (ftp_lab.root / "upload").is_dir()
    finally:
        conn.quit()


def test_remove_tree_never_follows_hostile_names(scripted_ftp):
    server = scripted_ftp(Script(listing=["drwxr-xr-x 2 u g 0 Jan 01 2020 ..",
                                          "-rw-r--r-- 1 u g 1 Jan 01 2020 a/../../etc"]))
    conn = connect(server.port)
    try:
        with pytest.raises(ftplib.error_perm, match="502"):
            conn.remove_tree("/pub")  # the scripted server has no RMD
        assert not any(c.startswith("DELE") for c in server.commands)
    finally:
        conn.quit()
