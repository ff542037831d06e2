"""SocketSession: one socket (client, listener with its peers, or datagram) on one I/O thread.

Every call returns at once: it checks the state (raising :class:`StateError` or
:class:`UserError` in the caller's thread) and hands the work to the session's thread,
which runs a ``selectors`` loop (the origin document's section 4.2.2) over non-blocking
sockets, TLS included, and reports everything as events in :attr:`outbox`.

The state follows section 4.3.2: :class:`core.states.ConnectionStateMachine` holds the
session's state; each peer of a listener has its own machine.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import ipaddress
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from core import tlscerts
from core.errors import UserError, check_port, describe_error
from core.events import (
    Closed,
    Connected,
    DataReceived,
    DataSent,
    Event,
    Failed,
    LogLine,
    Progress,
    StateChanged,
)
from core.recording import Recording
from core.sockets.addressing import (
    BROADCAST,
    Address,
    check_family,
    check_transport,
    check_unix_path,
    claim_unix_path,
    format_address,
    is_unix,
    parse_address,
    resolve,
    sock_type,
)
from core.sockets.automation import AutoReply, RepeatPlan
from core.sockets.events import LocalAddress, PeerClosed, TlsEstablished
from core.sockets.options import OPTIONS, apply_options, check_option, read_options
from core.states import ConnectionState, ConnectionStateMachine, StateError
from core.worker import Outbox, new_source

RECV_SIZE = 65536
#: events waiting for the GUI above which we stop reading: TCP then pushes back on the peer
#: (a stream chunk is up to 64 KiB, so this bounds the queue to ~4 MB); datagrams are
#: small and have no push-back, so they get more room before the kernel starts dropping
MAX_BACKLOG = 64
MAX_DGRAM_BACKLOG = 8192
#: bytes queued for one peer above which repeat/file sending waits for the link to drain
HIGH_WATER = 1024 * 1024
SHUTDOWN_OPS = {"read": (socket.SHUT_RD, "shutdown_read"),
                "write": (socket.SHUT_WR, "shutdown_write"),
                "both": (socket.SHUT_RDWR, "shutdown_both")}


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


class _Stream:
    """One stream connection: the client's, or one peer of a listener."""

    def __init__(self, sock: socket.socket, label: str, machine: ConnectionStateMachine) -> None:
        self.sock = sock
        self.label = label
        self.machine = machine
        self.out = bytearray()
        self.tls_retry = 0  # TLS must retry a blocked write with the same length
        self.handshaking = False
        self.connecting = False
        self.reading = True
        self.shut_pending: int | None = None  # SHUT_WR waits until queued bytes are out
        self.file: BinaryIO | None = None
        self.mask = 0


