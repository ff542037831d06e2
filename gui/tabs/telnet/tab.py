"""Telnet tab: a terminal with option negotiation, raw mode, automation and logs.

The tab holds a :class:`TelnetSession` handle and widgets, never a socket. Frames of
changed lines arrive through the bridge like every other event (the session's outbox
wakes it at once) and are painted by :class:`TerminalView`;
negotiation events fill the inspector; the automation panel runs expect/send scripts.
"""

from __future__ import annotations

import textwrap
import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk
from typing import TYPE_CHECKING

from core.errors import UserError, check_port
from core.events import Closed, Connected, Event, Failed, LogLine, StateChanged
from core.paths import data_dir
from core.servers.telnet_lab import LAB_PASSWORD, LAB_USER
from core.telnet.automation import AutomationDone, AutomationProgress
from core.telnet.protocol import SPECIAL_COMMANDS, Negotiation, OptionsChanged
from core.telnet.session import InputModeChanged, TelnetSession, TerminalFrame
from core.telnet.settings import ENCODINGS, LOCAL_ECHO, MODES, TERMINAL_TYPES, TelnetSettings
from core.worker import Outbox, new_source
from gui.tabs.base import Tab
from gui.tabs.telnet.side_panel import DEFAULT_SCRIPT, SidePanel
from gui.tabs.telnet.terminal import TerminalView

if TYPE_CHECKING:
    from gui.app import WirebenchApp

#: application cursor keys (DEC private mode 1); pyte keeps private modes shifted by 5
DECCKM = 1 << 5


