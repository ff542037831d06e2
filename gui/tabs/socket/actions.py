"""The Socket tab's actions: reading the form, starting, sending, output tools, dialogs."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog

from core.codec import parse_payload
from core.errors import UserError, check_port
from core.sockets import AutoReply, RepeatPlan, SocketConfig
from gui.tabs.socket.dialogs import AutomationDialog, OptionsDialog
from gui.tabs.socket.layout import ALL_PEERS, HISTORY_MAX, MODES_UI, PRIMARY


class SocketActions:
    """What the buttons of :class:`~gui.tabs.socket.tab.SocketTab` do (a mixin of the tab)."""

    # == reading the form =================================================================
    def transport_role(self) -> tuple[str, str]:
        return MODES_UI.get(self.mode_var.get(), ("tcp", "client"))

    def _on_mode_changed(self) -> None:
        transport, role = self.transport_role()
        unix = transport.startswith("unix")
        self.inet_fields.pack_forget()
        self.unix_fields.pack_forget()
        (self.unix_fields if unix else self.inet_fields).pack(side="left")
        if transport == "tcp":
            self.tls_check.state(["!disabled"])
        else:
            self.tls_check.state(["disabled"])
        self.primary_button.configure(text=PRIMARY[role])
        self.view.per_message_offsets = role == "datagram"
        if role == "listener" and self.host_var.get() not in ("127.0.0.1", "::1", ""):
            self.host_var.set("127.0.0.1")  # listeners bind loopback unless the user widens
        self._update_hint()
        self._update_peer_widgets()

    def _update_hint(self) -> None:
        transport, role = self.transport_role()
        if transport.startswith("unix"):
            hint = "UNIX socket file; a stale one is replaced, a live one is not"
        elif role == "listener":
            hint = ("Host '' = all interfaces (IPv4 and IPv6)" if self.host_var.get() == ""
                    else "Host '' = all interfaces · port 0 = any free port")
        elif role == "datagram":
            hint = "Host/Port = where Send goes; <broadcast> allowed"
        else:
            hint = ""
        self.hint_label.configure(text=hint)

    def _update_peer_widgets(self) -> None:
        role = self.transport_role()[1]
        many = role in ("listener", "datagram")
        self.to_label.pack_forget()
        self.to_box.pack_forget()
        if many:  # a client has one peer: no To field
            self.to_label.pack(side="left")
            self.to_box.pack(side="left", padx=(4, 10))
        self.drop_button.state(["!disabled"] if role == "listener" else ["disabled"])
        if many:
            self.peers_box.pack(fill="both", expand=True)
        else:
            self.peers_box.pack_forget()

    def build_config(self) -> SocketConfig:
        transport, role = self.transport_role()
        options = {}
        for name, var in self.option_vars.items():
            value = var.get().strip()
            if value not in ("", "default"):
                options[name] = value
        try:
            timeout = float(self.timeout_var.get())
        except ValueError:
            raise UserError(f"Timeout must be a number of seconds, got "
                            f"{self.timeout_var.get()!r}.", "Timeout") from None
        port: int | str = 0
        if not transport.startswith("unix"):
            port_text = self.port_var.get().strip()
            if role != "datagram" or port_text not in ("", "0"):
                port = check_port(port_text, "Port", allow_zero=role == "listener")
        return SocketConfig(
            transport=transport, host=self.host_var.get().strip(), port=port,
            path=self.path_var.get().strip(), family=self.family_var.get(),
            local_host=self.local_host_var.get().strip(),
            local_port=self.local_port_var.get().strip() or 0,
            local_path=self.local_path_var.get().strip(),
            tls=self.tls_var.get() and transport == "tcp", tls_verify=self.verify_var.get(),
            ca_file=self.ca_var.get().strip(), server_name=self.sni_var.get().strip(),
            cert_file=self.cert_var.get().strip(), key_file=self.key_var.get().strip(),
            connect_timeout=timeout, options=options)

    def _field_widget(self, name: str) -> tk.Widget | None:
        return {"Host": self.host_entry, "Port": self.port_entry, "Path": self.path_entry,
                "Payload": self.input, "Peer": self.to_box}.get(name)

    # == actions ==========================================================================
    def _guard(self, action, *args) -> bool:  # noqa: ANN001
        """Run a user action; a UserError becomes the one-sentence message in the tab."""
        for widget in (self.host_entry, self.port_entry, self.path_entry, self.input):
            widget.state(["!invalid"])
        try:
            action(*args)
        except UserError as exc:
            self.show_error(str(exc), exc.field_name)
            return False
        self.error_var.set("")
        return True

    def show_error(self, message: str, field_name: str = "") -> None:
        self.error_var.set("⚠ " + message)
        self.app.set_status(message, error=True)
        widget = self._field_widget(field_name)
        if widget is not None:
            widget.state(["invalid"])
        self.view.add([self.transcript.note(message)])

    def start_session(self) -> None:
        transport, role = self.transport_role()

        def go() -> None:
            config = self.build_config()
            self.session.set_auto_replies(self.auto_rules)
            {"client": self.session.connect, "listener": self.session.listen,
             "datagram": self.session.open_datagram}[role](config)

        self._guard(go)

    def use_lab(self) -> None:
        """Point the form at the lab echo server (UDP in UDP mode, else TCP), starting it
        when it is off."""
        udp = self.transport_role()[0] == "udp"
        self.with_lab_peer("echo-udp" if udp else "echo-tcp", self._fill_lab)

    def _fill_lab(self, peer) -> None:  # noqa: ANN001 - an echo ServerController
        if not self.session.running:  # the mode box is locked while a session runs
            self.mode_var.set("UDP" if peer.kind == "echo-udp" else "TCP client")
            self._on_mode_changed()
        self.host_var.set(peer.host)
        self.port_var.set(str(peer.port))
        self.tls_var.set(False)
        action = PRIMARY[self.transport_role()[1]]
        self.show_info(f"Lab echo server at {peer.address}: press {action}, then type a "
                       "line; it comes back as sent.")

    def close_session(self) -> None:
        self.session.close(timeout=0)  # the I/O thread finishes on its own; Closed follows

    def send(self) -> None:
        text = self.input.get()

        def go() -> None:
            data = parse_payload(text, self.format_var.get(), self.ending_var.get(),
                                 self.encoding_var.get())
            self.session.send(data, self._selected_peer())

        if self._guard(go):
            if text and (not self.history or self.history[-1] != text):
                self.history.append(text)
                del self.history[:-HISTORY_MAX]
            self._history_pos = None
            self.input.delete(0, "end")

    def send_file(self, path: str | None = None) -> None:
        path = path or filedialog.askopenfilename(parent=self, title="Send a file")
        if path:
            self._guard(self.session.send_file, path, self._selected_peer())

    def shutdown(self, how: str) -> None:
        peer = self._selected_peer() if self.transport_role()[1] == "listener" else None
        self._guard(self.session.shutdown, how, peer)

    def drop_peer(self) -> None:
        peer = self._selected_peer()
        if peer is None:
            self.show_error("Select a peer in the list to drop.", "Peer")
            return
        self._guard(self.session.drop, peer)

    def start_repeat(self, plan_args: dict) -> bool:
        def go() -> None:
            plan = RepeatPlan(template=self.input.get(), fmt=self.format_var.get(),
                              line_ending=self.ending_var.get(),
                              encoding=self.encoding_var.get(), peer=self._selected_peer(),
                              **plan_args)
            self.session.start_repeat(plan)

        return self._guard(go)

    def stop_repeat(self) -> None:
        self._guard(self.session.stop_repeat)

    def set_auto_replies(self, rules: list[AutoReply]) -> None:
        self.auto_rules = list(rules)
        self.session.set_auto_replies(self.auto_rules)

    def _selected_peer(self) -> str | None:
        value = self.to_var.get().strip()
        if self.transport_role()[1] == "client" or value in ("", ALL_PEERS):
            return None
        return value

    def _on_peer_selected(self, event: object = None) -> None:
        selection = self.peer_list.curselection()
        if selection:
            self.to_var.set(self.peer_list.get(selection[0]))

    def _history_step(self, step: int) -> str:
        if not self.history:
            return "break"
        pos = len(self.history) if self._history_pos is None else self._history_pos
        pos = max(0, min(len(self.history), pos + step))
        self._history_pos = pos
        self.input.delete(0, "end")
        if pos < len(self.history):
            self.input.insert(0, self.history[pos])
        return "break"

    # -- output tools --------------------------------------------------------------------
    def _redraw(self) -> None:
        self.view.mode = self.view_var.get()
        self.view.show_time = self.time_var.get()
        self.view.show_peer = self.peer_col_var.get()
        self.view.encoding = self.encoding_var.get()
        self.view.redraw(self.transcript)

    def _on_pause(self) -> None:
        self.view.set_follow(not self.pause_var.get())

    def find(self) -> int:
        count = self.view.find(self.find_var.get())
        if self.find_var.get():
            self.pause_var.set(True)
            self.show_info(f"Find: {count} match{'es' * (count != 1)} for "
                           f"{self.find_var.get()!r} (autoscroll paused).")
        return count

    def clear_output(self) -> None:
        self.transcript.clear()
        self.view.clear()
        for direction in self.counters:
            self.counters[direction] = [0, 0]
        # the rate is measured from the last mark: a mark above the new zero gave -100 B/s
        self._rate_mark = (time.monotonic(), 0, 0)
        self.rates = (0.0, 0.0)

    def save_as(self, kind: str, path: str | None = None) -> None:
        ext = ".bin" if kind.startswith("raw") else ".txt"
        path = path or filedialog.asksaveasfilename(
            parent=self, title="Save", defaultextension=ext,
            initialfile=f"wirebench-socket-{kind}{ext}")
        if not path:
            return
        try:
            size = self.transcript.export(kind, path, self.encoding_var.get())
        except OSError as exc:
            self.show_error(f"Could not save to {path}: {exc.strerror}; choose another folder.")
            return
        self.show_info(f"Saved {size:,} bytes to {path}")

    def set_scrollback(self, value: str | int) -> None:
        """How many chunks the transcript (and so the view's redraw) keeps."""
        try:
            chunks = int(str(value).strip())
        except ValueError:
            chunks = 0
        if not 100 <= chunks <= 1_000_000:
            raise UserError(f"Scrollback must be 100–1000000 chunks, got {value!r}.",
                            "Scrollback")
        self.transcript.max_records = chunks
        self.transcript.extend([])  # drops the oldest now if the cap went down
        self.show_info(f"Scrollback: the last {chunks:,} chunks are kept.")

    # -- dialogs -------------------------------------------------------------------------
    def open_options(self) -> OptionsDialog:
        return OptionsDialog(self)

    def open_saved(self):  # -> SavedMessagesWindow
        from gui.tabs.socket.saved_messages import SavedMessagesWindow

        return SavedMessagesWindow(self)

    def form_message(self, name: str):  # -> SavedMessage
        """What the form would send, as a saved message called ``name``."""
        from core.sockets.messages import SavedMessage

        return SavedMessage(name=name, mode=self.mode_var.get(), host=self.host_var.get(),
                            port=self.port_var.get(), path=self.path_var.get(),
                            format=self.format_var.get(), line_ending=self.ending_var.get(),
                            encoding=self.encoding_var.get(), data=self.input.get())

    def send_saved(self, message) -> None:  # noqa: ANN001 - SavedMessage
        """One click: the message's target and data in the form, then sent (opening the
        connection first when none is open to that target)."""
        same = (message.mode == self.mode_var.get()
                and message.target == self.form_message("").target)
        if self.session.running and not same:
            self.show_error(f"Close the current session first: {message.name} goes to "
                            f"{message.target}.")
            return
        if not self.session.running:
            self.mode_var.set(message.mode)
            self._on_mode_changed()
            self.host_var.set(message.host)
            self.port_var.set(message.port)
            self.path_var.set(message.path)
        self.format_var.set(message.format)
        self.ending_var.set(message.line_ending)
        self.encoding_var.set(message.encoding)
        self._format_changed()
        self.input.delete(0, "end")
        self.input.insert(0, message.data)
        if self.session.running:
            self.send()
        else:
            self._send_when_ready = True
            self.start_session()

    def open_automation(self) -> AutomationDialog:
        return AutomationDialog(self)
