"""Lookup tab: the socket module's resolver, service and byte-order functions, and DNS
(queries, trace, batch) — the origin document's section 2.7 made interactive."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from core.errors import UserError
from core.events import Event, Failed
from core.lookup.dnsnames import check_name
from core.lookup.session import LookupSession
from core.recording import Recording
from gui.tabs.base import Tab
from gui.tabs.lookup.batch_view import BatchView
from gui.tabs.lookup.common import LookupView
from gui.tabs.lookup.dns_view import DnsView
from gui.tabs.lookup.local_view import ByteOrderView, HostView, ServicesView


class LookupTab(Tab):
    title = "Lookup"
    key = "lookup"

    def __init__(self, master: tk.Misc, app) -> None:
        super().__init__(master, app)
        #: what "Show as Python" renders (core.codegen.dns_script)
        self.recording = Recording("dns")
        #: the one session every sub-view asks (it records into ``recording``)
        self.session = LookupSession(recording=self.recording)
        self.app.bridge.attach(self.session.outbox, self.on_events)
        self.views = ttk.Notebook(self)
        self.views.pack(fill="both", expand=True)
        self.host_view = HostView(self.views, self)
        self.services_view = ServicesView(self.views, self)
        self.byteorder_view = ByteOrderView(self.views, self)
        self.dns_view = DnsView(self.views, self)
        self.batch_view = BatchView(self.views, self)
        self.all_views: list[LookupView] = [self.host_view, self.services_view,
                                            self.byteorder_view, self.dns_view,
                                            self.batch_view]
        for view, text in zip(self.all_views,
                              ("Host", "Services", "Byte order", "DNS", "Batch"), strict=True):
            self.views.add(view, text=f" {text} ")
        # on the right of the sub-view tabs, where the strip is empty
        ttk.Button(self, text="Show as Python", command=self.show_python).place(
            relx=1.0, x=-4, y=0, anchor="ne")
        last = self.fields.get("view", 0)
        if isinstance(last, int) and 0 <= last < len(self.all_views):
            self.views.select(last)

    def on_events(self, events: list[Event]) -> None:
        """Steps and progress go to every view (each takes its own kinds); a failure
        without an ``on_error`` shows in the view on screen."""
        for event in events:
            if isinstance(event, Failed):
                self.current_view().show_error(event.message, event.field_name)
            else:
                for view in self.all_views:
                    view.on_other(event)

    def current_view(self) -> LookupView:
        try:
            return self.all_views[self.views.index("current")]
        except (tk.TclError, IndexError):
            return self.host_view

    def show_python(self) -> None:
        """The lookups done so far as a standalone script (resolver calls, dnspython)."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.recording, self.title, self.app.worker)

    def show_view(self, name: str) -> LookupView:
        view = {"host": self.host_view, "services": self.services_view,
                "byteorder": self.byteorder_view, "dns": self.dns_view,
                "batch": self.batch_view}[name]
        self.views.select(view)
        return view

    def use_lab(self) -> None:
        """The Lab button of the DNS view (Batch has its own "Lab sample")."""
        self.show_view("dns").use_lab()

    def host_hint(self) -> str:
        """The host other views send to other tabs when they have none of their own."""
        return self.host_view.host.get().strip() or "localhost"

    def open_target(self, host: str, port: int | None = None) -> None:
        """Another tab asks us to look a host up: fill the Host and DNS names."""
        self.host_view.host.set(host)
        self.dns_view.name.set(host)
        self.show_view("host")

    def transcript_text(self) -> str | None:
        dns = self.dns_view
        parts = []
        if dns.last_reply is not None:
            parts.append(dns.last_reply.raw)
        if dns.last_trace is not None:
            parts.append(dns.last_trace.text())
        return "\n".join(parts) or None

    def self_test(self) -> str | None:
        try:
            check_name("bücher.example")
        except UserError as exc:
            return f"IDN check failed: {exc}"
        return None

    def save_fields(self) -> None:
        super().save_fields()
        fields = self.fields
        for view in self.all_views:
            view.save_fields(fields)
        try:
            fields["view"] = self.views.index("current")
        except tk.TclError:
            pass

    def close(self) -> None:
        self.session.close()
        self.app.bridge.detach(self.session.outbox)
