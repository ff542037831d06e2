"""The SMTP tab's widgets: server bar, composer page with actions, transcript and inbox."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from core.smtp.settings import AUTH_MECHANISMS, STEPS, VERBS
from gui.tabs.smtp.composer import ComposerForm
from gui.widgets.logview import LogView

SECURITY_CHOICES = ("none", "starttls", "tls")
STOP_CHOICES = ("full send",) + STEPS[:-1]
# mid-tones that read on the light and the dark theme alike
TRANSCRIPT_TAGS = {
    "->": {"foreground": "#3d7ee0"},
    "<-": {"foreground": "#27a05a"},
    "~>": {"foreground": "#a05cd6"},
    "<~": {"foreground": "#1aa38a"},
    "***": {"foreground": "#e0483a"},
    "===": {"foreground": "#8c979a"},
}


class SmtpLayout:
    """Builds the widgets of :class:`~gui.tabs.smtp.tab.SmtpTab` (a mixin of the tab)."""

    # -- layout --------------------------------------------------------------------------
    def _build_server_bar(self) -> None:
        bar = ttk.LabelFrame(self, text="Server", padding=(8, 4))
        bar.pack(fill="x")
        self.host_var = self.persisted("host", "127.0.0.1")
        self.port_var = self.persisted("port", "2525")
        self.security_var = self.persisted("security", "starttls")
        self.verify_var = self.persisted("verify", True)
        self.ca_var = self.persisted("ca_file", "")
        self.user_var = self.persisted("user", "")
        self.password_var = tk.StringVar(self)  # never written to the settings file
        self.mechanism_var = self.persisted("mechanism", "auto")
        self.cleartext_var = tk.BooleanVar(self, value=False)
        self.widgets: dict[str, tk.Widget] = {}
        rows = [ttk.Frame(bar), ttk.Frame(bar)]
        for row in rows:
            row.pack(fill="x", pady=1)

        def field(row: ttk.Frame, label: str, widget: tk.Widget, key: str,
                  expand: bool = False) -> None:
            ttk.Label(row, text=label).pack(side="left", padx=(0, 4))
            widget.pack(side="left", padx=(0, 10), fill="x", expand=expand)
            self.widgets[key] = widget

        top, bottom = rows
        field(top, "Host", ttk.Entry(top, textvariable=self.host_var, width=16), "Host")
        field(top, "Port", ttk.Entry(top, textvariable=self.port_var, width=6), "Port")
        security = ttk.Combobox(top, textvariable=self.security_var, values=SECURITY_CHOICES,
                                state="readonly", width=8)
        security.bind("<<ComboboxSelected>>", self._security_chosen)
        field(top, "Security", security, "Security")
        ttk.Checkbutton(top, text="Verify certificate", variable=self.verify_var).pack(
            side="left", padx=(0, 10))
        field(top, "CA file", ttk.Entry(top, textvariable=self.ca_var, width=16), "CA file",
              expand=True)
        ttk.Button(top, text="…", width=2, command=self.ask_ca_file).pack(side="left")
        field(bottom, "User", ttk.Entry(bottom, textvariable=self.user_var, width=12), "User")
        field(bottom, "Password",
              ttk.Entry(bottom, textvariable=self.password_var, show="•", width=12), "Password")
        field(bottom, "AUTH", ttk.Combobox(bottom, textvariable=self.mechanism_var,
                                           values=AUTH_MECHANISMS, state="readonly", width=8),
              "AUTH")
        ttk.Checkbutton(bottom, text="Allow AUTH without TLS (once)",
                        variable=self.cleartext_var).pack(side="left")
        self.lab_button = ttk.Button(bottom, text="Lab sink", command=self.use_lab_sink)
        self.lab_button.pack(side="right")

    def _build_compose_page(self) -> None:
        page = ttk.PanedWindow(self.views, orient="horizontal")
        self.views.add(page, text="  Compose & transcript  ")
        self._compose_page = page
        page.bind("<Configure>", self._first_layout, add="+")

        left = ttk.Frame(page, padding=(0, 4, 8, 0))
        self.composer = ComposerForm(left, on_change=self._draft_changed,
                                     on_error=self.show_error)
        actions = ttk.Frame(left)
        actions.pack(side="bottom", fill="x", pady=(6, 0))  # first, so never squeezed out
        self.composer.pack(fill="both", expand=True)
        for widget in list(self.composer.entries.values()) + list(self.composer.texts.values()):
            widget.bind("<Control-Return>", lambda e: (self.send(), "break")[1])
        self.send_button = ttk.Button(actions, text="Send", style="Accent.TButton",
                                      command=self.send)
        self.send_button.pack(side="left")
        self.verify_button = ttk.Button(actions, text="Verify",
                                        command=self.verify_recipients)
        self.verify_button.pack(side="left", padx=6)
        ttk.Label(actions, text="Stop after").pack(side="left", padx=(6, 4))
        self.stop_after_var = self.persisted("stop_after", STOP_CHOICES[0])
        ttk.Combobox(actions, textvariable=self.stop_after_var, values=STOP_CHOICES,
                     state="readonly", width=8).pack(side="left")
        ttk.Button(actions, text="New", command=self.new_message).pack(side="right")
        ttk.Button(actions, text="Python", command=self.show_python).pack(
            side="right", padx=(0, 6))
        self.draft_var = tk.StringVar(self, value="")
        # on the attachments' summary line, right-aligned: the action row has no room
        # left for it at 1024 px (it was squeezed to a stray character)
        ttk.Label(self.composer.total_label.master, textvariable=self.draft_var,
                  foreground="#7f8c8d").grid(row=3, column=0, columnspan=2, sticky="e")
        page.add(left, weight=1)  # equal: a resize keeps the halves the layout starts with

        right = ttk.PanedWindow(page, orient="vertical")
        transcript = ttk.LabelFrame(right, text="Transcript", padding=(6, 4))
        tools = ttk.Frame(transcript)
        tools.pack(fill="x", pady=(0, 4))
        # packed first: a narrow pane shrinks the argument entry, never this button
        ttk.Button(tools, text="Clear", command=lambda: self.log.clear()).pack(side="right")
        self.verb_var = tk.StringVar(self, value="VRFY")
        ttk.Combobox(tools, textvariable=self.verb_var, values=VERBS, state="readonly",
                     width=5).pack(side="left")
        self.argument_var = tk.StringVar(self)
        argument = ttk.Entry(tools, textvariable=self.argument_var, width=6)
        argument.pack(side="left", padx=4, fill="x", expand=True)
        argument.bind("<Return>", lambda e: self.run_verb())
        self.widgets["Argument"] = argument
        ttk.Button(tools, text="Run", command=self.run_verb).pack(side="left")
        self.stop_button = ttk.Button(tools, text="Stop", command=self.stop,
                                      state="disabled")
        self.stop_button.pack(side="left", padx=4)
        self.show_body_var = self.persisted("show_body", False)
        ttk.Checkbutton(tools, text="Show body", variable=self.show_body_var).pack(
            side="left", padx=4)
        status = ttk.Frame(transcript)
        status.pack(side="bottom", fill="x", pady=(4, 0))
        self.log = LogView(transcript, max_lines=20_000, height=14, tags=TRANSCRIPT_TAGS)
        self.log.pack(fill="both", expand=True)
        self.connection_var = tk.StringVar(self, value="Not connected")
        ttk.Label(status, textvariable=self.connection_var).pack(side="left")
        self.progress = ttk.Progressbar(status, length=120, maximum=1.0)
        self.progress.pack(side="right")
        self.progress_var = tk.StringVar(self, value="")
        ttk.Label(status, textvariable=self.progress_var).pack(side="right", padx=6)
        right.add(transcript, weight=3)

        caps = ttk.LabelFrame(right, text="Server capabilities", padding=(6, 4))
        self.caps_frame = caps
        self.caps = ttk.Treeview(caps, columns=("value",), height=4, show="tree headings")
        self.caps.heading("#0", text="Capability")
        self.caps.heading("value", text="Value")
        self.caps.column("#0", width=130, stretch=False)
        self.caps.column("value", width=360, stretch=True)
        caps_scroll = ttk.Scrollbar(caps, command=self.caps.yview)
        self.caps.configure(yscrollcommand=caps_scroll.set)
        caps_scroll.pack(side="right", fill="y")
        self.caps.pack(fill="both", expand=True)
        self.caps.insert("", "end", text="—", values=("connect or send to see them",))
        right.add(caps, weight=1)
        page.add(right, weight=1)

    def _first_layout(self, event: tk.Event) -> None:
        # requested sizes would give the composer most of a small window; start at half
        if event.width > 200 and not getattr(self, "_sash_placed", False):
            self._sash_placed = True
            self._compose_page.sashpos(0, int(event.width * 0.5))
