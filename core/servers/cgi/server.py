"""A CGI/1.1 web server (RFC 3875) on ``http.server`` primitives, for the origin document's
section 5: a document root of static files and a cgi-bin folder of scripts.

Design:

* an accept thread hands each connection to its own worker thread, so a slow client only
  ever holds its own thread; a janitor thread closes the read side of connections whose
  request head or body is late (slowloris), and ``stop()`` shuts every socket and kills
  every script so all threads end within a second;
* each connection is served by :class:`~core.servers.cgi.handler.CgiRequestHandler`:
  requests read with hard limits (:mod:`core.servers.http_head`), paths mapped with
  containment checks (:mod:`core.servers.cgi.paths`), then a static file is sent or a
  script is run (:mod:`core.servers.cgi.process`) with the RFC 3875 meta-variables
  (:mod:`core.servers.cgi.env`) and its output parsed (:mod:`core.servers.cgi.output`)
  and streamed to the client as it comes.
"""

from __future__ import annotations

import argparse
import os
import queue
import selectors
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

from core.errors import UserError, check_host, check_port
from core.events import Event
from core.paths import asset, data_dir
from core.servers.base import ServerController, ServerStartError
from core.servers.cgi.filecache import SmallFileCache
from core.servers.cgi.handler import CgiLimits, CgiRequestHandler, LiveConnection
from core.servers.cgi.process import CgiProcess
from core.servers.cgi.zygote import PYTHON_STARTS, PythonZygote
from core.servers.registry import ServeKind, TabServer
from core.servers.serve import add_common_arguments

__all__ = ["CgiLimits", "CgiServer", "LAB_PORT", "SERVE_KINDS", "TAB_SERVERS", "lab_peers",
           "open_in_browser"]

LAB_PORT = 8000


