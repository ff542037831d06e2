"""smtplib.SMTP that reports every line it sends and receives, as swaks shows them.

Lines are captured at the source (``send`` and ``getreply``), never by parsing debug
prints; replies are read by :class:`core.smtp.replies.ReplyReader`, not smtplib's reader.
Markers: ``->`` sent, ``<-`` received, ``~>``/``<~`` the same inside TLS, ``***`` errors,
``===`` information. AUTH lines are decoded with the password masked (base64 would give it
away), and DATA goes out in chunks of whole lines so progress can be reported, Stop
honoured, and no single step holds the GIL for long.
"""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.events import Event
from core.smtp.errors import StoppedByUser
from core.smtp.replies import Reply, ReplyReader, ReplyTooLong
from core.smtp.reply_codes import explain
from core.tlscerts import describe_tls

MASK = "********"
BODY_LINES_SHOWN = 2000  # "show body" still bounds the transcript
_CHUNK = 64 * 1024
_RECV_SIZE = 64 * 1024
_PROGRESS_EVERY = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpLine(Event):
    """One transcript line: ``marker`` is ->, <-, ~>, <~, *** or ===."""

    marker: str
    text: str
    delta: float = 0.0

    def format(self) -> str:
        return f"{self.delta:+8.3f}s {self.marker:>3} {self.text}"


