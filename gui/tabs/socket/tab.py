"""The Socket console: TCP/UDP/UNIX client, listener or datagram socket, every byte visible.

The tab holds widgets and one :class:`core.sockets.SocketSession`; it never touches a
socket. Events arrive in batches from the bridge and are coalesced: counters add up,
records go to the transcript and to the ChunkView, which draws once per frame.
"""

from __future__ import annotations

import time
import tkinter as tk

from core.codec import hexdump, parse_payload
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
from core.sizes import human_rate, human_size
from core.sockets import AutoReply, LocalAddress, PeerClosed, SocketSession, TlsEstablished
from core.states import ConnState
from core.transcript import IN, NOTE, OUT, Record, Transcript
from gui.tabs.base import Tab
from gui.tabs.socket.actions import SocketActions
from gui.tabs.socket.layout import ALL_PEERS, HISTORY_MAX, SocketLayout

STATE_COLOURS = {
    ConnState.CLOSED: "#8a8a8a", ConnState.CONNECTING: "#b26b00",
    ConnState.LISTENING: "#1f5fbf", ConnState.BOUND: "#1f5fbf",
    ConnState.ESTABLISHED: "#1e7f3c", ConnState.READ_SHUT: "#b26b00",
    ConnState.WRITE_SHUT: "#b26b00"}
STATE_TEXT = {
    ConnState.CLOSED: "Closed", ConnState.CONNECTING: "Connecting…",
    ConnState.LISTENING: "Listening", ConnState.BOUND: "Open (datagram)",
    ConnState.ESTABLISHED: "Established", ConnState.READ_SHUT: "Half-closed: read side shut",
    ConnState.WRITE_SHUT: "Half-closed: write side shut"}


