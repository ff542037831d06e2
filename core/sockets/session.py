"""SocketSession: one socket (client, listener with its peers, or datagram) on one I/O thread.

Every call returns at once: it checks the state (raising :class:`StateError` or
:class:`UserError` in the caller's thread) and hands the work to the session's thread,
which runs a ``selectors`` loop (the origin document's section 4.2.2) over non-blocking
sockets, TLS included, and reports everything as events in :attr:`outbox`.

This module holds the API and the command queue; the thread's work lives in mixins:
the loop and stream I/O (loop.py), stream set-up (connect.py), datagrams (datagram.py)
and repeat/auto-reply (repeat.py).

The state follows section 4.3.2: :class:`core.states.ConnectionStateMachine` holds the
session's state; each peer of a listener has its own machine.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import selectors
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError, check_port, describe_error
from core.events import Event, Failed, LogLine, StateChanged
from core.recording import Recording
from core.sockets.addressing import (
    Address,
    check_family,
    check_transport,
    check_unix_path,
    is_unix,
    parse_address,
)
from core.sockets.automation import AutoReply, RepeatPlan
from core.sockets.connect import StreamSetup
from core.sockets.datagram import DatagramIO
from core.sockets.loop import SHUTDOWN_OPS, Stream, StreamLoop
from core.sockets.options import OPTIONS, apply_options, check_option, read_options
from core.sockets.repeat import RepeatRunner
from core.states import ConnectionState, ConnectionStateMachine, StateError
from core.worker import Outbox, new_source


@dataclass
class SocketConfig:
    """Everything the user chose before connecting, listening or binding."""

    transport: str = "tcp"  # tcp | udp | unix-stream | unix-dgram
    host: str = "127.0.0.1"  # remote host (client/datagram target) or bind host (listener)
    port: int | str = 0
    path: str = ""  # UNIX: remote path (client) or bind path (listener)
    family: str = "auto"  # auto | ipv4 | ipv6
    local_host: str = ""  # datagram: bind address ('' with port 0: let the kernel pick)
    local_port: int | str = 0
    local_path: str = ""  # unix-dgram: our own path, so peers can reply
    tls: bool = False
    tls_verify: bool = True
    ca_file: str = ""
    server_name: str = ""  # SNI and the name checked against the certificate
    cert_file: str = ""  # listener: PEM certificate ('' -> generated self-signed)
    key_file: str = ""
    connect_timeout: float = 10.0
    backlog: int = 16
    options: dict[str, int] = field(default_factory=dict)

    def target(self) -> str:
        if is_unix(self.transport):
            return self.path
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host or 'all interfaces'}:{self.port}"



class SocketSession(RepeatRunner, DatagramIO, StreamSetup, StreamLoop):
    def __init__(self, outbox: Outbox | None = None, source: str | None = None) -> None:
        self.source = source or new_source("socket")
        self.outbox: Outbox = outbox if outbox is not None else Outbox()
        self.machine = ConnectionStateMachine(self._on_state)
        self.config = SocketConfig()
        self.role = ""  # client | listener | datagram
        self.local_address = ""
        self.auto_replies: list[AutoReply] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._commands: collections.deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        self._sel: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._main: socket.socket | None = None  # client socket, listener or datagram socket
        self._client: Stream | None = None
        self._peers: dict[str, Stream] = {}
        self._dgram_peers: dict[str, Address] = {}
        self._dgram_target: Address | None = None
        self._unix_path_owned = ""
        self._tls_ctx: ssl.SSLContext | None = None
        self._candidates: list[tuple[int, Address]] = []
        self._connect_deadline = 0.0
        self._last_error: BaseException | None = None
        self._repeat: RepeatPlan | None = None
        self._repeat_sent = 0
        self._repeat_next = 0.0
        self._repeat_progress_at = 0.0
        self._paused: set[Stream] = set()
        self._peer_ids = 0
        self._pending_options: dict[str, int] = {}  # set_option before a socket exists
        #: what "Show as Python" replays (core/codegen/socket_script.py); a new
        #: connect/listen/open starts a new recording
        self.recording = Recording("socket")

    # == public API (any thread) ========================================================
    @property
    def state(self) -> ConnectionState:
        return self.machine.state

    def peers(self) -> list[str]:
        with self._lock:
            return list(self._peers) if self.role == "listener" else list(self._dgram_peers)

    def connect(self, config: SocketConfig) -> None:
        """Stream client: TCP (optionally TLS) or UNIX stream."""
        self._begin(config, "connect", "client", f"connecting to {config.target()}")

    def listen(self, config: SocketConfig) -> None:
        """Stream listener: bind-listen-accept, any number of peers."""
        self._begin(config, "listen", "listener", f"listening on {config.target()}")

    def open_datagram(self, config: SocketConfig) -> None:
        """UDP or UNIX datagram: bind (optionally) and sendto/recvfrom at will."""
        self._begin(config, "bind", "datagram", "datagram socket open")

    _ROLES = {  # role -> (transports it takes, what to use otherwise, setup method name)
        "client": (("tcp", "unix-stream"), "Connect is for TCP and UNIX stream; datagram "
                   "modes use Open.", "_setup_client"),
        "listener": (("tcp", "unix-stream"), "Listen is for TCP and UNIX stream; datagram "
                     "modes use Open.", "_setup_listener"),
        "datagram": (("udp", "unix-dgram"), "Open is for UDP and UNIX datagram; stream "
                     "modes use Connect or Listen.", "_setup_datagram"),
    }

    def _begin(self, config: SocketConfig, op: str, role: str, detail: str) -> None:
        self._check_config(config, op)
        transports, wrong_mode, setup = self._ROLES[role]
        if config.transport not in transports:
            raise UserError(wrong_mode, "Mode")
        self.machine.apply(op, detail)
        self._start(config, role, getattr(self, setup))
        self._record_begin(config, role)

    def _record_begin(self, config: SocketConfig, role: str) -> None:
        rec = self.recording  # each connect/listen/open starts a new recording
        family = {"unix-stream": "unix"}.get(config.transport, config.transport)
        ipv = {"ipv4": "4", "ipv6": "6"}.get(config.family, "auto")
        if role == "listener":
            rec.begin("listen", family=family, host=config.host, port=config.port,
                      path=config.path, tls=config.tls)
            rec.add("accept")
        else:
            rec.begin("connect", family=family, host=config.host, port=config.port,
                    path=config.path, ipv=ipv, tls=config.tls, verify=config.tls_verify,
                      ca_file=config.ca_file or None,
                      server_hostname=config.server_name or None, timeout=config.connect_timeout)
        for name, value in config.options.items():
            self._record_option(name, value)

    def _record_option(self, name: str, value: int) -> None:
        option = OPTIONS.get(name)
        if option is not None:
            level = "IPPROTO_TCP" if option.level == socket.IPPROTO_TCP else "SOL_SOCKET"
            self.recording.add("option", level=level, name=name, value=value)

    def send(self, data: bytes, peer: str | None = None) -> None:
        """Send to the connection; on a listener to ``peer`` or all peers; on a datagram
        socket to ``peer`` (``host:port``, a path, or a recvfrom address) or the target."""
        self.machine.require("send")
        if self.role == "listener":
            with self._lock:
                if peer is not None and peer not in self._peers:
                    raise UserError(f"Peer {peer} is not connected any more; pick another.",
                                    "Peer")
                if not self._peers:
                    raise UserError("No client is connected to the listener yet: connect one "
                                    f"to {self.local_address}, then send.", "Peer")
        elif self.role == "datagram" and peer is not None and peer not in self._dgram_peers:
            parse_address(peer, self.config.transport)  # raises a clear error now
        self._call(lambda: self._send_now(bytes(data), peer))
        to = None
        if self.role == "datagram" and peer is not None and not is_unix(self.config.transport):
            host, _, port = peer.rpartition(":")
            if port.isdigit():
                to = (host.strip("[]"), int(port))
        self.recording.add("send", data=bytes(data), to=to)

    def send_file(self, path: str | Path, peer: str | None = None) -> None:
        self.machine.require("send")
        path = Path(path)
        if not path.is_file():
            raise UserError(f"File {path} does not exist or is not a file; choose another.",
                            "File")
        if self.role == "datagram":
            size = path.stat().st_size
            if size > 65507:
                raise UserError(f"File {path.name} is {size} bytes; one datagram holds at most "
                                "65507. Send it over TCP instead.", "File")
            self.send(path.read_bytes(), peer)
            return
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise UserError(f"File {path} cannot be read: {exc.strerror}.", "File") from None
        self._call(lambda: self._start_file(handle, peer))
        self.recording.add("send_file", path=str(path.resolve()))

    def shutdown(self, how: str | int, peer: str | None = None) -> None:
        """Half-close: ``read`` (SHUT_RD), ``write`` (SHUT_WR: send FIN) or ``both``."""
        if isinstance(how, int):
            how = {socket.SHUT_RD: "read", socket.SHUT_WR: "write",
                   socket.SHUT_RDWR: "both"}[how]
        if how not in SHUTDOWN_OPS:
            raise UserError(f"Shutdown must be read, write or both, got {how!r}.", "Shutdown")
        op = SHUTDOWN_OPS[how][1]
        if self.role == "listener":
            stream = self._peer(peer)
            stream.machine.require(op)
        else:
            self.machine.require(op)
            stream = self._client
        if self.config.tls and self.running:
            raise UserError("TLS has no half-close here: close the connection instead.",
                            "Shutdown")
        (stream.machine if stream is not None else self.machine).apply(op)
        self._call(lambda: self._shutdown_now(stream, how))
        self.recording.add("shutdown", how={"read": "SHUT_RD", "write": "SHUT_WR",
                                            "both": "SHUT_RDWR"}[how])

    def drop(self, peer: str) -> None:
        """Close one peer of a listener."""
        stream = self._peer(peer)
        self._call(lambda: self._close_stream(stream, "dropped by you"))
        self.recording.add("drop", peer=peer)

    def close(self, reason: str = "closed by you", timeout: float = 2.0) -> None:
        """Close everything and wait (bounded) for the I/O thread to end."""
        thread = self._thread
        self.recording.end("close")  # once per connection
        if thread is None:
            self.machine.apply("close")
            return
        self._stop_reason = reason
        self._stop.set()
        self._wake()
        if thread is not threading.current_thread():
            thread.join(timeout)

    def start_repeat(self, plan: RepeatPlan) -> None:
        self.machine.require("send")
        if self.role == "listener" and not self.peers():
            raise UserError("No client is connected to the listener yet: nothing to repeat to.",
                            "Peer")
        self._call(lambda: self._begin_repeat(plan))
        self.recording.add("repeat", payload=plan.payload(1), count=plan.count,
                           interval_ms=plan.interval_ms, macros="{{" in plan.template)

    def stop_repeat(self) -> None:
        self._call(lambda: self._end_repeat("stopped"))

    def set_auto_replies(self, rules: list[AutoReply]) -> None:
        self.auto_replies = list(rules)
        if rules:
            self.recording.add("auto_replies", count=len(rules))

    def set_option(self, name: str, value: int | bool | str) -> dict[str, int]:
        """Set now if a socket is open (else at the next connect/listen); returns read-back."""
        number = check_option(name, value)
        self.config.options[name] = number
        self._pending_options[name] = number
        sock = self._main
        if sock is not None:
            self._record_option(name, number)
        if sock is not None:
            try:
                apply_options(sock, self.config.transport, {name: number})
            except OSError as exc:
                raise UserError(f"{name} could not be set: {exc.strerror}.", name) from None
        return self.get_options()

    def get_options(self) -> dict[str, int]:
        """Values read back from the open socket (getsockopt), or the pending choices."""
        sock = self._main
        if sock is None:
            return dict(self.config.options)
        try:
            return read_options(sock, self.config.transport)
        except OSError:
            return dict(self.config.options)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # == plumbing =======================================================================
    def _check_config(self, config: SocketConfig, op: str) -> None:
        self.machine.require(op)
        if self._thread is not None:
            self._thread.join(2.0)  # the last session's thread is finishing its cleanup
            if self._thread.is_alive():
                raise StateError(self.machine.state, op)
        check_transport(config.transport)
        check_family(config.family)
        if is_unix(config.transport):
            check_unix_path(config.path, "Path" if op != "bind" or config.path else "Path")
            if config.local_path:
                check_unix_path(config.local_path, "Local path")
        else:
            check_port(config.port, "Port", allow_zero=op != "connect")
            check_port(config.local_port, "Local port", allow_zero=True)
        config.options = {**self._pending_options, **config.options}
        for name, value in config.options.items():
            config.options[name] = check_option(name, value)
        if config.tls and config.transport != "tcp":
            raise UserError("TLS needs TCP: set Mode to tcp or turn TLS off.", "TLS")
        if not 0 < float(config.connect_timeout) <= 600:
            raise UserError(f"Timeout must be 0–600 s, got {config.connect_timeout}.",
                            "Timeout")

    def _on_state(self, state: ConnectionState, detail: str) -> None:
        self.post(StateChanged(source=self.source, state=state.name, detail=detail))

    def post(self, event: Event) -> None:
        self.outbox.put(event)

    def _log(self, text: str, level: str = "info") -> None:
        self.post(LogLine(source=self.source, text=text, level=level))

    def _start(self, config: SocketConfig, role: str, setup: Callable[[], None]) -> None:
        self.config = config
        self.role = role
        self._stop.clear()
        self._stop_reason = "closed by you"
        self._commands.clear()
        self._peers.clear()
        self._dgram_peers.clear()
        self._client = None
        self._last_error = None
        self._wake_r, self._wake_w = socket.socketpair()  # before the thread: close() may race
        self._wake_r.setblocking(False)
        self._thread = threading.Thread(target=self._run, args=(setup,),
                                        name=f"{self.source}:{role}", daemon=True)
        self._thread.start()

    def _call(self, fn: Callable[[], None]) -> None:
        if not self.running:
            raise StateError(self.machine.state, "send")
        self._commands.append(fn)
        self._wake()

    def _wake(self) -> None:
        wake = self._wake_w
        if wake is not None:
            with contextlib.suppress(OSError):
                wake.send(b"\0")

    def _peer(self, peer: str | None) -> Stream:
        with self._lock:
            if peer is None and len(self._peers) == 1:
                return next(iter(self._peers.values()))
            if peer is None:
                raise UserError("Choose a peer first (the listener has "
                                f"{len(self._peers)} clients).", "Peer")
            try:
                return self._peers[peer]
            except KeyError:
                raise UserError(f"Peer {peer} is not connected any more; pick another.",
                                "Peer") from None

    def _fail(self, exc: BaseException, target: str = "") -> None:
        message = self._describe(exc, target)
        field = getattr(exc, "field_name", "")
        if isinstance(exc, socket.gaierror):
            field = "Host"
        if not field and isinstance(exc, OSError) and exc.errno in (
                errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            field = "Path" if is_unix(self.config.transport) else (
                "Host" if self.role == "datagram" else "Port")
        self.post(Failed(source=self.source, message=message, field_name=field))

    def _describe(self, exc: BaseException, target: str) -> str:
        if isinstance(exc, PermissionError) and self.role == "datagram" \
                and not self.config.options.get("SO_BROADCAST"):
            return (f"Permission denied sending to {target}: a broadcast address needs "
                    "SO_BROADCAST; turn it on in Options.")
        if isinstance(exc, PermissionError) and is_unix(self.config.transport):
            return f"Permission denied on {target}: choose a path in a folder you can write."
        if isinstance(exc, socket.gaierror):
            # the gaierror text itself names no field; the tab highlights Host with this
            return describe_error(exc, target or self.config.host)
        return describe_error(exc, target)

