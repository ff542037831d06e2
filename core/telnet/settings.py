"""What a telnet connection is opened with, checked before any socket is made."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from core.errors import UserError, check_port

ENCODINGS = ("utf-8", "latin-1", "cp437")
TERMINAL_TYPES = ("xterm-256color", "vt100")
MODES = ("telnet", "raw")
LOCAL_ECHO = ("auto", "on", "off")

@dataclass
class TelnetSettings:
    host: str = "127.0.0.1"
    port: int = 23
    mode: str = "telnet"  # "telnet" | "raw"
    tls: bool = False
    verify: bool = True
    ca_file: str = ""
    encoding: str = "utf-8"
    terminal_type: str = "xterm-256color"
    columns: int = 80
    rows: int = 24
    scrollback: int = 1000
    keepalive: float = 0.0  # seconds between NOPs; 0 = off
    active: bool = True
    new_environ: bool = True
    local_echo: str = "auto"
    typescript_path: str = ""
    log_path: str = ""
    connect_timeout: float = 10.0
    environ: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.host.strip():
            raise UserError("Host is empty: type a host name or address, e.g. 127.0.0.1.",
                            "Host")
        if any(c.isspace() for c in self.host.strip()):
            raise UserError(f"Host {self.host!r} contains spaces: remove them.", "Host")
        self.port = check_port(self.port, "Port")
        if self.mode not in MODES:
            raise UserError(f"Mode must be one of {', '.join(MODES)}, got {self.mode!r}.",
                            "Mode")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise UserError(f"Encoding {self.encoding!r} is unknown: choose "
                            f"{', '.join(ENCODINGS)}.", "Encoding") from None
        if not 2 <= self.columns <= 1000 or not 2 <= self.rows <= 500:
            raise UserError(f"Terminal size {self.columns}x{self.rows} is out of range: "
                            "2–1000 columns and 2–500 rows.", "Size")
        if self.keepalive < 0:
            raise UserError("Keepalive must be 0 (off) or a number of seconds.", "Keepalive")