class SocketSession:
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
        self._client: _Stream | None = None
        self._peers: dict[str, _Stream] = {}
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
        self._paused: set[_Stream] = set()
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
        rec = self.recording
        rec.clear()
        family = {"unix-stream": "unix"}.get(config.transport, config.transport)
        ipv = {"ipv4": "4", "ipv6": "6"}.get(config.family, "auto")
        if role == "listener":
            rec.add("listen", family=family, host=config.host, port=config.port,
                    path=config.path, tls=config.tls)
            rec.add("accept")
        else:
            rec.add("connect", family=family, host=config.host, port=config.port,
                    path=config.path, ipv=ipv, tls=config.tls, verify=config.tls_verify,
                    ca_file=config.ca_file or None, server_hostname=config.server_name or None,
                    timeout=config.connect_timeout)
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

    def close(self, reason: str = "closed by you", timeout: float = 2.0) -> None:
        """Close everything and wait (bounded) for the I/O thread to end."""
        thread = self._thread
        if len(self.recording) and self.recording.steps()[-1].op != "close":
            self.recording.add("close")
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

    def stop_repeat(self) -> None:
        self._call(lambda: self._end_repeat("stopped"))

    def set_auto_replies(self, rules: list[AutoReply]) -> None:
        self.auto_replies = list(rules)

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

    def _peer(self, peer: str | None) -> _Stream:
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

    # == the I/O thread =================================================================
    def _run(self, setup: Callable[[], None]) -> None:
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._wake_r, selectors.EVENT_READ, self._drain_wake)
        try:
            setup()
            while not self._stop.is_set():
                events = self._sel.select(self._timeout())
                for key, mask in events:
                    key.data(mask)
                self._run_commands()
                self._tick()
        except Exception as exc:  # every failure reaches the tab as one sentence
            self._last_error = exc
            self._fail(exc, self.config.target() if self.role != "datagram" else "")
        finally:
            self._cleanup()

    def _timeout(self) -> float | None:
        waits: list[float] = []
        now = time.monotonic()
        if self._client is not None and self._client.connecting:
            waits.append(max(0.0, self._connect_deadline - now))
        if self._repeat is not None:
            waits.append(max(0.0, self._repeat_next - now))
        if self._paused:
            waits.append(0.01)
        return min(waits) if waits else None

    def _drain_wake(self, mask: int) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_r.recv(4096)  # type: ignore[union-attr]

    def _run_commands(self) -> None:
        while self._commands:
            fn = self._commands.popleft()
            try:
                fn()
            except UserError as exc:
                self.post(Failed(source=self.source, message=str(exc),
                                 field_name=exc.field_name))
            except OSError as exc:
                if self.role == "client":
                    raise  # the connection is gone: end the session with this error
                self._fail(exc)

    def _tick(self) -> None:
        stream = self._client
        if stream is not None and stream.connecting and time.monotonic() > self._connect_deadline:
            raise TimeoutError("connect timed out")
        if self._paused and self.outbox.qsize() < MAX_BACKLOG // 2:
            for paused in list(self._paused):
                paused.reading = True
                self._update(paused)
            self._paused.clear()
        if self._repeat is not None:
            self._repeat_step()

    def _cleanup(self) -> None:
        self._end_repeat("connection closed", quiet=self._repeat is None)
        streams = list(self._peers.values()) + ([self._client] if self._client else [])
        for stream in streams:
            if stream.file:
                stream.file.close()
            with contextlib.suppress(OSError):
                stream.sock.close()
        if self._main is not None:
            with contextlib.suppress(OSError):
                self._main.close()
        if self._unix_path_owned:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path_owned)
            self._unix_path_owned = ""
        with self._lock:
            self._main = None
            self._peers.clear()
            self._client = None
        if self._sel is not None:
            self._sel.close()
        for wake in (self._wake_r, self._wake_w):
            if wake is not None:
                wake.close()
        self._wake_r = self._wake_w = None
        reason = "failed" if self._last_error else getattr(self, "_stop_reason", "closed")
        if self._last_error is not None:
            self.machine.reset(f"failed: {type(self._last_error).__name__}")
        else:
            self.machine.reset(reason)
        self.post(Closed(source=self.source, reason=reason))

    # -- setup -------------------------------------------------------------------------
    def _new_socket(self, family: int) -> socket.socket:
        sock = socket.socket(family, sock_type(self.config.transport))
        apply_options(sock, self.config.transport, self.config.options)
        return sock

    def _setup_client(self) -> None:
        cfg = self.config
        if cfg.tls:
            self._tls_ctx = tlscerts.client_context(cfg.tls_verify, cfg.ca_file or None)
        if is_unix(cfg.transport):
            self._candidates = [(socket.AF_UNIX, cfg.path)]
        else:
            self._candidates = resolve(cfg.host, cfg.port, cfg.family, cfg.transport)
        self._try_next_candidate(None)

    def _try_next_candidate(self, error: BaseException | None) -> None:
        if self._client is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(self._client.sock)  # type: ignore[union-attr]
            self._client.sock.close()
            self._client = None
        if not self._candidates:
            raise error or OSError(errno.EHOSTUNREACH, "no address to try")
        family, addr = self._candidates.pop(0)
        sock = self._new_socket(family)
        sock.setblocking(False)
        code = sock.connect_ex(addr)
        stream = _Stream(sock, format_address(addr), self.machine)
        with self._lock:
            self._main = sock
            self._client = stream
        if code == 0:
            self._connected(stream)
        elif code in (errno.EINPROGRESS, errno.EAGAIN):
            stream.connecting = True
            self._connect_deadline = time.monotonic() + float(self.config.connect_timeout)
            self._register(stream, selectors.EVENT_WRITE)
        else:
            self._try_next_candidate(OSError(code, os.strerror(code)))

    def _connected(self, stream: _Stream) -> None:
        stream.connecting = False
        if self._tls_ctx is not None:
            name = self.config.server_name or self.config.host
            stream.sock = self._tls_ctx.wrap_socket(
                stream.sock, server_hostname=name, do_handshake_on_connect=False)
            self._client = stream
            with self._lock:
                self._main = stream.sock
            self._register(stream, selectors.EVENT_READ | selectors.EVENT_WRITE, force=True)
            stream.handshaking = True
            self._handshake(stream)
            return
        self._established(stream)

    def _established(self, stream: _Stream) -> None:
        local = format_address(stream.sock.getsockname())
        self.local_address = local
        self.post(Connected(source=self.source, peer=stream.label, local=local))
        if stream is self._client:
            self.machine.apply("connected", f"connected to {stream.label}")
        else:
            self.post(LogLine(source=self.source, text=f"{stream.label} connected"))
        if isinstance(stream.sock, ssl.SSLSocket):
            self.post(TlsEstablished(source=self.source, peer=stream.label,
                                     info=tlscerts.describe_tls(stream.sock)))
        self._update(stream)

    def _setup_listener(self) -> None:
        cfg = self.config
        if cfg.tls:
            self._tls_ctx = tlscerts.server_context(cfg.cert_file or None,
                                                    cfg.key_file or None)
        if is_unix(cfg.transport):
            claim_unix_path(cfg.path, cfg.transport)
            sock = self._new_socket(socket.AF_UNIX)
            sock.bind(cfg.path)
            self._unix_path_owned = cfg.path
            note = ""
        else:
            family, addr = resolve(cfg.host, cfg.port, cfg.family, cfg.transport,
                                   passive=True)[0]
            sock = self._new_socket(family)
            if "SO_REUSEADDR" not in cfg.options:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and cfg.host == "" and cfg.family == "auto":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(addr)
            note = "all interfaces (IPv4 and IPv6)" if cfg.host == "" else ""
        sock.listen(max(1, int(cfg.backlog)))
        sock.setblocking(False)
        with self._lock:
            self._main = sock
        self.local_address = format_address(sock.getsockname())
        self._sel.register(sock, selectors.EVENT_READ, self._accept)  # type: ignore[union-attr]
        self.post(LocalAddress(source=self.source, address=self.local_address, note=note))

    def _accept(self, mask: int) -> None:
        for _ in range(64):
            try:
                conn, addr = self._main.accept()  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                return
            self._peer_ids += 1
            label = format_address(addr) if addr else f"unix#{self._peer_ids}"
            machine = ConnectionStateMachine()
            machine.apply("connect")
            conn.setblocking(False)
            stream = _Stream(conn, label, machine)
            self.machine.apply("accept")
            with self._lock:
                self._peers[label] = stream
            if self._tls_ctx is not None:
                stream.sock = self._tls_ctx.wrap_socket(conn, server_side=True,
                                                        do_handshake_on_connect=False)
                stream.handshaking = True
                self._register(stream, selectors.EVENT_READ)
            else:
                machine.apply("connected")
                self._register(stream, selectors.EVENT_READ)
                self._established(stream)

    def _setup_datagram(self) -> None:
        cfg = self.config
        if is_unix(cfg.transport):
            sock = self._new_socket(socket.AF_UNIX)
            if cfg.local_path:
                claim_unix_path(cfg.local_path, cfg.transport)
                sock.bind(cfg.local_path)
                self._unix_path_owned = cfg.local_path
            else:
                sock.bind("")  # Linux autobind: an abstract name, so peers can reply
            self._dgram_target = cfg.path or None
        else:
            target = None
            if cfg.host and int(cfg.port):
                target = resolve(cfg.host, cfg.port, cfg.family, cfg.transport)[0]
            family = target[0] if target else (
                socket.AF_INET6 if cfg.family == "ipv6" else socket.AF_INET)
            if cfg.local_host:
                family, addr = resolve(cfg.local_host, cfg.local_port, cfg.family,
                                       cfg.transport, passive=True)[0]
            else:
                addr = (_default_bind_host(family, target[1] if target else None),
                        check_port(cfg.local_port, "Local port", allow_zero=True))
            sock = self._new_socket(family)
            if cfg.host == BROADCAST and not cfg.options.get("SO_BROADCAST"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                cfg.options["SO_BROADCAST"] = 1
                self._log("SO_BROADCAST turned on: the target is <broadcast>.")
            sock.bind(addr)
            self._dgram_target = target[1] if target else None
        sock.setblocking(False)
        with self._lock:
            self._main = sock
        self.local_address = format_address(sock.getsockname())
        self._sel.register(sock, selectors.EVENT_READ, self._dgram_readable)  # type: ignore
        wildcard = self.local_address.startswith(("0.0.0.0:", "[::]:"))
        self.post(LocalAddress(source=self.source, address=self.local_address,
                               note="any local address" if wildcard else ""))

    # -- selector bookkeeping ------------------------------------------------------------
    def _register(self, stream: _Stream, mask: int, force: bool = False) -> None:
        sel = self._sel
        assert sel is not None
        if force and stream.mask:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(stream.sock)
            stream.mask = 0
        handler = lambda m, s=stream: self._stream_ready(s, m)  # noqa: E731
        if stream.mask == 0:
            sel.register(stream.sock, mask, handler)
        elif mask != stream.mask:
            sel.modify(stream.sock, mask, handler)
        stream.mask = mask

    def _update(self, stream: _Stream) -> None:
        """Interest follows need: read while reading, write while bytes wait."""
        if stream.connecting or stream.handshaking:
            return
        mask = selectors.EVENT_READ if stream.reading else 0
        if stream.out or stream.file is not None:
            mask |= selectors.EVENT_WRITE
        if mask == 0:
            if stream.mask:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(stream.sock)  # type: ignore[union-attr]
                stream.mask = 0
            return
        self._register(stream, mask)

    # -- stream I/O --------------------------------------------------------------------
    def _stream_ready(self, stream: _Stream, mask: int) -> None:
        try:
            if stream.connecting:
                code = stream.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    self._try_next_candidate(OSError(code, os.strerror(code)))
                else:
                    self._connected(stream)
                return
            if stream.handshaking:
                self._handshake(stream)
                return
            if mask & selectors.EVENT_READ:
                self._read(stream)
            if mask & selectors.EVENT_WRITE and stream.sock.fileno() >= 0:
                self._flush(stream)
        except (OSError, ssl.SSLError) as exc:
            if self.role == "client":
                raise  # the session's only connection: end the session with this error
            self._fail(exc, stream.label)
            self._close_stream(stream, "failed")

    def _handshake(self, stream: _Stream) -> None:
        try:
            stream.sock.do_handshake()  # type: ignore[attr-defined]
        except ssl.SSLWantReadError:
            self._register(stream, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._register(stream, selectors.EVENT_WRITE)
            return
        stream.handshaking = False
        if stream is not self._client:
            stream.machine.apply("connected")
        self._established(stream)

    def _read(self, stream: _Stream) -> None:
        if self.outbox.qsize() > MAX_BACKLOG:
            stream.reading = False  # the view is behind: let TCP push back on the peer
            self._paused.add(stream)
            self._update(stream)
            return
        sock = stream.sock
        while True:
            try:
                data = sock.recv(RECV_SIZE)
            except (BlockingIOError, ssl.SSLWantReadError, InterruptedError):
                return
            except ssl.SSLWantWriteError:
                self._register(stream, stream.mask | selectors.EVENT_WRITE)
                return
            if not data:
                self._peer_finished(stream)
                return
            self.post(DataReceived(source=self.source, data=data, peer=stream.label))
            self._auto_reply(data, stream.label)
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                return

    def _peer_finished(self, stream: _Stream) -> None:
        stream.reading = False
        state = stream.machine.apply("peer_closed", f"{stream.label} sent FIN")
        fully = state.name == "Closed" or stream is not self._client
        if fully:
            # a listener drops a peer that hung up; a client may still send after FIN
            self._close_stream(stream, "peer closed")
        else:
            self._update(stream)
        self.post(PeerClosed(source=self.source, peer=stream.label, half=not fully,
                             reason="the peer closed its side (FIN)"))

    def _flush(self, stream: _Stream) -> None:
        sock = stream.sock
        tls = isinstance(sock, ssl.SSLSocket)
        while stream.out:
            size = stream.tls_retry or min(len(stream.out), 256 * 1024)
            chunk = bytes(stream.out[:size])
            try:
                sent = sock.send(chunk)
            except (BlockingIOError, ssl.SSLWantWriteError, InterruptedError):
                stream.tls_retry = size if tls else 0
                break
            except ssl.SSLWantReadError:
                stream.tls_retry = size
                break
            stream.tls_retry = 0
            del stream.out[:sent]
            self.post(DataSent(source=self.source, data=chunk[:sent], peer=stream.label))
            if stream.file is not None and len(stream.out) < HIGH_WATER // 4:
                self._feed_file(stream)
        if not stream.out and stream.file is not None:
            self._feed_file(stream)
        if not stream.out and stream.shut_pending is not None:
            sock.shutdown(stream.shut_pending)
            stream.shut_pending = None
        self._update(stream)

    def _feed_file(self, stream: _Stream) -> None:
        assert stream.file is not None
        data = stream.file.read(RECV_SIZE * 4)
        if data:
            stream.out += data
        else:
            name = getattr(stream.file, "name", "file")
            stream.file.close()
            stream.file = None
            self._log(f"File {Path(name).name} sent to {stream.label}.")

    def _queue(self, stream: _Stream, data: bytes) -> None:
        stream.out += data
        self._flush(stream)

    def _targets(self, peer: str | None) -> list[_Stream]:
        if self.role == "client":
            return [self._client] if self._client else []
        if peer is None:
            return list(self._peers.values())
        stream = self._peers.get(peer)
        if stream is None:
            raise UserError(f"Peer {peer} is not connected any more; pick another.", "Peer")
        return [stream]

    def _send_now(self, data: bytes, peer: str | None, check: bool = False) -> None:
        """``check``: verify the state here (sends the session starts on its own); a user's
        send was checked when it was made, and runs in order with the shutdowns after it."""
        if self.role == "datagram":
            self._sendto(data, peer)
            return
        for stream in self._targets(peer):
            if check:
                stream.machine.require("send")
            if stream.handshaking or stream.connecting:
                stream.out += data  # sent once the handshake is done
                continue
            try:
                self._queue(stream, data)
            except (OSError, ssl.SSLError) as exc:
                if stream is self._client:
                    raise
                self._fail(exc, stream.label)
                self._close_stream(stream, "failed")

    def _start_file(self, handle: BinaryIO, peer: str | None) -> None:
        targets = self._targets(peer)
        if len(targets) != 1:
            handle.close()
            raise UserError("Choose one peer to send a file to.", "Peer")
        stream = targets[0]
        stream.machine.require("send")
        stream.file = handle
        self._feed_file(stream)
        self._flush(stream)

    def _shutdown_now(self, stream: _Stream | None, how: str) -> None:
        if stream is None:
            return
        flag = SHUTDOWN_OPS[how][0]
        if flag in (socket.SHUT_RD, socket.SHUT_RDWR):
            stream.reading = False
        if flag != socket.SHUT_RD and stream.out:
            stream.shut_pending = flag  # the FIN follows the bytes already queued
        else:
            stream.sock.shutdown(flag)
        if stream.machine.state.name == "Closed":
            self._close_stream(stream, f"shut down ({how})")
        else:
            self._update(stream)

    def _close_stream(self, stream: _Stream, reason: str) -> None:
        if stream is self._client:
            self._stop_reason = reason
            self._stop.set()
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(stream.sock)  # type: ignore[union-attr]
        stream.mask = 0
        if stream.file:
            stream.file.close()
        stream.sock.close()
        self._paused.discard(stream)
        with self._lock:
            self._peers.pop(stream.label, None)
        if reason != "peer closed":
            self.post(PeerClosed(source=self.source, peer=stream.label, reason=reason))

    # -- datagrams -----------------------------------------------------------------------
    def _dgram_readable(self, mask: int) -> None:
        sock = self._main
        assert sock is not None
        for _ in range(256):  # drain a burst, then let the loop breathe
            if self.outbox.qsize() > MAX_DGRAM_BACKLOG:
                return  # the kernel buffer fills and drops: UDP has no push-back
            try:
                data, addr = sock.recvfrom(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port unreachable from an earlier sendto surfaces here
                self._fail(exc, format_address(self._dgram_target) if self._dgram_target
                           else "")
                return
            label = format_address(addr) if addr else "unnamed"
            if addr and label not in self._dgram_peers:
                with self._lock:
                    self._dgram_peers[label] = addr
            self.post(DataReceived(source=self.source, data=data, peer=label))
            if addr:
                self._auto_reply(data, label)

    def _sendto(self, data: bytes, peer: str | None) -> None:
        sock = self._main
        assert sock is not None
        if peer is None:
            addr = self._dgram_target
            if addr is None:
                raise UserError("No target: fill in host and port (or path) to send to.",
                                "Host" if not is_unix(self.config.transport) else "Path")
        elif peer in self._dgram_peers:
            addr = self._dgram_peers[peer]
        else:
            addr = parse_address(peer, self.config.transport)
            if not is_unix(self.config.transport):
                addr = resolve(addr[0], addr[1], self.config.family, "udp")[0][1]
        label = format_address(addr)
        if len(data) > 65507:
            raise UserError(f"{len(data)} bytes do not fit in one datagram (65507 at most); "
                            "send less or use TCP.", "Payload")
        try:
            sock.sendto(data, addr)
        except OSError as exc:
            self._fail(exc, label)
            return
        self.post(DataSent(source=self.source, data=data, peer=label))

    # -- automation ---------------------------------------------------------------------
    def _auto_reply(self, data: bytes, peer: str) -> None:
        for rule in self.auto_replies:
            if rule.matches(data):
                try:
                    self._send_now(rule.reply, peer, check=True)
                except (UserError, OSError) as exc:
                    self._log(f"Auto-reply to {peer} not sent: {exc}", "warning")
                return

    def _begin_repeat(self, plan: RepeatPlan) -> None:
        self._repeat = plan
        self._repeat_sent = 0
        self._repeat_next = time.monotonic()
        self._log(f"Repeat: {plan.count} times every {plan.interval_ms} ms.")

    def _end_repeat(self, why: str, quiet: bool = False) -> None:
        plan, self._repeat = self._repeat, None
        if plan is not None and not quiet:
            self.post(Progress(source=self.source, done=self._repeat_sent, total=plan.count,
                               label=f"repeat {why}"))

    def _repeat_backlogged(self, plan: RepeatPlan) -> bool:
        if self.role == "datagram":
            return False
        return any(len(s.out) > HIGH_WATER for s in self._targets(plan.peer))

    def _repeat_step(self) -> None:
        plan = self._repeat
        assert plan is not None
        now = time.monotonic()
        if now < self._repeat_next:
            return
        # interval 0: send in bursts bounded by time so commands and reads still run
        burst_end = now + 0.005
        while self._repeat_sent < plan.count:
            if self._repeat_backlogged(plan):
                self._repeat_next = now + 0.005
                break
            self._repeat_sent += 1
            try:
                self._send_now(plan.payload(self._repeat_sent), plan.peer, check=True)
            except UserError as exc:
                self._end_repeat(f"stopped: {exc}")
                return
            if plan.interval_ms:
                self._repeat_next = now + plan.interval_ms / 1000.0
                break
            if time.monotonic() > burst_end:
                self._repeat_next = time.monotonic()
                break
        if self._repeat_sent >= plan.count:
            self._end_repeat("done")
        elif now - self._repeat_progress_at > 0.2:
            self._repeat_progress_at = now
            self.post(Progress(source=self.source, done=self._repeat_sent, total=plan.count,
                               label="repeat"))


def _default_bind_host(family: int, target: Address | None) -> str:
    """Loopback unless the target needs more: a safe default that still gets replies.

    With no target (waiting for datagrams) or a loopback target, only this machine can
    reach the socket; to send elsewhere the kernel needs the wildcard, as it would pick.
    """
    v6 = family == socket.AF_INET6
    if target is None or ipaddress.ip_address(target[0].split("%")[0]).is_loopback:
        return "::1" if v6 else "127.0.0.1"
    return "::" if v6 else "0.0.0.0"

