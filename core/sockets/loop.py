"""The session's I/O thread: one ``selectors`` loop over non-blocking sockets, stream I/O.

:class:`StreamLoop` is a mixin of :class:`core.sockets.session.SocketSession`: it runs
on the session's thread and uses the state the session's ``__init__`` sets up (the
selector, the command queue, the client and peer streams). The loop follows the origin
document's section 4.2.2; TLS sockets go through the same loop.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import UserError
from core.events import Closed, DataReceived, DataSent, Failed
from core.sockets.events import PeerClosed
from core.states import ConnectionStateMachine

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


class Stream:
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


def tls_hang_up(exc: BaseException, stream: Stream) -> BaseException:
    """An EOF on a TLS stream past its handshake means the peer hung up; it does speak
    TLS, so "check that the peer speaks TLS" would send the user the wrong way."""
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError) and not stream.handshaking:
        return UserError(f"{stream.label} closed the TLS connection: connect again to "
                         "send more.")
    return exc


def _close_socket(sock: socket.socket) -> None:
    """Close; a TLS socket first sends close_notify, so the peer can tell our close from a
    cut connection (ncat --ssl exits 1 on a TLS stream that just stops)."""
    if isinstance(sock, ssl.SSLSocket):
        with contextlib.suppress(OSError, ValueError):
            sock.unwrap()  # non-blocking: sends ours, does not wait for the peer's
    with contextlib.suppress(OSError):
        sock.close()


class StreamLoop:
    """The selector loop, the command queue's consumer and stream reads/writes."""

    def _run(self, setup: Callable[[], None]) -> None:
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._wake_r, selectors.EVENT_READ, self._drain_wake)
        try:
            setup()
            while not self._stop.is_set():
                events = self._sel.select(self._timeout())
                # calls made before these events were seen go first: a send and a
                # shutdown issued before the peer's FIN arrived must not be lost when
                # that FIN ends the stream (ncat closing stdin right after our reply)
                self._run_commands()
                registered = self._sel.get_map()
                for key, mask in events:
                    current = registered.get(key.fd)
                    if current is not None and current.fileobj is key.fileobj:
                        current.data(mask)  # skip sockets a command closed just now
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
            _close_socket(stream.sock)
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

    # -- selector bookkeeping ------------------------------------------------------------
    def _register(self, stream: Stream, mask: int, force: bool = False) -> None:
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

    def _update(self, stream: Stream) -> None:
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
    def _stream_ready(self, stream: Stream, mask: int) -> None:
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
            problem = tls_hang_up(exc, stream)
            if self.role == "client":
                raise problem from exc  # the session's only connection: end it with this
            self._fail(problem, stream.label)
            self._close_stream(stream, "failed")

    def _handshake(self, stream: Stream) -> None:
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

    def _read(self, stream: Stream) -> None:
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

    def _peer_finished(self, stream: Stream) -> None:
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

    def _flush(self, stream: Stream) -> None:
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

    def _feed_file(self, stream: Stream) -> None:
        assert stream.file is not None
        data = stream.file.read(RECV_SIZE * 4)
        if data:
            stream.out += data
        else:
            name = getattr(stream.file, "name", "file")
            stream.file.close()
            stream.file = None
            self._log(f"File {Path(name).name} sent to {stream.label}.")

    def _queue(self, stream: Stream, data: bytes) -> None:
        stream.out += data
        self._flush(stream)

    def _targets(self, peer: str | None) -> list[Stream]:
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
                problem = tls_hang_up(exc, stream)
                if stream is self._client:
                    raise problem from exc
                self._fail(problem, stream.label)
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

    def _shutdown_now(self, stream: Stream | None, how: str) -> None:
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

    def _close_stream(self, stream: Stream, reason: str) -> None:
        if stream is self._client:
            self._stop_reason = reason
            self._stop.set()
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(stream.sock)  # type: ignore[union-attr]
        stream.mask = 0
        if stream.file:
            stream.file.close()
        _close_socket(stream.sock)
        self._paused.discard(stream)
        with self._lock:
            self._peers.pop(stream.label, None)
        if reason != "peer closed":
            self.post(PeerClosed(source=self.source, peer=stream.label, reason=reason))

