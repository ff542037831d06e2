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
* one timeout bounds a whole reply (not each recv), and a data connection must bring
  64 KiB per timeout (:class:`DataDeadline`): a server dripping a byte a second cannot
  hold the client past its timeout;
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
MAX_LISTING_LINES = 100_000  # ~43 MB parsed; the byte cap usually comes first
MAX_LISTING_LINE = 64 * 1024
#: a data connection that brings less than this per timeout is stalled (or dripping)
PROGRESS_BYTES = 64 * 1024

LogFn = Callable[[str, str], None]  # (direction ">", "<" or "!"/"i", text)


class FtpProtocolError(UserError):
    """The server broke the protocol (bad PASV port, endless reply, …)."""


class FtpTimeout(TimeoutError):
    """A reply or a data transfer did not complete within the Timeout setting."""


class DataDeadline:
    """Receives on a data connection that must bring :data:`PROGRESS_BYTES` per timeout.

    A per-recv timeout lets a peer sending one byte just inside it go on for ever; this
    clock restarts only when a whole :data:`PROGRESS_BYTES` arrived, so a stalled or
    dripping transfer ends within one timeout while a slow honest one goes on.
    """

    def __init__(self, timeout: float, what: str) -> None:
        self.timeout = timeout
        self.what = what
        self._window_end = time.monotonic() + timeout
        self._window_bytes = 0

    def recv_into(self, conn: socket.socket, buffer: bytearray | memoryview) -> int:
        left = self._window_end - time.monotonic()
        if left <= 0:
            raise FtpTimeout(f"{self.what} brought less than {PROGRESS_BYTES // 1024} KiB in "
                             f"{self.timeout:g} s (Timeout): the server stalled; stopped.")
        conn.settimeout(left)
        try:
            n = conn.recv_into(buffer)
        except TimeoutError as exc:
            raise FtpTimeout(f"{self.what} stalled for {self.timeout:g} s (Timeout); "
                             "stopped.") from exc
        self._window_bytes += n
        if self._window_bytes >= PROGRESS_BYTES:
            self._window_end = time.monotonic() + self.timeout
            self._window_bytes = 0
        return n



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
        self._inbox = bytearray()  # control bytes received, not yet a line
        self._reader_sock: socket.socket | None = None
        self._reply_deadline: float | None = None
        #: the data connection in use, so :meth:`abort_io` can wake a blocked read
        self.data_conn: socket.socket | None = None
        #: the control socket while it connects, and whether abort_io() was called
        self._connecting: socket.socket | None = None
        self._aborted = False
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
        self.sock = self._open_control(source_address)
        if self._aborted:  # Stop came between the connect and the line above
            self.sock.close()
            raise ConnectionAbortedError("stopped while connecting")
        self.af = self.sock.family
        if self.implicit:
            self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
            self._log("i", f"TLS (implicit) {self.sock.version()}")
        self.file = None
        self.welcome = self.getresp()
        return self.welcome

    def _raw_line(self) -> bytes:
        """The next control line (at most maxline + 1 bytes) within the reply deadline."""
        if self._reader_sock is not self.sock:
            # a new socket (TLS after AUTH): nothing read on the old one may count
            self._inbox.clear()
            self._reader_sock = self.sock
        deadline = self._reply_deadline or time.monotonic() + (self.timeout or 30.0)
        while True:
            end = self._inbox.find(b"\n", 0, self.maxline + 1)
            if end >= 0 or len(self._inbox) > self.maxline:
                size = end + 1 if end >= 0 else self.maxline + 1
                line = bytes(self._inbox[:size])
                del self._inbox[:size]
                return line
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise FtpTimeout(f"The server's reply did not complete within "
                                 f"{self.timeout:g} s (Timeout); the connection was closed.")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(8192)
            except TimeoutError:
                continue  # the deadline check above says it
            finally:
                if self.sock is not None:
                    self.sock.settimeout(self.timeout)
            if not chunk:
                line = bytes(self._inbox)
                self._inbox.clear()
                return line
            self._inbox += chunk

    def putline(self, line: str) -> None:
        check_argument(line, "Command")
        self._log(">", mask(line))
        self.sock.sendall(encode_wire(line) + b"\r\n")

    def getline(self) -> str:
        raw = self._raw_line()
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
        """One whole reply, read within one timeout whatever the server's pace."""
        outer = self._reply_deadline is None
        if outer:
            self._reply_deadline = time.monotonic() + (self.timeout or 30.0)
        try:
            return self._multiline()
        finally:
            if outer:
                self._reply_deadline = None

    def _multiline(self) -> str:
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
            if len(lines) > MAX_REPLY_LINES or size > MAX_REPLY_BYTES:
                self.close()
                raise FtpProtocolError(
                    f"The server's {code} reply did not end after {len(lines)} lines "
                    f"({size} bytes); the connection was closed. The server is broken "
                    "or hostile.")

    def _open_control(self, source_address: tuple[str, int] | None) -> socket.socket:
        """``socket.create_connection``, except that the socket still connecting is kept
        where :meth:`abort_io` can shut it: Stop then ends a connect to a host that
        never answers at once, not at Timeout."""
        error: OSError | None = None
        for family, kind, proto, _name, address in socket.getaddrinfo(
                self.host, self.port, 0, socket.SOCK_STREAM):
            if self._aborted:
                break
            sock = socket.socket(family, kind, proto)
            self._connecting = sock
            try:
                sock.settimeout(self.timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(address)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
            finally:
                self._connecting = None
        if self._aborted:
            raise ConnectionAbortedError("stopped while connecting")
        raise error or OSError(f"no address found for {self.host}")

    def abort_io(self) -> None:
        """Wake any blocked read or write at once (Stop, Cancel, closing the queue)."""
        self._aborted = True  # a connect in progress tries no further address
        for sock in (self._connecting, self.data_conn, self.sock):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._inbox.clear()
        self._reader_sock = None
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
        self.data_conn = conn
        return conn, size
