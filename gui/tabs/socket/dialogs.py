"""The Socket tab's two small dialogs: socket/TLS options, and automation (repeat, auto-reply).

Their fields live in the tab (tk variables), so closing a dialog loses nothing.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk
from typing import TYPE_CHECKING

from core.errors import UserError
from core.sockets import MACROS, AutoReply, options_for
from core.states import ConnState

if TYPE_CHECKING:
    from gui.tabs.socket.tab import SocketTab


class _Dialog(tk.Toplevel):
    def __init__(self, tab: SocketTab, title: str) -> None:
        super().__init__(tab)
        self.tab = tab
        self.title(title)
        self.transient(tab.winfo_toplevel())
        self.body = ttk.Frame(self, padding=14)
        self.body.pack(fill="both", expand=True)
        self.body.columnconfigure(1, weight=1)
        self.message = tk.StringVar(self)
        self.bind("<Escape>", lambda e: self.destroy())

    def heading(self, row: int, text: str) -> int:
        ttk.Label(self.body, text=text, font=("TkHeadingFont", 10, "bold")).grid(
            row=row, column=0, columnspan=3, sticky="w", pady=(10 if row else 0, 4))
        return row + 1

    def entry(self, row: int, label: str, var: tk.Variable, width: int = 28,
              browse: bool = False) -> ttk.Entry:
        ttk.Label(self.body, text=label).grid(row=row, column=0, sticky="w", padx=(0, 10))
        cell = ttk.Frame(self.body)
        cell.grid(row=row, column=1, columnspan=2, sticky="w", pady=2)
        widget = ttk.Entry(cell, textvariable=var, width=width)
        widget.pack(side="left")
        if browse:
            ttk.Button(cell, text="…", width=3, command=lambda: self._browse(var)).pack(
                side="left", padx=(4, 0))
        self.last_cell = cell
        return widget

    def _browse(self, var: tk.Variable) -> None:
        path = filedialog.askopenfilename(parent=self)
        if path:
            var.set(path)

    def footer(self, row: int) -> None:
        ttk.Label(self.body, textvariable=self.message, foreground="#c0392b",
                  wraplength=420).grid(row=row, column=0, columnspan=3, sticky="w", pady=(8, 0))
        ttk.Button(self.body, text="Close", command=self.destroy).grid(
            row=row + 1, column=2, sticky="e", pady=(8, 0))

    def guard(self, action, *args) -> bool:  # noqa: ANN001
        try:
            action(*args)
        except UserError as exc:
            self.message.set("⚠ " + str(exc))
            return False
        self.message.set("")
        return True


class OptionsDialog(_Dialog):
    """setsockopt choices with getsockopt read-back, timeouts, TLS and local binding."""

    def __init__(self, tab: SocketTab) -> None:
        super().__init__(tab, "Socket options")
        transport, role = tab.transport_role()
        row = self.heading(0, f"Socket options ({transport})")
        self.readback = tk.StringVar(self)
        for option in options_for(transport):
            var = tab.option_vars.setdefault(option.name, tk.StringVar(self, value="default"))
            ttk.Label(self.body, text=option.name, font=("TkFixedFont", 9)).grid(
                row=row, column=0, sticky="w", padx=(0, 10))
            cell = ttk.Frame(self.body)
            cell.grid(row=row, column=1, columnspan=2, sticky="w", pady=2)
            if option.boolean:
                widget = ttk.Combobox(cell, textvariable=var, width=9, state="readonly",
                                      values=["default", "on", "off"])
            else:
                widget = ttk.Entry(cell, textvariable=var, width=11)
            widget.pack(side="left")
            ttk.Label(cell, text=option.help, foreground="#7a7a7a").pack(side="left",
                                                                         padx=(10, 0))
            row += 1
        buttons = ttk.Frame(self.body)
        buttons.grid(row=row, column=0, columnspan=3, sticky="w", pady=(6, 0))
        ttk.Button(buttons, text="Apply to open socket", command=self.apply).pack(side="left")
        ttk.Button(buttons, text="Read back", command=self.read_back).pack(side="left", padx=6)
        row += 1
        ttk.Label(self.body, textvariable=self.readback, font=("TkFixedFont", 9),
                  foreground="#1f5fbf", justify="left").grid(row=row, column=0, columnspan=3,
                                                              sticky="w", pady=(4, 0))
        row = self.heading(row + 1, "Timeouts and view")
        self.entry(row, "Connect timeout (s)", tab.timeout_var, 8)
        self.scrollback_var = tk.StringVar(self, value=str(tab.transcript.max_records))
        self.entry(row + 1, "Scrollback (chunks)", self.scrollback_var, 8)
        ttk.Button(self.last_cell, text="Set", command=self.set_scrollback).pack(
            side="left", padx=(4, 0))
        row += 2
        if transport == "tcp":
            row = self.heading(row, "TLS")
            if role == "listener":
                self.entry(row, "Certificate (PEM)", tab.cert_var, browse=True)
                self.entry(row + 1, "Private key (PEM)", tab.key_var, browse=True)
                ttk.Label(self.body, text="Empty: a generated self-signed lab certificate.",
                          foreground="#7a7a7a").grid(row=row + 2, column=1, columnspan=2,
                                                     sticky="w")
                row += 3
            else:
                ttk.Checkbutton(self.body, text="Verify the server certificate (recommended)",
                                variable=tab.verify_var).grid(row=row, column=0, columnspan=3,
                                                              sticky="w")
                self.entry(row + 1, "CA file (PEM)", tab.ca_var, browse=True)
                self.entry(row + 2, "Server name (SNI)", tab.sni_var)
                row += 3
        if role == "datagram":
            row = self.heading(row, "Local address (optional)")
            if transport == "udp":
                self.entry(row, "Bind host", tab.local_host_var, 18)
                self.entry(row + 1, "Bind port", tab.local_port_var, 8)
                row += 2
            else:
                self.entry(row, "Own path (for replies)", tab.local_path_var)
                row += 1
        self.footer(row)
        self.read_back()

    def set_scrollback(self) -> None:
        self.guard(self.tab.set_scrollback, self.scrollback_var.get())

    def apply(self) -> None:
        def go() -> None:
            for name, var in self.tab.option_vars.items():
                if var.get().strip() not in ("", "default"):
                    self.tab.session.set_option(name, var.get())
        if self.guard(go):
            self.read_back()

    def read_back(self) -> None:
        values = self.tab.session.get_options()
        if self.tab.session.state.name is ConnState.CLOSED:
            self.readback.set("No socket open: choices apply at the next Connect/Listen/Open.")
        else:
            self.readback.set("Kernel values now: " + "  ".join(
                f"{k}={v}" for k, v in values.items()))


class AutomationDialog(_Dialog):
    """Repeat the input line N times every T ms; auto-reply rules for incoming data."""

    def __init__(self, tab: SocketTab) -> None:
        super().__init__(tab, "Automate")
        self.count_var = tk.StringVar(self, value="10")
        self.interval_var = tk.StringVar(self, value="1000")
        self.match_var = tk.StringVar(self)
        self.reply_var = tk.StringVar(self)
        self.regex_var = tk.BooleanVar(self, value=False)
        row = self.heading(0, "Repeat the input line")
        ttk.Label(self.body, text="Macros: " + " ".join(MACROS), foreground="#7a7a7a").grid(
            row=row, column=0, columnspan=3, sticky="w")
        self.entry(row + 1, "Count", self.count_var, 10)
        self.entry(row + 2, "Every (ms, 0 = flat out)", self.interval_var, 10)
        buttons = ttk.Frame(self.body)
        buttons.grid(row=row + 3, column=0, columnspan=3, sticky="w", pady=(6, 0))
        ttk.Button(buttons, text="Start", command=self.start).pack(side="left")
        ttk.Button(buttons, text="Stop", command=tab.stop_repeat).pack(side="left", padx=6)
        row = self.heading(row + 4, "Auto-reply (format and encoding from the input row)")
        self.rules = tk.Listbox(self.body, height=5, font=("TkFixedFont", 9))
        self.rules.grid(row=row, column=0, columnspan=3, sticky="ew")
        self.entry(row + 1, "When received contains", self.match_var)
        self.entry(row + 2, "Reply with", self.reply_var)
        ttk.Checkbutton(self.body, text="Match is a regular expression",
                        variable=self.regex_var).grid(row=row + 3, column=1, sticky="w")
        rule_buttons = ttk.Frame(self.body)
        rule_buttons.grid(row=row + 4, column=0, columnspan=3, sticky="w", pady=(6, 0))
        ttk.Button(rule_buttons, text="Add rule", command=self.add_rule).pack(side="left")
        ttk.Button(rule_buttons, text="Remove", command=self.remove_rule).pack(side="left",
                                                                              padx=6)
        self.footer(row + 5)
        self._show_rules()

    def start(self) -> None:
        try:
            count, interval = int(self.count_var.get()), int(self.interval_var.get())
        except ValueError:
            self.message.set("⚠ Count and interval must be whole numbers, e.g. 10 and 1000.")
            return
        if self.tab.start_repeat({"count": count, "interval_ms": interval}):
            self.message.set("")
        else:
            self.message.set(self.tab.error_var.get())

    def add_rule(self) -> None:
        def go() -> None:
            rule = AutoReply.create(self.match_var.get(), self.reply_var.get(),
                                    self.regex_var.get(), self.tab.format_var.get(),
                                    self.tab.encoding_var.get())
            self.tab.set_auto_replies([*self.tab.auto_rules, rule])
        if self.guard(go):
            self.match_var.set("")
            self.reply_var.set("")
            self._show_rules()

    def remove_rule(self) -> None:
        selection = self.rules.curselection()
        if selection:
            rules = list(self.tab.auto_rules)
            del rules[selection[0]]
            self.tab.set_auto_replies(rules)
            self._show_rules()

    def _show_rules(self) -> None:
        from core.codec import format_escaped

        self.rules.delete(0, "end")
        for rule in self.tab.auto_rules:
            kind = "regex" if rule.regex else "text"
            self.rules.insert("end", f"{kind}: {format_escaped(rule.pattern)}  →  "
                              f"{format_escaped(rule.reply)}")
