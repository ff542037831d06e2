"""A blocking FTP/FTPS client on ftplib, hardened for servers one does not trust.

:class:`core.ftp.wire.WireFTP` does the hardening (implicit FTPS, TLS session reuse,
distrusted PASV addresses, bounded replies, UTF-8 names, a masked log).

:class:`FtpConnection` is one logged-in control connection with the operations of the
origin document's section 6.2 (pwd, cwd, dir, rename, delete, mkd, rmd, size, retrbinary,
retrlines) plus transfers that report progress and can be cancelled.
"""

from __future__ import annotations

import contextlib
import ftplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from core.errors import UserError
from core.ftp.guards import check_argument
from core.ftp.listing import RemoteEntry, decode_wire, parse_listing
from core.ftp.options import TLS_EXPLICIT, TLS_IMPLICIT, FtpOptions
from core.ftp.wire import (
    BLOCK_SIZE,
    MAX_LISTING_LINE,
    MAX_LISTING_LINES,
    DataDeadline,
    FtpProtocolError,
    LogFn,
    WireFTP,
)
from core.tlscerts import describe_tls

#: a download writes what it gathered once less than this is left of its block...
GATHER_MARGIN = 64 * 1024
#: ...or once this long has passed since its last write
FLUSH_SECONDS = 0.05


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TransferCancelled()


class CleartextRefused(UserError):
    """AUTH TLS was refused and the user has not agreed to send the password in clear."""


class TransferCancelled(Exception):
    """The user cancelled a transfer (the data connection was aborted with ABOR)."""


class TransferInterrupted(UserError):
    """The data connection ended before the whole file arrived; it can be resumed."""


@dataclass(frozen=True, slots=True)
class LoginInfo:
    welcome: str
    features: tuple[str, ...]
    mlsd: bool
    tls: str  # "" when the control connection is clear
    cwd: str


