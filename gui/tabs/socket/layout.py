"""The Socket tab's widgets: connection bar, message line, output, input row."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from core.codec import ENCODINGS, LINE_ENDINGS
from core.sockets import FAMILIES
from gui.tabs.socket.chunk_view import MODES, ChunkView

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
ALL_PEERS = "(all peers)"
HISTORY_MAX = 100


class SocketLayout:
    """Builds the widgets of :class:`~gui.tabs.socket.tab.SocketTab` (a mixin of the tab)."""

    # == layout ===========================================================================
    def _build_connection_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, sticky="ew")
        ttk.Label(bar, text="Mode").pack(side="left")
        self.mode_box = ttk.Combobox(bar, textvariable=self.mode_var, values=list(MODES_UI),
                                     state="readonly", width=14)
        self.mode_box.pack(side="left", padx=(4, 10))
        self.mode_box.bind("<<ComboboxSelected>>", lambda e: self._on_mode_changed())

        self.inet_fields = ttk.Frame(bar)
        ttk.Label(self.inet_fields, text="Host").pack(side="left")
        self.host_entry = ttk.Entry(self.inet_fields, textvariable=self.host_var, width=12)
        self.host_entry.pack(side="left", padx=(4, 8))
        ttk.Label(self.inet_fields, text="Port").pack(side="left")
        self.port_entry = ttk.Entry(self.inet_fields, textvariable=self.port_var, width=6)
        self.port_entry.pack(side="left", padx=(4, 8))
        self.family_box = ttk.Combobox(self.inet_fields, textvariable=self.family_var,
                                       values=list(FAMILIES), state="readonly", width=4)
        self.family_box.pack(side="left", padx=(0, 8))
        self.tls_check = ttk.Checkbutton(self.inet_fields, text="TLS", variable=self.tls_var)
        self.tls_check.pack(side="left", padx=(0, 4))

        self.unix_fields = ttk.Frame(bar)
        ttk.Label(self.unix_fields, text="Path").pack(side="left")
        self.path_entry = ttk.Entry(self.unix_fields, textvariable=self.path_var, width=34)
        self.path_entry.pack(side="left", padx=(4, 8))

        self.options_button = ttk.Button(bar, text="Options…", command=self.open_options)
        self.options_button.pack(side="right", padx=(4, 0))
        self.close_button = ttk.Button(bar, text="Close", command=self.close_session)
        self.close_button.pack(side="right", padx=(4, 0))
        self.primary_button = ttk.Button(bar, text="Connect", style="Accent.TButton",
                                         command=self.start_session, width=8)
        self.primary_button.pack(side="right")
        self.lab_button = ttk.Button(bar, text="Lab", command=self.use_lab, width=3)
        self.lab_button.pack(side="right", padx=(0, 6))
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
        # the theme draws the menu arrow itself: a "▾" in the text made two
        self.save_button = ttk.Menubutton(tools, text="Save")
        save_menu = tk.Menu(self.save_button, tearoff=False)
        for label, kind in (("Transcript as text…", "text"), ("Transcript as hexdump…",
                            "hexdump"), ("Raw bytes received…", "raw-in"),
                            ("Raw bytes sent…", "raw-out")):
            save_menu.add_command(label=label, command=lambda k=kind: self.save_as(k))
        self.save_button.configure(menu=save_menu)
        self.save_button.pack(side="right")
        self.clear_button = ttk.Button(tools, text="Clear", command=self.clear_output)
        self.clear_button.pack(side="right", padx=4)
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
        # Packet Sender's saved packets, beside Send: row 2 has no room left at 1024 px
        self.saved_button = ttk.Button(row1, text="Saved…", command=self.open_saved)
        self.saved_button.pack(side="left", padx=(6, 0))

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
        # hex sends exactly the bytes typed: no line ending to choose
        self.format_box.bind("<<ComboboxSelected>>", lambda e: self._format_changed())
        self._format_changed()
        self.encoding_box = picker("Encoding", self.encoding_var, list(ENCODINGS), 6)
        self.encoding_box.bind("<<ComboboxSelected>>", lambda e: self._redraw())
        self.to_label = ttk.Label(row2, text="To")
        self.to_label.pack(side="left")
        self.to_box = ttk.Combobox(row2, textvariable=self.to_var, values=[ALL_PEERS],
                                   width=22)
        self.to_box.pack(side="left", padx=(4, 10))
        self.shutdown_button = ttk.Menubutton(row2, text="Shutdown")
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

    def _format_changed(self) -> None:
        self.ending_box.state(["disabled" if self.format_var.get() == "hex" else "!disabled"])

    def fields_theme_dark(self) -> bool:
        return self.app.settings.get("theme", "light") == "dark"
