"""The lab FTP server: pyftpdlib on its own thread, a temp root with sample files.

Anonymous users may read; the ``lab`` user may also write. With ``tls="explicit"`` the
same port also offers ``AUTH TLS`` (pyftpdlib's TLS_FTPHandler, the lab's self-signed
certificate); ``tls="implicit"`` speaks TLS from the first byte, like port 990.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from core.errors import UserError
from core.servers.base import ServerController
from core.servers.lab_account import LAB_PASSWORD, LAB_USER
from core.servers.registry import ServeKind

# pyftpdlib logs every session and transfer at INFO; the lab reports via log() instead.
# Its IOLoop.loop() installs a stderr handler at INFO when the "pyftpdlib" logger has no
# handler yet: a NullHandler keeps that from happening (and the level at WARNING).
_PYFTPDLIB_LOG = logging.getLogger("pyftpdlib")
_PYFTPDLIB_LOG.setLevel(logging.WARNING)
_PYFTPDLIB_LOG.addHandler(logging.NullHandler())

LAB_PORT = 2121
ANON_PERMS = "elr"
USER_PERMS = "elradfmwMT"
LARGE_NAME = "large.bin"
#: a large file for transfer demos; the sample is deterministic so checksums repeat
LARGE_SIZE = 8 * 1024 * 1024
#: sockets at once, control and data (pyftpdlib's own default max_cons 512); when full
#: the control connection idle longest is closed (421), so a new client is served
MAX_CONNECTIONS = 512


class LabFtpServer(FTPServer):
    """pyftpdlib's server, evicting the idlest client when full instead of refusing."""

    controller: FtpLabServer | None = None

    def handle_accepted(self, sock, addr):  # noqa: ANN001, ANN201 (pyftpdlib's signature)
        # the new handler joins the map before pyftpdlib compares it with max_cons
        if self.max_cons and self._map_len() >= self.max_cons:
            self._evict_idlest()
        return super().handle_accepted(sock, addr)

    def _evict_idlest(self) -> None:
        idle = [h for h in list(self.ioloop.socket_map.values())
                if isinstance(h, FTPHandler) and getattr(h, "data_channel", None) is None]
        if not idle:
            return
        victim = min(idle, key=lambda h: h.last_active)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            victim.socket.send(b"421 Too many connections: closing the idlest one.\r\n")
        victim.close()
        if self.controller is not None:
            self.controller.log_limit(
                "max connections", f"{self.max_cons} connections (max connections): "
                f"closed the client idle {time.monotonic() - victim.last_active:.0f} s")


def populate(root: Path, large_size: int = LARGE_SIZE) -> None:
    """Sample content: text, nested folders, a non-ASCII name, a large binary file."""
    (root / "readme.txt").write_text(
        "Welcome to the Wirebench lab FTP server.\n"
        "Anonymous users can read; log in as 'lab' to write in /upload.\n", "utf-8")
    docs = root / "docs"
    (docs / "notes").mkdir(parents=True, exist_ok=True)
    (docs / "rfc959-summary.txt").write_text(
        "RFC 959: File Transfer Protocol.\nCommands: USER PASS CWD PWD LIST RETR STOR.\n",
        "utf-8")
    (docs / "notes" / "todo.txt").write_text("- try MLSD\n- try REST\n", "utf-8")
    (root / "Résumé – café.txt").write_text("Non-ASCII names travel as UTF-8.\n", "utf-8")
    (root / "name with spaces.txt").write_text("spaces are fine\n", "utf-8")
    (root / "upload").mkdir(exist_ok=True)
    pattern = bytes(range(256)) * 4096  # 1 MiB
    with open(root / LARGE_NAME, "wb") as f:
        left = large_size
        while left > 0:
            f.write(pattern[:left])
            left -= len(pattern)


def _tls_handler_class(implicit: bool, files: tuple[str, str] | None) -> type:
    from pyftpdlib.handlers import TLS_FTPHandler

    from core.tlscerts import self_signed

    cert, key = files or self_signed()

    class LabTlsHandler(TLS_FTPHandler):
        certfile = str(cert)
        keyfile = str(key)
        ssl_context = None  # built per class from certfile/keyfile

        def handle(self) -> None:
            if implicit:
                # implicit FTPS: the handshake comes before the banner
                self.secure_connection(self.ssl_context)
            super().handle()

    return LabTlsHandler


