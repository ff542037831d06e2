"""Echo servers: TCP / UNIX stream in three designs (threaded, select, fork) and UDP.

:func:`make_echo_server` builds any of them from the names a user picks; the lab's
echo peers (TCP threaded and UDP, port 7000) and ``wirebench serve echo`` use it.
"""

from __future__ import annotations

import argparse

from core.errors import UserError, check_host, check_number, check_port
from core.paths import data_dir
from core.servers.base import ServerController
from core.servers.echo.common import (
    FORK_STYLES,
    MODES,
    SELECT_MAX_CLIENTS,
    EchoLimits,
    StreamEchoServer,
)
from core.servers.echo.fork import ForkEchoServer
from core.servers.echo.select_server import SelectEchoServer
from core.servers.echo.threaded import ThreadedEchoServer
from core.servers.echo.udp import UdpEchoServer
from core.servers.registry import ServeKind, TabServer

__all__ = ["EchoLimits", "ForkEchoServer", "SelectEchoServer", "ThreadedEchoServer",
           "UdpEchoServer", "make_echo_server", "lab_peers", "SERVE_KINDS", "PROTOS",
           "MODES", "FORK_STYLES", "LAB_PORT", "default_unix_path", "server_script",
           "TAB_SERVERS", "build_from_form"]

PROTOS: tuple[str, ...] = ("tcp", "udp", "unix")
LAB_PORT = 7000

_STREAM_CLASSES: dict[str, type[StreamEchoServer]] = {
    "threaded": ThreadedEchoServer, "select": SelectEchoServer, "fork": ForkEchoServer,
}


def default_unix_path() -> str:
    return str(data_dir() / "echo.sock")


def make_echo_server(proto: str = "tcp", mode: str = "threaded", host: str = "127.0.0.1",
                     port: int = 0, *, path: str | None = None, fork_style: str = "simple",
                     limits: EchoLimits | None = None, outbox=None) -> ServerController:
    """An echo server, configured and not started. Raises UserError on a bad choice."""
    if proto not in PROTOS:
        raise UserError(f"Protocol must be one of {', '.join(PROTOS)}, got {proto!r}.",
                        "Protocol")
    if proto == "udp":
        return UdpEchoServer(host, port, outbox, limits=limits)
    if mode not in MODES:
        raise UserError(f"Mode must be one of {', '.join(MODES)}, got {mode!r}.", "Mode")
    if proto == "unix":
        if not path:
            raise UserError("Path is empty: give a file path for the UNIX socket.", "Path")
        if len(path.encode()) > 107:
            raise UserError("Path is too long for a UNIX socket (107 bytes at most): "
                            "choose a shorter one.", "Path")
    cls = _STREAM_CLASSES[mode]
    kwargs: dict = {"path": path if proto == "unix" else None, "limits": limits}
    if mode == "fork":
        if fork_style not in FORK_STYLES:
            raise UserError(f"Fork style must be simple or double, got {fork_style!r}.",
                            "Fork style")
        kwargs["fork_style"] = fork_style
    return cls(host, port, outbox, **kwargs)


def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    port = 0 if ephemeral else LAB_PORT
    return [ThreadedEchoServer(host, port), UdpEchoServer(host, port)]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.servers.serve import add_common_arguments

    add_common_arguments(parser, LAB_PORT)
    parser.add_argument("--proto", choices=PROTOS, default="tcp",
                        help="tcp (default), udp, or unix (a stream socket file, see --path)")
    parser.add_argument("--mode", choices=MODES, default="threaded",
                        help="how TCP/UNIX clients are served: a thread each (default), one "
                             "select loop, or a forked process each")
    parser.add_argument("--fork-style", choices=FORK_STYLES, default="simple",
                        help="fork mode: simple fork, or double (separate) fork")
    parser.add_argument("--path", help="UNIX socket file (default: echo.sock in the data dir)")
    parser.add_argument("--max-clients", type=int, default=None,
                        help="clients served at once; when full the one idle longest is "
                             f"closed for a new one (default {EchoLimits.max_clients}, "
                             f"select mode {SELECT_MAX_CLIENTS:,})")
    parser.add_argument("--idle-timeout", type=float, default=EchoLimits.idle_timeout,
                        help="seconds before a silent client is dropped")
    parser.add_argument("--buffer-cap", type=int, default=EchoLimits.buffer_cap,
                        help="bytes queued per client before reading from it pauses")
    parser.add_argument("--print-code", action="store_true",
                        help="print the origin document's server for this choice as a "
                             "standalone Python 3 script, and exit")