class SocketTab(SocketLayout, SocketActions, Tab):
    title = "Socket"
    key = "socket"

    def __init__(self, master: tk.Misc, app) -> None:  # noqa: ANN001
        super().__init__(master, app)
        f = self.fields
        self.session = SocketSession()
        self.transcript = Transcript(max_records=int(f.get("scrollback", 10_000)))
        self.history: list[str] = list(f.get("history", []))[-HISTORY_MAX:]
        self._history_pos: int | None = None
        self.auto_rules: list[AutoReply] = []
        self.counters = {IN: [0, 0], OUT: [0, 0]}  # direction -> [bytes, chunks]
        self._rate_mark = (time.monotonic(), 0, 0)
        self.rates = (0.0, 0.0)

        self.mode_var = self.persisted("mode", "TCP client")
        self.host_var = self.persisted("host", "127.0.0.1")
        self.port_var = self.persisted("port", "7000")
        self.path_var = self.persisted("path", "/tmp/wirebench.sock")
        self.family_var = self.persisted("family", "auto")
        self.tls_var = self.persisted("tls", False)
        self.format_var = self.persisted("format", "text")
        self.ending_var = self.persisted("line_ending", "CRLF")
        self.encoding_var = self.persisted("encoding", "utf-8")
        self.view_var = self.persisted("view", "both")
        self.time_var = self.persisted("timestamps", True)
        self.peer_col_var = tk.BooleanVar(self, value=True)
        self.pause_var = tk.BooleanVar(self, value=False)
        self.to_var = tk.StringVar(self, value=ALL_PEERS)
        self.find_var = tk.StringVar(self)
        self.state_var = tk.StringVar(self, value="Closed")
        self.error_var = tk.StringVar(self)
        self.info_var = tk.StringVar(self, value="Not connected.")
        self.counter_var = tk.StringVar(self)
        self.repeat_var = tk.StringVar(self)
        # Options dialog fields (kept here so they persist when the dialog is closed)
        self.option_vars: dict[str, tk.StringVar] = {}
        self.timeout_var = self.persisted("timeout", "10")
        self.verify_var = tk.BooleanVar(self, value=True)  # never persisted off: safe default
        self.ca_var = self.persisted("ca_file", "")
        self.sni_var = self.persisted("server_name", "")
        self.cert_var = self.persisted("cert_file", "")
        self.key_var = self.persisted("key_file", "")
        self.local_host_var = self.persisted("local_host", "")
        self.local_port_var = self.persisted("local_port", "0")
        self.local_path_var = self.persisted("local_path", "")

        self.columnconfigure(0, weight=1)
        self.rowconfigure(2, weight=1)
        self._build_connection_bar()
        self._build_message_line()
        self._build_body()
        self._build_input()
        self._on_mode_changed()
        self._show_state(ConnState.CLOSED, "")
        self.on_shown()  # theme colours for the widgets sv-ttk does not style
        self.app.bridge.attach(self.session.outbox, self.on_events)
        self.after(500, self._refresh_counters)

    # == events ===========================================================================
    def on_events(self, events: list[Event]) -> None:
        records: list[Record] = []
        peers_changed = False
        datagram = self.transport_role()[1] == "datagram"
        for event in events:
            if isinstance(event, DataReceived):
                records.append(Record(IN, event.data, event.peer, event.at))
                counter = self.counters[IN]
                counter[0] += len(event.data)
                counter[1] += 1
                peers_changed = peers_changed or datagram
            elif isinstance(event, DataSent):
                records.append(Record(OUT, event.data, event.peer, event.at))
                counter = self.counters[OUT]
                counter[0] += len(event.data)
                counter[1] += 1
            else:
                note = self._describe_event(event)
                if note:
                    records.append(Record(NOTE, note.encode("utf-8"),
                                          getattr(event, "peer", ""), event.at,
                                          starts_stream=isinstance(event, Connected)))
                peers_changed = peers_changed or isinstance(event, Connected | PeerClosed
                                                            | Closed)
        if records:
            self.transcript.extend(records)
            self.view.add(records)
        if getattr(self, "_send_when_ready", False):
            state = self.session.state.name
            if state in ("Established", "Bound"):
                self._send_when_ready = False
                self.send()  # a saved message waited for its connection
            elif state == "Closed" and not self.session.running:
                self._send_when_ready = False
        if peers_changed:
            self._refresh_peers()

    def _describe_event(self, event: Event) -> str:
        if isinstance(event, StateChanged):
            self._show_state(event.state, event.detail)
            return ""
        if isinstance(event, Connected):
            self.error_var.set("")
            self.app.clear_error(f"{self.title}: connected to {event.peer}")
            if self.transport_role()[1] == "client":
                self.info_var.set(f"Peer {event.peer}\nLocal {event.local}")
            return f"connected ({event.peer} ⇄ local {event.local})"
        if isinstance(event, LocalAddress):
            self.error_var.set("")
            self.app.clear_error(f"{self.title}: bound to {event.address}")
            note = f" — {event.note}" if event.note else ""
            self.info_var.set(f"Local {event.address}{note}")
            verb = "listening on" if self.transport_role()[1] == "listener" else "bound to"
            return f"{verb} {event.address}{note}"
        if isinstance(event, TlsEstablished):
            details = ", ".join(f"{k}: {v}" for k, v in event.info.items())
            if self.transport_role()[1] == "client":  # a listener's peers: transcript only
                self.info_var.set(self.info_var.get() + "\nTLS " + "\n".join(
                    f"{k}: {v}" for k, v in event.info.items()))
            return f"TLS established with {event.peer}: {details}"
        if isinstance(event, PeerClosed):
            return f"{event.peer}: {event.reason}" + (
                " — you can still send, or Close" if event.half else "")
        if isinstance(event, Failed):
            self.show_error(event.message, event.field_name)
            return ""
        if isinstance(event, Closed):
            self.info_var.set(f"Not connected (last: {event.reason}).")
            return f"closed ({event.reason})"
        if isinstance(event, LogLine):
            return event.text
        if isinstance(event, Progress):
            total = f"/{event.total}" if event.total else ""
            self.repeat_var.set(f"Repeat: {event.done}{total} sent"
                                + ("" if event.label == "repeat" else f" — {event.label}"))
            return ""
        return ""

    def _show_state(self, state: ConnState, detail: str) -> None:
        self.state_var.set("● " + STATE_TEXT[state])
        self.state_label.configure(foreground=STATE_COLOURS[state])
        closed = state is ConnState.CLOSED
        self.primary_button.state(["!disabled"] if closed else ["disabled"])
        self.close_button.state(["disabled"] if closed else ["!disabled"])
        self.mode_box.state(["!disabled"] if closed else ["disabled"])
        if closed:
            self._refresh_peers()

    def _refresh_peers(self) -> None:
        # a closed datagram socket has no peers left, whatever it heard from before
        peers = self.session.peers() if self.session.running else []
        self.peer_list.delete(0, "end")
        for peer in peers:
            self.peer_list.insert("end", peer)
        self.to_box.configure(values=[ALL_PEERS, *peers])
        if self.to_var.get() not in (ALL_PEERS, *peers) and self.transport_role()[1] == \
                "listener":
            self.to_var.set(ALL_PEERS)

    def _refresh_counters(self) -> None:
        now = time.monotonic()
        then, bytes_in, bytes_out = self._rate_mark
        elapsed = max(1e-3, now - then)
        self.rates = ((self.counters[IN][0] - bytes_in) / elapsed,
                      (self.counters[OUT][0] - bytes_out) / elapsed)
        self._rate_mark = (now, self.counters[IN][0], self.counters[OUT][0])
        lines = []
        for label, direction, rate in (("in ", IN, self.rates[0]), ("out", OUT, self.rates[1])):
            size, chunks = self.counters[direction]
            lines.append(f"{label} {human_size(size):>9}  {chunks:>7,} msg  {human_rate(rate)}")
        self.counter_var.set("\n".join(lines))
        try:
            self.after(500, self._refresh_counters)
        except tk.TclError:
            pass

    # == app hooks ========================================================================
    def on_shown(self) -> None:
        dark = self.fields_theme_dark()
        self.view.set_dark(dark)
        # a plain tk.Listbox is not themed by sv-ttk: follow the theme by hand
        self.peer_list.configure(background="#1c1c1c" if dark else "#ffffff",
                                 foreground="#fafafa" if dark else "#1c1c1c",
                                 selectbackground="#2f60d8", selectforeground="#ffffff")

    def show_python(self) -> None:
        """Show as Python: this connection so far as a socket-module script."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.session.recording, "Socket console", self.app.worker)

    def transcript_text(self) -> str | None:
        return self.transcript.as_text(self.encoding_var.get())

    def open_target(self, host: str, port: int | None = None) -> None:
        if self.session.state.name is not ConnState.CLOSED:
            self.show_error("Close the current connection before opening another target.")
            return
        self.mode_var.set("TCP client")
        self.host_var.set(host)
        if port:
            self.port_var.set(str(port))
        self._on_mode_changed()

    def self_test(self) -> str | None:
        sample = b"GET / HTTP/1.0\r\n\r\n\x00\xff"
        if parse_payload("GET / HTTP/1.0\\r\\n\\r\\n\\0\\xff") != sample:
            return "the payload codec does not round-trip"
        if not hexdump(sample).startswith("00000000  47 45 54"):
            return "hexdump layout is wrong"
        if parse_payload("47 45 54", "hex") != b"GET":
            return "hex parsing is wrong"
        return None

    def save_fields(self) -> None:
        super().save_fields()
        self.fields.update(history=self.history[-HISTORY_MAX:],
                           scrollback=self.transcript.max_records)

    def close(self) -> None:
        self.session.close(timeout=1.0)
        self.app.bridge.detach(self.session.outbox)
