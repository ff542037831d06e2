"""DNS sub-view: a dig-like query form, the reply as a tree and as raw text, and trace."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from core.errors import UserError, check_port
from core.events import Event
from core.lookup.dns_query import COMMON_TYPES, TRANSPORTS, DnsReply, DnsRequest, transport_note
from core.lookup.dns_trace import INTERNET_ROOTS, LAB_ROOTS, TraceResult, TraceStep, TraceStepEvent
from gui.tabs.lookup.common import PAD, LookupView, host_port_from_record, make_tree
from gui.tabs.lookup.dns_history import DnsHistory
from gui.widgets.logview import LogView

LAB_PORT = 5353
LAB_TLS_PORT = 8853
SYSTEM = "system"  # in the Server box: the first nameserver of /etc/resolv.conf
LAB_ZONE = "wirebench.test"  # served by the lab DNS server only


def roots_text(roots: tuple[tuple[str, str], ...]) -> str:
    return " ".join(f"{name}={address}" for name, address in roots)


class DnsView(LookupView):
    def __init__(self, master: tk.Misc, tab) -> None:
        super().__init__(master, tab)
        form = ttk.LabelFrame(self, text="Query", padding=6)
        form.pack(fill="x", **PAD)
        # one frame per row, packed: at 1024 px nothing gets squeezed to zero width
        row0, row1, opts = ttk.Frame(form), ttk.Frame(form), ttk.Frame(form)
        for row in (row0, row1, opts):
            row.grid(column=0, columnspan=12, sticky="ew")
        form.columnconfigure(0, weight=1)
        self.name = ttk.Combobox(row0, width=30, values=self.recent("dns_recent").items(),
                                 textvariable=tab.persisted("dns_name", "wirebench.test"))
        self._field(row0, "Name", self.name, "Name", expand=True)
        self.rdtype = ttk.Combobox(row0, width=10, values=list(COMMON_TYPES),
                                   textvariable=tab.persisted("dns_type", "A"))
        self._field(row0, "Type", self.rdtype, "Type")
        self.query_button = ttk.Button(row0, text="Query", command=self.query)
        self.query_button.pack(side="left", padx=(12, 4))
        self.trace_button = ttk.Button(row0, text="Trace", command=self.trace)
        self.trace_button.pack(side="left", padx=4)
        self.name.bind("<Return>", lambda e: self.query())

        servers = [SYSTEM, "127.0.0.1", *self.recent("dns_servers").items()]
        self.server = ttk.Combobox(row1, width=22, values=servers,
                                   textvariable=tab.persisted("dns_server", SYSTEM))
        self.server.set(self.server.get() or SYSTEM)
        self._field(row1, "Server", self.server, "Server", expand=True)
        self.port = ttk.Entry(row1, width=7, textvariable=tab.persisted("dns_port", ""))
        self._field(row1, "Port", self.port, "Port")
        self.transport = ttk.Combobox(row1, state="readonly", width=6, values=list(TRANSPORTS),
                                      textvariable=tab.persisted("dns_transport", "udp"))
        self._field(row1, "Via", self.transport, "Transport")
        self.transport.bind("<<ComboboxSelected>>", lambda e: self._transport_changed())
        self.timeout = ttk.Spinbox(row1, from_=0.5, to=60, increment=0.5, width=5,
                                   textvariable=tab.persisted("dns_timeout", "3"))
        self._field(row1, "Timeout s", self.timeout, "Timeout")
        ttk.Button(row1, text="Use lab server", command=self.use_lab).pack(side="left", padx=8)

        self.opt = {}
        self.show_query = tab.persisted("dns_qr", False)
        for key, label, default in (("recurse", "Recursion (RD)", True),
                                    ("edns", "EDNS", True), ("dnssec", "DNSSEC (DO)", False),
                                    ("checking_disabled", "CD", False),
                                    ("reverse", "Reverse (-x)", False),
                                    ("verify_tls", "Verify TLS", True)):
            self.opt[key] = var = tab.persisted(f"dns_{key}", default)
            ttk.Checkbutton(opts, text=label, variable=var).pack(side="left", padx=(4, 10),
                                                                 pady=3)
        ttk.Checkbutton(opts, text="Show query (+qr)", variable=self.show_query).pack(
            side="left", padx=(4, 10), pady=3)

        troots = ttk.Frame(form)
        troots.grid(column=0, columnspan=12, sticky="ew")
        ttk.Label(troots, text="Trace roots").pack(side="left", **PAD)
        self.roots = ttk.Entry(troots, textvariable=tab.persisted(
            "dns_roots", roots_text(INTERNET_ROOTS[:3])))
        self.roots.pack(side="left", fill="x", expand=True, **PAD)
        self.fields_by_name["Root servers"] = self.roots
        ttk.Button(troots, text="Internet roots",
                   command=lambda: self._set_roots(INTERNET_ROOTS)).pack(side="left", padx=2)
        ttk.Button(troots, text="Lab roots",
                   command=lambda: self._set_roots(LAB_ROOTS)).pack(side="left", padx=2)
        tls_row = ttk.Frame(form)
        tls_row.grid(column=0, columnspan=12, sticky="ew")
        ttk.Label(tls_row, text="TLS CA file").pack(side="left", **PAD)
        self.ca_file = ttk.Entry(tls_row, width=40, textvariable=tab.persisted("dns_ca_file", ""))
        self.ca_file.pack(side="left", fill="x", expand=True, **PAD)
        self.fields_by_name["CA file"] = self.ca_file
        ttk.Button(tls_row, text="Lab certificate", command=self.trust_lab).pack(
            side="left", padx=2)
        self.note_var = tk.StringVar(self, value="")
        ttk.Label(tls_row, textvariable=self.note_var, foreground="#a05a00").pack(
            side="left", padx=8)
        self.message_label(self).pack(fill="x", **PAD)

        self.results = ttk.Notebook(self)
        self.results.pack(fill="both", expand=True, **PAD)
        answer_page = ttk.Frame(self.results)
        tree_frame, self.tree = make_tree(answer_page, (
            ("ttl", "TTL", 70), ("class", "Class", 50), ("type", "Type", 70),
            ("value", "Value", 420)), tree_column=("Name / section", 300))
        tree_frame.pack(fill="both", expand=True)
        self.tree.bind("<Double-1>", lambda e: self.follow())
        self.tree.bind("<Return>", lambda e: self.follow())
        self.menu = tk.Menu(self, tearoff=False)
        self.menu.add_command(label="Follow (query what this record points to)",
                              command=self.follow)
        self.menu.add_command(label="Copy value", command=self.copy_value)
        self.tree.bind("<Button-3>", self._popup)
        self.results.add(answer_page, text="Answer")
        self.raw = LogView(self.results, max_lines=20_000, height=10)
        self.results.add(self.raw, text="Raw (dig)")
        trace_page = ttk.Frame(self.results)
        trace_frame, self.trace_tree = make_tree(trace_page, (
            ("server", "Server asked", 280), ("rtt", "ms", 60), ("result", "Result", 140),
            ("detail", "Records / note", 420)), tree_column=("Step / zone", 200))
        trace_frame.pack(fill="both", expand=True)
        self.results.add(trace_page, text="Trace")
        self.history = DnsHistory(self.results, on_run_again=self.run_again)
        self.results.add(self.history, text="History")
        #: the query on its way: its answer (or failure) goes into the history
        self._pending: DnsRequest | None = None
        self.last_reply: DnsReply | None = None
        self.last_trace: TraceResult | None = None
        self._transport_changed()

    def _field(self, row: ttk.Frame, label: str, widget: tk.Widget, field: str,
               expand: bool = False) -> None:
        ttk.Label(row, text=label).pack(side="left", padx=(4, 2), pady=3)
        widget.pack(side="left", fill="x", expand=expand, padx=(0, 6), pady=3)
        self.fields_by_name[field] = widget

    # -- actions ----------------------------------------------------------------------
    def _set_roots(self, roots: tuple[tuple[str, str], ...]) -> None:
        self.roots.delete(0, "end")
        self.roots.insert(0, roots_text(roots))

    def server_text(self) -> str:
        text = self.server.get().strip()
        return "" if text.lower() == SYSTEM else text

    def _is_lab_name(self, qname: str) -> bool:
        name = qname.rstrip(".").lower()
        lab = self.app.lab.peer("dns")
        asked_lab = (lab is not None and lab.running and self.server_text() in
                     ("127.0.0.1", "localhost") and self.port.get().strip() in
                     (str(lab.port), str(getattr(lab, "tls_port", ""))))
        return not asked_lab and (name == LAB_ZONE or name.endswith("." + LAB_ZONE))

    def trust_lab(self) -> None:
        """Trust the lab's self-signed certificate for DoT/DoH (made on first use)."""
        from core.tlscerts import self_signed

        cert, _key = self_signed()
        self.ca_file.delete(0, "end")
        self.ca_file.insert(0, str(cert))

    def use_lab(self) -> None:
        """Point the form at the lab DNS server, starting the lab when it is off."""
        self.tab.with_lab_peer("dns", self._fill_lab)

    def _fill_lab(self, peer) -> None:  # noqa: ANN001 - DnsLabServer
        if self.transport.get() in ("tls", "https"):
            port = getattr(peer, "tls_port", None) or LAB_TLS_PORT
            self.trust_lab()
        else:
            port = peer.port
        self.server.set("127.0.0.1")
        self.port.delete(0, "end")
        self.port.insert(0, str(port))
        self._set_roots(LAB_ROOTS)
        self.clear_error()
        self.show_info(f"Lab DNS server at 127.0.0.1:{port}: try {LAB_ZONE} or "
                       f"www.{LAB_ZONE}.")
        self._transport_changed()

    def _transport_changed(self) -> None:
        note = transport_note(self.transport.get())
        self.note_var.set(note)

    def request(self) -> DnsRequest:
        try:
            timeout = float(self.timeout.get())
        except ValueError:
            raise UserError("Timeout must be a number of seconds, e.g. 3.", "Timeout") from None
        return DnsRequest(
            name=self.name.get(), rdtype=self.rdtype.get(), server=self.server_text(),
            port=self.port.get().strip() or None, transport=self.transport.get(),
            timeout=timeout, ca_file=self.ca_file.get().strip(),
            **{k: v.get() for k, v in self.opt.items()})

    def query(self) -> None:
        self.clear_error()
        try:
            request = self.request()
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        self.remember(self.name, "dns_recent")
        if self.server_text():
            self.recent("dns_servers").add(self.server_text())
        self.show_info(f"Asking {request.server or 'the system server'} for "
                       f"{request.name} {request.rdtype} over {request.transport.upper()} …")
        # dig prints each answer afresh: a query that fails must not leave the last one
        # on show as if it were its own
        self._clear_answer()
        self._pending = request
        self.session.dns(request, on_done=self._answered, on_error=self._failed)

    def _answered(self, reply: DnsReply) -> None:
        if self._pending is not None:
            self.history.add(self._pending, reply)
            self._pending = None
        self.show_reply(reply)

    def _failed(self, message: str, field_name: str = "") -> None:
        if self._pending is not None:
            self.history.add(self._pending, error=message)
            self._pending = None
        self._clear_answer()
        self.show_error(message, field_name)

    def _clear_answer(self) -> None:
        self.last_reply = None
        self.tree.delete(*self.tree.get_children())
        self.raw.clear()

    def run_again(self, request: DnsRequest) -> None:
        """Put a query of the history back in the form and ask again."""
        self.name.set(request.name)
        self.rdtype.set(request.rdtype)
        self.server.set(request.server or SYSTEM)
        self.port.delete(0, "end")
        self.port.insert(0, str(request.port or ""))
        self.transport.set(request.transport)
        for key, var in self.opt.items():
            var.set(bool(getattr(request, key)))
        self.ca_file.delete(0, "end")
        self.ca_file.insert(0, request.ca_file)
        self.query()

    def trace(self) -> None:
        self.clear_error()
        try:
            port = check_port(self.port.get().strip() or 53, "Port")
            timeout = float(self.timeout.get())
        except (UserError, ValueError) as exc:
            self.show_error(str(exc) if isinstance(exc, UserError) else
                            "Timeout must be a number of seconds.",
                            getattr(exc, "field_name", "Timeout"))
            return
        self.remember(self.name, "dns_recent")
        self.trace_tree.delete(*self.trace_tree.get_children())
        self.results.select(2)
        self.show_info(f"Tracing {self.name.get()} {self.rdtype.get()} from the roots …")
        self.session.trace(self.name.get(), self.rdtype.get(), self.roots.get(), port,
                           min(timeout, 10.0), 30.0, on_done=self.show_trace,
                           on_error=self.show_error)

    # -- results ----------------------------------------------------------------------
    def on_other(self, event: Event) -> None:
        if isinstance(event, TraceStepEvent):
            self._add_step(event.step)

    def show_reply(self, reply: DnsReply) -> None:
        self.last_reply = reply
        tree = self.tree
        tree.delete(*tree.get_children())
        header = tree.insert("", "end", text="Header", open=True)
        tree.insert(header, "end", text="status", values=("", "", "", reply.rcode))
        tree.insert(header, "end", text="flags", values=("", "", "", " ".join(reply.flags)))
        tree.insert(header, "end", text="server", values=(
            "", "", "", f"{reply.server}#{reply.port} via {reply.transport.upper()}"))
        tree.insert(header, "end", text="round trip", values=(
            "", "", "", f"{reply.rtt_ms:.1f} ms, {reply.size} bytes"))
        first = None
        for title, rows in (("Answer", reply.answer), ("Authority", reply.authority),
                            ("Additional", reply.additional)):
            node = tree.insert("", "end", text=f"{title} ({len(rows)})", open=True)
            for row in rows[:5000]:
                item = tree.insert(node, "end", text=row.name,
                                   values=(row.ttl, row.rdclass, row.rdtype, row.value))
                first = first or item
        if first:
            tree.selection_set(first)
        self.raw.clear()
        self.raw.append((reply.sent + "\n" if self.show_query.get() else "") + reply.raw)
        if reply.rcode == "NXDOMAIN" and self._is_lab_name(reply.qname):
            self.show_error(f"{reply.server} does not know {reply.qname.rstrip('.')}: "
                            f"{LAB_ZONE} is the lab's own zone, press Use lab server.",
                            "Server")
        elif reply.rcode != "NOERROR" or not reply.answer:
            self.show_error(reply.problem)
        else:
            retry = " (truncated over UDP, retried over TCP)" if reply.retried_over_tcp else ""
            self.show_info(f"{reply.rcode}: {len(reply.answer)} answer records from "
                           f"{reply.server} in {reply.rtt_ms:.1f} ms{retry}")
        if self.results.index("current") == 2:
            self.results.select(0)

    def _add_step(self, step: TraceStep) -> None:
        detail = step.note or (f"{len(step.records)} records" if step.records else "")
        node = self.trace_tree.insert(
            "", "end", text=f"#{step.number} {step.zone}", open=True,
            values=(f"{step.server_name} ({step.server_address})", f"{step.rtt_ms:.1f}",
                    step.kind.upper() + ("" if step.rcode in ("NOERROR", "-")
                                         else f" {step.rcode}"), detail))
        for record in step.records[:200]:
            self.trace_tree.insert(node, "end", text="", values=(
                record.name, "", record.rdtype, record.value))
        self.trace_tree.see(node)

    def show_trace(self, result: TraceResult) -> None:
        self.last_trace = result
        self.raw.clear()
        self.raw.append(result.text())
        if result.complete and not result.problem:
            values = ", ".join(r.value for r in result.answer if r.rdtype != "CNAME")
            self.show_info(f"Trace done in {len(result.steps)} steps "
                           f"({result.elapsed_ms:.0f} ms): {values}")
        else:
            self.show_error(f"Trace: {result.problem}")

    def _popup(self, event: tk.Event) -> None:
        row = self.tree.identify_row(event.y)
        if row:
            self.tree.selection_set(row)
            self.menu.tk_popup(event.x_root, event.y_root)

    def _record(self) -> tuple[str, str, str] | None:
        focus = self.tree.selection()
        if not focus:
            return None
        values = self.tree.item(focus[0], "values")
        if len(values) != 4 or not values[2]:
            return None
        return self.tree.item(focus[0], "text"), str(values[2]), str(values[3])

    def follow(self) -> None:
        """Like clicking through in a DNS browser: a name leads to its addresses, an
        address to its PTR (reverse) record."""
        record = self._record()
        if record is None:
            return
        name, rdtype, value = record
        host, _port = host_port_from_record(rdtype, name, value)
        if rdtype in ("A", "AAAA"):
            self.name.set(value)
            self.rdtype.set("PTR")
        else:
            self.name.set(host)
            self.rdtype.set("A")
        self.query()

    def copy_value(self) -> None:
        record = self._record()
        if record is not None:
            self.clipboard_clear()
            self.clipboard_append(record[2])

    def selected(self) -> tuple[str, int | None]:
        tree = self.tree if self.results.index("current") != 2 else self.trace_tree
        focus = tree.selection()
        if focus:
            values = tree.item(focus[0], "values")
            if tree is self.tree and len(values) == 4 and values[2]:
                return host_port_from_record(str(values[2]), tree.item(focus[0], "text"),
                                             str(values[3]))
            if tree is self.trace_tree and len(values) == 4 and values[2] in ("A", "AAAA"):
                return str(values[3]), None
        return self.name.get().strip(), None