def _quote_periods(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


def _b64_text(blob: bytes | str) -> str | None:
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", "replace")
    return text.replace("\0", "\\0")


class TranscriptSMTP(smtplib.SMTP):
    """smtplib.SMTP that reports every line it sends and receives."""

    def __init__(self, emit: Callable[[str, str], None], *, timeout: float,
                 tls_context: ssl.SSLContext | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 show_body: bool = False, local_hostname: str | None = None,
                 aborted: threading.Event | None = None) -> None:
        self._emit = emit
        self._implicit_tls = tls_context
        self._progress = progress
        self.show_body = show_body
        self.in_tls = False
        self.aborted = aborted or threading.Event()
        self.connecting: socket.socket | None = None  # the socket, even before connect()
        self._auth_mechanism = ""
        self._auth_steps = 0
        self._last_challenge = ""
        self.server_name = ""  # the name TLS checks (SNI), set by connect()
        self._replies = ReplyReader()
        self._ready: deque[Reply] = deque()  # replies read ahead (a pipelining server)
        # getfqdn() may wait on DNS for seconds; the plain host name never does
        super().__init__(timeout=timeout, local_hostname=local_hostname or socket.gethostname())

    # -- markers -----------------------------------------------------------------------
    def _out(self, text: str) -> None:
        self._emit("~>" if self.in_tls else "->", text)

    def _in(self, text: str) -> None:
        self._emit("<~" if self.in_tls else "<-", text)

    # -- socket ------------------------------------------------------------------------
    def connect(self, host: str = "localhost", port: int = 0,
                source_address: tuple[str, int] | None = None) -> tuple[int, bytes]:
        """smtplib's connect on our own opener: Stop-able, implicit TLS, SNI from ``host``."""
        if source_address:
            self.source_address = source_address
        self.server_name = host
        self.sock = self._open(host, port or self.default_port, self.timeout)
        self._drop_buffered_replies()
        return self.getreply()

    def _open(self, host: str, port: int, timeout: float | None) -> socket.socket:
        sock = self._connect_socket(host, port, timeout)
        if self._implicit_tls is not None:
            try:
                sock = self._handshake(self._implicit_tls, sock)
            except BaseException:
                sock.close()
                raise
            self.in_tls = True
            self._emit("===", _tls_summary(sock))
        return sock

    def _handshake(self, context: ssl.SSLContext, sock: socket.socket) -> ssl.SSLSocket:
        # wrap first, shake hands after: the TLS socket is then reachable for Stop
        tls = context.wrap_socket(sock, server_hostname=self.server_name,
                                  do_handshake_on_connect=False)
        self.connecting = tls
        try:
            tls.do_handshake()
        except BaseException as exc:
            tls.close()  # it owns the descriptor now; the plain socket was detached
            if self.aborted.is_set() and isinstance(exc, OSError | ValueError):
                raise StoppedByUser("stopped during the TLS handshake") from exc
            raise
        return tls

    def _connect_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """socket.create_connection, except that the socket being connected is kept in
        :attr:`connecting` so Stop can shut it down while connect() or a handshake waits."""
        error: OSError | None = None
        for family, kind, proto, _, address in socket.getaddrinfo(host, port, 0,
                                                                   socket.SOCK_STREAM):
            if self.aborted.is_set():
                raise StoppedByUser("stopped while connecting")
            sock = socket.socket(family, kind, proto)
            self.connecting = sock
            try:
                sock.settimeout(timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                if self.aborted.is_set():
                    raise StoppedByUser("stopped while connecting") from exc
                error = exc
        raise error or OSError(f"no address found for {host}")

    def starttls(self, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:  # type: ignore[override]
        """smtplib's STARTTLS, with a handshake that Stop can interrupt."""
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("starttls"):
            raise smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server.")
        code, reply = self.docmd("STARTTLS")
        if code != 220:
            raise smtplib.SMTPResponseException(code, reply)
        context = context or ssl.create_default_context()
        self.sock = self._handshake(context, self.sock)
        # RFC 3207 section 4.2: bytes that came in clear after the 220 must not count
        self._drop_buffered_replies()
        # RFC 3207: forget everything learned before TLS, EHLO again
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False
        self.in_tls = True
        self._emit("===", _tls_summary(self.sock))
        return code, reply

    # -- verbs --------------------------------------------------------------------------
    # RFC 5321 spells the verbs upper-case, as swaks and Postfix do. smtplib's spelling
    # ("ehlo", "data", and "mail FROM:" on 3.11 but "mail from:" on 3.13) would make the
    # transcript, and what a server sees, depend on the Python that runs us.
    def putcmd(self, cmd: str, args: str = "") -> None:
        if not self._auth_mechanism:  # an AUTH continuation is base64: case matters
            cmd = cmd.upper()
        super().putcmd(cmd, args)

    def mail(self, sender: str, options: tuple[str, ...] | list[str] = ()
             ) -> tuple[int, bytes]:
        optionlist = ""
        if options and self.does_esmtp:
            if any(option.lower() == "smtputf8" for option in options):
                if not self.has_extn("smtputf8"):
                    raise smtplib.SMTPNotSupportedError(
                        "SMTPUTF8 not supported by server")
                self.command_encoding = "utf-8"
            optionlist = " " + " ".join(options)
        self.putcmd("MAIL", f"FROM:{smtplib.quoteaddr(sender)}{optionlist}")
        return self.getreply()

    def rcpt(self, recip: str, options: tuple[str, ...] | list[str] = ()
             ) -> tuple[int, bytes]:
        optionlist = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("RCPT", f"TO:{smtplib.quoteaddr(recip)}{optionlist}")
        return self.getreply()

    # -- capture -----------------------------------------------------------------------
    def send(self, s: str | bytes) -> None:
        if isinstance(s, str):
            text = s
            s = s.encode(self.command_encoding)
        else:
            text = s.decode("utf-8", "replace")
        self._out(self._shown(text.rstrip("\r\n")))
        super().send(s)

    def _shown(self, line: str) -> str:
        """The line as the transcript shows it: AUTH decoded, the password masked."""
        if not self._auth_mechanism:
            return line
        mech = self._auth_mechanism
        first = self._auth_steps == 0
        self._auth_steps += 1
        if first:
            verb, _, rest = line.partition(" ")
            name, _, initial = rest.partition(" ")
            if not initial:
                return line
            return f"{verb} {name} [{self._decoded_response(mech, initial, first=True)}]"
        return f"[{self._decoded_response(mech, line, first=False)}]"

    def _decoded_response(self, mech: str, blob: str, *, first: bool) -> str:
        text = _b64_text(blob)
        if text is None:
            return MASK  # unknown content in an AUTH exchange: never risk showing it
        if mech == "PLAIN":
            parts = text.split("\\0")
            if len(parts) == 3:
                return f"{parts[0]}\\0{parts[1]}\\0{MASK}"
            return MASK
        if mech == "LOGIN":
            # the initial response is the user name; later ones answer the challenge
            asks_user = "user" in self._last_challenge.lower()
            return text if first or asks_user else MASK
        if mech == "CRAM-MD5":
            user, _, digest = text.partition(" ")
            return f"{user} <hmac-md5 {digest[:8]}…>" if digest else MASK
        return MASK

    def getreply(self) -> tuple[int, bytes]:
        reply = self._next_reply()
        for index, raw in enumerate(reply.raw):
            shown = raw.decode("utf-8", "replace")
            if self._auth_mechanism and shown.startswith("334 "):
                decoded = _b64_text(shown[4:].strip())
                if decoded:
                    self._last_challenge = decoded
                    shown += f"   [{decoded}]"
            if index == len(reply.raw) - 1:  # the reply's meaning, once, on its last line
                meaning = explain(reply.code, shown[4:])
                if meaning:
                    shown += f"   — {meaning}"
            self._in(shown)
        return reply.code, reply.message()

    def _next_reply(self) -> Reply:
        """The next complete reply, read within one timeout and the reader's byte caps.

        The timeout bounds the whole reply, not each recv: a server dripping a byte a
        second would otherwise hold the session for as long as it likes.
        """
        if self._ready:
            return self._ready.popleft()
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        allowed = self.timeout or 30.0
        deadline = time.monotonic() + allowed
        while not self._ready:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError("timed out")
                self.sock.settimeout(left)
                data = self.sock.recv(_RECV_SIZE)
            except OSError as exc:
                self.close()
                if isinstance(exc, TimeoutError):
                    raise smtplib.SMTPServerDisconnected(
                        f"The server's reply did not complete within {allowed:g} s "
                        "(Timeout); the connection was closed.") from exc
                raise smtplib.SMTPServerDisconnected(
                    "Connection unexpectedly closed: " + str(exc)) from exc
            if not data:
                self.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            try:
                self._ready.extend(self._replies.feed(data))
            except ReplyTooLong as exc:
                self.close()
                raise smtplib.SMTPResponseException(500, f"Reply too long: {exc}.") from None
        if self.sock is not None:
            self.sock.settimeout(self.timeout)  # sends keep their own (overall) timeout
        return self._ready.popleft()

    def _drop_buffered_replies(self) -> None:
        self._replies.reset()
        self._ready.clear()

    def auth(self, mechanism, authobject, *, initial_response_ok=True):  # noqa: ANN001, ANN201
        self._auth_mechanism, self._auth_steps = mechanism.upper(), 0
        try:
            return super().auth(mechanism, authobject, initial_response_ok=initial_response_ok)
        finally:
            self._auth_mechanism = ""

    def data(self, msg: bytes) -> tuple[int, bytes]:  # type: ignore[override]
        """DATA with the body sent in chunks, reporting progress and honouring Stop."""
        self.putcmd("DATA")
        code, repl = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, repl)
        data = msg if msg.endswith(b"\r\n") else msg + b"\r\n"
        body_lines = data.count(b"\r\n")
        if self.show_body:
            shown = data.split(b"\r\n", BODY_LINES_SHOWN)
            for line in shown[:BODY_LINES_SHOWN]:
                self._out(("." if line.startswith(b".") else "")
                          + line.decode("utf-8", "replace"))
            if body_lines > BODY_LINES_SHOWN:
                self._emit("===", f"{body_lines - BODY_LINES_SHOWN:,} more body lines "
                                  "not shown")
        else:
            self._out(f"[message body: {len(data):,} bytes, {body_lines:,} lines — "
                      "tick 'Show body' to see it]")
        # stuff dots one chunk of whole lines at a time: a single regex pass over tens
        # of megabytes would hold the GIL long enough to freeze the Tk thread
        total, done, last = len(data) + 3, 0, 0.0
        try:
            while done < len(data):
                if self.aborted.is_set():
                    raise StoppedByUser(f"stopped after {done:,} of {total:,} bytes of DATA")
                cut = data.find(b"\n", done + _CHUNK)
                end = len(data) if cut < 0 else cut + 1
                self.sock.sendall(_quote_periods(data[done:end]))
                done = end
                now = time.monotonic()
                if self._progress and now - last >= _PROGRESS_EVERY:
                    last = now
                    self._progress(done, total)
            self.sock.sendall(b".\r\n")
            if self._progress:
                self._progress(total, total)
        except OSError as exc:
            self.close()
            if self.aborted.is_set():
                raise StoppedByUser(f"stopped after {done:,} of {total:,} bytes of DATA") from exc
            raise smtplib.SMTPServerDisconnected(f"Server not connected ({exc})") from exc
        self._out(".")
        return self.getreply()


def _tls_summary(sock: ssl.SSLSocket) -> str:
    info = describe_tls(sock)
    parts = [f"TLS started: {info.get('version', '?')}", info.get("cipher", "")]
    if "subject" in info:
        parts.append(f"peer {info['subject']} issued by {info.get('issuer', '?')}")
    if "verified" in info:
        parts.append("certificate NOT verified")
    return ", ".join(p for p in parts if p)