class FtpLabServer(ServerController):
    kind = "ftp"
    title = "FTP lab (pyftpdlib)"

    def __init__(self, host: str = "127.0.0.1", port: int = LAB_PORT, *, tls: str = "explicit",
                 mlsd: bool = True, root: Path | None = None, large_size: int = LARGE_SIZE,
                 kind: str | None = None, rate_limit: int = 0, outbox=None,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(host, port, outbox)
        self.max_connections = max_connections
        if tls not in ("none", "explicit", "implicit"):
            raise UserError("FTPS mode must be none, explicit or implicit.", "FTPS")
        self.tls = tls
        self.mlsd = mlsd
        self.large_size = large_size
        #: bytes per second per data connection (0 = unlimited): a slow link on loopback
        self.rate_limit = rate_limit
        #: (cert.pem, key.pem); None = the lab's self-signed pair
        self.tls_files: tuple[str, str] | None = None
        self._given_root = root
        self.root: Path | None = root
        self._own_root = False
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        if kind:
            self.kind = kind
        if tls == "implicit":
            self.title = "FTPS lab, implicit TLS (pyftpdlib)"

    def describe(self) -> str:
        tls = {"none": "plain FTP", "explicit": "FTP + AUTH TLS",
               "implicit": "implicit FTPS"}[self.tls]
        return (f"{tls}; anonymous read-only; user {LAB_USER} / {LAB_PASSWORD} can write; "
                f"root {self.root}")

    def _handler_class(self) -> type:
        base = (FTPHandler if self.tls == "none"
                else _tls_handler_class(self.tls == "implicit", self.tls_files))
        controller = self
        authorizer = DummyAuthorizer()
        authorizer.add_anonymous(str(self.root), perm=ANON_PERMS)
        authorizer.add_user(LAB_USER, LAB_PASSWORD, str(self.root), perm=USER_PERMS)
        proto = dict(base.proto_cmds)
        if not self.mlsd:
            for cmd in ("MLSD", "MLST"):
                proto.pop(cmd, None)

        class LabHandler(base):  # type: ignore[misc, valid-type]
            proto_cmds = proto
            banner = "Wirebench lab FTP server ready."
            passive_ports = None
            timeout = 300
            #: when the client last sent a command (0 until the banner: idlest of all)
            last_active = 0.0

            def on_connect(self) -> None:
                self.last_active = time.monotonic()
                controller.count(opened=1)

            def found_terminator(self) -> None:
                self.last_active = time.monotonic()  # a command: the client is not idle
                super().found_terminator()

            def on_disconnect(self) -> None:
                controller.count(closed=1)

            def on_login(self, username: str) -> None:
                controller.log(f"{self.remote_ip}: {username} logged in")

            def on_file_sent(self, file: str) -> None:
                controller.count(bytes_out=os.path.getsize(file), requests=1)

            def on_file_received(self, file: str) -> None:
                controller.count(bytes_in=os.path.getsize(file), requests=1)

        LabHandler.authorizer = authorizer
        if self.rate_limit:
            LabHandler.dtp_handler = self._throttled_dtp(base.dtp_handler)
        return LabHandler

    def _throttled_dtp(self, base: type) -> type:
        from pyftpdlib.handlers import ThrottledDTPHandler

        if base is not FTPHandler.dtp_handler:
            raise UserError("A rate limit works on plain FTP only: choose --tls none.",
                            "--rate-limit")
        return type("LabThrottledDTP", (ThrottledDTPHandler,),
                    {"read_limit": self.rate_limit, "write_limit": self.rate_limit})

    def _start(self) -> None:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="wirebench-ftp-"))
            self._own_root = True
            populate(self.root, self.large_size)
        try:
            handler = self._handler_class()
            self._server = LabFtpServer((self.host, self.port), handler, ioloop=IOLoop())
        except BaseException:
            self._remove_root()
            raise
        self._server.max_cons = self.max_connections
        self._server.controller = self
        self.port = self._server.address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self.guarded(self._serve), name=f"{self.kind}:serve",
                                        daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        # serve_forever() would log a start banner on every non-blocking turn
        while not self._stopping.is_set():
            server.ioloop.loop(0.2, blocking=False)
        server.close_all()

    def _stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._server = None
        self._remove_root()

    def _remove_root(self) -> None:
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = self._given_root
            self._own_root = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    return [FtpLabServer(host, 0 if ephemeral else LAB_PORT, tls="explicit")]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.servers.serve import add_common_arguments

    add_common_arguments(parser, LAB_PORT)
    parser.add_argument("--tls", choices=("none", "explicit", "implicit"), default="explicit",
                        help="FTPS: AUTH TLS offered (explicit, default), none, or implicit")
    parser.add_argument("--no-mlsd", action="store_true",
                        help="hide MLSD/MLST so clients must parse LIST")
    parser.add_argument("--root", type=Path,
                        help="serve this folder (default: a temp folder with samples)")
    parser.add_argument("--rate-limit", type=int, default=0,
                        help="bytes/s per transfer, to watch progress on loopback (plain FTP)")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                        help="sockets at once; when full the idlest client is closed "
                             f"(default {MAX_CONNECTIONS}, as pyftpdlib)")
    parser.add_argument("--large-size", type=int, default=LARGE_SIZE,
                        help=f"bytes of the sample {LARGE_NAME} (default {LARGE_SIZE})")


def _build(args: argparse.Namespace) -> list[ServerController]:
    if args.root is not None and not args.root.is_dir():
        raise UserError(f"--root {args.root} is not a folder: create it or pick another.",
                        "--root")
    return [FtpLabServer(args.host, args.port, tls=args.tls, mlsd=not args.no_mlsd,
                         root=args.root, large_size=args.large_size,
                         rate_limit=args.rate_limit,
                         max_connections=max(1, args.max_connections))]


SERVE_KINDS = {"ftp": ServeKind(help="the lab FTP server (pyftpdlib; FTPS optional)",
                                add_arguments=_add_arguments, build=_build)}
