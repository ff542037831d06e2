"""vsftpd as a peer: a private instance in the foreground with its own config file.

``start_vsftpd(start_daemon, site, tls)`` runs one vsftpd (listen=YES on 127.0.0.1, a free
port, its own passive range) over a :class:`VsftpdSite`: an anonymous tree with awkward
names and a symlink, and a throw-away system user whose home is writable. vsftpd logs in
local users through PAM, so the user is a real account (created as root; CI runs as root)
removed again when the test ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.ftp.options import FtpOptions
from tests.interop.conftest import (
    LOOPBACK,
    Daemon,
    DaemonStarter,
    free_port,
    peer_binary,
    tcp_greets,
)

#: names the listing must carry through unchanged
SPACED_NAME = "name with  spaces.txt"
UNICODE_NAME = "naïve résumé – ünïcode.txt"
LINK_NAME = "link to big"
BIG_SIZE = 6 * 1024 * 1024 + 4321  # several 1 MiB blocks: a cancel lands mid-transfer
PASV_PORTS = 20  # passive ports per instance
SECURE_CHROOT = Path("/var/run/vsftpd/empty")  # vsftpd insists on an empty root-owned dir


def sha256(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pattern_bytes(size: int, seed: bytes) -> bytes:
    """Bytes that differ at every offset (a shifted or repeated block changes the hash)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


@dataclass
class VsftpdSite:
    """The files a vsftpd instance serves and the account that may write."""

    anon_root: Path
    home: Path
    user: str
    password: str
    cert: Path
    key: Path
    ca_file: Path


@dataclass
class Vsftpd:
    daemon: Daemon
    site: VsftpdSite
    tls: str

    @property
    def port(self) -> int:
        return self.daemon.port

    def options(self, *, anonymous: bool = False, **changes: object) -> FtpOptions:
        """Login options for the core client (TLS verified against the test CA)."""
        site = self.site
        base: dict[str, object] = dict(
            host=LOOPBACK, port=self.port, anonymous=anonymous, tls=self.tls,
            user="" if anonymous else site.user, password="" if anonymous else site.password,
            ca_file=str(site.ca_file), timeout=10.0)
        base.update(changes)
        return FtpOptions(**base)  # type: ignore[arg-type]


def _make_tree(anon_root: Path) -> None:
    pub = anon_root / "pub"
    (pub / "sub" / "deeper").mkdir(parents=True)
    (pub / SPACED_NAME).write_bytes(b"spaces survive\n")
    (pub / UNICODE_NAME).write_bytes("non-ASCII survives: ünïcode\n".encode())
    (pub / "big.bin").write_bytes(pattern_bytes(BIG_SIZE, b"big"))
    os.symlink("big.bin", pub / LINK_NAME)
    (pub / "sub" / "one.txt").write_bytes(b"one\n")
    (pub / "sub" / "deeper" / "two.bin").write_bytes(pattern_bytes(70_000, b"two"))
    for path in [anon_root, *anon_root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(cert)
    leaf.private_key_pem.write_to_path(key)
    ca.cert_pem.write_to_path(ca_file)
    return cert, key, ca_file


@contextlib.contextmanager
def vsftpd_site_in(tmp_path: Path) -> Iterator[VsftpdSite]:
    """The anonymous tree, the TLS files and a writable system account (removed after)."""
    anon_root = tmp_path / "anon"
    anon_root.mkdir()
    _make_tree(anon_root)
    cert, key, ca_file = _tls_files(tmp_path)
    user = "wbftp" + secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    # the account's home sits outside pytest's 0700 folders: the session runs as the user
    home = Path(tempfile.mkdtemp(prefix="wirebench-vsftpd-"))
    subprocess.run([peer_binary("useradd"), "-M", "-d", str(home), "-s", "/bin/sh", user],
                   check=True, capture_output=True)
    try:
        subprocess.run([peer_binary("chpasswd")], input=f"{user}:{password}\n".encode(),
                       check=True, capture_output=True)
        shutil.chown(home, user, user)
        yield VsftpdSite(anon_root, home, user, password, cert, key, ca_file)
    finally:
        subprocess.run([peer_binary("userdel"), user], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)



def _config(site: VsftpdSite, port: int, tls: str, folder: Path, local_max_rate: int) -> str:
    pasv = free_port()
    lines = [
        "listen=YES", "listen_ipv6=NO", f"listen_address={LOOPBACK}", f"listen_port={port}",
        "background=NO", "seccomp_sandbox=NO", "run_as_launching_user=NO",
        "anonymous_enable=YES", f"anon_root={site.anon_root}", "no_anon_password=YES",
        "local_enable=YES", "write_enable=YES", "local_umask=022", "chroot_local_user=NO",
        "pasv_enable=YES", f"pasv_min_port={pasv}", f"pasv_max_port={pasv + PASV_PORTS}",
        "pasv_address=127.0.0.1", f"secure_chroot_dir={SECURE_CHROOT}",
        "pam_service_name=vsftpd", "utf8_filesystem=YES", "hide_ids=NO",
        "xferlog_enable=YES", f"vsftpd_log_file={folder / 'vsftpd.log'}",
        "log_ftp_protocol=YES", "dual_log_enable=NO", f"local_max_rate={local_max_rate}",
    ]
    if tls != "none":
        lines += [
            "ssl_enable=YES", f"rsa_cert_file={site.cert}", f"rsa_private_key_file={site.key}",
            "allow_anon_ssl=YES", "force_local_logins_ssl=YES", "force_local_data_ssl=YES",
            "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
            "require_ssl_reuse=YES", "ssl_ciphers=HIGH",
        ]
    if tls == "implicit":
        lines.append("implicit_ssl=YES")
    return "\n".join(lines) + "\n"


def start_vsftpd(start_daemon: DaemonStarter, site: VsftpdSite, tls: str = "none", *,
                 local_max_rate: int = 0) -> Vsftpd:
    """One vsftpd serving ``site``; ``tls`` is none, explicit (AUTH TLS) or implicit.

    ``local_max_rate`` (bytes/s, 0 = unlimited) slows the local user's transfers so a
    test can cancel one while bytes still flow.
    """
    SECURE_CHROOT.mkdir(parents=True, exist_ok=True)
    binary = peer_binary("vsftpd")

    def argv(port: int) -> list[str]:
        folder = site.anon_root.parent / f"vsftpd-{tls}"
        folder.mkdir(exist_ok=True)
        conf = folder / "vsftpd.conf"
        conf.write_text(_config(site, port, tls, folder, local_max_rate))
        conf.chmod(0o600)  # vsftpd refuses a config file others may write
        return [binary, str(conf)]

    # an implicit-TLS port sends no clear banner: a TCP accept is all one can wait for
    ready = tcp_greets if tls != "implicit" else None
    daemon = start_daemon(f"vsftpd-{tls}", argv, **({"ready": ready} if ready else {}))
    return Vsftpd(daemon, site, tls)


def vsftpd_version() -> str:
    """vsftpd prints its version on stdin-closed -v (to stdout or stderr, by build)."""
    out = subprocess.run([peer_binary("vsftpd"), "-v"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).strip()
