"""A telnet (or raw TCP) connection with a terminal screen, on two threads.

* The I/O thread (here) owns the socket: connect, TLS, ``select`` on the socket and a
  wake-up pair, protocol parsing, negotiation replies, keepalive NOPs, the typescript.
  Every socket call happens here, so a TLS socket is never used from two threads at once.
* The screen thread (:mod:`core.telnet.screen_thread`) turns what arrived into
  :class:`TerminalFrame` events on the outbox.

The Tk thread only calls the methods below; they queue work and return at once.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyte import modes as pyte_modes

from core.errors import UserError, describe_error
from core.events import Closed, Connected, Event, Failed, LogLine, StateChanged
from core.recording import Recording
from core.states import ConnState
from core.telnet.backlog import SendBacklog, thin_notes
from core.telnet.keyboard import Keyboard
from core.telnet.protocol import (
    BINARY,
    ECHO,
    NAWS,
    NEW_ENVIRON,
    SGA,
    SPECIAL_COMMANDS,
    TelnetConfig,
    TelnetProtocol,
)
from core.telnet.received import ReceivedBytes
from core.telnet.screen import TerminalScreen
from core.telnet.screen_thread import MAX_PENDING, ScreenThread, TerminalFrame, TextListener
from core.telnet.settings import TelnetSettings
from core.tlscerts import client_context, describe_tls
from core.worker import Outbox

__all__ = ["InputModeChanged", "TelnetSession", "TerminalFrame", "TextListener"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InputModeChanged(Event):
    """Who echoes and how lines are sent, after negotiation."""

    local_echo: bool
    character_mode: bool
    enter: str  # "CR LF" | "CR NUL" | "CR" (see TelnetSession.enter_name)


ENTER_BYTES = {"CR LF": b"\r\n", "CR NUL": b"\r\x00", "CR": b"\r"}


class TelnetSession:
    def __init__(self, outbox: Outbox | None = None, source: str = "telnet") -> None:
        self.outbox = outbox if outbox is not None else Outbox()
        self.source = source
        self.settings = TelnetSettings()
        #: what "Show as Python" replays (core/codegen/telnet_script.py); secrets stay out
        self.recording = Recording("telnet")
        self.keyboard = Keyboard(self)  # typing, as wire bytes, recorded by line
        self.protocol: TelnetProtocol | None = None
        #: frames out, scroll/resize requests and listeners in
        self.screen_thread = ScreenThread(source, self._post,  # answers: ASCII, no IAC
                                    lambda text: self._out.answer_query(self.encode(text)))
        self.screen_thread.tail_sink = self.keyboard.lines.received  # a typed line's echo
        self.screen_thread.on_drained = self.keyboard.lines.closed
        self.tls_info: dict[str, str] = {}
        self.peer = ""
        self.bytes_in = 0
        self.bytes_out = 0
        self._sock: socket.socket | ssl.SSLSocket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._out = SendBacklog(lambda text: self._post(LogLine(
            source=self.source, text=text, level="warn")), self._wake)
        self._out_lock = self._out.lock
        self._stop = threading.Event()
        self._io_thread: threading.Thread | None = None
        self._typescript: IO[bytes] | None = None
        #: raw mode's copy of what arrived ("Received" menu: save, open in the browser)
        self.received = ReceivedBytes()
        self._last_sent = 0.0
        self._echo_state: tuple[bool, bool, str] | None = None
        self._proto_calls: list[Callable[[TelnetProtocol], None]] = []
        self.connected = False

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._io_thread is not None and self._io_thread.is_alive()

    @property
    def screen(self) -> TerminalScreen:
        return self.screen_thread.screen

    def connect(self, settings: TelnetSettings) -> None:
        """Start connecting; returns at once. Errors arrive as :class:`Failed` events."""
        settings.validate()
        if self.running:
            raise UserError("Already connected: disconnect first.", "Host")
        self.close()
        self.settings = settings
        self._record_connect(settings)
        self._stop.clear()
        self._out.clear()
        self._proto_calls.clear()
        self.received.clear()
        self._echo_state = None
        self.bytes_in = self.bytes_out = 0
        screen = TerminalScreen(settings.columns, settings.rows, settings.scrollback)
        if settings.mode == "raw":
            screen.set_mode(pyte_modes.LNM)  # a bare LF starts a new line
            self.protocol = None
        else:
            local = {0, SGA, 24, NAWS} | ({NEW_ENVIRON} if settings.new_environ else set())
            self.protocol = TelnetProtocol(TelnetConfig(
                terminal_type=settings.terminal_type, columns=settings.columns,
                rows=settings.rows, environ=self._environ(settings),
                local_options=frozenset(local),
                active=settings.active), source=self.source)
        self._open_logs()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._io_thread = threading.Thread(target=self._io_main, name=f"{self.source}:io",
                                           daemon=True)
        self.screen_thread.start(screen, settings.encoding)
        self._io_thread.start()

    def close(self, timeout: float = 1.0) -> None:
        """Disconnect and join both threads."""
        self._stop.set()
        self._wake()
        thread, self._io_thread = self._io_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.screen_thread.stop(timeout)
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._wake_r = self._wake_w = None
        self._close_logs()

    # -- input from the user --------------------------------------------------------------
    @property
    def character_mode(self) -> bool:
        p = self.protocol
        return p is not None and p.remote_enabled(ECHO) and p.remote_enabled(SGA)

    @property
    def local_echo(self) -> bool:
        choice = self.settings.local_echo
        if choice == "on":
            return True
        if choice == "off":
            return False
        return self.protocol is None or not self.protocol.remote_enabled(ECHO)

    @property
    def enter_name(self) -> str:
        """What Enter sends: "CR LF" in line mode; in character mode "CR NUL" (RFC 854's
        bare CR in NVT ASCII) or, once we send BINARY, a plain "CR" (RFC 856: the NUL
        would be data, and telnetd hands it to the program as ^@; Debian's telnet sends
        a bare CR there too)."""
        if not self.character_mode:
            return "CR LF"
        p = self.protocol
        return "CR" if p is not None and p.local_enabled(BINARY) else "CR NUL"

    @property
    def enter_bytes(self) -> bytes:
        return ENTER_BYTES[self.enter_name]

    def send_text(self, text: str, record: bool = True, hide: bool = False) -> None:
        """Type text: character mode sends at once, line mode edits locally until Enter.

        "\\r", "\\n" or "\\r\\n" in ``text`` is one Enter; "\\x7f" or "\\b" erase in
        line mode. ``record``: typed lines become "Show as Python" steps (automation
        records its own). ``hide``: no local echo (a secret is being typed); a line
        after a password prompt is hidden too.
        """
        self.screen_thread.keystroke()  # its echo is painted at once
        self.keyboard.type(text, record, hide)

    def wire_of(self, text: str) -> bytes:
        """The bytes :meth:`send_text` puts on the wire for ``text`` (no erase keys) now."""
        return self.keyboard.wire_of(text)

    def _record_connect(self, settings: TelnetSettings) -> None:
        """Each connect starts a new recording (core/recording.py), with what a script
        needs to negotiate as this session does."""
        local = {0, SGA, 24, NAWS} | ({NEW_ENVIRON} if settings.new_environ else set())
        self.keyboard.reset()
        self.recording.begin(
            "connect", host=settings.host, port=settings.port, raw=settings.mode == "raw",
            tls=settings.tls, verify=settings.verify, ca_file=settings.ca_file or None,
            term=settings.terminal_type, cols=settings.columns, rows=settings.rows,
            encoding=settings.encoding, active=settings.active,
            local_options=sorted(local), remote_options=sorted(TelnetConfig().remote_options),
            environ=dict(self._environ(settings)))

    @staticmethod
    def _environ(settings: TelnetSettings) -> dict[str, str]:
        env = dict(settings.environ)
        if settings.encoding == "utf-8":
            env.setdefault("LANG", "en_US.UTF-8")
        return env

    def send_key(self, data: str) -> None:
        """A special key's sequence (arrows, F-keys): always sent at once."""
        self.screen_thread.keystroke()
        self.keyboard.key(data)

    def send_bytes(self, data: bytes) -> None:
        self.keyboard.send(data)

    def special(self, name: str) -> None:
        """Send a telnet special command (AYT, Break, IP, AO, EC, EL, NOP, GA)."""
        if name not in SPECIAL_COMMANDS:
            raise UserError(f"Unknown command {name!r}: choose one of "
                            f"{', '.join(SPECIAL_COMMANDS)}.", "Command")
        if self.protocol is None:
            raise UserError("Special commands need telnet mode: raw mode sends plain bytes.",
                            "Mode")
        self._with_protocol(lambda p: p.command(name))
        self.recording.add("special", name=name, wire=bytes((255, SPECIAL_COMMANDS[name])))

    def resize(self, columns: int, rows: int) -> None:
        """The view changed size: reflow the screen and tell the server (NAWS)."""
        columns, rows = max(2, min(1000, columns)), max(2, min(500, rows))

        def apply() -> None:
            if (columns, rows) != (self.screen.columns, self.screen.lines):
                self.screen.resize(rows, columns)
        self.screen_thread.request(apply)
        self.settings.columns, self.settings.rows = columns, rows
        if self.protocol is not None:
            self._with_protocol(lambda p: p.resize(columns, rows))
            if self.running:
                self.recording.add("resize", cols=columns, rows=rows)

    def scroll(self, delta: int) -> None:
        """Scroll the view ``delta`` lines back (positive) or forward (negative)."""
        self.screen_thread.scroll(delta)

    def scroll_to_bottom(self) -> None:
        self.scroll(-(1 << 30))

    def add_listener(self, listener: TextListener) -> None:
        """Call ``listener(text)`` (on the screen thread) with every decoded, ANSI-free text."""
        self.screen_thread.add_listener(listener)

    def recent_text(self) -> str:
        """The last few KiB of received text, escape codes removed."""
        return self.screen_thread.recent_text()

    def remove_listener(self, listener: TextListener) -> None:
        self.screen_thread.remove_listener(listener)

    # -- internals: Tk-side helpers ---------------------------------------------------------
    def encode(self, text: str) -> bytes:
        return text.encode(self.settings.encoding, "replace")

    def echo_locally(self, text: str) -> None:
        self.screen_thread.push(self.encode(text))

    def queue_out(self, payload: bytes) -> None:
        # only the I/O thread touches the socket: callers (the Tk thread above all) queue
        # and wake it, so no network call ever runs on the caller's thread
        self._out.add_typed(payload)

    def _with_protocol(self, fn: Callable[[TelnetProtocol], None]) -> None:
        """Run a protocol call on the I/O thread (the protocol is not shared)."""
        if not self.running:
            return  # the next connection starts from the settings anyway
        with self._out_lock:
            self._proto_calls.append(fn)
        self._wake()

    def _wake(self) -> None:
        w = self._wake_w
        if w is not None:
            with contextlib.suppress(OSError):
                w.send(b"\0")

    def _post(self, event: Event) -> None:
        self.outbox.put(event)

    # -- logs -------------------------------------------------------------------------------
    def _open_logs(self) -> None:
        s = self.settings
        try:
            if s.typescript_path:
                p = Path(s.typescript_path).expanduser()
                p.parent.mkdir(parents=True, exist_ok=True)
                self._typescript = p.open("ab")
            if s.log_path:
                p = Path(s.log_path).expanduser()
                p.parent.mkdir(parents=True, exist_ok=True)
                self.screen_thread.textlog = p.open("a", encoding="utf-8")
        except OSError as exc:
            self._close_logs()
            raise UserError(f"Cannot open the log file: {exc.strerror} ({exc.filename}). "
                            "Choose a folder you can write to.", "Log file") from exc

    def _close_logs(self) -> None:
        for f in (self._typescript, self.screen_thread.textlog):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self._typescript = self.screen_thread.textlog = None

    # -- the I/O thread -----------------------------------------------------------------------
    def _io_main(self) -> None:
        s = self.settings
        target = f"{s.host}:{s.port}"
        self._post(StateChanged(source=self.source, state=ConnState.CONNECTING, detail=target))
        try:
            sock: socket.socket | ssl.SSLSocket = socket.create_connection(
                (s.host.strip(), s.port), timeout=s.connect_timeout)
            if s.tls:
                ctx = client_context(verify=s.verify, ca_file=s.ca_file or None)
                try:
                    sock = ctx.wrap_socket(sock, server_hostname=s.host.strip())
                except BaseException:
                    sock.close()
                    raise
                self.tls_info = describe_tls(sock)
        except Exception as exc:
            field_name = getattr(exc, "field_name", "") or (
                "TLS" if isinstance(exc, ssl.SSLError) else "Host")
            self._post(Failed(source=self.source, message=describe_error(exc, target),
                              field_name=field_name))
            self._post(Closed(source=self.source, reason="connect failed"))
            self.screen_thread.finish()
            return
        self._sock = sock
        sock.setblocking(False)
        self.peer = target
        self.connected = True
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host, port = sock.getsockname()[:2]
        local = f"{host}:{port}"
        self._post(Connected(source=self.source, peer=target, local=local))
        if self.tls_info:
            info = ", ".join(f"{k} {v}" for k, v in self.tls_info.items())
            self._post(LogLine(source=self.source, text=f"TLS: {info}"))
        reason = "closed by peer"
        try:
            if self.protocol is not None:
                self.protocol.start()
                self._after_protocol([])
            else:
                self._post(InputModeChanged(source=self.source, local_echo=self.local_echo,
                                            character_mode=False, enter="CR LF"))
            self._last_sent = time.monotonic()
            reason = self._io_loop(sock)
        except Exception as exc:  # a reset or TLS error ends the session with a sentence
            self._post(Failed(source=self.source, message=describe_error(exc, target)))
            reason = "connection error"
        finally:
            self.connected = False
            with contextlib.suppress(OSError):
                sock.close()
            self._sock = None
            self.recording.end("close", by_peer=reason == "closed by peer")
            self._out.clear()  # a backlog the server never read is freed now
            self._post(Closed(source=self.source, reason=reason))
            self.screen_thread.finish()

    def _io_loop(self, sock: socket.socket | ssl.SSLSocket) -> str:
        wake = self._wake_r
        assert wake is not None
        is_tls = isinstance(sock, ssl.SSLSocket)
        keepalive = self.settings.keepalive if self.protocol is not None else 0
        while not self._stop.is_set():
            self._run_protocol_calls()
            with self._out_lock:
                want_write = bool(self._out)
            want_read = self.screen_thread.pending_size < MAX_PENDING
            timeout = 0.5
            if keepalive:
                timeout = max(0.0, min(timeout, self._last_sent + keepalive - time.monotonic()))
            if is_tls and want_read and sock.pending():
                readable = [sock]
                writable = [sock] if want_write else []
            else:
                readable, writable, _ = select.select(
                    [wake] + ([sock] if want_read else []), [sock] if want_write else [], [],
                    timeout)
            if wake in readable:
                with contextlib.suppress(OSError):
                    while wake.recv(4096):
                        pass
            if sock in readable:
                try:
                    data = sock.recv(262144)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    data = None
                if data == b"":
                    return "closed by peer"
                if data:
                    self._on_received(data)
            if sock in writable or want_write:
                self._flush(sock)
            if keepalive and time.monotonic() - self._last_sent >= keepalive:
                assert self.protocol is not None
                self.protocol.command("NOP")
                self._after_protocol([])
        return "closed"

    def _run_protocol_calls(self) -> None:
        with self._out_lock:
            calls, self._proto_calls = self._proto_calls, []
        if calls and self.protocol is not None:
            for call in calls:
                call(self.protocol)
            self._after_protocol([])

    def _flush(self, sock: socket.socket | ssl.SSLSocket) -> None:
        with self._out_lock:
            if not self._out:
                return
            try:
                sent = sock.send(self._out)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return
            del self._out[:sent]
        self.bytes_out += sent
        self._last_sent = time.monotonic()

    def _on_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        if self._typescript is not None:
            self._typescript.write(data)
        if self.protocol is None:
            self.received.add(data)
            payload = data
            events: list[Event] = []
        else:
            payload, events = self.protocol.receive(data)
        self._after_protocol(events)
        if payload:
            self.screen_thread.push(payload)

    def _after_protocol(self, events: list[Event]) -> None:
        p = self.protocol
        if p is None:
            return
        events = thin_notes(events + p.events(), self.source)
        reply = p.data_to_send()
        if reply:
            self._out.add_answer(reply)
        for event in events:
            self._post(event)
        state = (self.local_echo, self.character_mode, self.enter_name)
        if state != self._echo_state:
            self._echo_state = state
            self._post(InputModeChanged(source=self.source, local_echo=state[0],
                                        character_mode=state[1], enter=state[2]))

    # -- text for the tab ------------------------------------------------------------------
    def transcript_text(self) -> str:
        """Scrollback plus screen as plain text (for File > Save transcript)."""
        return self.screen_thread.transcript_text()
