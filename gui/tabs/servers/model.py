"""What the Servers tab lists: one :class:`ServerEntry` per row, no widgets.

An entry shows the form of a server kind from :func:`core.servers.registry.tab_servers`
(or a lab peer), builds its controller through that kind (validating on the way, with
errors naming the field), and keeps the last minute of connections and bytes/s for the
sparkline.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import check_host, check_port
from core.events import ServerStats
from core.servers.base import ServerController
from core.servers.registry import TabServer, tab_servers
from core.sizes import human_rate, human_size

HISTORY = 60  # seconds the plot covers

#: every field an entry may show, in form order: key -> label
FIELDS: dict[str, str] = {
    "host": "Host", "port": "Port", "mode": "Mode", "fork_style": "Fork style",
    "path": "Path", "root": "Document root", "cgi_dir": "cgi-bin folder",
    "max_clients": "Max clients", "idle_timeout": "Idle timeout (s)",
    "buffer_kib": "Buffer cap (KiB)", "python_start": "Python scripts",
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
    history: dict[str, deque[float]] = field(default_factory=lambda: {
        "Connections": deque(maxlen=HISTORY), "Bytes/s": deque(maxlen=HISTORY)})
    last: ServerStats | None = None
    busy: bool = False  # a start or stop is in flight
    #: a few sentences on what this server is, shown under the list
    about: str = ""

    @property
    def running(self) -> bool:
        return self.controller is not None and self.controller.running and not self.crashed

    @property
    def crashed(self) -> str:
        """Why the server died ("" unless it crashed and was not started again)."""
        return self.controller.crash_reason if self.controller is not None else ""

    @property
    def kind(self) -> str:
        return self.controller.kind if self.controller else self.key

    def build(self) -> ServerController:
        """A configured controller (lab peers: the peer, reconfigured when stopped)."""
        if self.lab:
            assert self.controller is not None
            if not self.controller.running:
                self.controller.host = check_host(self.config.get("host", ""))
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




def tab_entries() -> list[ServerEntry]:
    """One entry per server kind the registry offers the tab, with its default form."""
    return [entry_for(kind) for kind in tab_servers()]


def entry_for(kind: TabServer) -> ServerEntry:
    return ServerEntry(kind.key, kind.label, kind.fields, dict(kind.defaults),
                       factory=kind.build, about=kind.about)


def lab_entry(peer: ServerController) -> ServerEntry:
    detail = peer.describe()
    return ServerEntry(f"lab:{peer.kind}", peer.title, ("host", "port"),
                       {"host": peer.host, "port": str(peer.port)}, controller=peer,
                       lab=True,
                       about="A lab peer, also started by Lab › Start all lab peers; "
                             "port 0 picks a free port."
                             + (f"\n{detail[:1].upper()}{detail[1:]}." if detail else ""))
