"""FTP login options: what the user chose, checked field by field before connecting."""

from __future__ import annotations

import getpass
import math
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import UserError, check_port
from core.ftp.guards import check_argument

TLS_NONE, TLS_EXPLICIT, TLS_IMPLICIT = "none", "explicit", "implicit"
TLS_MODES = (TLS_NONE, TLS_EXPLICIT, TLS_IMPLICIT)

#: field name -> (unit, lowest, highest, integer): what the tab's Options dialog accepts.
#: The tops keep a typo from costing gigabytes: a 256 MB listing parses into ~1.5 GB
LIMITS: dict[str, tuple[str, float, float, bool]] = {
    "Timeout": ("seconds", 0.1, 3600, False),
    "Keepalive": ("seconds", 0.1, 3600, False),
    "Listing limit": ("MB", 0.1, 256, False),
    "Folder entry limit": ("entries", 1, 10_000_000, True),
}


def check_limit(value: object, field_name: str) -> float | int:
    """A number typed in a limit field (``LIMITS``), or UserError naming the field and
    the range to use."""
    unit, low, high, integer = LIMITS[field_name]
    span = f"from {_shown(low)} to {_shown(high)} {unit}"
    kind = "a whole number" if integer else "a number"
    text = str(value).strip()
    if not text:
        raise UserError(f"{field_name} is empty: type {kind} {span}.", field_name)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isnan(number) or (integer and math.isfinite(number) and not number.is_integer()):
        raise UserError(f"{field_name} must be {kind} {span}, got {text!r}.", field_name)
    if not (math.isfinite(number) and low <= number <= high):
        raise UserError(f"{field_name} must be {span}, got {text}.", field_name)
    return int(number) if integer else number


def _shown(number: float) -> str:
    return f"{int(number):,}" if number == int(number) else f"{number:g}"


def anonymous_password() -> str:
    """The origin document's convention: ``user@host`` as the anonymous password."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "guest"
    return f"{user}@{socket.gethostname() or 'localhost'}"


@dataclass(frozen=True, slots=True)
class FtpOptions:
    """Everything needed to log in; :meth:`validated` names the field at fault."""

    host: str
    port: int = 21
    user: str = ""
    password: str = field(default="", repr=False)
    anonymous: bool = False
    tls: str = TLS_NONE
    passive: bool = True
    verify: bool = True
    ca_file: str | None = None
    allow_cleartext: bool = False
    #: the four limits below may arrive as text typed in the tab: validated() parses them
    timeout: float = 20.0
    keepalive: float = 30.0
    #: a listing bigger than this is cut (said in the log). Parsed, a LIST line costs
    #: ~430 bytes of memory: 8 MiB (~110,000 lines of 75 bytes) stays under ~50 MB
    max_listing_mb: float = 8.0
    #: a folder download stops after listing this many entries (files and folders): a
    #: server whose folders nest without end cannot keep it running (and mkdir-ing)
    max_folder_entries: int = 50_000

    def validated(self) -> FtpOptions:
        host = self.host.strip()
        if not host:
            raise UserError("Host is empty: type a server name or address, e.g. 127.0.0.1.",
                            "Host")
        if any(ch.isspace() for ch in host):
            raise UserError(f"Host {host!r} contains spaces: type only the server name.",
                            "Host")
        port = check_port(self.port, "Port")
        if self.tls not in TLS_MODES:
            raise UserError(f"FTPS mode must be one of {', '.join(TLS_MODES)}.", "FTPS")
        user, password = self.user.strip(), self.password
        if self.anonymous:
            user = "anonymous"
            password = password or anonymous_password()
        elif not user:
            raise UserError("User is empty: type a user name or tick Anonymous.", "User")
        check_argument(user, "User")
        check_argument(password, "Password")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise UserError(f"CA file {self.ca_file} does not exist: choose a PEM file or "
                            "clear the CA choice.", "CA file")
        return replace(self, host=host, port=port, user=user, password=password,
                       timeout=check_limit(self.timeout, "Timeout"),
                       keepalive=check_limit(self.keepalive, "Keepalive"),
                       max_listing_mb=check_limit(self.max_listing_mb, "Listing limit"),
                       max_folder_entries=check_limit(self.max_folder_entries,
                                                      "Folder entry limit"))

    @property
    def display(self) -> str:
        scheme = "ftps" if self.tls != TLS_NONE else "ftp"
        return f"{scheme}://{self.user}@{self.host}:{self.port}"