class CgiServer(ServerController):
    """Static files from ``root`` and CGI scripts from ``cgi_dir`` at ``/cgi-bin/``."""

    kind = "cgi"
    title = "CGI web server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, root: str | Path | None = None,
                 cgi_dir: str | Path | None = None,
                 outbox: queue.SimpleQueue[Event] | None = None, *,
                 limits: CgiLimits | None = None, data_dir: str | Path | None = None,
                 access_log: bool = True, threaded_pipes: bool | None = None,
                 python_zygote: bool = True) -> None:
        super().__init__(host, port, outbox)
        #: drive script pipes with threads instead of a selector (default: only on Windows)
        self.threaded_pipes = sys.platform == "win32" if threaded_pipes is None else threaded_pipes
        self.root = Path(root) if root is not None else asset("www")
        #: scripts: the folder given, else ROOT/cgi-bin as CGIHTTPServer does (none when
        #: the root has no cgi-bin), else the bundled samples (no root given either)
        self.cgi_dir = (Path(cgi_dir) if cgi_dir is not None else
                        self.root / "cgi-bin" if root is not None else asset("cgi-bin"))
        self._cgi_dir_given = cgi_dir is not None
        self.limits = limits or CgiLimits()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.access_log = access_log
        self.file_cache = SmallFileCache()
        #: Python scripts fork from a pre-started interpreter (POSIX, selector pipes only)
        self.python_zygote = python_zygote and os.name == "posix" and not self.threaded_pipes
        self._zygote: PythonZygote | None = None
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._janitor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: set[LiveConnection] = set()
        self._conns_lock = threading.Lock()
        self.real_root = self.root
        self.real_cgi_dir = self.cgi_dir
        self.script_data_dir = ""

    # -- controller contract ---------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def running(self) -> bool:
        return self._accept_thread is not None and self._accept_thread.is_alive()

    def describe(self) -> str:
        scripts = (self.cgi_dir if self.cgi_dir.is_dir() else
                   f"none ({self.cgi_dir} does not exist)")
        return f"root {self.root}, scripts {scripts}"

    def url(self, path: str = "/") -> str:
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{path}"

    def _start(self) -> None:
        for folder, field in ((self.root, "Root"), (self.cgi_dir, "CGI folder")):
            if field == "CGI folder" and not self._cgi_dir_given:
                continue  # ROOT/cgi-bin is optional: without it /cgi-bin/ answers 404
            if not folder.is_dir():
                raise ServerStartError(
                    f"{field} {folder} is not a folder: choose an existing folder.", field)
        self.real_root = self.root.resolve()
        self.real_cgi_dir = self.cgi_dir.resolve()
        self.script_data_dir = str(self.data_dir if self.data_dir is not None else data_dir())
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            if os.name != "nt":  # on Windows it would let another server steal the port
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(self.limits.backlog)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping.clear()
        self._accept_thread = threading.Thread(target=self.guarded(self._accept_loop),
                                               name="cgi:accept", daemon=True)
        self._janitor = threading.Thread(target=self.guarded(self._janitor_loop),
                                         name="cgi:janitor", daemon=True)
        if self.python_zygote:
            self._zygote = PythonZygote(lambda message: self.log(message, "warning"))
            self._zygote.start()
        self._accept_thread.start()
        self._janitor.start()

    def _stop(self, timeout: float) -> None:
        if self._accept_thread is None:
            return
        end = time.monotonic() + timeout
        self._stopping.set()
        if self._wake_w is not None:
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
        self._accept_thread.join(max(0.05, end - time.monotonic()))
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            self._abort(conn)
        for conn in conns:
            if conn.thread is not None:
                conn.thread.join(max(0.05, end - time.monotonic()))
        if self._janitor is not None:
            self._janitor.join(max(0.05, end - time.monotonic()))
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None
        self._accept_thread = self._janitor = None
        if self._zygote is not None:
            self._zygote.stop(max(0.5, end - time.monotonic()))
            self._zygote = None

    def zygote_spawn(self, script: Path, env: dict[str, str], body: bytes, deadline: float,
                     on_stderr: Callable[[str], None]) -> CgiProcess | None:
        """A Python script forked from the zygote; None when it is off or cannot take it."""
        zygote = self._zygote
        if zygote is None or script.suffix.lower() != ".py":
            return None
        return zygote.spawn(script, env, script.parent, body, deadline, on_stderr)

    # -- threads -----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        sock, addr = self._listener.accept()
                    except OSError:
                        continue
                    self._admit(sock, addr)

    def _admit(self, sock: socket.socket, addr: tuple) -> None:
        with self._conns_lock:
            full = len(self._conns) >= self.limits.max_connections
            victim = self._idlest() if full else None
        if victim is not None:
            # a slow or idle client never locks a new one out: the one waiting longest for
            # its request gets 408 (the janitor's way) and the newcomer its slot
            self._cut_short(victim)
            self.log_limit("max connections", f"{self.limits.max_connections} connections "
                           "open (max connections): closed the one waiting longest")
        elif full:  # every connection is running a request: nothing idle to close
            try:
                sock.setblocking(False)
                sock.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\nRetry-After: 1\r\n\r\n")
            except OSError:
                pass
            sock.close()
            self.log_limit("max connections", f"{addr[0]}:{addr[1]} refused: "
                           f"{self.limits.max_connections} connections busy with requests")
            return
        conn = LiveConnection(sock)
        conn.thread = threading.Thread(target=self.guarded(self._serve_connection, fatal=False),
                                       args=(conn, addr),
                                       name=f"cgi:{addr[0]}:{addr[1]}", daemon=True)
        with self._conns_lock:
            self._conns.add(conn)
        self.count(opened=1)
        conn.thread.start()

    def _idlest(self) -> LiveConnection | None:
        """The connection waiting longest for a request head or body (lock held)."""
        waiting = [c for c in self._conns if c.deadline is not None and not c.late]
        return min(waiting, key=lambda c: c.waiting_since) if waiting else None

    def _serve_connection(self, conn: LiveConnection, addr: tuple) -> None:
        try:
            conn.sock.settimeout(self.limits.io_timeout)
            handler = CgiRequestHandler(conn.sock, addr, self, conn)
            if handler.status_sent >= 400 and not self._stopping.is_set():
                self._linger(conn.sock)
        except OSError:
            pass  # the client went away; nothing to answer
        except Exception as exc:  # a bug must cost one connection, never the server
            self.log(f"internal error serving {addr[0]}:{addr[1]}: {exc!r}", "error")
        finally:
            try:
                conn.sock.close()
            except OSError:
                pass
            with self._conns_lock:
                self._conns.discard(conn)
            self.count(closed=1)

    @staticmethod
    def _linger(sock: socket.socket) -> None:
        """Close gently after an error answer: closing with unread input (the rest of a
        too-long line, an unwanted body) would send a reset that destroys the answer in
        flight, so discard input for a bounded time and size first (as Apache does)."""
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        end = time.monotonic() + 2.0
        budget = 1 << 20
        while budget > 0 and time.monotonic() < end:
            data = sock.recv(65536)
            if not data:
                break
            budget -= len(data)

    def _janitor_loop(self) -> None:
        shortened: dict[LiveConnection, float] = {}
        while not self._stopping.wait(0.1):
            now = time.monotonic()
            with self._conns_lock:
                if len(self._conns) * 4 >= self.limits.max_connections * 3:
                    # crowded: every wait in progress gets the short deadline for good (the
                    # handler owns conn.deadline, so remember the wait by its start time)
                    shortened.update((c, c.waiting_since) for c in self._conns
                                     if c.deadline is not None)
                for c in [c for c in shortened if c not in self._conns]:
                    del shortened[c]
                short = now - self.limits.crowded_timeout
                late = [c for c in self._conns if c.deadline is not None
                        and (c.deadline < now or (shortened.get(c) == c.waiting_since
                                                  and c.waiting_since < short))]
            for conn in late:
                self._cut_short(conn)

    @staticmethod
    def _cut_short(conn: LiveConnection) -> None:
        """End a wait for a head or body: the blocked recv gets EOF (the handler can
        still answer 408/400)."""
        conn.deadline = None
        conn.late = True
        try:
            conn.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def _abort(self, conn: LiveConnection) -> None:
        process = conn.process
        if process is not None:
            process.kill()
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def open_in_browser(url: str) -> bool:
    """Show ``url`` in the user's browser, as the origin document's section 6.1 does.

    May block while a browser starts: call it from a worker thread, not the Tk thread.
    """
    return webbrowser.open(url, new=2)


