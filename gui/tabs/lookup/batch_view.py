"""Batch sub-view: many names at once (dig -f), a bounded pool, a table, CSV export."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk
from typing import Any

from core.errors import UserError
from core.events import Event, Progress
from core.lookup.dns_batch import MODES, BatchResult, parse_names, read_names, write_csv
from core.lookup.dns_query import COMMON_TYPES
from gui.tabs.lookup.common import PAD, LookupView, make_tree
from gui.tabs.lookup.dns_view import SYSTEM

MAX_SHOWN = 5000  # a Treeview with 100k rows is slow to fill; the CSV has them all


class BatchView(LookupView):
    def __init__(self, master: tk.Misc, tab) -> None:
        super().__init__(master, tab)
        f = tab.fields
        top = ttk.Frame(self)
        top.pack(fill="both", expand=True)
        left = ttk.LabelFrame(top, text="Names (one per line, # comments)", padding=6)
        left.pack(side="left", fill="y", **PAD)
        self.names = tk.Text(left, width=30, height=12, font="TkFixedFont", undo=True,
                             wrap="none")
        self.names.pack(fill="both", expand=True)
        self.names.insert("1.0", f.get("batch_names", "wirebench.test\nwww.wirebench.test\n"
                                       "nope.wirebench.test\nlocalhost\n"))
        self.fields_by_name["Names"] = self.names
        row = ttk.Frame(left)
        row.pack(fill="x", pady=(4, 0))
        ttk.Button(row, text="Open file…", command=self.open_file).pack(side="left")
        ttk.Button(row, text="Lab sample", command=self.lab_sample).pack(side="left", padx=4)
        ttk.Button(row, text="Clear", command=lambda: self.names.delete("1.0", "end")).pack(
            side="left")

        right = ttk.Frame(top)
        right.pack(side="left", fill="both", expand=True)
        opts = ttk.LabelFrame(right, text="Options", padding=6)
        opts.pack(fill="x", **PAD)
        self.rdtype = ttk.Combobox(opts, width=8, values=list(COMMON_TYPES),
                                   textvariable=tab.persisted("batch_type", "A"))
        self.labelled(opts, "Type", self.rdtype, 0, field="Type")
        self.mode = ttk.Combobox(opts, state="readonly", width=7, values=list(MODES),
                                 textvariable=tab.persisted("batch_mode", "dns"))
        self.labelled(opts, "Mode", self.mode, 2, field="Mode")
        self.server = ttk.Combobox(opts, width=12, values=[SYSTEM, "127.0.0.1"],
                                   textvariable=tab.persisted("batch_server", SYSTEM))
        self.server.set(self.server.get() or SYSTEM)
        self.labelled(opts, "Server", self.server, 0, row=1, field="Server")
        self.port = ttk.Entry(opts, width=7, textvariable=tab.persisted("batch_port", "53"))
        self.labelled(opts, "Port", self.port, 2, row=1, field="Port")
        self.window = ttk.Spinbox(opts, from_=1, to=1024, width=6,
                                  textvariable=tab.persisted("batch_window", "64"))
        self.labelled(opts, "Concurrency", self.window, 4, row=1, field="Concurrency")
        self.timeout = ttk.Spinbox(opts, from_=0.2, to=60, increment=0.5, width=6,
                                   textvariable=tab.persisted("batch_timeout", "2"))
        self.labelled(opts, "Timeout s", self.timeout, 4, field="Timeout")
        buttons = ttk.Frame(opts)
        buttons.grid(row=2, column=0, columnspan=8, sticky="w")
        self.run_button = ttk.Button(buttons, text="Run batch", command=self.start)
        self.run_button.pack(side="left", padx=2)
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel,
                                        state="disabled")
        self.cancel_button.pack(side="left", padx=2)
        self.export_button = ttk.Button(buttons, text="Export CSV…", command=self.export,
                                        state="disabled")
        self.export_button.pack(side="left", padx=2)
        ttk.Label(buttons, text="dns = pipelined UDP to the server (TCP when truncated); "
                  "system = the C resolver, bounded pool", foreground="#777",
                  wraplength=380).pack(side="left", padx=8)

        self.progress = ttk.Progressbar(right, mode="determinate")
        self.progress.pack(fill="x", **PAD)
        self.message_label(right).pack(fill="x", **PAD)
        frame, self.table = make_tree(right, (
            ("n", "#", 50), ("name", "Name", 230), ("status", "Status", 90),
            ("rtt", "ms", 60), ("answers", "Answers", 260), ("note", "Note", 240)))
        frame.pack(fill="both", expand=True, **PAD)
        self.result: BatchResult | None = None

    def lab_sample(self) -> None:
        """200 lab names (wildcard) plus a few that fail, against the lab server."""
        names = [f"host{i}.batch.wirebench.test" for i in range(200)]
        names += ["nope.wirebench.test", "big.wirebench.test", "example.com", "a..b"]
        self.names.delete("1.0", "end")
        self.names.insert("1.0", "\n".join(names) + "\n")
        self.tab.with_lab_peer("dns", self._use_lab_server)

    def _use_lab_server(self, peer) -> None:  # noqa: ANN001 - DnsLabServer
        """The lab server answers the sample (the lab is started when it is off)."""
        self.server.set("127.0.0.1")
        self.port.delete(0, "end")
        self.port.insert(0, str(peer.port))
        self.mode.set("dns")
        self.show_info(f"Lab DNS server at 127.0.0.1:{peer.port}: press Start.")

    def open_file(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="Names file")
        if not path:
            return
        try:
            names = read_names(path)
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        self.names.delete("1.0", "end")
        self.names.insert("1.0", "\n".join(names) + "\n")

    def start(self) -> None:
        self.clear_error()
        try:
            names = parse_names(self.names.get("1.0", "end"))
            window = int(self.window.get())
            timeout = float(self.timeout.get())
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        except ValueError:
            self.show_error("Concurrency and Timeout must be numbers.", "Concurrency")
            return
        self.table.delete(*self.table.get_children())
        self.progress.configure(maximum=max(1, len(names)), value=0)
        self.run_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.show_info(f"Resolving {len(names)} names …")
        server = self.server.get().strip()
        self.session.batch(names, on_done=self._show_batch, on_error=self.show_error,
                           rdtype=self.rdtype.get(),
                           server="" if server.lower() == SYSTEM else server,
                           port=self.port.get(), mode=self.mode.get(), timeout=timeout,
                           window=window)

    def cancel(self) -> None:
        self.session.cancel()

    def on_other(self, event: Event) -> None:
        if isinstance(event, Progress):
            self.progress.configure(maximum=max(1, event.total or 1), value=event.done)

    def show_error(self, message: str, field_name: str = "") -> None:
        super().show_error(message, field_name)
        self._idle()

    def _idle(self) -> None:
        self.run_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])

    def _show_batch(self, result: BatchResult) -> None:
        self._idle()
        self.result = result
        for row in result.rows[:MAX_SHOWN]:
            tag = "ok" if row.status == "NOERROR" and row.answers else "bad"
            self.table.insert("", "end", values=(
                row.index + 1, row.name, row.status, f"{row.rtt_ms:.1f}",
                " ".join(row.answers)[:500], row.note), tags=(tag,))
        self.table.tag_configure("bad", foreground="#b03a2e")
        self.export_button.state(["!disabled"])
        more = (f" (showing the first {MAX_SHOWN}; Export CSV has all)"
                if len(result.rows) > MAX_SHOWN else "")
        self.show_info(result.summary() + more)

    def export(self, path: str | None = None) -> None:
        if self.result is None:
            return
        target = path or filedialog.asksaveasfilename(
            parent=self, title="Export batch as CSV", defaultextension=".csv",
            filetypes=[("CSV", "*.csv")], initialfile="dns-batch.csv")
        if not target:
            return
        try:
            write_csv(self.result, target)
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        self.show_info(f"Saved {len(self.result.rows)} rows to {target}")

    def selected(self) -> tuple[str, int | None]:
        focus = self.table.selection()
        if not focus:
            return "", None
        values = self.table.item(focus[0], "values")
        answers = str(values[4]).split()
        return (answers[-1] if answers else str(values[1])), None

    def save_fields(self, fields: dict[str, Any]) -> None:
        text = self.names.get("1.0", "end")
        # a Text widget has no Tk variable; a huge list is not worth keeping
        fields["batch_names"] = text if len(text) < 100_000 else ""
