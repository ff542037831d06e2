"""An SMTP client session with a swaks-like annotated transcript.

The wire and the transcript are :class:`~core.smtp.transcript.TranscriptSMTP`'s; each
line reaches the outbox as an :class:`~core.smtp.transcript.SmtpLine` carrying the
seconds since the previous one.

:class:`SmtpSession` drives the dialogue step by step (CONNECT, EHLO, STARTTLS, AUTH,
MAIL, RCPT, DATA) so a user can stop after any step, and keeps a connection open between
hand-typed verbs (VRFY, EXPN, NOOP, RSET, HELP, QUIT). Its methods block: the GUI runs
them through :attr:`SmtpSession.worker`, tests call them directly.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from collections import deque

from core.errors import UserError
from core.events import Progress, StateChanged
from core.recording import Recording
from core.sizes import human_size
from core.smtp.errors import StoppedByUser, describe_smtp_error, reply_text
from core.smtp.message import OutgoingMail
from core.smtp.settings import (
    VERBS,
    Capabilities,
    Security,
    SendResult,
    SmtpCapabilitiesSeen,
    SmtpSettings,
    VerbResult,
)
from core.smtp.transcript import SmtpLine, TranscriptSMTP
from core.states import ConnState
from core.tlscerts import client_context, describe_tls
from core.worker import Outbox, Worker, new_source


class SmtpSession:
    """One SMTP conversation (or a series of them) and its transcript."""

    def __init__(self, outbox: Outbox | None = None, source: str = "") -> None:
        self.source = source or new_source("smtp")
        self.worker = Worker(self.source, outbox)
        self.outbox = self.worker.outbox
        self.transcript: deque[SmtpLine] = deque(maxlen=50_000)
        self.smtp: TranscriptSMTP | None = None
        self.capabilities: Capabilities | None = None
        self.settings: SmtpSettings | None = None
        self._last = time.monotonic()
        self._lock = threading.Lock()  # one dialogue at a time
        self._aborted = threading.Event()
        #: what "Show as Python" replays (core/codegen/smtp_script.py); never a password
        self.recording = Recording("smtp")

    # -- transcript ---------------------------------------------------------------------
    def emit(self, marker: str, text: str) -> None:
        now = time.monotonic()
        line = SmtpLine(source=self.source, marker=marker, text=text, delta=now - self._last)
        self._last = now
        self.transcript.append(line)
        self.outbox.put(line)

    def transcript_text(self) -> str:
        return "\n".join(line.format() for line in list(self.transcript))

    def _progress(self, done: int, total: int) -> None:
        self.outbox.put(Progress(source=self.source, done=done, total=total, label="DATA"))

    def _state(self, state: ConnState, detail: str = "") -> None:
        self.outbox.put(StateChanged(source=self.source, state=state, detail=detail))

    @property
    def connected(self) -> bool:
        return self.smtp is not None and self.smtp.sock is not None

    # -- the dialogue -------------------------------------------------------------------
    def open(self, settings: SmtpSettings, stop_after: str = "") -> bool:
        """CONNECT, EHLO, STARTTLS and AUTH as configured; True when stopped early."""
        self.close()
        self.settings = settings
        self._last = time.monotonic()
        context = None
        if settings.security is not Security.NONE:
            context = client_context(settings.verify, settings.ca_file or None)
        smtp = TranscriptSMTP(
            self.emit, timeout=settings.timeout,
            tls_context=context if settings.security is Security.TLS else None,
            progress=self._progress, show_body=settings.show_body,
            local_hostname=settings.helo_name or None, aborted=self._aborted)
        self.smtp = smtp
        self.emit("===", f"Trying {settings.host}:{settings.port} {settings.security.how}…")
        smtp.connect(settings.host, settings.port)
        peer = smtp.sock.getpeername() if smtp.sock else ("?", 0)
        self.emit("===", f"Connected to {peer[0]}:{peer[1]}")
        self._state(ConnState.ESTABLISHED, f"{settings.host}:{settings.port}")
        # one recording per connection (core/recording.py), ended by its QUIT or close
        self.recording.begin("connect", host=settings.host, port=settings.port,
                             security=settings.security.value, verify=settings.verify,
                             ca_file=settings.ca_file or None)
        if self._stop_here("CONNECT", stop_after):
            return True
        self._greet()
        # the name EHLO actually carried (smtplib picks one when the field is empty)
        self.recording.add("ehlo", name=settings.helo_name or smtp.local_hostname or None)
        if self._stop_here("EHLO", stop_after):
            return True
        if settings.security is Security.STARTTLS:
            if not smtp.has_extn("starttls"):
                self.emit("***", "STARTTLS was required but the server does not offer it; "
                                 "stopping before AUTH.")
                self.quit()
                raise UserError(
                    "The server does not offer STARTTLS, which Security requires: stopped "
                    "before AUTH, nothing secret was sent. Use implicit TLS (port 465) or "
                    "another server; choose 'none' only for a lab test.", "Security")
            smtp.starttls(context=context)
            self._greet()
            self.recording.add("starttls")
        if self._stop_here("STARTTLS", stop_after):
            return True
        if settings.user:
            self._authenticate(settings)
        return self._stop_here("AUTH", stop_after)

    def _greet(self) -> None:
        assert self.smtp is not None
        smtp = self.smtp
        code, reply = smtp.ehlo()
        if not 200 <= code < 300:
            self.emit("===", "EHLO refused; falling back to HELO")
            code, reply = smtp.helo()
            if not 200 <= code < 300:
                raise smtplib.SMTPHeloError(code, reply)
        self.capabilities = Capabilities.from_smtp(smtp)
        tls = describe_tls(smtp.sock) if isinstance(smtp.sock, ssl.SSLSocket) else {}
        self.outbox.put(SmtpCapabilitiesSeen(source=self.source,
                                             capabilities=self.capabilities, tls=tls))

    def _authenticate(self, settings: SmtpSettings) -> None:
        assert self.smtp is not None
        smtp = self.smtp
        if not smtp.in_tls and not settings.allow_cleartext_auth:
            self.emit("***", "AUTH over cleartext refused; stopping before AUTH.")
            self.quit()
            raise UserError(
                "AUTH would send the password in cleartext: choose STARTTLS or implicit TLS "
                "in Security, or tick 'Allow AUTH without TLS' for this send.", "Security")
        if not smtp.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError(
                "the server offers no AUTH; clear the User field to send without login")
        if settings.auth_mechanism == "auto":
            smtp.login(settings.user, settings.password)
        else:
            smtp.user, smtp.password = settings.user, settings.password
            method = getattr(smtp, "auth_" + settings.auth_mechanism.lower().replace("-", "_"))
            offered = Capabilities.from_smtp(smtp).auth
            if settings.auth_mechanism not in offered:
                raise smtplib.SMTPNotSupportedError(
                    f"AUTH {settings.auth_mechanism} is not offered (the server offers "
                    f"{' '.join(offered) or 'none'})")
            smtp.auth(settings.auth_mechanism, method)
        self.emit("===", f"Authenticated as {settings.user}")
        self.recording.add("login", user=settings.user, mechanism=settings.auth_mechanism)

    def _stop_here(self, step: str, stop_after: str) -> bool:
        if stop_after != step:
            return False
        self.emit("===", f"Stopping after {step} as asked")
        self.quit()
        return True

    def _reuse(self, settings: SmtpSettings) -> bool:
        """True when an open session was made with these server settings (it is reused);
        an open session to another server, or with other credentials, is ended first."""
        if not self.connected or self.settings is None or self.smtp is None:
            return False
        old, new = self.settings, settings
        if (old.host, old.port, old.security, old.user, old.password, old.verify,
                old.ca_file) != (new.host, new.port, new.security, new.user, new.password,
                                 new.verify, new.ca_file):
            self.emit("===", "Server settings changed: ending the open session")
            self.quit()
            return False
        self.smtp.show_body = settings.show_body
        return True

    def send(self, settings: SmtpSettings, mail: OutgoingMail, stop_after: str = "") -> SendResult:
        """Send ``mail``; on an open session reuse it, otherwise connect and QUIT after."""
        with self._held():
            started = time.monotonic()
            one_shot = not self._reuse(settings)
            try:
                if one_shot and self.open(settings, stop_after):
                    return SendResult(stopped_after=stop_after, size=mail.size)
                result = self._transfer(mail, stop_after)
                if one_shot and self.connected:
                    self.quit()
                return SendResult(accepted=result.accepted, refused=result.refused,
                                  reply=result.reply, size=mail.size,
                                  stopped_after=result.stopped_after,
                                  seconds=time.monotonic() - started)
            except BaseException as exc:
                self._after_error(exc, one_shot)
                raise

    def _transfer(self, mail: OutgoingMail, stop_after: str) -> SendResult:
        smtp = self.smtp
        if smtp is None or self.capabilities is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        caps = self.capabilities
        if caps.size and mail.size > caps.size:
            raise UserError(
                f"The message is {human_size(mail.size)} but the server accepts at most "
                f"{human_size(caps.size)} (SIZE {caps.size}): remove or shrink attachments.",
                "Attachments")
        options: list[str] = []
        if "size" in smtp.esmtp_features:
            options.append(f"SIZE={mail.size}")
        if mail.smtputf8:
            if not caps.smtputf8:
                raise UserError("An address has non-ASCII characters but the server does not "
                                "offer SMTPUTF8: use an ASCII address.", "To")
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        elif mail.eight_bit and caps.eightbitmime:
            options.append("BODY=8BITMIME")
        code, reply = smtp.mail(mail.sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, mail.sender)
        if self._stop_here("MAIL", stop_after):
            return SendResult(stopped_after="MAIL")
        refused: dict[str, tuple[int, str]] = {}
        accepted: list[str] = []
        for rcpt in mail.recipients:
            code, reply = smtp.rcpt(rcpt)
            if code in (250, 251):
                accepted.append(rcpt)
            else:
                refused[rcpt] = (code, reply.decode("utf-8", "replace"))
        if not accepted:
            raise smtplib.SMTPRecipientsRefused(refused)
        for rcpt, (code, reason) in refused.items():
            self.emit("***", f"Recipient {rcpt} refused: {code} {reason}")
        if self._stop_here("RCPT", stop_after):
            return SendResult(accepted=tuple(accepted), refused=refused, stopped_after="RCPT")
        code, reply = smtp.data(mail.data)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        self.recording.add("send", sender=mail.sender, recipients=list(accepted),
                           message=mail.data)
        return SendResult(accepted=tuple(accepted), refused=refused,
                          reply=reply_text(code, reply))

    def command(self, settings: SmtpSettings, verb: str, argument: str = "") -> VerbResult:
        """One verb typed by hand; connects first (up to AUTH) when no session is open."""
        verb = verb.strip().upper()
        if verb not in VERBS:
            raise UserError(f"Command must be one of {', '.join(VERBS)}; got {verb!r}.",
                            "Command")
        if "\r" in argument or "\n" in argument:
            raise UserError("Argument contains a line break: SMTP commands are one line.",
                            "Argument")
        if verb in ("VRFY", "EXPN") and not argument.strip():
            raise UserError(f"{verb} needs an argument: a user name or address.", "Argument")
        with self._held():
            try:
                if verb == "QUIT":
                    if not self.connected:
                        raise UserError("No session is open: nothing to QUIT.", "Command")
                elif not self._reuse(settings):
                    self.open(settings)
                assert self.smtp is not None
                if verb == "QUIT":
                    code, reply = self.smtp.docmd("QUIT")
                    self.recording.end("quit")
                    self.smtp.close()
                    self.smtp = None
                    self._state(ConnState.CLOSED, "QUIT")
                else:
                    code, reply = self.smtp.docmd(verb, argument.strip())
                    self.recording.add("command", verb=verb, argument=argument.strip())
                return VerbResult(verb, argument.strip(), code,
                                  reply.decode("utf-8", "replace"))
            except BaseException as exc:
                self._after_error(exc, one_shot=False)
                raise

    def verify(self, settings: SmtpSettings, addresses: list[str]) -> list[VerbResult]:
        """VRFY each address (the document's check before sendmail); QUIT if we opened."""
        with self._held():
            one_shot = not self._reuse(settings)
            try:
                if one_shot:
                    self.open(settings)
                assert self.smtp is not None
                results = []
                for address in addresses:
                    code, reply = self.smtp.verify(address)
                    self.recording.add("verify", address=address)
                    results.append(VerbResult("VRFY", address, code,
                                              reply.decode("utf-8", "replace")))
                if one_shot:
                    self.quit()
                return results
            except BaseException as exc:
                self._after_error(exc, one_shot)
                raise

    # -- ending -------------------------------------------------------------------------
    def _held(self) -> _Held:
        return _Held(self._lock, self._aborted)

    def _after_error(self, exc: BaseException, one_shot: bool) -> None:
        if self._aborted.is_set() and not isinstance(exc, StoppedByUser):
            self.emit("***", "Stopped by user")
            self.close()
            raise StoppedByUser("the connection was closed") from exc
        if isinstance(exc, StoppedByUser):
            self.emit("***", f"Stopped by user: {exc}")
        elif not isinstance(exc, UserError) or self.connected:
            self.emit("***", describe_smtp_error(exc).split("\n")[0])
        polite = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused,
                  smtplib.SMTPNotSupportedError, UserError)
        if isinstance(exc, polite) and self.connected and self.smtp is not None:
            # the connection still works: leave the server clean, then go (or stay open
            # for hand use)
            if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                try:
                    self.smtp.rset()
                except (smtplib.SMTPException, OSError):
                    self.close()
                    return
            if one_shot:
                self.quit()
            return
        if one_shot or not self.connected or isinstance(exc, StoppedByUser | OSError):
            self.close()

    def quit(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            if smtp.sock is not None:
                smtp.docmd("QUIT")
                self.recording.end("quit")
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self.recording.end("close")  # QUIT failed: the connection just ended
            smtp.close()
            self._state(ConnState.CLOSED, "QUIT")

    def close(self) -> None:
        """Drop the connection without QUIT."""
        smtp, self.smtp = self.smtp, None
        self.recording.end("close")  # no-op when the connection ended with QUIT
        if smtp is not None:
            was_open = smtp.sock is not None
            smtp.close()
            if was_open:
                self._state(ConnState.CLOSED, "")

    def abort(self) -> None:
        """Stop a running transfer from any thread: the blocked send or read ends at once."""
        self._aborted.set()
        smtp = self.smtp
        if smtp is None:
            return
        sock = smtp.sock or smtp.connecting  # connect() and TLS handshakes wait here too
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def shutdown(self, timeout: float = 1.0) -> None:
        """Stop everything and join the worker (tab close, tests)."""
        self.abort()
        self.worker.join(timeout)
        self.close()


class _Held:
    """Refuse a second dialogue while one runs instead of queueing it silently."""

    def __init__(self, lock: threading.Lock, aborted: threading.Event) -> None:
        self._lock = lock
        self._aborted = aborted

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise UserError("A command is still running: wait for it or press Stop.",
                            "Command")
        self._aborted.clear()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
