"""Which embedded servers exist: lab peers for ``--lab`` and kinds for ``wirebench serve``.

Each server module named in :data:`SERVER_MODULES` may define

* ``lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]``
  — the peers it contributes to the lab, configured but not started (``ephemeral`` asks
  for port 0 instead of the well-known lab port, for tests and ``--self-test``);
* ``SERVE_KINDS: dict[str, ServeKind]`` — subcommands of ``wirebench serve``;
* ``TAB_SERVERS: list[TabServer]`` — servers the Servers tab configures and starts.

Every module listed exists: a missing one is an import error, never skipped in silence.
"""

from __future__ import annotations

import argparse
import importlib
import queue
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from core.errors import describe_error
from core.events import Event
from core.servers.base import ServerController
from core.servers.lab_account import lab_ca_file
from core.worker import Outbox

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}

SERVER_MODULES: tuple[str, ...] = (
    "core.servers.echo.server",
    "core.servers.cgi.server",
    "core.servers.ftp_lab",
    "core.servers.smtp.sink",
    "core.servers.telnet_lab",
    "core.servers.dns.lab",
)


@dataclass(frozen=True)
class ServeKind:
    """A ``wirebench serve KIND`` subcommand."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace], list[ServerController]]
    #: optional: print something instead of serving (e.g. ``--print-code``); return True
    #: when it handled the call
    preempt: Callable[[argparse.Namespace], bool] | None = None


@dataclass(frozen=True)
class TabServer:
    """A server the Servers tab lists: its form, and how to build it from that form."""

    key: str
    label: str
    #: the form fields it shows (keys of the tab's field table), in order
    fields: tuple[str, ...]
    #: the form's starting values, as text
    defaults: dict[str, str]
    #: a configured, not started controller; raises UserError naming the bad field
    build: Callable[[dict[str, str]], ServerController]
    #: a few sentences on what this server is
    about: str = ""


def server_modules() -> list:
    """The modules of :data:`SERVER_MODULES`, imported on first use (start-up stays fast)."""
    return [importlib.import_module(name) for name in SERVER_MODULES]


def serve_kinds() -> dict[str, ServeKind]:
    kinds: dict[str, ServeKind] = {}
    for module in server_modules():
        kinds.update(getattr(module, "SERVE_KINDS", {}))
    return kinds


def tab_servers() -> list[TabServer]:
    """Every server the Servers tab offers, in the order of :data:`SERVER_MODULES`."""
    return [server for module in server_modules()
            for server in getattr(module, "TAB_SERVERS", ())]


def lab_factories() -> list[Callable[..., list[ServerController]]]:
    return [m.lab_peers for m in server_modules() if hasattr(m, "lab_peers")]


class LabRegistry:
    """The lab peers of one app (or one ``serve lab``): start all, stop all, list them."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        ephemeral: bool = False,
        outbox: queue.SimpleQueue[Event] | None = None,
        factories: list[Callable[..., list[ServerController]]] | None = None,
    ) -> None:
        self.host = host
        self.ephemeral = ephemeral
        self.outbox: queue.SimpleQueue[Event] = outbox if outbox is not None else Outbox()
        self._factories = factories
        self._peers: list[ServerController] | None = None
        self._lock = threading.Lock()

    def peers(self) -> list[ServerController]:
        with self._lock:
            if self._peers is None:
                peers: list[ServerController] = []
                for factory in self._factories if self._factories is not None else lab_factories():
                    peers.extend(factory(host=self.host, ephemeral=self.ephemeral))
                for peer in peers:
                    peer.outbox = self.outbox
                self._peers = peers
            return list(self._peers)

    def peer(self, kind: str) -> ServerController | None:
        return next((p for p in self.peers() if p.kind == kind), None)

    def start_all(self, kinds: Collection[str] | None = None) -> dict[str, str]:
        """Start every peer not running (or only those of ``kinds``); returns
        ``{kind: error sentence}`` for failures."""
        errors: dict[str, str] = {}
        for peer in self.peers():
            if kinds is not None and peer.kind not in kinds:
                continue
            try:
                peer.start()
            except Exception as exc:  # one broken peer must not keep the others down
                errors[peer.kind] = describe_error(exc)
        return errors

    def stop_all(self, timeout: float = 1.0) -> None:
        for peer in self.peers():
            peer.stop(timeout)

    def running(self) -> list[ServerController]:
        return [p for p in self.peers() if p.running]

    def peer_at(self, host: str, port: int | str) -> ServerController | None:
        """The running lab peer listening on ``host:port`` (either of its ports), if any."""
        try:
            port = int(port)
        except (TypeError, ValueError):
            return None
        host = host.strip().lower().strip("[]")
        for peer in self.running():
            names = {peer.host}
            if peer.host in LOOPBACK_NAMES:
                names |= LOOPBACK_NAMES
            ports = {peer.port, getattr(peer, "tls_port", None)}
            if host in names and port in ports:
                return peer
        return None

    def ca_for(self, host: str, port: int | str) -> str | None:
        """The lab's CA file when ``host:port`` is a running lab peer, else None.

        A tab passes it for that one connection: the lab's self-signed certificate is
        then verified like any other (verification stays on), and no other connection
        trusts it.
        """
        if self.peer_at(host, port) is None:
            return None
        return str(lab_ca_file())
