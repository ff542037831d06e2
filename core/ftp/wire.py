"""WireFTP: ``ftplib.FTP_TLS`` hardened for servers one does not trust.

What a FileZilla user takes for granted:

* implicit FTPS (TLS from the first byte, port 990) besides explicit ``AUTH TLS``;
* TLS session reuse on data connections (vsftpd ``require_ssl_reuse`` and FileZilla Server
  refuse a data connection that starts a fresh session);
* the PASV address is never trusted (the control peer's address is used) and a port
  outside 1–65535 is a protocol error, not an ``OverflowError``;
* passive mode falls back to active once when PASV is refused or its port unreachable;
* replies are bounded: an over-long line, an endless ``220-`` banner or a listing that
  never ends stops with :class:`FtpProtocolError` instead of eating memory forever;
* names travel as UTF-8 with ``surrogateescape``: non-UTF-8 names survive a round trip;
* every command and reply goes to a log callback, the password masked.

:class:`core.ftp.client.FtpConnection` drives one of these.
"""

from __future__ import annotations

import ftplib
import socket
import time
from collections.abc import Callable

from core.errors import UserError
from core.ftp.guards import check_argument
from core.ftp.listing import decode_wire, encode_wire
from core.ftp.options import TLS_IMPLICIT, TLS_NONE, FtpOptions
from core.tlscerts import client_context

#: transfer block size: large blocks keep Python's per-call cost far below the wire's
BLOCK_SIZE = 1024 * 1024
#: a reply of more lines or bytes than this is hostile or broken
MAX_REPLY_LINES = 1000
MAX_REPLY_BYTES = 256 * 1024
#: a listing longer than this is cut (and said so in the log)
MAX_LISTING_LINES = 200_000
MAX_LISTING_LINE = 64 * 1024

LogFn = Callable[[str, str], None]  # (direction ">", "<" or "!"/"i", text)


class FtpProtocolError(UserError):
    """The server broke the protocol (bad PASV port, endless reply, …)."""



def mask(line: str) -> str:
    """A command line for the log: the password never shows."""
    if line[:5].upper() == "PASS ":
        return "PASS ********"
    return line


class WireFTP(ftplib.FTP_TLS):
    """ftplib with the protocol hardening described in the module docstring."""

    def __init__(self, options: FtpOptions, log: LogFn | None = None) -> None:
        context = (client_context(options.verify, options.ca_file)
                   if options.tls != TLS_NONE else None)
        super().__init__(context=context, timeout=options.timeout, encoding="utf-8")
        self.implicit = options.tls == TLS_IMPLICIT
        self.passive_mode = options.passive
        self._log = log or (lambda d, t: None)
        self._reader = None
        self._reader_sock: socket.socket | None = None
        self.data_sessions_reused = 0
        self.data_sessions = 0

    # -- connection ----------------------------------------------------------------
    def connect(self, host: str = "", port: int = 0, timeout: float = -999,
                source_address: tuple[str, int] | None = None) -> str:
        if host:
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        self.sock = socket.create_connection((self.host, self.port), self.timeout,
                                             source_address=source_address)
        self.af = self.sock.family
        if self.implicit:
            self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
            self._log("i", f"TLS (implicit) {self.sock.version()}")
        self.file = None
        self.welcome = self.getresp()
        return self.welcome

    def _control_reader(self):
        if self._reader_sock is not self.sock:
            # ftplib's text file would die on a non-UTF-8 byte: read bytes ourselves
            self._reader = self.sock.makefile("rb")
            self._reader_sock = self.sock
        return self._reader

    def putline(self, line: str) -> None:
        check_argument(line, "Command")
        self._log(">", mask(line))
        self.sock.sendall(encode_wire(line) + b"\r\n")

    def getline(self) -> str:
        raw = self._control_reader().readline(self.maxline + 1)
        if len(raw) > self.maxline:
            self.close()  # the rest of the line would be read as replies: out of step
            raise FtpProtocolError(f"The server sent a reply line longer than {self.maxline} "
                                   "bytes; the connection was closed.")
        if not raw:
            raise EOFError("the server closed the control connection")
        line = decode_wire(raw).rstrip("\r\n")
        self._log("<", line)
        return line

    def getmultiline(self) -> str:
        started = time.monotonic()
        line = self.getline()
        if line[3:4] != "-":
            return line
        code, lines, size = line[:3], [line], len(line)
        while True:
            nextline = self.getline()
            lines.append(nextline)
            size += len(nextline)
            if nextline[:3] == code and nextline[3:4] != "-":
                return "\n".join(lines)
            too_slow = self.timeout and time.monotonic() - started > 3 * self.timeout
            if len(lines) > MAX_REPLY_LINES or size > MAX_REPLY_BYTES or too_slow:
                self.close()
                raise FtpProtocolError(
                    f"The server's {code} reply did not end after {len(lines)} lines "
                    f"({size} bytes); the connection was closed. The server is broken "
                    "or hostile.")

    def close(self) -> None:
        reader, self._reader, self._reader_sock = self._reader, None, None
        if reader is not None:
            try:
                reader.close()
            except OSError:
                pass
        super().close()

    # -- data connections -------------------------------------------------------------
    def makepasv(self) -> tuple[str, int]:
        peer = self.sock.getpeername()
        if self.af == socket.AF_INET:
            offered, port = ftplib.parse227(self.sendcmd("PASV"))
            host = peer[0]
            if offered != host:
                self._log("i", f"PASV named {offered}; using the control peer {host} instead")
        else:
            host, port = ftplib.parse229(self.sendcmd("EPSV"), peer)
        if not 1 <= port <= 65535:
            raise FtpProtocolError(f"The server offered data port {port}, which is outside "
                                   "1–65535: it is broken or hostile.")
        return host, port

    def makeport(self) -> socket.socket:
        # listen on the control connection's own address, not on every interface
        local = self.sock.getsockname()[0]
        sock = socket.create_server((local, 0), family=self.af, backlog=1)
        port = sock.getsockname()[1]
        if self.af == socket.AF_INET:
            self.sendport(local, port)
        else:
            self.sendeprt(local, port)
        sock.settimeout(self.timeout)
        return sock

    def _open_passive(self) -> socket.socket | None:
        """The passive data socket, or None after switching to active mode."""
        try:
            host, port = self.makepasv()
            return socket.create_connection((host, port), self.timeout)
        except FtpProtocolError:
            raise
        except (ftplib.error_perm, ftplib.error_temp, OSError) as exc:
            self._log("!", f"Passive mode failed ({exc}); switching to active mode")
            self.passive_mode = False
            return None

    def ntransfercmd(self, cmd: str, rest: int | str | None = None
                     ) -> tuple[socket.socket, int | None]:
        conn = self._open_passive() if self.passive_mode else None
        listener = None if conn is not None else self.makeport()
        try:
            if rest is not None:
                self.sendcmd(f"REST {rest}")
            resp = self.sendcmd(cmd)
            if resp[0] == "2":
                resp = self.getresp()
            if resp[0] != "1":
                raise ftplib.error_reply(resp)
            if listener is not None:
                conn, _ = listener.accept()
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        finally:
            if listener is not None:
                listener.close()
        size = ftplib.parse150(resp) if resp[:3] == "150" else None
        conn.settimeout(self.timeout)
        if self._prot_p:
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
            self.data_sessions += 1
            if conn.session_reused:
                self.data_sessions_reused += 1
        return conn, size
