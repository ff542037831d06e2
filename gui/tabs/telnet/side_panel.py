"""The Telnet tab's side panel: the negotiation inspector and the automation runner.

Negotiation lines and option changes are shown as they arrive; the automation part
edits an expect/send script, keeps its secret out of the saved fields and runs the
script on the session (:class:`AutomationRun` works on its own thread and reports
through the session's outbox).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from core.errors import UserError
from core.servers.telnet_lab import LAB_USER
from core.telnet.automation import AutomationDone, AutomationProgress, AutomationRun, parse_script
from core.telnet.protocol import OptionsChanged
from core.telnet.session import TelnetSession
from core.worker import Outbox
from gui.widgets.logview import LogView

DEFAULT_SCRIPT = f"""timeout 10
expect login:
send {LAB_USER}
expect Password:
send {{secret}}
expect-re \\$ $
send colors
"""

HEADING = ("TkHeadingFont", 10, "bold")


class SidePanel(ttk.Frame):
    def __init__(self, master: tk.Misc, session: TelnetSession, outbox: Outbox, script: str,
                 show_error: Callable[[str], None]) -> None:
        super().__init__(master, padding=(6, 0, 0, 0))
        self.session = session
        self.outbox = outbox
        self.show_error = show_error
        self.automation: AutomationRun | None = None
        self.auto_var = tk.StringVar(self, value="Idle")
        self.secret_var = tk.StringVar(self)  # never saved
        self.options_var = tk.StringVar(self, value="")

        ttk.Label(self, text="Negotiation", font=HEADING).pack(anchor="w")
        ttk.Label(self, textvariable=self.options_var, wraplength=300,
                  justify="left").pack(anchor="w", fill="x")
        self.inspector = LogView(self, max_lines=5000, height=12, tags={
            "recv": {"foreground": "#1565c0"}, "sent": {"foreground": "#2e7d32"},
            "warn": {"foreground": "#c62828"}})
        self.inspector.text.configure(width=44)  # the terminal gets the rest
        self.inspector.pack(fill="both", expand=True, pady=(4, 8))
        auto_head = ttk.Frame(self)
        auto_head.pack(fill="x")
        ttk.Label(auto_head, text="Automation", font=HEADING).pack(side="left")
        self.run_button = ttk.Button(auto_head, text="Run", command=self.run_automation)
        self.run_button.pack(side="right")
        self.script_text = tk.Text(self, height=9, width=30, font=("TkFixedFont", 10),
                                   undo=True, wrap="none")
        self.script_text.insert("1.0", script)
        self.script_text.pack(fill="both", pady=(4, 4))
        secret_row = ttk.Frame(self)
        secret_row.pack(fill="x")
        ttk.Label(secret_row, text="Secret").pack(side="left")
        self.secret_entry = ttk.Entry(secret_row, textvariable=self.secret_var, show="•")
        self.secret_entry.pack(side="left", fill="x", expand=True, padx=(4, 0))
        ttk.Label(self, textvariable=self.auto_var, wraplength=300, justify="left").pack(
            anchor="w", fill="x", pady=(4, 0))

    def script(self) -> str:
        return self.script_text.get("1.0", "end-1c")

    # -- negotiation ----------------------------------------------------------------------
    def show_options(self, event: OptionsChanged) -> None:
        self.options_var.set(
            f"We do: {', '.join(sorted(event.local)) or '-'}\n"
            f"Server does: {', '.join(sorted(event.remote)) or '-'}")

    # -- automation -----------------------------------------------------------------------
    def run_automation(self) -> None:
        """Run the script, or stop the one running."""
        if self.automation is not None and self.automation.running:
            self.automation.cancel()
            return
        if not self.session.connected:
            self.show_error("Automation needs a live session: connect first.")
            return
        try:
            steps = parse_script(self.script())
            self.automation = AutomationRun(self.session, steps, self.secret_var.get(),
                                            outbox=self.outbox)
        except UserError as exc:
            self.auto_var.set(str(exc))
            self.show_error(str(exc))
            return
        self.automation.start()
        self.run_button.configure(text="Stop")

    def show_progress(self, event: AutomationProgress) -> None:
        self.auto_var.set(f"Step {event.index}/{event.total}: {event.description}")

    def show_done(self, event: AutomationDone) -> None:
        self.auto_var.set(event.message)
        self.run_button.configure(text="Run")
        if not event.ok:
            self.show_error(event.message)

    def stop(self, timeout: float = 0.0) -> None:
        """Cancel a running script; wait up to ``timeout`` seconds for it to end."""
        if self.automation is not None:
            self.automation.cancel()
            if timeout:
                self.automation.join(timeout)
