"""The Socket console: TCP/UDP/UNIX client, listener or datagram socket, every byte visible.

The tab holds widgets and one :class:`core.sockets.SocketSession`; it never touches a
socket. Events arrive in batches from the bridge and are coalesced: counters add up,
records go to the transcript and to the ChunkView, which draws once per frame.
"""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog, ttk

from core.codec import ENCODINGS, LINE_ENDINGS, hexdump, parse_payload
from core.errors import UserError, check_port
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
from core.sockets import (
    FAMILIES,
    AutoReply,
    LocalAddress,
    PeerClosed,
    RepeatPlan,
    SocketConfig,
    SocketSession,
    TlsEstablished,
)
from core.states import ConnState
from core.transcript import IN, NOTE, OUT, Record, Transcript
from gui.tabs.base import Tab
from gui.tabs.socket.chunk_view import MODES, ChunkView
from gui.tabs.socket.dialogs import AutomationDialog, OptionsDialog

#: what the Mode picker shows -> (transport, role)
MODES_UI: dict[str, tuple[str, str]] = {
    "TCP client": ("tcp", "client"),
    "TCP listener": ("tcp", "listener"),
    "UDP": ("udp", "datagram"),
    "UNIX stream client": ("unix-stream", "client"),
    "UNIX stream listener": ("unix-stream", "listener"),
    "UNIX datagram": ("unix-dgram", "datagram"),
}
PRIMARY = {"client": "Connect", "listener": "Listen", "datagram": "Open"}
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
ALL_PEERS = "(all peers)"
HISTORY_MAX = 100