class TelnetTab(Tab):
    title = "Telnet"
    key = "telnet"

    def __init__(self, master: tk.Misc, app: WirebenchApp) -> None:
        super().__init__(master, app)
        self._failure_lines: list[str] = []  # told in the terminal after the frames
        self.outbox: Outbox = Outbox()
        self.session = TelnetSession(self.outbox, new_source("telnet"))
        self._inspector_visible = False
        self.host_var = self.persisted("host", "127.0.0.1")
        self.port_var = self.persisted("port", "2323")
        self.mode_var = self.persisted("mode", "telnet")
        self.tls_var = self.persisted("tls", False)
        self.verify_var = self.persisted("verify", True)
        self.encoding_var = self.persisted("encoding", "utf-8")
        self.ttype_var = self.persisted("terminal_type", "xterm-256color")
        self.echo_var = self.persisted("local_echo", "auto")
        self.keepalive_var = self.persisted("keepalive", "0")
        self.typescript_var = self.persisted("typescript", False)
        self.active_var = self.persisted("active", True)
        self.environ_var = self.persisted("new_environ", True)
        #: set from the Options menu's file chooser, not typed
        self.ca_file_var = self.persisted("ca_file", "")
        self.status_var = tk.StringVar(self, value="Not connected")
        self.mode_info_var = tk.StringVar(self, value="")
        self._build()
        self.app.bridge.attach(self.outbox, self.on_events)

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        ttk.Label(bar, text="Host").pack(side="left")
        self.host_entry = ttk.Entry(bar, textvariable=self.host_var, width=16)
        self.host_entry.pack(side="left", padx=(4, 8))
        ttk.Label(bar, text="Port").pack(side="left")
        self.port_entry = ttk.Entry(bar, textvariable=self.port_var, width=6)
        self.port_entry.pack(side="left", padx=(4, 8))
        ttk.Label(bar, text="Mode").pack(side="left")
        ttk.Combobox(bar, textvariable=self.mode_var, values=MODES, width=6,
                     state="readonly").pack(side="left", padx=(4, 8))
        ttk.Checkbutton(bar, text="TLS", variable=self.tls_var).pack(side="left")
        ttk.Checkbutton(bar, text="Verify", variable=self.verify_var).pack(side="left",
                                                                           padx=(4, 8))
        ttk.Label(bar, text="Encoding").pack(side="left")
        ttk.Combobox(bar, textvariable=self.encoding_var, values=ENCODINGS, width=6,
                     state="readonly").pack(side="left", padx=(4, 8))
        self.connect_button = ttk.Button(bar, text="Connect", command=self.toggle_connect,
                                         style="Accent.TButton")
        self.connect_button.pack(side="left", padx=(4, 4))
        self.lab_button = ttk.Button(bar, text="Lab", command=self.use_lab)
        self.lab_button.pack(side="left")

        bar2 = ttk.Frame(self)
        bar2.pack(fill="x", pady=(6, 6))
        # packed first so a narrow window clips the left-hand extras, not this
        self.inspector_button = ttk.Button(bar2, text="Inspector ▸",
                                           command=self.toggle_inspector)
        self.inspector_button.pack(side="right")
        ttk.Label(bar2, text="TERM").pack(side="left")
        ttk.Combobox(bar2, textvariable=self.ttype_var, values=TERMINAL_TYPES, width=14,
                     state="readonly").pack(side="left", padx=(4, 8))
        ttk.Label(bar2, text="Echo").pack(side="left")
        echo_box = ttk.Combobox(bar2, textvariable=self.echo_var, values=LOCAL_ECHO, width=3,
                                state="readonly")
        echo_box.pack(side="left", padx=(4, 8))
        echo_box.bind("<<ComboboxSelected>>", self._echo_changed)
        ttk.Label(bar2, text="Keepalive s").pack(side="left")
        self.keepalive_entry = ttk.Spinbox(bar2, textvariable=self.keepalive_var, from_=0,
                                           to=3600, width=3)
        self.keepalive_entry.pack(side="left", padx=(4, 8))
        options = ttk.Menubutton(bar2, text="Options")
        options_menu = tk.Menu(options, tearoff=False)
        options_menu.add_checkbutton(label="Log to files (typescript + text)",
                                     variable=self.typescript_var)
        options_menu.add_checkbutton(label="Active start (offer options first)",
                                     variable=self.active_var)
        options_menu.add_checkbutton(label="Send NEW-ENVIRON (LANG)",
                                     variable=self.environ_var)
        options_menu.add_separator()
        options_menu.add_command(label="TLS: trust a CA file…", command=self.choose_ca_file)
        options_menu.add_command(label="TLS: use the system CAs only",
                                 command=lambda: self._set_ca_file(""))
        options["menu"] = options_menu
        options.pack(side="left", padx=(0, 8))
        self.special_button = ttk.Menubutton(bar2, text="Commands")
        menu = tk.Menu(self.special_button, tearoff=False)
        for name in SPECIAL_COMMANDS:
            menu.add_command(label=f"{name}", command=lambda n=name: self.send_special(n))
        self.special_button["menu"] = menu
        self.special_button.pack(side="left", padx=(0, 8))
        received = ttk.Menubutton(bar2, text="Received")
        received_menu = tk.Menu(received, tearoff=False)
        received_menu.add_command(label="Save what was received…", command=self.save_received)
        received_menu.add_command(label="Open it in the browser", command=self.open_received)
        received["menu"] = received_menu
        received.pack(side="left")


        status = ttk.Frame(self)
        status.pack(side="bottom", fill="x", pady=(6, 0))
        # here, not on the crowded second row: at 1024 px that row had no room for it
        ttk.Button(status, text="Show as Python", command=self.show_python).pack(
            side="right")
        ttk.Label(status, textvariable=self.status_var).pack(side="left")
        ttk.Label(status, textvariable=self.mode_info_var, foreground="#777").pack(
            side="right")
        self.scroll_var = tk.StringVar(self, value="")
        ttk.Label(status, textvariable=self.scroll_var, foreground="#b26a00").pack(
            side="left", padx=12)
        self.lab_label = ttk.Label(status, text="", foreground="#777")
        self.lab_label.pack(side="right", padx=12)
        self.paned = ttk.PanedWindow(self, orient="horizontal")
        self.paned.pack(fill="both", expand=True)
        self.terminal = TerminalView(self.paned)
        self.paned.add(self.terminal, weight=3)
        t = self.terminal
        t.on_text = self.type_text
        t.on_key = self.send_key
        t.on_scroll = self.session.scroll
        t.on_resize = self.resize
        t.app_cursor_keys = lambda: DECCKM in self.session.screen.mode
        t.frame_listeners.append(self._after_frame)
        t.show_message([
            "Not connected.",
            "",
            "Type a host and port and press Connect, or press Lab for the lab telnet",
            f"server (login {LAB_USER}, password {LAB_PASSWORD}).",
            "Mode raw sends plain lines: try port 80 and type  GET / HTTP/1.0  then Enter twice.",
            "Keys go to the server; Shift+PgUp/PgDn or the wheel scroll back; selecting copies.",
        ])

        self.side = SidePanel(self.paned, self.session, self.outbox,
                              self.fields.get("script", DEFAULT_SCRIPT), self.show_error)

        self._update_lab_label()

    def _after_frame(self, frame: TerminalFrame) -> None:
        text = (f"scrolled back {frame.offset} of {frame.history} lines "
                "(type or Shift+PgDn to return)" if frame.offset else "")
        if text != self.scroll_var.get():
            self.scroll_var.set(text)

    def toggle_inspector(self) -> None:
        if self._inspector_visible:
            self.paned.forget(self.side)
            self.inspector_button.configure(text="Inspector ▸")
        else:
            self.paned.add(self.side, weight=1)
            self.inspector_button.configure(text="Inspector ◂")
        self._inspector_visible = not self._inspector_visible

    # -- actions --------------------------------------------------------------------------
    def _settings(self) -> TelnetSettings:
        host = self.host_var.get().strip()
        port = check_port(self.port_var.get(), "Port")
        try:
            keepalive = float(self.keepalive_var.get() or 0)
        except ValueError:
            raise UserError(f"Keepalive must be a number of seconds (0 = off), got "
                            f"{self.keepalive_var.get()!r}.", "Keepalive") from None
        columns, rows = self.terminal.size_for(self.terminal.text.winfo_width(),
                                                self.terminal.text.winfo_height())
        if self.terminal.text.winfo_width() <= 1:
            columns, rows = 80, 24
        typescript = log = ""
        if self.typescript_var.get():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            folder = data_dir() / "telnet"
            typescript = str(folder / f"typescript-{stamp}.raw")
            log = str(folder / f"session-{stamp}.txt")
        return TelnetSettings(
            host=host, port=port, mode=self.mode_var.get(), tls=self.tls_var.get(),
            verify=self.verify_var.get(), ca_file=self.ca_file_var.get(),
            encoding=self.encoding_var.get(),
            terminal_type=self.ttype_var.get(), columns=columns, rows=rows,
            keepalive=keepalive, local_echo=self.echo_var.get(),
            active=self.active_var.get(), new_environ=self.environ_var.get(),
            typescript_path=typescript, log_path=log)

    def choose_ca_file(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="CA certificate (PEM)",
                                          filetypes=[("PEM", "*.pem *.crt"), ("All", "*")])
        if path:
            self._set_ca_file(path)

    def _set_ca_file(self, path: str) -> None:
        self.ca_file_var.set(path)
        self.show_info(f"TLS trusts {path}" if path else "TLS trusts the system CAs")

    def toggle_connect(self) -> None:
        if self.session.running:
            self.disconnect()
        else:
            self.connect()

    def connect(self) -> None:
        try:
            settings = self._settings()
            self.session.connect(settings)
        except UserError as exc:
            self.show_error(str(exc))
            self._mark_field(exc.field_name)
            return
        self.save_fields()
        self.side.inspector.clear()
        self.connect_button.configure(text="Disconnect")
        self._reached_peer = False  # a failure before Connected is told in the terminal
        self._failure_lines = []
        self.status_var.set(f"Connecting to {settings.host}:{settings.port}…")
        if settings.typescript_path:
            self.show_info(f"Logging to {settings.typescript_path} and {settings.log_path}")
        self.terminal.text.focus_set()

    def disconnect(self) -> None:
        self.side.stop()
        self.app.worker.submit(self.session.close)
        self.connect_button.configure(text="Connect")

    def _mark_field(self, name: str) -> None:
        widget = {"Host": self.host_entry, "Port": self.port_entry,
                  "Keepalive": self.keepalive_entry}.get(name)
        if widget is not None:
            widget.focus_set()
            widget.selection_range(0, "end")

    def use_lab(self) -> None:
        """Fill host/port from the lab telnet server (starting it when it is off)."""
        self.with_lab_peer("telnet", self._fill_lab)

    def _fill_lab(self, peer) -> None:  # noqa: ANN001 - TelnetLabServer
        self.host_var.set(peer.host)
        self.port_var.set(str(peer.port))
        self.mode_var.set("telnet")
        self.tls_var.set(False)
        self._update_lab_label()
        self.show_info(f"Lab telnet server at {peer.address}: {peer.describe()}")

    def _update_lab_label(self) -> None:
        peer = self.app.lab.peer("telnet")
        where = f" on {peer.address}" if peer is not None and peer.running else ""
        self.lab_label.configure(text=f"Lab login: {LAB_USER} / {LAB_PASSWORD}{where}")

    def type_text(self, text: str) -> None:
        if not self.session.connected:
            return
        self.session.scroll_to_bottom()
        self.session.send_text(text)

    def send_key(self, sequence: str) -> None:
        if self.session.connected:
            self.session.scroll_to_bottom()
            self.session.send_key(sequence)

    def send_special(self, name: str) -> None:
        if not self.session.connected:
            self.show_error("Not connected: connect first, then send a command.")
            return
        try:
            self.session.special(name)
        except UserError as exc:
            self.show_error(str(exc))

    def resize(self, columns: int, rows: int) -> None:
        self.session.resize(columns, rows)

    def _echo_changed(self, event: object = None) -> None:
        self.session.settings.local_echo = self.echo_var.get()
        if self.session.connected:
            s = self.session
            self.on_event(InputModeChanged(source=s.source, local_echo=s.local_echo,
                                           character_mode=s.character_mode,
                                           enter=s.enter_name))

    def save_received(self) -> None:
        if not self.session.received.data():
            self.show_error("Nothing received in raw mode yet: connect in raw mode, send a "
                            "request (e.g. GET / HTTP/1.0), then save.")
            return
        path = filedialog.asksaveasfilename(parent=self, title="Save what was received",
                                            defaultextension=".html",
                                            initialfile="received.html")
        if path:
            self._save_to(Path(path))

    def _save_to(self, path: Path) -> Path | None:
        try:
            saved = self.session.received.save(path)
        except UserError as exc:
            self.show_error(str(exc))
            return None
        self.show_info(f"Saved {saved.stat().st_size} bytes to {saved}")
        return saved

    def open_received(self) -> None:
        path = self._save_to(data_dir() / "telnet" / "received.html")
        if path is not None:
            self.app.open_in_browser(path.resolve().as_uri())

    # -- events ---------------------------------------------------------------------------
    def on_events(self, events: list[Event]) -> None:
        frames: list[TerminalFrame] = []
        lines: list[tuple[str, str]] = []
        for event in events:
            if isinstance(event, TerminalFrame):
                if not self._failure_lines:  # a redraw of the old screen would hide it
                    frames.append(event)
            elif isinstance(event, Negotiation):
                tag = "warn" if event.note else event.direction
                lines.append((event.text, tag))
            else:
                if frames:
                    self.terminal.apply_frames(frames)
                    frames = []
                self.on_event(event)
        if frames:
            self.terminal.apply_frames(frames)
        if any(isinstance(event, TerminalFrame) for event in events):
            # lets the screen thread send the next frame at once after a keystroke
            self.session.screen_thread.painted()
        if self._failure_lines:  # after the frames: the last screen must not cover it
            self.terminal.show_message(self._failure_lines)
        if lines:
            self.side.inspector.append_many(lines)

    def on_event(self, event: Event) -> None:
        if isinstance(event, Connected):
            tls = " (TLS)" if self.session.tls_info else ""
            self.status_var.set(f"Connected to {event.peer}{tls} from {event.local}")
            self.show_info(f"Telnet: connected to {event.peer}")
            self._reached_peer = True
            self.resize(*self.terminal._size)
        elif isinstance(event, Closed):
            self.status_var.set(f"Disconnected ({event.reason})")
            if self.app.status_var.get().startswith("Telnet: connected"):
                self.show_info(f"Telnet: disconnected ({event.reason})")  # not "connected"
            self.connect_button.configure(text="Connect")
            self.mode_info_var.set("")
        elif isinstance(event, StateChanged):
            self.status_var.set(f"{event.state} {event.detail}…")
        elif isinstance(event, Failed):
            self.status_var.set(event.message)
            self.show_error(event.message)
            self._mark_field(event.field_name)
            if not getattr(self, "_reached_peer", True):
                # as PuTTY does: where the user looks, not only in the status bar
                self._failure_lines = ["Connection failed.", "", *textwrap.wrap(
                    event.message, max(20, self.terminal.columns - 4)), "",
                    "Check the host and port, then press Connect again."]
        elif isinstance(event, LogLine):
            self.side.inspector.append(event.text, "")
        elif isinstance(event, InputModeChanged):
            mode = "character mode" if event.character_mode else "line mode"
            if self.session.protocol is None:
                mode = "raw, a line at a time"
            echo = "local echo" if event.local_echo else "remote echo"
            self.mode_info_var.set(f"{mode}, {echo}, Enter = {event.enter}")
        elif isinstance(event, OptionsChanged):
            self.side.show_options(event)
        elif isinstance(event, AutomationProgress):
            self.side.show_progress(event)
        elif isinstance(event, AutomationDone):
            self.side.show_done(event)

    # -- app hooks ------------------------------------------------------------------------
    def show_python(self) -> None:
        """This session (login automation and typed lines) as a telnetlib3 script."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.session.recording, "Telnet", self.app.worker)

    def transcript_text(self) -> str | None:
        return self.session.transcript_text()

    def on_shown(self) -> None:
        self._update_lab_label()
        self.terminal.text.focus_set()

    def self_test(self) -> str | None:
        from core.telnet.protocol import TelnetProtocol

        p = TelnetProtocol()
        data, _ = p.receive(b"a\xff\xffb\xff\xfd\x1f")
        if data != b"a\xffb" or not p.local_enabled(31):
            return "telnet protocol self-test failed"
        return None

    def save_fields(self) -> None:
        super().save_fields()
        self.fields["script"] = self.side.script()

    def close(self) -> None:
        self.side.stop(timeout=1)
        self.session.close()
        self.app.bridge.detach(self.outbox)
