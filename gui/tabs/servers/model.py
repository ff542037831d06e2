"""What the Servers tab lists: one :class:`ServerEntry` per row, no widgets.

An entry knows which settings fields it shows, builds its controller from them
(validating on the way, with errors naming the field), and keeps the last minute of
connections and bytes/s for the sparkline.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import UserError, check_port
from core.events import ServerStats
from core.servers.base import ServerController
from core.sizes import human_rate, human_size

HISTORY = 60  # seconds the plot covers

#: every field an entry may show, in form order: key -> label
FIELDS: dict[str, str] = {
    "host": "Host", "port": "Port", "mode": "Mode", "fork_style": "Fork style",
    "path": "Path", "root": "Document root", "cgi_dir": "cgi-bin folder",
    "max_clients": "Max clients", "idle_timeout": "Idle timeout (s)",
    "buffer_kib": "Buffer cap (KiB)",
}


@dataclass
class ServerEntry:
    key: str
    label: str
    fields: tuple[str, ...]
    config: dict[str, Any]
    #: builds a controller from the config (tab servers); None for lab peers
    factory: Callable[[dict[str, Any]], ServerController] | None = None
    controller: ServerController | None = None
    lab: bool = False
    #: why this kind cannot run (e.g. its module is missing): shown instead of Start
    unavailable: str = ""
    history: dict[str, deque[float]] = field(default_factory=lambda: {
        "Connections": deque(maxlen=HISTORY), "Bytes/s": deque(maxlen=HISTORY)})
    last: ServerStats | None = None
    busy: bool = False  # a start or stop is in flight
    #: a few sentences on what this server is, shown under the list
    about: str = ""

    @property
    def running(self) -> bool:
        return self.controller is not None and self.controller.running

    @property
    def kind(self) -> str:
        return self.controller.kind if self.controller else self.key

    def build(self) -> ServerController:
        """A configured controller (lab peers: the peer, reconfigured when stopped)."""
        if self.unavailable:
            raise UserError(self.unavailable, "")
        if self.lab:
            assert self.controller is not None
            if not self.controller.running:
                self.controller.host = parse_host(self.config.get("host", ""))
                self.controller.port = check_port(self.config.get("port", ""), "Port",
                                                  allow_zero=True)
            return self.controller
        assert self.factory is not None
        self.controller = self.factory(self.config)
        return self.controller

    def record(self, stats: ServerStats) -> tuple[int, float]:
        """Add one ServerStats sample; returns (connections, bytes per second)."""
        total = stats.bytes_in + stats.bytes_out
        rate = 0.0
        if self.last is not None:
            elapsed = max(stats.at - self.last.at, 1e-3)
            rate = max(0.0, (total - self.last.bytes_in - self.last.bytes_out) / elapsed)
        self.last = stats
        self.history["Connections"].append(float(stats.connections))
        self.history["Bytes/s"].append(rate)
        return stats.connections, rate

    def reset_history(self) -> None:
        for values in self.history.values():
            values.clear()
        self.last = None

    def summary(self) -> str:
        stats = self.last
        if stats is None:
            return ""
        rate = self.history["Bytes/s"][-1] if self.history["Bytes/s"] else 0.0
        return (f"{stats.connections} connected · {stats.total_connections} total · "
                f"{human_size(stats.bytes_in)} in · {human_size(stats.bytes_out)} out · "
                f"{stats.requests} requests · {human_rate(rate)}")


def parse_host(value: str) -> str:
    host = str(value).strip()
    if not host:
        raise UserError("Host is empty: use 127.0.0.1 (this machine only) or 0.0.0.0.",
                        "Host")
    if any(c.isspace() for c in host):
        raise UserError(f"Host must not contain spaces, got {host!r}.", "Host")
    return host


def parse_number(value: Any, label: str, low: float, cast: type = int) -> Any:
    try:
        number = cast(str(value).strip())
    except ValueError:
        raise UserError(f"{label} must be a number, got {str(value)!r}.", label) from None
    if number < low:
        raise UserError(f"{label} must be at least {low:g}, got {number:g}.", label)
    return number



ABOUT_STREAM = (
    "TCP echo in the origin document's three designs (section 4.2): threaded — a thread "
    "per client; select — one thread multiplexing non-blocking sockets, each client's "
    "buffer capped so one that never reads stalls nobody; fork — a process per client "
    "from a clean helper process, simple or double (separate) fork, with a fireman "
    "reaping every child. Try: telnet 127.0.0.1 PORT")


def echo_entries() -> list[ServerEntry]:
    from core.servers.echo.server import default_unix_path

    limits = ("max_clients", "idle_timeout", "buffer_kib")
    base = {"host": "127.0.0.1", "mode": "threaded", "fork_style": "simple",
            "max_clients": "512", "idle_timeout": "300", "buffer_kib": "256"}
    return [
        ServerEntry("echo-tcp", "Echo · TCP",
                    ("host", "port", "mode", "fork_style", *limits),
                    {**base, "port": "7001"}, factory=lambda c: _echo("tcp", c),
                    about=ABOUT_STREAM),
        ServerEntry("echo-udp", "Echo · UDP", ("host", "port", "idle_timeout"),
                    {**base, "port": "7001"}, factory=lambda c: _echo("udp", c),
                    about="UDP echo (section 3.3): bind, then recvfrom/sendto — no listen, "
                          "no accept. Datagrams up to 65,507 bytes come back whole; a peer "
                          "counts as connected until it is quiet for the idle timeout."),
        ServerEntry("echo-unix", "Echo · UNIX stream",
                    ("path", "mode", "fork_style", *limits),
                    {**base, "path": default_unix_path()}, factory=lambda c: _echo("unix", c),
                    about="The same echo designs on a UNIX-domain stream socket (a file). "
                          "A stale socket file left by a crash is replaced; one a running "
                          "server owns is refused. Try: socat - UNIX-CONNECT:PATH"),
    ]


def _echo(proto: str, config: dict[str, Any]) -> ServerController:
    from core.servers.echo.server import EchoLimits, make_echo_server

    limits = EchoLimits(
        max_clients=parse_number(config.get("max_clients", 512), "Max clients", 1),
        idle_timeout=parse_number(config.get("idle_timeout", 300), "Idle timeout", 0.001,
                                  float),
        buffer_cap=parse_number(config.get("buffer_kib", 256), "Buffer cap", 1) * 1024,
    )
    host = parse_host(config.get("host", "127.0.0.1")) if proto != "unix" else "127.0.0.1"
    port = check_port(config.get("port", 0), "Port", allow_zero=True) if proto != "unix" else 0
    return make_echo_server(proto, config.get("mode", "threaded"), host, port,
                            path=str(config.get("path", "")).strip() or None,
                            fork_style=config.get("fork_style", "simple"), limits=limits)


def cgi_entry() -> ServerEntry:
    entry = ServerEntry("cgi", "CGI web server", ("host", "port", "root", "cgi_dir"),
                        {"host": "127.0.0.1", "port": "8080", "root": "", "cgi_dir": ""},
                        factory=_cgi,
                        about="A CGI/1.1 web server (section 5): static files from the "
                              "document root, scripts from cgi-bin run as processes. Leave "
                              "the folders empty for the sample site from the document.")
    try:
        from core.servers.cgi.server import CgiServer  # noqa: F401
    except ImportError as exc:
        entry.unavailable = (f"The CGI server is not part of this build ({exc}); the echo "
                             "servers and lab peers still work.")
    return entry


def _cgi(config: dict[str, Any]) -> ServerController:
    from pathlib import Path

    from core.servers.cgi.server import CgiServer

    folders = {}
    for key, label in (("root", "Document root"), ("cgi_dir", "cgi-bin folder")):
        text = str(config.get(key, "")).strip()
        if text and not Path(text).expanduser().is_dir():
            raise UserError(f"{label} {text!r} is not a folder: pick an existing folder, or "
                            "leave it empty for the sample site.", label)
        folders[key] = str(Path(text).expanduser()) if text else None
    return CgiServer(host=parse_host(config.get("host", "127.0.0.1")),
                     port=check_port(config.get("port", 0), "Port", allow_zero=True),
                     **folders)


def lab_entry(peer: ServerController) -> ServerEntry:
    detail = peer.describe()
    return ServerEntry(f"lab:{peer.kind}", peer.title, ("host", "port"),
                       {"host": peer.host, "port": str(peer.port)}, controller=peer,
                       lab=True,
                       about="A lab peer, also started by Lab › Start all lab peers; "
                             "port 0 picks a free port."
                             + (f"\n{detail[:1].upper()}{detail[1:]}." if detail else ""))