class SocketTab(Tab):
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

        self.mode_var = tk.StringVar(self, value=f.get("mode", "TCP client"))
        self.host_var = tk.StringVar(self, value=f.get("host", "127.0.0.1"))
        self.port_var = tk.StringVar(self, value=str(f.get("port", "7000")))
        self.path_var = tk.StringVar(self, value=f.get("path", "/tmp/wirebench.sock"))
        self.family_var = tk.StringVar(self, value=f.get("family", "auto"))
        self.tls_var = tk.BooleanVar(self, value=bool(f.get("tls", False)))
        self.format_var = tk.StringVar(self, value=f.get("format", "text"))
        self.ending_var = tk.StringVar(self, value=f.get("line_ending", "CRLF"))
        self.encoding_var = tk.StringVar(self, value=f.get("encoding", "utf-8"))
        self.view_var = tk.StringVar(self, value=f.get("view", "both"))
        self.time_var = tk.BooleanVar(self, value=bool(f.get("timestamps", True)))
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
        self.timeout_var = tk.StringVar(self, value=str(f.get("timeout", "10")))
        self.verify_var = tk.BooleanVar(self, value=True)  # never persisted off: safe default
        self.ca_var = tk.StringVar(self, value=f.get("ca_file", ""))
        self.sni_var = tk.StringVar(self, value=f.get("server_name", ""))
        self.cert_var = tk.StringVar(self, value=f.get("cert_file", ""))
        self.key_var = tk.StringVar(self, value=f.get("key_file", ""))
        self.local_host_var = tk.StringVar(self, value=f.get("local_host", ""))
        self.local_port_var = tk.StringVar(self, value=str(f.get("local_port", "0")))
        self.local_path_var = tk.StringVar(self, value=f.get("local_path", ""))

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

    # == layout ===========================================================================
    def _build_connection_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, sticky="ew")
        ttk.Label(bar, text="Mode").pack(side="left")
        self.mode_box = ttk.Combobox(bar, textvariable=self.mode_var, values=list(MODES_UI),
                                     state="readonly", width=16)
        self.mode_box.pack(side="left", padx=(4, 10))
        self.mode_box.bind("<<ComboboxSelected>>", lambda e: self._on_mode_changed())

        self.inet_fields = ttk.Frame(bar)
        ttk.Label(self.inet_fields, text="Host").pack(side="left")
        self.host_entry = ttk.Entry(self.inet_fields, textvariable=self.host_var, width=15)
        self.host_entry.pack(side="left", padx=(4, 8))
        ttk.Label(self.inet_fields, text="Port").pack(side="left")
        self.port_entry = ttk.Entry(self.inet_fields, textvariable=self.port_var, width=6)
        self.port_entry.pack(side="left", padx=(4, 8))
        self.family_box = ttk.Combobox(self.inet_fields, textvariable=self.family_var,
                                       values=list(FAMILIES), state="readonly", width=5)
        self.family_box.pack(side="left", padx=(0, 8))
        self.tls_check = ttk.Checkbutton(self.inet_fields, text="TLS", variable=self.tls_var)
        self.tls_check.pack(side="left", padx=(0, 4))

        self.unix_fields = ttk.Frame(bar)
        ttk.Label(self.unix_fields, text="Path").pack(side="left")
        self.path_entry = ttk.Entry(self.unix_fields, textvariable=self.path_var, width=34)
        self.path_entry.pack(side="left", padx=(4, 8))

        self.options_button = ttk.Button(bar, text="Options…", command=self.open_options)
        self.options_button.pack(side="right", padx=(6, 0))
        self.close_button = ttk.Button(bar, text="Close", command=self.close_session)
        self.close_button.pack(side="right", padx=(6, 0))
        self.primary_button = ttk.Button(bar, text="Connect", style="Accent.TButton",
                                         command=self.start_session, width=8)
        self.primary_button.pack(side="right")
        self._fields_frame = bar
        for entry in (self.host_entry, self.port_entry, self.path_entry):
            entry.bind("<Return>", lambda e: self.start_session())

    def _build_message_line(self) -> None:
        line = ttk.Frame(self)
        line.grid(row=1, column=0, sticky="ew", pady=(4, 4))
        self.state_label = ttk.Label(line, textvariable=self.state_var, anchor="w",
                                     font=("TkDefaultFont", 10, "bold"))
        self.state_label.pack(side="left", padx=(0, 12))
        self.error_label = ttk.Label(line, textvariable=self.error_var, foreground="#c0392b",
                                     anchor="w")
        self.error_label.pack(side="left", fill="x", expand=True)
        self.hint_label = ttk.Label(line, text="", foreground="#7a7a7a", anchor="e")
        self.hint_label.pack(side="right")
        self.host_var.trace_add("write", lambda *a: self._update_hint())

    def _build_body(self) -> None:
        body = ttk.Frame(self)
        body.grid(row=2, column=0, sticky="nsew")
        body.columnconfigure(0, weight=1)
        body.columnconfigure(1, minsize=230)
        body.rowconfigure(0, weight=1)
        left = ttk.Frame(body)
        left.grid(row=0, column=0, sticky="nsew")
        side = ttk.Frame(body, padding=(12, 0, 0, 0))
        side.grid(row=0, column=1, sticky="nsew")

        tools = ttk.Frame(left)
        tools.pack(fill="x", pady=(0, 4))
        for mode in MODES:
            ttk.Radiobutton(tools, text=mode.capitalize(), value=mode, variable=self.view_var,
                            command=self._redraw).pack(side="left", padx=(0, 6))
        ttk.Separator(tools, orient="vertical").pack(side="left", fill="y", padx=(6, 10))
        ttk.Checkbutton(tools, text="Time", variable=self.time_var,
                        command=self._redraw).pack(side="left")
        ttk.Checkbutton(tools, text="Peer", variable=self.peer_col_var,
                        command=self._redraw).pack(side="left", padx=(6, 0))
        ttk.Checkbutton(tools, text="Pause", variable=self.pause_var,
                        command=self._on_pause).pack(side="left", padx=(6, 0))
        self.save_button = ttk.Menubutton(tools, text="Save ▾")
        save_menu = tk.Menu(self.save_button, tearoff=False)
        for label, kind in (("Transcript as text…", "text"), ("Transcript as hexdump…",
                            "hexdump"), ("Raw bytes received…", "raw-in"),
                            ("Raw bytes sent…", "raw-out")):
            save_menu.add_command(label=label, command=lambda k=kind: self.save_as(k))
        self.save_button.configure(menu=save_menu)
        self.save_button.pack(side="right")
        ttk.Button(tools, text="Clear", command=self.clear_output).pack(side="right", padx=4)
        ttk.Button(tools, text="Find", command=self.find).pack(side="right")
        self.find_entry = ttk.Entry(tools, textvariable=self.find_var, width=12)
        self.find_entry.pack(side="right", padx=(8, 4))
        self.find_entry.bind("<Return>", lambda e: self.find())

        self.view = ChunkView(left, max_lines=int(self.fields.get("view_lines", 10_000)))
        self.view.pack(fill="both", expand=True)
        self.view.mode = self.view_var.get()

        def heading(text: str) -> ttk.Label:
            label = ttk.Label(side, text=text, font=("TkHeadingFont", 10, "bold"))
            label.pack(anchor="w")
            return label

        heading("Connection")
        self.info_label = ttk.Label(side, textvariable=self.info_var, justify="left",
                                    wraplength=215)
        self.info_label.pack(anchor="w", pady=(2, 10))
        heading("Traffic")
        ttk.Label(side, textvariable=self.counter_var, font=("TkFixedFont", 9),
                  justify="left").pack(anchor="w", pady=(2, 0))
        ttk.Label(side, textvariable=self.repeat_var, foreground="#7a7a7a",
                  wraplength=215).pack(anchor="w", pady=(2, 10))
        # peers matter only to a listener or a datagram socket: shown in those modes
        self.peers_box = ttk.Frame(side)
        ttk.Label(self.peers_box, text="Peers", font=("TkHeadingFont", 10, "bold")).pack(
            anchor="w")
        self.peer_list = tk.Listbox(self.peers_box, height=6, activestyle="none",
                                    exportselection=False, font=("TkFixedFont", 9),
                                    borderwidth=0, highlightthickness=1)
        self.peer_list.pack(fill="both", expand=True, pady=(2, 4))
        self.peer_list.bind("<<ListboxSelect>>", self._on_peer_selected)
        self.drop_button = ttk.Button(self.peers_box, text="Drop peer", command=self.drop_peer)
        self.drop_button.pack(anchor="w")

    def _build_input(self) -> None:
        box = ttk.Frame(self)
        box.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        row1 = ttk.Frame(box)
        row1.pack(fill="x")
        self.input = ttk.Entry(row1, font=("TkFixedFont", 10))
        self.input.pack(side="left", fill="x", expand=True)
        self.input.bind("<Return>", lambda e: self.send())
        self.input.bind("<KP_Enter>", lambda e: self.send())
        self.input.bind("<Up>", lambda e: self._history_step(-1))
        self.input.bind("<Down>", lambda e: self._history_step(1))
        self.send_button = ttk.Button(row1, text="Send", style="Accent.TButton",
                                      command=self.send, width=8)
        self.send_button.pack(side="left", padx=(6, 0))

        row2 = ttk.Frame(box)
        row2.pack(fill="x", pady=(6, 0))

        def picker(label: str, var: tk.StringVar, values: list[str], width: int) -> ttk.Combobox:
            ttk.Label(row2, text=label).pack(side="left")
            combo = ttk.Combobox(row2, textvariable=var, values=values, state="readonly",
                                 width=width)
            combo.pack(side="left", padx=(4, 10))
            return combo

        self.format_box = picker("Format", self.format_var, ["text", "hex"], 5)
        self.ending_box = picker("Line end", self.ending_var, list(LINE_ENDINGS), 5)
        self.encoding_box = picker("Encoding", self.encoding_var, list(ENCODINGS), 6)
        self.encoding_box.bind("<<ComboboxSelected>>", lambda e: self._redraw())
        self.to_label = ttk.Label(row2, text="To")
        self.to_label.pack(side="left")
        self.to_box = ttk.Combobox(row2, textvariable=self.to_var, values=[ALL_PEERS],
                                   width=22)
        self.to_box.pack(side="left", padx=(4, 10))
        self.shutdown_button = ttk.Menubutton(row2, text="Shutdown ▾")
        menu = tk.Menu(self.shutdown_button, tearoff=False)
        menu.add_command(label="Write side (SHUT_WR: send FIN, keep reading)",
                         command=lambda: self.shutdown("write"))
        menu.add_command(label="Read side (SHUT_RD: stop reading, keep sending)",
                         command=lambda: self.shutdown("read"))
        menu.add_command(label="Both (SHUT_RDWR)", command=lambda: self.shutdown("both"))
        self.shutdown_button.configure(menu=menu)
        self.shutdown_button.pack(side="right")
        ttk.Button(row2, text="Automate…", command=self.open_automation).pack(side="right",
                                                                             padx=(0, 6))
        ttk.Button(row2, text="Send file…", command=self.send_file).pack(side="right",
                                                                        padx=(0, 6))
        ttk.Button(row2, text="Show as Python", command=self.show_python).pack(
            side="right", padx=(0, 6))

    def fields_theme_dark(self) -> bool:
        return self.app.settings.get("theme", "light") == "dark"

    # == reading the form =================================================================
    def transport_role(self) -> tuple[str, str]:
        return MODES_UI.get(self.mode_var.get(), ("tcp", "client"))

    def _on_mode_changed(self) -> None:
        transport, role = self.transport_role()
        unix = transport.startswith("unix")
        self.inet_fields.pack_forget()
        self.unix_fields.pack_forget()
        (self.unix_fields if unix else self.inet_fields).pack(side="left")
        if transport == "tcp":
            self.tls_check.state(["!disabled"])
        else:
            self.tls_check.state(["disabled"])
        self.primary_button.configure(text=PRIMARY[role])
        if role == "listener" and self.host_var.get() not in ("127.0.0.1", "::1", ""):
            self.host_var.set("127.0.0.1")  # listeners bind loopback unless the user widens
        self._update_hint()
        self._update_peer_widgets()

    def _update_hint(self) -> None:
        transport, role = self.transport_role()
        if transport.startswith("unix"):
            hint = "UNIX socket file; a stale one is replaced, a live one is not"
        elif role == "listener":
            hint = ("Host '' = all interfaces (IPv4 and IPv6)" if self.host_var.get() == ""
                    else "Host '' = all interfaces · port 0 = any free port")
        elif role == "datagram":
            hint = "Host/Port = where Send goes; <broadcast> allowed"
        else:
            hint = ""
        self.hint_label.configure(text=hint)

    def _update_peer_widgets(self) -> None:
        role = self.transport_role()[1]
        many = role in ("listener", "datagram")
        self.to_label.pack_forget()
        self.to_box.pack_forget()
        if many:  # a client has one peer: no To field
            self.to_label.pack(side="left")
            self.to_box.pack(side="left", padx=(4, 10))
        self.drop_button.state(["!disabled"] if role == "listener" else ["disabled"])
        if many:
            self.peers_box.pack(fill="both", expand=True)
        else:
            self.peers_box.pack_forget()

    def build_config(self) -> SocketConfig:
        transport, role = self.transport_role()
        options = {}
        for name, var in self.option_vars.items():
            value = var.get().strip()
            if value not in ("", "default"):
                options[name] = value
        try:
            timeout = float(self.timeout_var.get())
        except ValueError:
            raise UserError(f"Timeout must be a number of seconds, got "
                            f"{self.timeout_var.get()!r}.", "Timeout") from None
        port: int | str = 0
        if not transport.startswith("unix"):
            port_text = self.port_var.get().strip()
            if role != "datagram" or port_text not in ("", "0"):
                port = check_port(port_text, "Port", allow_zero=role == "listener")
        return SocketConfig(
            transport=transport, host=self.host_var.get().strip(), port=port,
            path=self.path_var.get().strip(), family=self.family_var.get(),
            local_host=self.local_host_var.get().strip(),
            local_port=self.local_port_var.get().strip() or 0,
            local_path=self.local_path_var.get().strip(),
            tls=self.tls_var.get() and transport == "tcp", tls_verify=self.verify_var.get(),
            ca_file=self.ca_var.get().strip(), server_name=self.sni_var.get().strip(),
            cert_file=self.cert_var.get().strip(), key_file=self.key_var.get().strip(),
            connect_timeout=timeout, options=options)

    def _field_widget(self, name: str) -> tk.Widget | None:
        return {"Host": self.host_entry, "Port": self.port_entry, "Path": self.path_entry,
                "Payload": self.input, "Peer": self.to_box}.get(name)

    # == actions ==========================================================================
    def _guard(self, action, *args) -> bool:  # noqa: ANN001
        """Run a user action; a UserError becomes the one-sentence message in the tab."""
        for widget in (self.host_entry, self.port_entry, self.path_entry, self.input):
            widget.state(["!invalid"])
        try:
            action(*args)
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return False
        self.error_var.set("")
        return True

    def show_error(self, message: str, field_name: str = "") -> None:
        self.error_var.set("⚠ " + message)
        self.app.set_status(message, error=True)
        widget = self._field_widget(field_name)
        if widget is not None:
            widget.state(["invalid"])
        self.view.add([self.transcript.note(message)])

    def start_session(self) -> None:
        transport, role = self.transport_role()

        def go() -> None:
            config = self.build_config()
            self.session.set_auto_replies(self.auto_rules)
            {"client": self.session.connect, "listener": self.session.listen,
             "datagram": self.session.open_datagram}[role](config)

        self._guard(go)

    def close_session(self) -> None:
        self.session.close(timeout=0)  # the I/O thread finishes on its own; Closed follows

    def send(self) -> None:
        text = self.input.get()

        def go() -> None:
            data = parse_payload(text, self.format_var.get(), self.ending_var.get(),
                                 self.encoding_var.get())
            self.session.send(data, self._selected_peer())

        if self._guard(go):
            if text and (not self.history or self.history[-1] != text):
                self.history.append(text)
                del self.history[:-HISTORY_MAX]
            self._history_pos = None
            self.input.delete(0, "end")

    def send_file(self, path: str | None = None) -> None:
        path = path or filedialog.askopenfilename(parent=self, title="Send a file")
        if path:
            self._guard(self.session.send_file, path, self._selected_peer())

    def shutdown(self, how: str) -> None:
        peer = self._selected_peer() if self.transport_role()[1] == "listener" else None
        self._guard(self.session.shutdown, how, peer)

    def drop_peer(self) -> None:
        peer = self._selected_peer()
        if peer is None:
            self.show_error("Select a peer in the list to drop.", "Peer")
            return
        self._guard(self.session.drop, peer)

    def start_repeat(self, plan_args: dict) -> bool:
        def go() -> None:
            plan = RepeatPlan(template=self.input.get(), fmt=self.format_var.get(),
                              line_ending=self.ending_var.get(),
                              encoding=self.encoding_var.get(), peer=self._selected_peer(),
                              **plan_args)
            self.session.start_repeat(plan)

        return self._guard(go)

    def stop_repeat(self) -> None:
        self._guard(self.session.stop_repeat)

    def set_auto_replies(self, rules: list[AutoReply]) -> None:
        self.auto_rules = list(rules)
        self.session.set_auto_replies(self.auto_rules)

    def _selected_peer(self) -> str | None:
        value = self.to_var.get().strip()
        if self.transport_role()[1] == "client" or value in ("", ALL_PEERS):
            return None
        return value

    def _on_peer_selected(self, event: object = None) -> None:
        selection = self.peer_list.curselection()
        if selection:
            self.to_var.set(self.peer_list.get(selection[0]))

    def _history_step(self, step: int) -> str:
        if not self.history:
            return "break"
        pos = len(self.history) if self._history_pos is None else self._history_pos
        pos = max(0, min(len(self.history), pos + step))
        self._history_pos = pos
        self.input.delete(0, "end")
        if pos < len(self.history):
            self.input.insert(0, self.history[pos])
        return "break"

    # -- output tools --------------------------------------------------------------------
    def _redraw(self) -> None:
        self.view.mode = self.view_var.get()
        self.view.show_time = self.time_var.get()
        self.view.show_peer = self.peer_col_var.get()
        self.view.encoding = self.encoding_var.get()
        self.view.redraw(self.transcript)

    def _on_pause(self) -> None:
        self.view.set_follow(not self.pause_var.get())

    def find(self) -> int:
        count = self.view.find(self.find_var.get())
        if self.find_var.get():
            self.pause_var.set(True)
            self.show_info(f"Find: {count} match{'es' * (count != 1)} for "
                           f"{self.find_var.get()!r} (autoscroll paused).")
        return count

    def clear_output(self) -> None:
        self.transcript.clear()
        self.view.clear()
        for direction in self.counters:
            self.counters[direction] = [0, 0]

    def save_as(self, kind: str, path: str | None = None) -> None:
        ext = ".bin" if kind.startswith("raw") else ".txt"
        path = path or filedialog.asksaveasfilename(
            parent=self, title="Save", defaultextension=ext,
            initialfile=f"wirebench-socket-{kind}{ext}")
        if not path:
            return
        try:
            size = self.transcript.export(kind, path, self.encoding_var.get())
        except OSError as exc:
            self.show_error(f"Could not save to {path}: {exc.strerror}; choose another folder.")
            return
        self.show_info(f"Saved {size:,} bytes to {path}")

    def set_scrollback(self, value: str | int) -> None:
        """How many chunks the transcript (and so the view's redraw) keeps."""
        try:
            chunks = int(str(value).strip())
        except ValueError:
            chunks = 0
        if not 100 <= chunks <= 1_000_000:
            raise UserError(f"Scrollback must be 100–1000000 chunks, got {value!r}.",
                            "Scrollback")
        self.transcript.max_records = chunks
        self.transcript.extend([])  # drops the oldest now if the cap went down
        self.show_info(f"Scrollback: the last {chunks:,} chunks are kept.")

    # -- dialogs -------------------------------------------------------------------------
    def open_options(self) -> OptionsDialog:
        return OptionsDialog(self)

    def open_automation(self) -> AutomationDialog:
        return AutomationDialog(self)

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
                                          getattr(event, "peer", ""), event.at))
                peers_changed = peers_changed or isinstance(event, Connected | PeerClosed
                                                            | Closed)
        if records:
            self.transcript.extend(records)
            self.view.add(records)
        if peers_changed:
            self._refresh_peers()

    def _describe_event(self, event: Event) -> str:
        if isinstance(event, StateChanged):
            self._show_state(event.state, event.detail)
            return ""
        if isinstance(event, Connected):
            self.error_var.set("")
            if self.transport_role()[1] == "client":
                self.info_var.set(f"Peer {event.peer}\nLocal {event.local}")
            return f"connected ({event.peer} ⇄ local {event.local})"
        if isinstance(event, LocalAddress):
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
        peers = self.session.peers()
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

        show_code(self, self.session.recording, "Socket console")

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
        f = self.fields
        f.update(mode=self.mode_var.get(), host=self.host_var.get(), port=self.port_var.get(),
                 path=self.path_var.get(), family=self.family_var.get(),
                 tls=self.tls_var.get(), format=self.format_var.get(),
                 line_ending=self.ending_var.get(), encoding=self.encoding_var.get(),
                 view=self.view_var.get(), timestamps=self.time_var.get(),
                 history=self.history[-HISTORY_MAX:], timeout=self.timeout_var.get(),
                 ca_file=self.ca_var.get(), server_name=self.sni_var.get(),
                 cert_file=self.cert_var.get(), key_file=self.key_var.get(),
                 local_host=self.local_host_var.get(), local_port=self.local_port_var.get(),
                 local_path=self.local_path_var.get(),
                 scrollback=self.transcript.max_records)

    def close(self) -> None:
        self.session.close(timeout=1.0)
        self.app.bridge.detach(self.session.outbox)
