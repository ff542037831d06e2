"""Stream set-up on the I/O thread: connect (trying each resolved address), listen, accept.

:class:`StreamSetup` is a mixin of :class:`core.sockets.session.SocketSession`; TLS
wraps the socket here and the handshake then runs in the loop (core/sockets/loop.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import ssl
import time

from core import tlscerts
from core.events import Connected, LogLine
from core.sockets.addressing import claim_unix_path, format_address, is_unix, resolve, sock_type
from core.sockets.events import LocalAddress, TlsEstablished
from core.sockets.loop import Stream
from core.sockets.options import apply_options
from core.states import ConnectionStateMachine


class StreamSetup:
    """Creates the client's or the listener's socket and each accepted peer."""

    def _new_socket(self, family: int) -> socket.socket:
        sock = socket.socket(family, sock_type(self.config.transport))
        apply_options(sock, self.config.transport, self.config.options)
        return sock

    def _setup_client(self) -> None:
        cfg = self.config
        # reset every time: a context kept from an earlier TLS run would wrap this plain one
        self._tls_ctx = (tlscerts.client_context(cfg.tls_verify, cfg.ca_file or None)
                         if cfg.tls else None)
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
        stream = Stream(sock, format_address(addr), self.machine)
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

    def _connected(self, stream: Stream) -> None:
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

    def _established(self, stream: Stream) -> None:
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
        self._tls_ctx = (tlscerts.server_context(cfg.cert_file or None, cfg.key_file or None)
                         if cfg.tls else None)
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
            stream = Stream(conn, label, machine)
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

