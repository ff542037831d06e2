"""The socket module's own functions (origin document 2.7): Host, Services, Byte order."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from core.errors import UserError
from core.lookup import byteorder, resolver, services
from gui.tabs.lookup.common import PAD, LookupView, make_tree

MONO = "TkFixedFont"  # the named font: a ("TkFixedFont", 10) tuple is not monospaced


class HostView(LookupView):
    """gethostname, getfqdn, gethostbyname(_ex), gethostbyaddr, getaddrinfo."""

    def __init__(self, master: tk.Misc, tab) -> None:
        super().__init__(master, tab)
        self.machine_var = tk.StringVar(self, value="This machine: …")
        ttk.Label(self, textvariable=self.machine_var, font=MONO).pack(anchor="w", **PAD)

        form = ttk.LabelFrame(self, text="Resolver functions", padding=6)
        form.pack(fill="x", **PAD)
        self.host = ttk.Combobox(form, width=36, values=self.recent("host_recent").items(),
                                 textvariable=tab.persisted("host", "localhost"))
        self.labelled(form, "Host or address", self.host, 0, field="Host")
        self.fields_by_name["Address"] = self.host
        buttons = ttk.Frame(form)
        buttons.grid(row=0, column=2, columnspan=6, sticky="w")
        for label, task in (("gethostbyname", "gethostbyname"),
                            ("gethostbyname_ex", "gethostbyname_ex"),
                            ("gethostbyaddr", "gethostbyaddr"), ("getfqdn", "getfqdn")):
            ttk.Button(buttons, text=label, command=lambda t=task: self.resolve(t)).pack(
                side="left", padx=2)
        self.host.bind("<Return>", lambda e: self.resolve("gethostbyname_ex"))

        self.port = ttk.Entry(form, width=10, textvariable=tab.persisted("gai_port", "http"))
        self.labelled(form, "Port or service", self.port, 0, row=1, field="Port")
        self.family = ttk.Combobox(form, state="readonly", width=6,
                                   values=list(resolver.FAMILIES),
                                   textvariable=tab.persisted("gai_family", "any"))
        self.labelled(form, "Family", self.family, 2, row=1)
        self.socktype = ttk.Combobox(form, state="readonly", width=13,
                                     values=list(resolver.SOCKTYPES),
                                     textvariable=tab.persisted("gai_type", "stream (TCP)"))
        self.labelled(form, "Type", self.socktype, 4, row=1)
        self.gai_button = ttk.Button(form, text="getaddrinfo", command=self.getaddrinfo)
        self.gai_button.grid(row=1, column=6, sticky="w", **PAD)
        flags = ttk.Frame(form)
        flags.grid(row=2, column=1, columnspan=7, sticky="w")
        # a list, not one Tk variable: saved by save_fields below
        chosen = set(tab.fields.get("gai_flags", ["AI_CANONNAME"]))
        self.flag_vars = {name: tk.BooleanVar(self, value=name in chosen)
                          for name in resolver.AI_FLAGS}
        for i, (name, var) in enumerate(self.flag_vars.items()):
            ttk.Checkbutton(flags, text=name, variable=var).grid(
                row=i // 4, column=i % 4, sticky="w", padx=(0, 12))
        form.columnconfigure(1, weight=1)

        self.message_label(self).pack(fill="x", **PAD)
        tree_frame, self.tree = make_tree(self, (
            ("call", "Call", 150), ("family", "Family", 80), ("type", "Type", 150),
            ("address", "Address", 220), ("port", "Port", 60), ("name", "Name / aliases", 300)))
        tree_frame.pack(fill="both", expand=True, **PAD)
        self.session.machine(on_done=self._show_machine, on_error=self.show_error)

    def resolve(self, call: str) -> None:
        text = self.host.get()
        self.remember(self.host, "host_recent")
        self.show_info(f"{call}({text!r}) …")
        self.clear_error()
        if call == "gethostbyname":
            self.session.gethostbyname(text, on_done=lambda a: self._show_name(call, a),
                                       on_error=self.show_error)
        elif call == "getfqdn":
            self.session.getfqdn(text, on_done=lambda n: self._show_name(call, n),
                                 on_error=self.show_error)
        elif call == "gethostbyname_ex":
            self.session.gethostbyname_ex(text, on_done=lambda h: self._show_host(call, h),
                                          on_error=self.show_error)
        else:
            self.session.gethostbyaddr(text, on_done=lambda h: self._show_host(call, h),
                                       on_error=self.show_error)

    def getaddrinfo(self) -> None:
        self.remember(self.host, "host_recent")
        self.show_info("getaddrinfo …")
        self.clear_error()
        self.session.getaddrinfo(
            self.host.get(), self.port.get(), self.family.get(), self.socktype.get(),
            [name for name, var in self.flag_vars.items() if var.get()],
            on_done=self._show_addrinfo, on_error=self.show_error)

    def _show_machine(self, machine: tuple[str, str, str]) -> None:
        name, fqdn, bind = machine
        self.machine_var.set(f"This machine: gethostname() = {name}    getfqdn() = {fqdn}"
                             f"    a web server here binds {bind}")

    def _show_name(self, call: str, name: str) -> None:
        """gethostbyname's address or getfqdn's name, in its column."""
        self.tree.delete(*self.tree.get_children())
        address, fqdn = (name, "") if call == "gethostbyname" else ("", name)
        self.tree.insert("", "end", values=(call, "", "", address, "", fqdn))
        self._show_count(call)

    def _show_host(self, call: str, host: resolver.HostEntry) -> None:
        self.tree.delete(*self.tree.get_children())
        aliases = ", ".join(host.aliases) or "(no aliases)"
        for address in host.addresses or [""]:
            self.tree.insert("", "end", values=(call, "", "", address, "",
                                                f"{host.name}  [{aliases}]"))
        self._show_count(call)

    def _show_addrinfo(self, rows: list[resolver.AddrInfo]) -> None:
        self.tree.delete(*self.tree.get_children())
        for row in rows:
            self.tree.insert("", "end", values=(
                "getaddrinfo", row.family, f"{row.socktype} {row.proto}", row.address,
                row.port, row.canonname))
        self._show_count("getaddrinfo")

    def _show_count(self, call: str) -> None:
        count = len(self.tree.get_children())
        self.show_info(f"{call}: {count} result{'s' if count != 1 else ''}")
        first = self.tree.get_children()
        if first:
            self.tree.selection_set(first[0])

    def selected(self) -> tuple[str, int | None]:
        focus = self.tree.selection()
        if not focus:
            return self.host.get().strip(), None
        values = self.tree.item(focus[0], "values")
        address, port = str(values[3]), str(values[4])
        return (address or self.host.get().strip()), (int(port) if port.isdigit() else None)

    def save_fields(self, fields: dict[str, Any]) -> None:
        fields["gai_flags"] = [n for n, v in self.flag_vars.items() if v.get()]


class ServicesView(LookupView):
    """getservbyname/port, getprotobyname/number, and the browsable system tables."""

    def __init__(self, master: tk.Misc, tab) -> None:
        super().__init__(master, tab)
        form = ttk.LabelFrame(self, text="Service and protocol functions", padding=6)
        form.pack(fill="x", **PAD)
        self.service = ttk.Entry(form, width=16, textvariable=tab.persisted("service", "http"))
        self.labelled(form, "Service", self.service, 0, field="Service")
        self.proto = ttk.Combobox(form, state="readonly", width=5, values=["tcp", "udp", ""],
                                  textvariable=tab.persisted("service_proto", "tcp"))
        self.labelled(form, "over", self.proto, 2, field="Protocol")
        ttk.Button(form, text="getservbyname", command=self.by_name).grid(row=0, column=4, **PAD)
        self.port = ttk.Entry(form, width=8)
        self.port.insert(0, "21")
        self.labelled(form, "Port", self.port, 5, field="Port")
        ttk.Button(form, text="getservbyport", command=self.by_port).grid(row=0, column=7, **PAD)
        self.protocol = ttk.Entry(form, width=10)
        self.protocol.insert(0, "icmp")
        self.labelled(form, "Protocol", self.protocol, 0, row=1)
        ttk.Button(form, text="getprotobyname", command=self.proto_by_name).grid(
            row=1, column=4, **PAD)
        self.number = ttk.Entry(form, width=8)
        self.number.insert(0, "6")
        self.labelled(form, "Number", self.number, 5, row=1)
        ttk.Button(form, text="by number", command=self.proto_by_number).grid(
            row=1, column=7, **PAD)
        self.result_var = tk.StringVar(self, value="")
        ttk.Label(form, textvariable=self.result_var, font="TkFixedFont").grid(
            row=2, column=0, columnspan=8, sticky="w", **PAD)
        self.message_label(self).pack(fill="x", **PAD)

        browse = ttk.LabelFrame(self, text="What this system knows (/etc/services, "
                                "/etc/protocols)", padding=6)
        browse.pack(fill="both", expand=True, **PAD)
        bar = ttk.Frame(browse)
        bar.pack(fill="x")
        self.table_kind = tk.StringVar(self, value="services")
        for value in ("services", "protocols"):
            ttk.Radiobutton(bar, text=value.title(), value=value, variable=self.table_kind,
                            command=self.refilter).pack(side="left", padx=(0, 8))
        ttk.Label(bar, text="Search").pack(side="left", padx=(12, 4))
        self.search_var = tk.StringVar(self)
        self.search = ttk.Entry(bar, textvariable=self.search_var, width=30)
        self.search.pack(side="left")
        self.search_var.trace_add("write", lambda *a: self.refilter())
        self.count_var = tk.StringVar(self)
        ttk.Label(bar, textvariable=self.count_var).pack(side="left", padx=12)
        frame, self.table = make_tree(browse, (
            ("name", "Name", 160), ("number", "Port / number", 110), ("proto", "Protocol", 80),
            ("aliases", "Aliases", 200), ("comment", "Comment", 300)))
        frame.pack(fill="both", expand=True, pady=(4, 0))
        self.table.bind("<<TreeviewSelect>>", self._picked)
        self._services: list[services.ServiceEntry] = []
        self._protocols: list[services.ProtocolEntry] = []
        self.session.service_tables(on_done=self._show_tables, on_error=self.show_error)

    def by_name(self) -> None:
        self.clear_error()
        shown = f"getservbyname({self.service.get()!r}, {self.proto.get()!r})"
        self.session.getservbyname(self.service.get(), self.proto.get(),
                                   on_done=lambda port: self._show(shown, port),
                                   on_error=self.show_error)

    def by_port(self) -> None:
        self.clear_error()
        shown = f"getservbyport({self.port.get().strip()}, {self.proto.get()!r})"
        self.session.getservbyport(self.port.get(), self.proto.get(),
                                   on_done=lambda name: self._show(shown, name),
                                   on_error=self.show_error)

    def proto_by_name(self) -> None:
        self.clear_error()
        shown = f"getprotobyname({self.protocol.get()!r})"
        self.session.getprotobyname(self.protocol.get(),
                                    on_done=lambda number: self._show(shown, number),
                                    on_error=self.show_error)

    def proto_by_number(self) -> None:
        self.clear_error()
        shown = f"protocol number {self.number.get()}"
        self.session.getprotobynumber(self.number.get(),
                                      on_done=lambda name: self._show(shown, name),
                                      on_error=self.show_error)

    def _show_tables(self, tables: tuple[list[services.ServiceEntry],
                                         list[services.ProtocolEntry]]) -> None:
        self._services, self._protocols = tables
        self.refilter()

    def _show(self, shown: str, result: object) -> None:
        """One lookup's answer: ``shown`` is the call as the user made it."""
        self.result_var.set(f"{shown} = {result}")
        self.show_info(f"{shown} = {result}")

    def refilter(self) -> None:
        self.table.delete(*self.table.get_children())
        query = self.search_var.get()
        if self.table_kind.get() == "services":
            rows = services.search_services(query, self._services)
            for e in rows:
                self.table.insert("", "end", values=(e.name, e.port, e.proto,
                                                     " ".join(e.aliases), e.comment))
            total = len(self._services)
        else:
            rows = services.search_protocols(query, self._protocols)  # type: ignore[assignment]
            for e in rows:
                self.table.insert("", "end", values=(e.name, e.number, "ip",
                                                     " ".join(e.aliases), e.comment))
            total = len(self._protocols)
        self.count_var.set(f"{len(rows)} of {total}")

    def _picked(self, event: object = None) -> None:
        focus = self.table.selection()
        if focus and self.table_kind.get() == "services":
            name, port, proto = self.table.item(focus[0], "values")[:3]
            self.service.delete(0, "end")
            self.service.insert(0, name)
            self.port.delete(0, "end")
            self.port.insert(0, port)
            self.proto.set(proto if proto in ("tcp", "udp") else "")

    def selected(self) -> tuple[str, int | None]:
        host = self.tab.host_hint()
        focus = self.table.selection()
        if focus and self.table_kind.get() == "services":
            return host, int(self.table.item(focus[0], "values")[1])
        return host, None


