"""Servers tab: start, stop and watch every embedded server and lab peer.

Left, the list of servers (echo TCP/UDP/UNIX, CGI, then the lab peers) with their
address and state. Right, the selected server's settings, Start/Stop, a live summary,
a sparkline of connections and bytes/s over the last minute, and the log of all servers.
Start and stop run on worker threads; the Tk thread only reads events.
"""

from __future__ import annotations

import threading
import time
import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from core.errors import UserError, describe_error
from core.events import (
    Event,
    LogLine,
    ServerCrashed,
    ServerStarted,
    ServerStats,
    ServerStopped,
    StateChanged,
)
from core.recording import Recording
from core.worker import Outbox, Worker
from gui.tabs.base import Tab
from gui.tabs.servers.layout import LAB_NODE, LOG_TAGS, ServersLayout
from gui.tabs.servers.model import FIELDS, ServerEntry, lab_entry, tab_entries

if TYPE_CHECKING:
    from gui.app import WirebenchApp


class ServersTab(ServersLayout, Tab):
    title = "Servers"
    key = "servers"

    def __init__(self, master: tk.Misc, app: WirebenchApp) -> None:
        super().__init__(master, app)
        self.outbox = Outbox()
        self.worker = Worker("servers", self.outbox)
        self.entries: list[ServerEntry] = tab_entries()
        for entry in self.entries:
            entry.config.update(self.fields.get(entry.key, {}))
        try:
            self.entries += [lab_entry(p) for p in app.lab.peers()]
        except Exception as exc:  # a broken lab module must not take the tab down
            self._lab_error = f"Lab peers unavailable: {exc}"
        else:
            self._lab_error = ""
        self.current: ServerEntry = self.entries[0]
        self._echo_recordings: dict[str, Recording] = {}
        self.vars: dict[str, tk.StringVar] = {k: tk.StringVar(self) for k in FIELDS}
        self._build()
        self._show(self.current)
        app.bridge.attach(self.outbox, self._on_tab_events)
        app.lab_listeners.append(self._on_lab_events)
        self.after(1000, self._tick_idle)

    # -- selection and the form ---------------------------------------------------------
    def entry(self, key: str) -> ServerEntry:
        return next(e for e in self.entries if e.key == key)

    def select(self, key: str) -> None:
        self.tree.selection_set(key)
        self.tree.see(key)
        self._on_select()

    def _on_select(self, event: object = None) -> None:
        chosen = self.tree.selection()
        if chosen and chosen[0] == LAB_NODE:  # the group row: show its first peer
            first = self.tree.get_children(LAB_NODE)
            if first:
                self.tree.selection_set(first[0])
            return
        if not chosen or chosen[0] == self.current.key:
            return
        self._read_form(self.current)
        self.current = self.entry(chosen[0])
        self._show(self.current)

    def _read_form(self, entry: ServerEntry) -> None:
        for key in entry.fields:
            entry.config[key] = self.vars[key].get()

    def _show(self, entry: ServerEntry) -> None:
        for key in FIELDS:
            self.labels[key].grid_remove()
            self.widgets[key].grid_remove()
        for index, key in enumerate(entry.fields):
            row, col = divmod(index, 2)
            self.vars[key].set(str(entry.config.get(key, "")))
            self.labels[key].grid(row=row, column=col * 2, sticky="w", padx=(0, 6), pady=2)
            self.widgets[key].grid(row=row, column=col * 2 + 1, sticky="ew", padx=(0, 12),
                                   pady=2)
        self.form.configure(text=f"Settings — {entry.label}")
        self.about.configure(text=entry.about)
        self.plot.load(entry.history)
        self._refresh(entry)

    def _sync_fork_style(self) -> None:
        if "fork_style" in self.current.fields:
            state = "readonly" if self.vars["mode"].get() == "fork" else "disabled"
            if not self.current.running:
                self.widgets["fork_style"].configure(state=state)

    def _refresh(self, entry: ServerEntry) -> None:
        """Tree row, buttons, fields and status for ``entry`` from its current state."""
        self.tree.item(entry.key, values=(self._address(entry), self._state(entry)))
        if entry is not self.current:
            return
        running = entry.running
        self.start_button.configure(
            state="disabled" if running or entry.busy else "normal")
        self.stop_button.configure(state="normal" if running and not entry.busy else "disabled")
        web = entry.key == "cgi" or entry.key == "lab:cgi"
        self.browser_button.configure(state="normal" if web and running else "disabled")
        for key in entry.fields:
            widget = self.widgets[key]
            editable = not running and not entry.busy
            if isinstance(widget, ttk.Combobox):
                widget.configure(state="readonly" if editable else "disabled")
            elif isinstance(widget, ttk.Entry):
                widget.configure(state="normal" if editable else "disabled")
        self._sync_fork_style()
        if entry.busy:
            self._set_status("Working…")
        elif entry.crashed:
            self._set_status(f"Crashed: {entry.crashed}. Press Start to run it again.",
                             error=True)
        elif running and entry.controller is not None:
            self._set_status(f"Running on {entry.controller.address}")
        else:
            self._set_status("Stopped" + (" (lab peer)" if entry.lab else ""))
        self._show_clients(entry)
        detail = entry.controller.describe() if running and entry.controller else ""
        self.summary.configure(text="\n".join(x for x in (detail, entry.summary()) if x))

    def _show_clients(self, entry: ServerEntry) -> None:
        """List the entry's connected clients (a memory snapshot: no network here)."""
        lister = getattr(entry.controller, "clients", None)
        rows = sorted(lister(), key=lambda c: c.peer) if entry.running and callable(lister) \
            else []
        self.clients.delete(*self.clients.get_children())
        for client in rows:
            self.clients.insert("", "end", text=client.peer,
                                values=(client.state, f"{client.bytes_in:,}",
                                        f"{client.bytes_out:,}"))
        if not entry.running:
            note = "Start the server to see its clients."
        elif not callable(lister):
            note = "This server does not list its clients."
        else:
            note = f"{len(rows)} client{'s' * (len(rows) != 1)} (shown up to 500)"
        self.clients_note.configure(text=note)
        self.pages.tab(1, text=f"Clients ({len(rows)})" if rows else "Clients")

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.configure(text=text, foreground="#c0392b" if error else "")

    @staticmethod
    def _address(entry: ServerEntry) -> str:
        if entry.controller is not None and (entry.running or entry.lab):
            return entry.controller.address
        if "path" in entry.fields:
            return str(entry.config.get("path", ""))
        return f"{entry.config.get('host', '')}:{entry.config.get('port', '')}"

    @staticmethod
    def _state(entry: ServerEntry) -> str:
        if entry.busy:
            return "…"
        if entry.crashed:
            return "crashed"
        return "running" if entry.running else "stopped"

    # -- actions ------------------------------------------------------------------------
    def start_selected(self) -> None:
        entry = self.current
        if entry.running or entry.busy:
            return
        self._read_form(entry)
        # a previous controller that died on its own still has its stats ticker: stop it
        previous = None if entry.lab else entry.controller
        try:
            controller = entry.build()  # validation only: no network on the Tk thread
        except UserError as exc:
            self._field_error(str(exc), exc.field_name)
            return
        if not entry.lab:
            controller.outbox = self.outbox
        entry.busy = True
        entry.reset_history()
        self.plot.load(entry.history)
        self._refresh(entry)
        if previous is not None:
            self._submit("start", entry, lambda: (previous.stop(), controller.start()))
        else:
            self._submit("start", entry, controller.start)

    def stop_selected(self) -> None:
        entry = self.current
        if entry.controller is None or not entry.running or entry.busy:
            return
        entry.busy = True
        self._refresh(entry)
        self._submit("stop", entry, entry.controller.stop)

    def _submit(self, action: str, entry: ServerEntry, fn: Any) -> None:
        """Run ``fn`` on a worker; then show None (it worked) or (message, field name)."""

        def attempt() -> tuple[str, str] | None:
            try:
                fn()
            except Exception as exc:  # every failure becomes a sentence in the tab
                return describe_error(exc), getattr(exc, "field_name", "")
            return None

        self.worker.submit(attempt, on_done=lambda failure: self._task_finished(
            action, entry, failure))

    def show_python(self) -> None:
        """The origin document's server for the chosen echo design, as a script."""
        entry = self.current
        proto = entry.key.removeprefix("echo-")
        if not entry.key.startswith("echo-"):
            self.show_info("Show as Python covers the echo servers; pick an Echo row.")
            return
        self._read_form(entry)
        port = str(entry.config.get("port", "7000")).strip()
        recording = self._echo_recordings.setdefault(entry.key, Recording("echo-server"))
        recording.clear()
        recording.add("server", proto=proto, mode=entry.config.get("mode", "threaded"),
                      fork_style=entry.config.get("fork_style", "simple"),
                      host=entry.config.get("host", "127.0.0.1") or "127.0.0.1",
                      port=int(port) if port.isdigit() else 7000,
                      path=entry.config.get("path", ""))
        from gui.widgets.code_panel import show_code

        show_code(self, recording, entry.label, self.app.worker)

    def open_in_browser(self) -> None:
        entry = self.current
        if entry.controller is None or not entry.running:
            return
        host = entry.controller.host
        host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{entry.controller.port}/"
        self.app.open_in_browser(url)

    def _field_error(self, message: str, field_name: str) -> None:
        self._set_status(message, error=True)
        self.show_error(message)
        key = next((k for k, label in FIELDS.items()
                    if field_name and label.lower().startswith(field_name.lower())), None)
        if key in self.current.fields:
            widget = self.widgets[key]
            target = widget.winfo_children()[0] if isinstance(widget, ttk.Frame) else widget
            target.focus_set()

    # -- events -------------------------------------------------------------------------
    def _on_tab_events(self, events: list[Event]) -> None:
        self._dispatch(events, [e for e in self.entries if not e.lab])

    def _on_lab_events(self, events: list[Event]) -> None:
        self._dispatch(events, [e for e in self.entries if e.lab])
        if any(isinstance(e, ServerStarted | ServerStopped | ServerCrashed) for e in events):
            # the app just counted its lab peers; add the servers this tab runs
            self.app.refresh_servers_status(extra=self.running_count())

    def _dispatch(self, events: list[Event], entries: list[ServerEntry]) -> None:
        by_kind = {e.kind: e for e in entries if e.controller is not None}
        lines: list[tuple[str, str]] = []
        touched: set[str] = set()
        for event in events:
            entry = by_kind.get(event.source)
            if entry is None:
                continue
            if isinstance(event, ServerStats):
                connections, rate = entry.record(event)
                if entry is self.current:
                    self.plot.push({"Connections": connections, "Bytes/s": rate})
                touched.add(entry.key)
            elif isinstance(event, LogLine):
                stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
                tag = event.level if event.level in LOG_TAGS else ""
                lines.append((f"{stamp} {entry.kind}: {event.text}", tag))
            elif isinstance(event, ServerStarted | ServerStopped | ServerCrashed
                            | StateChanged):
                touched.add(entry.key)
        if lines:
            self.log.append_many(lines)
        for key in touched:
            self._refresh(self.entry(key))

    def _task_finished(self, action: str, entry: ServerEntry,
                       failure: tuple[str, str] | None) -> None:
        entry.busy = False
        self._refresh(entry)
        if failure:
            message, field_name = failure
            self.log.append(f"{time.strftime('%H:%M:%S')} {entry.kind}: could not {action}: "
                            f"{message}", "error")
            if entry is self.current:
                self._field_error(message, field_name)
            else:
                self.show_error(message)
        self.app.refresh_servers_status(extra=self.running_count())

    def running_count(self) -> int:
        """Servers this tab started that are running (lab peers count themselves)."""
        return sum(1 for e in self.entries if not e.lab and e.running)

    def _tick_idle(self) -> None:
        """A stopped server gets no ServerStats: keep its plot moving with zeros."""
        try:
            if not self.current.running and self.current.history["Connections"]:
                self.current.history["Connections"].append(0.0)
                self.current.history["Bytes/s"].append(0.0)
                self.plot.push({"Connections": 0, "Bytes/s": 0})
            self.after(1000, self._tick_idle)
        except tk.TclError:
            pass  # the window is gone

    # -- app hooks ----------------------------------------------------------------------
    def transcript_text(self) -> str | None:
        return self.log.get_text()

    def save_fields(self) -> None:
        self._read_form(self.current)
        for entry in self.entries:
            if not entry.lab:
                self.fields[entry.key] = {k: entry.config.get(k, "") for k in entry.fields}

    def self_test(self) -> str | None:
        rows = set(self.tree.get_children()) | set(self.tree.get_children(LAB_NODE)
                                                   if self.tree.exists(LAB_NODE) else ())
        missing = [e.key for e in self.entries if e.key not in rows]
        if missing:
            return f"server rows missing: {', '.join(missing)}"
        if not any(e.lab for e in self.entries):
            return self._lab_error or "no lab peers are listed"
        return None

    def close(self) -> None:
        try:
            self.app.lab_listeners.remove(self._on_lab_events)
        except ValueError:
            pass
        self.app.bridge.detach(self.outbox)
        running = [e.controller for e in self.entries
                   if not e.lab and e.controller is not None and e.running]
        if running:
            stopper = threading.Thread(target=lambda: [c.stop() for c in running],
                                       name="servers:close", daemon=True)
            stopper.start()
            stopper.join(3.0)

    # for the screenshot and tests: values a user would type
    def set_fields(self, **values: Any) -> None:
        for key, value in values.items():
            self.vars[key].set(str(value))