# -- registry hooks ---------------------------------------------------------------------
def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    return [CgiServer(host=host, port=0 if ephemeral else LAB_PORT)]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=None,
                        help="document root of static files (default: the sample site)")
    parser.add_argument("--cgi-dir", type=Path, default=None,
                        help="folder of scripts served at /cgi-bin/ (default: ROOT/cgi-bin "
                             "when --root is given, else the samples')")
    parser.add_argument("--script-timeout", type=float, default=30.0,
                        help="seconds a script may run before it is killed (default 30)")
    parser.add_argument("--max-connections", type=int, default=CgiLimits().max_connections,
                        help="connections at once; when full the one waiting longest for "
                             f"its request is closed (default {CgiLimits().max_connections})")
    parser.add_argument("--no-access-log", action="store_true",
                        help="log errors only, not every request")
    parser.add_argument("--no-python-zygote", action="store_true",
                        help="start a new interpreter for every Python script instead of "
                             "forking a pre-started one (slower; for comparison)")
    add_common_arguments(parser, LAB_PORT)


def _build(args: argparse.Namespace) -> list[ServerController]:
    for folder, option in ((args.root, "--root"), (args.cgi_dir, "--cgi-dir")):
        if folder is not None and not folder.is_dir():
            raise UserError(f"{option} {folder} is not a folder: give an existing folder.",
                            option)
    if args.script_timeout <= 0:
        raise UserError("--script-timeout must be a positive number of seconds.",
                        "--script-timeout")
    if args.max_connections < 1:
        raise UserError("--max-connections must be at least 1.", "--max-connections")
    return [CgiServer(host=args.host, port=args.port, root=args.root, cgi_dir=args.cgi_dir,
                      limits=CgiLimits(script_timeout=args.script_timeout,
                                       max_connections=args.max_connections),
                      access_log=not args.no_access_log,
                      python_zygote=not args.no_python_zygote)]


SERVE_KINDS: dict[str, ServeKind] = {
    "cgi": ServeKind(help="CGI/1.1 web server: static files and /cgi-bin/ scripts",
                     add_arguments=_add_arguments, build=_build),
}


def _build_from_form(form: dict[str, str]) -> ServerController:
    folders: dict[str, str | None] = {}
    for key, label in (("root", "Document root"), ("cgi_dir", "cgi-bin folder")):
        text = str(form.get(key, "")).strip()
        if text and not Path(text).expanduser().is_dir():
            raise UserError(f"{label} {text!r} is not a folder: pick an existing folder, or "
                            "leave it empty for the sample site.", label)
        folders[key] = str(Path(text).expanduser()) if text else None
    return CgiServer(host=check_host(form.get("host", "127.0.0.1")),
                     port=check_port(form.get("port", 0), "Port", allow_zero=True),
                     python_zygote=form.get("python_start") != PYTHON_STARTS[1], **folders)


TAB_SERVERS: list[TabServer] = [
    TabServer("cgi", "CGI web server", ("host", "port", "root", "cgi_dir", "python_start"),
              {"host": "127.0.0.1", "port": "8080", "root": "", "cgi_dir": "",
               "python_start": PYTHON_STARTS[0]},
              _build_from_form,
              about="A CGI/1.1 web server (section 5): static files from the document "
                    "root, scripts from cgi-bin run as processes. Leave the folders empty "
                    "for the sample site from the document."),
]