class FtpConnection:
    """One logged-in control connection. Blocking: run it on a worker thread."""

    def __init__(self, options: FtpOptions, log: LogFn | None = None) -> None:
        self.options = options.validated()
        self.log = log or (lambda d, t: None)
        self.ftp = WireFTP(self.options, self.log)
        self.features: set[str] = set()
        self.mlsd = False
        self.secure = False
        self.lock = threading.RLock()

    # -- login ------------------------------------------------------------------------
    def connect(self) -> LoginInfo:
        o = self.options
        ftp = self.ftp
        with self.lock:
            try:
                ftp.connect(o.host, o.port, o.timeout)
                self.secure = o.tls == TLS_IMPLICIT
                if o.tls == TLS_EXPLICIT:
                    self._auth_tls()
                ftplib.FTP.login(ftp, o.user, o.password)  # FTP_TLS.login would AUTH again
                if self.secure:
                    ftp.prot_p()
                self._read_features()
                cwd = self.pwd()
            except BaseException:
                ftp.close()
                raise
        tls = ""
        if self.secure and isinstance(ftp.sock, ssl.SSLSocket):
            details = describe_tls(ftp.sock)
            self.log("i", "TLS: " + ", ".join(f"{k} {v}" for k, v in details.items()))
            tls = f"{ftp.sock.version()} {ftp.sock.cipher()[0]}"
        return LoginInfo(welcome=ftp.welcome or "", features=tuple(sorted(self.features)),
                         mlsd=self.mlsd, tls=tls, cwd=cwd)

    def _auth_tls(self) -> None:
        try:
            self.ftp.auth()
        except (ftplib.error_perm, ftplib.error_reply, ftplib.error_temp) as exc:
            if not self.options.allow_cleartext:
                raise CleartextRefused(
                    f"The server refused AUTH TLS ({str(exc).strip()}): logging in would send "
                    "the password in clear. Agree to that explicitly, or choose another "
                    "server.", "FTPS") from exc
            self.log("!", "AUTH TLS refused; continuing IN CLEAR as you agreed")
            return
        self.secure = True
        self.log("i", f"TLS (explicit) {self.ftp.sock.version()}")

    def _read_features(self) -> None:
        try:
            reply = self.ftp.sendcmd("FEAT")
        except ftplib.Error:
            return
        mlst_facts = ""
        for line in reply.splitlines()[1:-1]:
            name, _, rest = line.strip().partition(" ")
            self.features.add(name.upper())
            if name.upper() == "MLST":
                mlst_facts = rest.lower()
        self.mlsd = "MLST" in self.features
        if "unix.mode" in mlst_facts and "unix.mode*" not in mlst_facts:
            # offered but not sent by default: ask for it, so the listing can show
            # rwxr-xr-x as users know it rather than the MLSD "perm" letters
            try:
                self.ftp.sendcmd("OPTS MLST type;size;modify;perm;unix.mode;")
            except ftplib.Error:
                pass
        if "UTF8" in self.features:
            try:
                self.ftp.sendcmd("OPTS UTF8 ON")
            except ftplib.Error:
                pass

    # -- navigation and management -------------------------------------------------
    def _cmd(self, fn: Callable, *args: str):
        with self.lock:  # the keepalive NOOP and a user command never interleave
            return fn(*args)

    def pwd(self) -> str:
        return self._cmd(self.ftp.pwd)

    def cwd(self, path: str) -> str:
        check_argument(path, "Path")
        self._cmd(self.ftp.cwd, path)
        return self.pwd()

    def up(self) -> str:
        return self.cwd("..")

    def mkd(self, name: str) -> str:
        return self._cmd(self.ftp.mkd, check_argument(name, "Folder name"))

    def rmd(self, name: str) -> str:
        return self._cmd(self.ftp.rmd, check_argument(name, "Folder name"))

    def remove_tree(self, path: str, depth: int = 0) -> int:
        """Delete a folder and everything in it; returns the number of entries removed.

        Listing names that are not plain names (``..``, ``a/b``) are never followed, so a
        hostile listing cannot steer the deletion outside ``path``.
        """
        check_argument(path, "Folder name")
        if depth > 32:
            raise UserError(f"{path} is nested more than 32 folders deep; stopped there.",
                            "Folder name")
        removed = 0
        with self.lock:
            for entry in self.listing(path):
                if entry.is_raw or entry.name in ("", ".", "..") or "/" in entry.name:
                    self.log("!", f"skipped {entry.name!r} in {path}: not a plain name")
                    continue
                child = f"{path.rstrip('/')}/{entry.name}"
                if entry.is_dir:
                    removed += self.remove_tree(child, depth + 1)
                else:
                    self.ftp.delete(child)
                    removed += 1
            self.ftp.rmd(path)
        return removed + 1

    def delete(self, name: str) -> str:
        return self._cmd(self.ftp.delete, check_argument(name, "File name"))

    def rename(self, old: str, new: str) -> str:
        check_argument(old, "Old name")
        check_argument(new, "New name")
        return self._cmd(self.ftp.rename, old, new)

    def size(self, name: str) -> int | None:
        check_argument(name, "File name")
        with self.lock:
            self.ftp.voidcmd("TYPE I")  # SIZE is only defined in binary mode
            return self.ftp.size(name)

    def noop(self) -> str:
        return self._cmd(self.ftp.voidcmd, "NOOP")

    def quit(self) -> None:
        with self.lock:
            try:
                if self.ftp.sock is not None:
                    self.ftp.quit()
            except (*ftplib.all_errors, UserError):
                pass
            finally:
                self.ftp.close()

    def close(self) -> None:
        self.ftp.close()

    def abort_io(self) -> None:
        """From any thread: wake the blocked read or write now (the connection is lost)."""
        self.ftp.abort_io()

    @property
    def connected(self) -> bool:
        return self.ftp.sock is not None

    # -- listings and text ---------------------------------------------------------
    def listing(self, path: str = "") -> list[RemoteEntry]:
        if path:
            check_argument(path, "Path")
        command = "MLSD" if self.mlsd else "LIST"
        lines = self.read_lines(f"{command} {path}".strip())
        return parse_listing(lines, self.mlsd)

    def read_lines(self, command: str, max_lines: int = MAX_LISTING_LINES) -> list[str]:
        """A text transfer (retrlines) into lines, bounded in line length, line count and
        bytes (the Listing limit option), read within :class:`DataDeadline`."""
        lines: list[str] = []
        max_bytes = int(self.options.max_listing_mb * 1024 * 1024)
        received = 0
        with self.lock:
            self.ftp.voidcmd("TYPE A")
            conn, _ = self.ftp.ntransfercmd(command)
            clock = DataDeadline(self.options.timeout, f"The {command.split()[0]} listing")
            cut = ""
            buf = bytearray(BLOCK_SIZE)
            try:
                pending = b""
                while True:
                    n = clock.recv_into(conn, buf)
                    if not n:
                        break
                    received += n
                    pending += buf[:n]
                    *complete, pending = pending.split(b"\n")
                    lines.extend(decode_wire(x).rstrip("\r") for x in complete)
                    if len(pending) > MAX_LISTING_LINE:
                        cut = f"a line is longer than {MAX_LISTING_LINE // 1024} KiB"
                    elif len(lines) > max_lines:
                        cut = f"more than {max_lines:,} lines"
                    elif received > max_bytes:
                        cut = (f"more than {self.options.max_listing_mb:g} MB (the Listing "
                               "limit; raise it in the FTP options to see more)")
                    if cut:
                        break
                if pending and not cut:
                    lines.append(decode_wire(pending).rstrip("\r"))
                if not cut:
                    self._unwrap(conn)
            finally:
                conn.close()
                self.ftp.data_conn = None
            if cut:
                self._abort_after_close()
                self.log("!", f"{command}: the reply was cut at {min(len(lines), max_lines):,}"
                              f" lines: {cut}")
                return lines[:max_lines]
            self.ftp.voidresp()
        return lines

    def read_text(self, name: str, limit: int = 512 * 1024) -> tuple[str, bool]:
        """The start of a text file (ASCII mode): (text, truncated)."""
        check_argument(name, "File name")
        data = bytearray()
        with self.lock:
            self.ftp.voidcmd("TYPE A")
            conn, _ = self.ftp.ntransfercmd(f"RETR {name}")
            truncated = False
            clock = DataDeadline(self.options.timeout, f"The download of {name}")
            buf = bytearray(BLOCK_SIZE)
            try:
                while True:
                    n = clock.recv_into(conn, buf)
                    if not n:
                        break
                    data += buf[:n]
                    if len(data) > limit:
                        truncated = True
                        break
                if not truncated:
                    self._unwrap(conn)
            finally:
                conn.close()
                self.ftp.data_conn = None
            if truncated:
                self._abort_after_close()
            else:
                self.ftp.voidresp()
        text = bytes(data[:limit]).replace(b"\r\n", b"\n").decode("utf-8", "replace")
        return text, truncated

    # -- transfers -------------------------------------------------------------------
    def retrieve(self, name: str, write: Callable[[bytes], object], *, rest: int = 0,
                 binary: bool = True, on_bytes: Callable[[int], None] | None = None,
                 cancel: threading.Event | None = None, expected: int | None = None) -> int:
        """RETR ``name`` into ``write``; returns bytes received. REST when ``rest``."""
        check_argument(name, "File name")
        received = 0
        with self.lock:
            self.ftp.voidcmd("TYPE I" if binary else "TYPE A")
            conn, size = self.ftp.ntransfercmd(f"RETR {name}", rest or None)
            if expected is None and size is not None:
                expected = size + (rest if rest and size < rest else 0)
            with self._data(conn):
                buf = bytearray(BLOCK_SIZE)
                view = memoryview(buf)
                # a TLS socket hands over one 16 KiB record per recv: gather records into
                # the block and write it once (64x fewer writes and callbacks), but never
                # hold data back longer than FLUSH_SECONDS, so progress stays live
                filled, flushed_at, ended = 0, time.monotonic(), False
                clock = DataDeadline(self.options.timeout, f"The download of {name}")
                while not ended:
                    _check(cancel)
                    n = clock.recv_into(conn, view[filled:])
                    filled += n
                    ended = not n
                    if filled and (ended or filled > BLOCK_SIZE - GATHER_MARGIN
                                   or time.monotonic() - flushed_at > FLUSH_SECONDS):
                        chunk = (view[:filled] if binary
                                 else bytes(view[:filled]).replace(b"\r\n", b"\n"))
                        write(chunk)
                        received += filled
                        if on_bytes is not None:
                            on_bytes(filled)
                        filled, flushed_at = 0, time.monotonic()
            try:
                self.ftp.voidresp()
            except ftplib.error_temp as exc:  # 426: the data connection broke
                raise TransferInterrupted(
                    f"The download of {name} stopped after {rest + received} bytes "
                    f"({str(exc).strip()}); it can be resumed.") from exc
            if binary and expected is not None and rest + received < expected:
                raise TransferInterrupted(
                    f"The download of {name} stopped after {rest + received} of {expected} "
                    "bytes; it can be resumed.")
        return received

    def store(self, name: str, source: Callable[[int], bytes] | BinaryIO, *, rest: int = 0,
              append: bool = False, binary: bool = True,
              on_bytes: Callable[[int], None] | None = None,
              cancel: threading.Event | None = None) -> int:
        """STOR (or APPE, or REST+STOR) ``name`` from ``source``; returns bytes sent.

        ``source`` is a read(n) callable or a binary file. A real file over a plain data
        connection goes with sendfile() (zero-copy), block by block so progress and
        cancel still work.
        """
        read = source if callable(source) else source.read
        check_argument(name, "File name")
        sent = 0
        command = f"APPE {name}" if append else f"STOR {name}"
        with self.lock:
            self.ftp.voidcmd("TYPE I" if binary else "TYPE A")
            conn, _ = self.ftp.ntransfercmd(command, rest or None if not append else None)
            with self._data(conn):
                if binary and not callable(source) and not isinstance(conn, ssl.SSLSocket):
                    while True:
                        _check(cancel)
                        n = conn.sendfile(source, source.tell(), BLOCK_SIZE)
                        if not n:
                            break
                        sent += n
                        if on_bytes is not None:
                            on_bytes(n)
                while True:
                    _check(cancel)
                    block = read(BLOCK_SIZE)
                    if not block:
                        break
                    n = len(block)
                    if not binary:
                        block = block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                    conn.sendall(block)
                    sent += n
                    if on_bytes is not None:
                        on_bytes(n)
            self.ftp.voidresp()
        return sent

    @contextlib.contextmanager
    def _data(self, conn: socket.socket) -> Iterator[socket.socket]:
        """A data connection: TLS closed cleanly at the end, ABOR on cancel, always closed."""
        try:
            yield conn
            self._unwrap(conn)
        except TransferCancelled:
            conn.close()
            self._abort_after_close()
            raise
        finally:
            conn.close()
            self.ftp.data_conn = None

    def _unwrap(self, conn: socket.socket) -> None:
        if isinstance(conn, ssl.SSLSocket):
            try:
                conn.unwrap()
            except (OSError, ValueError):
                pass

    def _abort_after_close(self) -> None:
        """ABOR after the data socket closed, then NOOP to find the end of the replies.

        Servers answer ABOR with 426+226, 225 alone, or 226 of the finished transfer
        and then 225: reading up to the NOOP's 200 keeps the control channel in step.
        """
        self.ftp.putline("ABOR")
        self.ftp.putline("NOOP")
        for _ in range(6):
            if self.ftp.getmultiline()[:3] == "200":
                return
        raise FtpProtocolError("The server did not answer ABOR in step; reconnect.")
