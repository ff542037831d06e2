"""The lab mail sink: an aiosmtpd server that accepts every message and keeps it.

Like Mailpit it takes plain unauthenticated delivery, and it also offers STARTTLS (the
generated lab certificate) and AUTH PLAIN/LOGIN/CRAM-MD5 for one lab user so a client
can rehearse a real submission. Messages land in a :class:`MailStore` (and optionally an
mbox) that the SMTP tab's Inbox shows. VRFY answers for the lab mailbox only, as the
origin document's example expects (250 for a known user, 550 otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import secrets
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from core.errors import UserError
from core.paths import data_dir
from core.servers.base import ServerController
from core.servers.lab_account import LAB_PASSWORD, LAB_USER
from core.servers.registry import ServeKind
from core.servers.serve import add_common_arguments
from core.servers.smtp.inbox import MailReceived, MailRecord, MailStore
from core.tlscerts import server_context

LAB_PORT = 2525
LAB_DATA_LIMIT = 64 * 1024 * 1024  # a 25 MB attachment is ~34 MB once base64-encoded
#: recipients of one message (Postfix's smtpd_recipient_limit 1000)
MAX_RECIPIENTS = 1000
#: clients at once (Postfix's default_process_limit 100 smtpd processes); when full the
#: one idle longest is told 421 and closed, so a new client is always served
MAX_CLIENTS = 100

# aiosmtpd logs every command, and a client's failed TLS handshake as a traceback
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


class LabMailHandler:
    """aiosmtpd handler: accept, store, announce; plus CRAM-MD5 for the lab user."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        """Announce PIPELINING (RFC 2920). aiosmtpd already answers commands that arrive
        together in order, one reply each; without the keyword, clients such as
        ``swaks --pipeline`` and Postfix's smtp never batch, so it went untested."""
        session.host_name = hostname  # this hook replaces aiosmtpd's own bookkeeping
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        limit = self.sink.max_recipients
        if len(envelope.rcpt_tos) >= limit:
            self.sink.log_limit("max recipients", f"a message passed {limit} recipients "
                                "(max recipients): 452 for the rest")
            return "452 4.5.3 Error: too many recipients"  # Postfix's words
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_VRFY(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str) -> str:
        local = address.split("@", 1)[0].lower()
        if local == self.sink.user.lower():
            return f"250 Lab User <{self.sink.user}@localhost>"
        return f"550 5.1.1 {address}: no such user here (this sink only knows {self.sink.user})"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not data:
            data = envelope.content
        login = session.login_data
        user = login.decode("utf-8", "replace") if isinstance(login, bytes) else str(login or "")
        peer = session.peer
        try:
            record = self.sink.store.add(
                peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "?"),
                mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                data=data, auth_user=user if session.authenticated else "",
                tls=bool(session.ssl) or self.sink.implicit_tls)
        except (OSError, ValueError) as exc:  # nothing was kept: the client may retry
            self.sink.log(f"message not stored: {exc}", "error")
            return "451 4.3.0 Error: message not stored; try again later"
        self.sink.received(record)
        return f"250 2.0.0 Ok: queued as {record.id}"

    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        # aiosmtpd has PLAIN and LOGIN built in; CRAM-MD5 is a handler mechanism
        if len(args) != 1:
            await server.push("501 5.5.4 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.token_hex(8)}@wirebench.lab>".encode()
        response = await server.challenge_auth(challenge)
        if response is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(response, bytes)
        user, _, digest = response.decode("utf-8", "replace").rpartition(" ")
        expected = hmac.new(self.sink.password.encode(), challenge, hashlib.md5).hexdigest()
        ok = user == self.sink.user and hmac.compare_digest(digest, expected)
        return AuthResult(success=ok, handled=False,
                          auth_data=LoginPassword(user.encode(), b"") if ok else None)


class CountingSMTP(SMTP):
    """aiosmtpd's protocol, counting connections for the Servers tab."""

    def __init__(self, handler: Any, sink: SmtpSink, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sink = sink
        self._counted = False
        self.last_active = time.monotonic()

    def connection_made(self, transport: Any) -> None:
        fresh = self.transport is None  # STARTTLS calls this again on the same connection
        super().connection_made(transport)
        if fresh and self._sink.accepting:
            self._counted = True
            self._sink.count(opened=1)
            self._sink.admit(self)

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd resets its idle timer on every command: that is activity
        self.last_active = time.monotonic()
        super()._reset_timeout(duration)

    def evict(self) -> None:
        """Make room for a new client: say why, then close."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(b"421 4.7.0 Too many connections: closing the idlest one\r\n")
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._sink.clients.discard(self)
        if self._counted:
            self._counted = False
            self._sink.count(closed=1)
        super().connection_lost(exc)


class _BoundController(Controller):
    """aiosmtpd's Controller serving a socket we bound ourselves.

    Binding first lets port 0 work (the controller's readiness probe needs the real
    port) and makes "port in use" an ordinary OSError at start.
    """

    def __init__(self, handler: Any, sock: socket.socket, sink: SmtpSink, **kwargs: Any) -> None:
        self._sock = sock
        self._sink = sink
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def factory(self) -> SMTP:
        return self._sink.protocol(self.handler, self._sink, **self.SMTP_kwargs)

    def _run(self, ready_event: threading.Event) -> None:
        self._sink.guarded(super()._run)(ready_event)  # the event loop's thread

    def _create_server(self):  # noqa: ANN202 (aiosmtpd's own signature)
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class SmtpSink(ServerController):
    """Lab mail sink on aiosmtpd; messages go to :attr:`store`."""

    kind = "smtp"
    title = "SMTP mail sink"
    #: the aiosmtpd protocol class; purpose-built test servers subclass it
    protocol: type[CountingSMTP] = CountingSMTP

    def __init__(self, host: str = "127.0.0.1", port: int = LAB_PORT, outbox: Any = None, *,
                 implicit_tls: bool = False, starttls: bool = True,
                 tls_context: ssl.SSLContext | None = None,
                 user: str = LAB_USER, password: str = LAB_PASSWORD,
                 auth_require_tls: bool = False, store: MailStore | None = None,
                 data_size_limit: int = LAB_DATA_LIMIT, kind: str | None = None,
                 max_recipients: int = MAX_RECIPIENTS, max_clients: int = MAX_CLIENTS) -> None:
        super().__init__(host, port, outbox)
        self.max_recipients = max_recipients
        self.max_clients = max_clients
        #: connections being served (on the sink's event loop thread only)
        self.clients: set[CountingSMTP] = set()
        if kind:
            self.kind = kind
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.tls_context = tls_context
        self.user = user
        self.password = password
        self.auth_require_tls = auth_require_tls
        self.store = store if store is not None else MailStore()
        self.data_size_limit = data_size_limit
        self.accepting = False
        self._controller: _BoundController | None = None

    def describe(self) -> str:
        modes = ["implicit TLS" if self.implicit_tls else "plain"]
        if self.starttls and not self.implicit_tls:
            modes.append("STARTTLS")
        auth = "AUTH after TLS" if self.auth_require_tls else "AUTH (cleartext allowed)"
        mbox = f"; mbox {self.store.mbox_path}" if self.store.mbox_path else ""
        return (f"{' + '.join(modes)}; {auth} PLAIN LOGIN CRAM-MD5 as "
                f"{self.user}/{self.password}; unauthenticated delivery accepted; "
                f"{len(self.store)} message(s) kept{mbox}")

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(64)
            sock.setblocking(False)
            context = self.tls_context or (server_context()
                                           if self.implicit_tls or self.starttls else None)
            kwargs: dict[str, Any] = dict(
                server_hostname="wirebench-lab", ident="Wirebench lab sink",
                data_size_limit=self.data_size_limit, enable_SMTPUTF8=True,
                authenticator=self._authenticate, auth_require_tls=self.auth_require_tls,
                ready_timeout=10.0)
            if self.implicit_tls:
                kwargs["ssl_context"] = context
            elif self.starttls:
                kwargs["tls_context"] = context
            controller = _BoundController(self.make_handler(), sock, self, **kwargs)
            self.port = sock.getsockname()[1]
            controller.start()
        except BaseException:
            sock.close()
            raise
        self._controller = controller
        self.accepting = True

    def _stop(self, timeout: float) -> None:
        controller, self._controller = self._controller, None
        self.accepting = False
        if controller is not None:
            try:
                controller.stop(no_assert=True)
            except (RuntimeError, AssertionError):
                pass

    def admit(self, client: CountingSMTP) -> None:
        """Count a new connection in; when full, evict the one idle longest."""
        if len(self.clients) >= self.max_clients:
            idlest = min(self.clients, key=lambda c: c.last_active)
            self.clients.discard(idlest)
            idlest.evict()
            self.log_limit("max clients", f"{self.max_clients} clients connected (max "
                           "clients): closed the one idle longest to serve a new one")
        self.clients.add(client)

    def make_handler(self) -> LabMailHandler:
        """The aiosmtpd handler; subclasses may answer differently (tests' refusals)."""
        return LabMailHandler(self)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user.encode()
              and hmac.compare_digest(auth_data.password, self.password.encode()))
        if not ok:
            self.log(f"AUTH {mechanism} refused", "warning")
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def received(self, record: MailRecord) -> None:
        self.count(bytes_in=record.size, requests=1)
        subject = record.header("Subject")
        self.log(f"message {record.id} from {record.mail_from or '<>'} to "
                 f"{', '.join(record.rcpt_tos)} ({record.size:,} bytes)")
        self.post(MailReceived(source=self.kind, record_id=record.id,
                               mail_from=record.mail_from, rcpt_tos=record.rcpt_tos,
                               subject=subject, size=record.size))


def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    return [SmtpSink(host, 0 if ephemeral else LAB_PORT)]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, LAB_PORT)
    parser.add_argument("--tls", action="store_true",
                        help="implicit TLS (SMTPS, as on port 465) instead of STARTTLS")
    parser.add_argument("--no-starttls", action="store_true", help="do not offer STARTTLS")
    parser.add_argument("--user", default=LAB_USER, help=f"AUTH user (default {LAB_USER})")
    parser.add_argument("--password", default=LAB_PASSWORD,
                        help=f"AUTH password (default {LAB_PASSWORD})")
    parser.add_argument("--auth-require-tls", action="store_true",
                        help="refuse AUTH until STARTTLS (default: allowed in the lab)")
    parser.add_argument("--max-recipients", type=int, default=MAX_RECIPIENTS,
                        help=f"RCPTs per message (default {MAX_RECIPIENTS}, as Postfix)")
    parser.add_argument("--max-clients", type=int, default=MAX_CLIENTS,
                        help="clients at once; when full the idlest is closed (default "
                             f"{MAX_CLIENTS}, as Postfix)")
    parser.add_argument("--mbox", nargs="?", const="", default=None, metavar="PATH",
                        help="also append every message to an mbox (default path: "
                             "<data dir>/smtp/sink.mbox)")


def _build(args: argparse.Namespace) -> list[ServerController]:
    if args.max_recipients < 1 or args.max_clients < 1:
        raise UserError("--max-recipients and --max-clients must be at least 1.",
                        "--max-recipients")
    store = MailStore()
    if args.mbox is not None:
        store.mbox_path = Path(args.mbox) if args.mbox else data_dir() / "smtp" / "sink.mbox"
    return [SmtpSink(args.host, args.port, implicit_tls=args.tls,
                     starttls=not args.no_starttls, user=args.user, password=args.password,
                     auth_require_tls=args.auth_require_tls, store=store,
                     max_recipients=args.max_recipients, max_clients=args.max_clients)]


SERVE_KINDS: dict[str, ServeKind] = {
    "smtp": ServeKind(help="lab mail sink (aiosmtpd): STARTTLS, AUTH, keeps every message",
                      add_arguments=_add_arguments, build=_build),
}
