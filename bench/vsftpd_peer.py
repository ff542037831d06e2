"""vsftpd as a benchmark peer: started in a temp folder on a free loopback port, stopped after.

Anonymous login (no system account or PAM needed), uploads allowed, and with ``tls`` the
explicit FTPS a FileZilla user meets: ``AUTH TLS`` required for login and data, and
``require_ssl_reuse`` (a data connection must resume the control connection's TLS session).
``run_as_launching_user`` keeps it unprivileged-friendly: no chroot, no user switch, so
the files it writes belong to whoever runs the bench.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

START_DEADLINE = 10.0  # seconds until vsftpd must greet a client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def vsftpd_config(root: Path, port: int, tls_files: tuple[Path, Path] | None) -> str:
    lines = [
        "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", f"listen_port={port}",
        "background=NO", "run_as_launching_user=YES", "seccomp_sandbox=NO",
        "isolate=NO", "isolate_network=NO",
        "anonymous_enable=YES", "local_enable=NO", "no_anon_password=YES",
        f"anon_root={root}", "write_enable=YES", "anon_upload_enable=YES",
        "anon_mkdir_write_enable=YES", "anon_other_write_enable=YES", "anon_umask=022",
        "pasv_enable=YES", "pasv_address=127.0.0.1", "connect_from_port_20=NO",
        "xferlog_enable=NO", "dirmessage_enable=NO", "use_localtime=NO",
        "max_per_ip=0", "max_clients=0",
    ]
    if tls_files:
        cert, key = tls_files
        lines += [
            "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES",
            "force_anon_data_ssl=YES", "require_ssl_reuse=YES", "ssl_request_cert=NO",
            f"rsa_cert_file={cert}", f"rsa_private_key_file={key}",
        ]
    return "\n".join(lines) + "\n"


class VsftpdPeer:
    """One vsftpd process serving ``root``; use as a context manager."""

    def __init__(self, executable: str, root: Path, work: Path,
                 tls_files: tuple[Path, Path] | None = None) -> None:
        self.executable, self.root, self.work, self.tls_files = executable, root, work, tls_files
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> VsftpdPeer:
        self.port = free_port()
        conf = self.work / "vsftpd.conf"
        conf.write_text(vsftpd_config(self.root, self.port, self.tls_files))
        log = (self.work / "vsftpd.log").open("wb")
        self.proc = subprocess.Popen([self.executable, str(conf)], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     process_group=0)
        log.close()
        self._wait_for_greeting()
        return self

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        log = (self.work / "vsftpd.log").read_text(errors="replace").strip()
        raise SystemExit(f"vsftpd did not start on 127.0.0.1:{self.port}: {log or 'no output'}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        # its own process group: the per-session children it forked go with it
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self.proc = None