def server_script(proto: str, mode: str, host: str, port: int, path: str | None = None,
                  fork_style: str = "simple") -> str:
    """The seed-style script for an echo server choice ("Show as Python")."""
    from core.codegen import render
    from core.recording import Recording

    recording = Recording("echo-server")
    recording.add("server", proto=proto, mode=mode, fork_style=fork_style, host=host,
                  port=port, path=path or default_unix_path())
    return render(recording)


def _print_code(args: argparse.Namespace) -> bool:
    if not args.print_code:
        return False
    print(server_script(args.proto, args.mode, args.host, args.port, args.path,
                        args.fork_style), end="")
    return True


def _build(args: argparse.Namespace) -> list[ServerController]:
    check_port(args.port, "--port", allow_zero=True)
    default_clients = SELECT_MAX_CLIENTS if args.mode == "select" else EchoLimits.max_clients
    limits = EchoLimits(max_clients=args.max_clients or default_clients,
                        idle_timeout=args.idle_timeout, buffer_cap=args.buffer_cap)
    path = args.path or (default_unix_path() if args.proto == "unix" else None)
    return [make_echo_server(args.proto, args.mode, args.host, args.port, path=path,
                             fork_style=args.fork_style, limits=limits)]


SERVE_KINDS: dict[str, ServeKind] = {
    "echo": ServeKind(help="echo server: TCP (threaded, select or fork), UDP or UNIX stream",
                      add_arguments=_add_arguments, build=_build, preempt=_print_code),
}


# -- the Servers tab's form --------------------------------------------------------------
def build_from_form(proto: str, form: dict[str, str]) -> ServerController:
    """An echo server from the Servers tab's text fields; UserError names a bad field."""
    # Max clients left empty: the mode's default (select 10,000, the others 512)
    max_clients = str(form.get("max_clients", "")).strip() or (
        SELECT_MAX_CLIENTS if form.get("mode") == "select" else EchoLimits.max_clients)
    limits = EchoLimits(
        max_clients=check_number(max_clients, "Max clients", 1),
        idle_timeout=check_number(form.get("idle_timeout", 300), "Idle timeout", 0.001,
                                  float),
        buffer_cap=check_number(form.get("buffer_kib", 256), "Buffer cap", 1) * 1024,
    )
    unix = proto == "unix"
    host = "127.0.0.1" if unix else check_host(form.get("host", "127.0.0.1"))
    port = 0 if unix else check_port(form.get("port", 0), "Port", allow_zero=True)
    return make_echo_server(proto, form.get("mode", "threaded"), host, port,
                            path=str(form.get("path", "")).strip() or None,
                            fork_style=form.get("fork_style", "simple"), limits=limits)


_LIMITS = ("max_clients", "idle_timeout", "buffer_kib")
_FORM = {"host": "127.0.0.1", "mode": "threaded", "fork_style": "simple",
         "max_clients": "", "idle_timeout": "300", "buffer_kib": "256", "port": "7001"}
TAB_SERVERS: list[TabServer] = [
    TabServer("echo-tcp", "Echo · TCP", ("host", "port", "mode", "fork_style", *_LIMITS),
              _FORM, lambda form: build_from_form("tcp", form),
              about="TCP echo in the origin document's three designs (section 4.2): "
                    "threaded — a thread per client; select — one thread multiplexing "
                    "non-blocking sockets, each client's buffer capped so one that never "
                    "reads stalls nobody; fork — a process per client from a clean helper "
                    "process, simple or double (separate) fork, with a fireman reaping "
                    "every child. Try: telnet 127.0.0.1 PORT"),
    TabServer("echo-udp", "Echo · UDP", ("host", "port", "idle_timeout"), _FORM,
              lambda form: build_from_form("udp", form),
              about="UDP echo (section 3.3): bind, then recvfrom/sendto — no listen, no "
                    "accept. Datagrams up to 65,507 bytes come back whole; a peer counts as "
                    "connected until it is quiet for the idle timeout."),
    TabServer("echo-unix", "Echo · UNIX stream", ("path", "mode", "fork_style", *_LIMITS),
              {**_FORM, "path": default_unix_path()},
              lambda form: build_from_form("unix", form),
              about="The same echo designs on a UNIX-domain stream socket (a file). A stale "
                    "socket file left by a crash is replaced; one a running server owns is "
                    "refused. Try: socat - UNIX-CONNECT:PATH"),
]