EXAMPLES: tuple[tuple[int, int, str], ...] = (
    (21, 16, "FTP control port in a TCP header"),
    (80, 16, "HTTP port in a TCP header"),
    (8080, 16, "alternate HTTP port"),
    (53, 16, "DNS port; also a DNS header's counts are 16-bit big-endian"),
    (0x7F000001, 32, "127.0.0.1 as a 32-bit IPv4 address"),
    (0xC0000201, 32, "192.0.2.1 (documentation range)"),
    (0x12345678, 32, "the classic byte-swap example"),
)


class ByteOrderView(LookupView):
    """htons/ntohs/htonl/ntohl and inet_aton/ntoa/pton/ntop with the bytes shown.

    Pure arithmetic on this machine: it runs at once on the Tk thread (no network).
    """

    sends_results = False

    def __init__(self, master: tk.Misc, tab) -> None:
        super().__init__(master, tab)
        ttk.Label(self, text=f"This host is {byteorder.host_endianness()}; network order is "
                  "big-endian.", font=("TkDefaultFont", 10, "bold")).pack(anchor="w", **PAD)
        ints = ttk.LabelFrame(self, text="Integers", padding=6)
        ints.pack(fill="x", **PAD)
        self.value = ttk.Entry(ints, width=16, textvariable=tab.persisted("byte_value", "8080"))
        self.labelled(ints, "Value (dec, 0x…)", self.value, 0, field="Value")
        for i, name in enumerate(byteorder.CONVERSIONS):
            ttk.Button(ints, text=name, command=lambda n=name: self.convert(n)).grid(
                row=0, column=2 + i, **PAD)
        self.value.bind("<Return>", lambda e: self.convert("htons"))
        self.conv_text = tk.Text(ints, height=5, font=MONO, wrap="none", borderwidth=0)
        self.conv_text.grid(row=1, column=0, columnspan=8, sticky="ew", **PAD)
        self.conv_text.configure(state="disabled")
        ints.columnconfigure(7, weight=1)

        addrs = ttk.LabelFrame(self, text="Addresses", padding=6)
        addrs.pack(fill="x", **PAD)
        self.address = ttk.Entry(addrs, width=40,
                                 textvariable=tab.persisted("byte_address", "192.0.2.1"))
        self.labelled(addrs, "Address or hex bytes", self.address, 0, field="Address")
        self.fields_by_name["Bytes"] = self.address
        self.family = ttk.Combobox(addrs, state="readonly", width=6, values=["IPv4", "IPv6"])
        self.family.set("IPv4")
        self.labelled(addrs, "Family", self.family, 2, field="Family")
        buttons = ttk.Frame(addrs)
        buttons.grid(row=1, column=1, columnspan=3, sticky="w")
        for name in ("inet_aton", "inet_ntoa", "inet_pton", "inet_ntop"):
            ttk.Button(buttons, text=name, command=lambda n=name: self.address_call(n)).pack(
                side="left", padx=2)
        self.addr_var = tk.StringVar(self)
        ttk.Label(addrs, textvariable=self.addr_var, font=MONO).grid(
            row=2, column=0, columnspan=4, sticky="w", **PAD)
        self.message_label(self).pack(fill="x", **PAD)

        table = ttk.LabelFrame(self, text="Worked examples on this host", padding=6)
        table.pack(fill="both", expand=True, **PAD)
        frame, self.examples = make_tree(table, (
            ("value", "Value", 110), ("width", "Width", 70), ("host", "In memory (host)", 150),
            ("network", "On the wire (network)", 170), ("hton", "hton*(value)", 120),
            ("meaning", "Where you meet it", 300)), height=7)
        frame.pack(fill="both", expand=True)
        for value, bits, meaning in EXAMPLES:
            conv = (byteorder.htons if bits == 16 else byteorder.htonl)(value)
            self.examples.insert("", "end", values=(
                f"{value} (0x{value:0{bits // 4}x})", f"{bits} bit", conv.host_bytes,
                conv.network_bytes, conv.result, meaning))

    def convert(self, name: str) -> None:
        self.clear_error()
        try:
            conv = self.session.convert(name, self.value.get())
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        width = conv.width * 2
        lines = [
            f"{name}({conv.value}) = {conv.result}   (0x{conv.value:0{width}x} -> "
            f"0x{conv.result:0{width}x})",
            f"{conv.value} in memory on this host : {conv.host_bytes}",
            f"{conv.value} on the wire (network)   : {conv.network_bytes}",
            f"result in memory on this host : {conv.result_host_bytes}"
            + ("   (bytes swapped)" if conv.value != conv.result else "   (unchanged)"),
        ]
        self.conv_text.configure(state="normal")
        self.conv_text.delete("1.0", "end")
        self.conv_text.insert("1.0", "\n".join(lines))
        self.conv_text.configure(state="disabled")
        self.show_info(conv.summary())

    def address_call(self, name: str) -> None:
        self.clear_error()
        try:
            packed = self.session.address(name, self.address.get(), self.family.get())
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return
        self.addr_var.set(f"{name}: {packed.text}  <->  {packed.packed_hex}  "
                          f"({packed.length} bytes, {packed.family})")
        self.show_info(self.addr_var.get())
