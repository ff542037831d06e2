"""What the SMTP tab and its session exchange: server settings, capabilities, results."""

from __future__ import annotations

import enum
import smtplib
from dataclasses import dataclass, field

from core.errors import UserError, check_port
from core.events import Event
from core.sizes import human_size

#: the steps a send walks through, in order; "stop after" names one of them
STEPS: tuple[str, ...] = ("CONNECT", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA")
#: verbs a user may type by hand on an open session
VERBS: tuple[str, ...] = ("VRFY", "EXPN", "NOOP", "RSET", "HELP", "QUIT")
AUTH_MECHANISMS: tuple[str, ...] = ("auto", "PLAIN", "LOGIN", "CRAM-MD5")


class Security(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"

    @property
    def label(self) -> str:
        return {"none": "None (cleartext)", "starttls": "STARTTLS",
                "tls": "Implicit TLS (465)"}[self.value]

    @property
    def how(self) -> str:
        """How the transcript's "Trying host:port …" line says the connection is made."""
        return {"none": "in cleartext", "starttls": "in cleartext, then STARTTLS",
                "tls": "over implicit TLS"}[self.value]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the server's EHLO (or HELO) reply announced, as data."""

    hostname: str = ""
    esmtp: bool = False
    size: int | None = None
    starttls: bool = False
    auth: tuple[str, ...] = ()
    eightbitmime: bool = False
    smtputf8: bool = False
    pipelining: bool = False
    extensions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_smtp(cls, smtp: smtplib.SMTP) -> Capabilities:
        features = dict(smtp.esmtp_features)
        size: int | None = None
        if "size" in features:
            try:
                size = int(features["size"].split()[0]) or None  # SIZE 0 means no limit
            except (ValueError, IndexError):
                size = None
        reply = (smtp.ehlo_resp or smtp.helo_resp or b"").decode("utf-8", "replace")
        return cls(
            hostname=reply.split("\n", 1)[0].split(" ", 1)[0],
            esmtp=bool(smtp.does_esmtp), size=size, starttls="starttls" in features,
            auth=tuple(features.get("auth", "").upper().split()),
            eightbitmime="8bitmime" in features, smtputf8="smtputf8" in features,
            pipelining="pipelining" in features,
            extensions={k.upper(): v for k, v in features.items()},
        )

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs for a capability panel."""
        yes = {True: "yes", False: "no"}
        return [
            ("Server", self.hostname or "?"),
            ("Protocol", "ESMTP" if self.esmtp else "SMTP (HELO only)"),
            ("SIZE", human_size(self.size) + f" ({self.size:,} bytes)" if self.size
             else "not announced"),
            ("STARTTLS", yes[self.starttls]),
            ("AUTH", " ".join(self.auth) or "not offered"),
            ("8BITMIME", yes[self.eightbitmime]),
            ("SMTPUTF8", yes[self.smtputf8]),
            ("PIPELINING", yes[self.pipelining]),
            ("Other", " ".join(k for k in self.extensions if k not in {
                "SIZE", "STARTTLS", "AUTH", "8BITMIME", "SMTPUTF8", "PIPELINING"}) or "-"),
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpCapabilitiesSeen(Event):
    capabilities: Capabilities
    tls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The server bar: where to connect and how."""

    host: str
    port: int
    security: Security = Security.NONE
    user: str = ""
    password: str = ""
    auth_mechanism: str = "auto"
    verify: bool = True
    ca_file: str = ""
    allow_cleartext_auth: bool = False
    helo_name: str = ""
    timeout: float = 30.0
    show_body: bool = False

    @classmethod
    def parse(cls, host: str, port: str | int, security: str = "none", **kw: object
              ) -> SmtpSettings:
        """Validate raw field values; raise :class:`UserError` naming the field."""
        host = host.strip()
        if not host:
            raise UserError("Host is empty: enter the mail server's name or address.", "Host")
        if any(c.isspace() for c in host):
            raise UserError(f"Host {host!r} contains spaces: enter one name or address.",
                            "Host")
        try:
            mode = Security(security)
        except ValueError:
            raise UserError(f"Security must be one of none, starttls, tls; got {security!r}.",
                            "Security") from None
        mechanism = str(kw.get("auth_mechanism", "auto"))
        if mechanism not in AUTH_MECHANISMS:
            raise UserError(f"AUTH mechanism must be one of {', '.join(AUTH_MECHANISMS)}.",
                            "AUTH")
        for name in ("user", "password", "helo_name"):
            if any(c in str(kw.get(name, "")) for c in "\r\n"):
                raise UserError(f"{name.replace('_', ' ').capitalize()} contains a line "
                                "break; remove it.", name.capitalize())
        return cls(host=host, port=check_port(port, "Port"), security=mode, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SendResult:
    accepted: tuple[str, ...] = ()
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""
    size: int = 0
    stopped_after: str = ""
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class VerbResult:
    verb: str
    argument: str
    code: int
    reply: str
