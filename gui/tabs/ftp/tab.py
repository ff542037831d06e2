"""FTP tab: site bar, local | remote panes, transfer queue, protocol log.

The tab holds no sockets: an :class:`~core.ftp.session.FtpSession` browses and a
:class:`~core.ftp.transfers.TransferQueue` transfers on its own connection, both posting
to one outbox the bridge drains. The site bar, the remote pane with the transfer queue
and the local pane each live in their own module.
"""

from __future__ import annotations

import tkinter as tk
from dataclasses import replace
from pathlib import Path
from tkinter import messagebox, ttk
from typing import TYPE_CHECKING

from core.events import Closed, Event, Failed, LogLine, StateChanged
from core.ftp.local import LocalFolder, LocalListed
from core.ftp.options import FtpOptions
from core.ftp.session import (
    FtpBusy,
    FtpCleartextQuestion,
    FtpListed,
    FtpLoggedIn,
    FtpSession,
    FtpSizeKnown,
    FtpStopped,
    FtpTextViewed,
)
from core.ftp.sites import SiteStore
from core.ftp.transfers import OverwriteQuestion, TransferItem, TransferQueue, TransferUpdated
from core.sizes import human_size
from core.states import ConnState
from core.worker import Outbox
from gui.tabs.base import Tab
from gui.tabs.ftp.dialogs import OverwriteDialog, TextViewer
from gui.tabs.ftp.file_pane import FilePane
from gui.tabs.ftp.local_pane import LocalPaneActions
from gui.tabs.ftp.remote_pane import POLICIES, RemotePaneActions
from gui.tabs.ftp.site_bar import SiteBar
from gui.tabs.ftp.transfer_queue import TransferQueueView
from gui.widgets.logview import LogView

if TYPE_CHECKING:
    from gui.app import WirebenchApp

LOG_TAGS = {"send": {"foreground": "#1f5fa8"}, "recv": {"foreground": "#2e7d32"},
            "warn": {"foreground": "#b00020"}, "info": {"foreground": "#777777"}}


class FtpTab(SiteBar, RemotePaneActions, LocalPaneActions, Tab):
    title = "FTP"
    key = "ftp"

    def __init__(self, master: tk.Misc, app: WirebenchApp) -> None:
        super().__init__(master, app)
        self.outbox = Outbox()
        self.session = FtpSession(self.outbox)
        self.queue: TransferQueue | None = None
        self.sites = SiteStore()
        self.options: FtpOptions | None = None
        self.remote_path = ""
        saved = Path(self.fields.get("local", str(Path.home()))).expanduser()
        self.local_folder = LocalFolder(self.outbox, saved)
        self._local_listed_at = 0.0
        self._dialogs: dict[int, OverwriteDialog] = {}
        self._poll_after: str | None = None
        self.viewers: list[TextViewer] = []
        self._build_site_bar()
        self._build_body()
        self.app.bridge.attach(self.outbox, self.on_events)
        self.local_folder.change_dir(saved, fallback=Path.home())  # checked off the Tk thread
        self._set_connected(False)

    # -- layout -------------------------------------------------------------------------
    def _build_body(self) -> None:
        split = ttk.Panedwindow(self, orient="vertical")
        split.pack(fill="both", expand=True, pady=(8, 0))
        self.split = split

        panes = ttk.Panedwindow(split, orient="horizontal")
        self.local = FilePane(
            panes, "Local", on_open=self._open_local, on_up=self.local_up,
            on_refresh=self.refresh_local, on_path=self.go_local,
            on_delete=self.delete_local,
            buttons=(("Upload →", self.upload_selected), ("New folder", self.mkdir_local),
                     ("Rename", self.rename_local), ("Delete", self.delete_local)),
            menu=(("Upload", self.upload_selected), ("Open", self._open_local_selected),
                  None, ("New folder…", self.mkdir_local), ("Rename…", self.rename_local),
                  ("Delete", self.delete_local), None, ("Refresh", self.refresh_local)))
        self.remote = FilePane(
            panes, "Remote", on_open=self._open_remote, on_up=self.remote_up,
            on_refresh=self.refresh_remote, on_path=self.go_remote,
            on_delete=self.delete_remote,
            buttons=(("← Download", self.download_selected), ("View", self.view_remote),
                     ("New folder", self.mkdir_remote), ("Rename", self.rename_remote),
                     ("Delete", self.delete_remote), ("Size", self.size_remote)),
            menu=(("Download", self.download_selected), ("View as text", self.view_remote),
                  ("Open", self._open_remote_selected), None,
                  ("New folder…", self.mkdir_remote), ("Rename…", self.rename_remote),
                  ("Delete", self.delete_remote), ("Size", self.size_remote), None,
                  ("Refresh", self.refresh_remote)))
        self.remote.configure(padding=(8, 0, 0, 0))
        self.local.configure(padding=(0, 0, 8, 0))
        panes.add(self.local, weight=1)
        panes.add(self.remote, weight=1)
        split.add(panes, weight=3)

        queue_box = ttk.Frame(split)
        head = ttk.Frame(queue_box)
        head.pack(fill="x", pady=(6, 4))
        ttk.Label(head, text="Transfers", font=("TkHeadingFont", 10, "bold")).pack(side="left")
        ttk.Button(head, text="Cancel", command=self.cancel_selected).pack(side="left",
                                                                           padx=(12, 4))
        ttk.Button(head, text="Resume", command=self.resume_selected).pack(side="left")
        ttk.Button(head, text="Clear finished", command=self.clear_finished).pack(
            side="left", padx=(4, 0))
        # the protocol log folds away so the file panes get the room (FileZilla users
        # look at files first); on a small screen it starts folded
        self.log_shown = self.persisted("show_log", self.winfo_screenheight() >= 900)
        self.log_toggle = ttk.Checkbutton(head, text="Log", variable=self.log_shown,
                                          command=self._log_toggled)
        self.log_toggle.pack(side="left", padx=(8, 0))
        self.binary_var = self.persisted("binary", True)
        ttk.Radiobutton(head, text="Binary", value=True, variable=self.binary_var).pack(
            side="right")
        ttk.Radiobutton(head, text="ASCII", value=False, variable=self.binary_var).pack(
            side="right", padx=(0, 8))
        self.policy_var = self.persisted("if_exists", "Ask")
        ttk.Combobox(head, textvariable=self.policy_var, values=tuple(POLICIES), width=9,
                     state="readonly").pack(side="right", padx=(4, 16))
        ttk.Label(head, text="If the file exists").pack(side="right")
        self.transfers = TransferQueueView(queue_box)
        self.transfers.pack(fill="both", expand=True)
        split.add(queue_box, weight=1)

        log_box = ttk.Frame(split)
        head = ttk.Frame(log_box)
        head.pack(fill="x", pady=(6, 4))
        ttk.Label(head, text="Protocol log", font=("TkHeadingFont", 10, "bold")).pack(
            side="left")
        ttk.Button(head, text="Clear", command=lambda: self.log.clear()).pack(side="right")
        ttk.Button(head, text="Show as Python", command=self.show_python).pack(
            side="right", padx=4)
        self.log = LogView(log_box, max_lines=5000, height=4, tags=LOG_TAGS)
        self.log.pack(fill="both", expand=True)
        self.log_box = log_box
        if self.log_shown.get():
            split.add(log_box, weight=1)
        split.bind("<Configure>", self._first_split, add="+")

        for widget in (self, self.local.tree, self.remote.tree):
            widget.bind("<F5>", lambda e: self._refresh_focused(), add="+")

    def _first_split(self, event: tk.Event) -> None:
        """Requested heights would give the panes 3 rows: start them at two thirds."""
        if event.height < 200 or getattr(self, "_split_placed", False):
            return
        self._split_placed = True
        self._place_sashes(event.height)

    def _place_sashes(self, height: int) -> None:
        if self.log_shown.get():
            self.split.sashpos(0, int(height * 0.60))
            self.split.sashpos(1, int(height * 0.80))
        else:
            self.split.sashpos(0, int(height * 0.68))

    def _log_toggled(self) -> None:
        if self.log_shown.get():
            self.split.add(self.log_box, weight=1)
        else:
            self.split.forget(self.log_box)
        self.update_idletasks()
        self._place_sashes(self.split.winfo_height())

    def _set_connected(self, connected: bool) -> None:
        self.connect_button.state(["!disabled"])
        self.disconnect_button.state(["!disabled"] if connected else ["disabled"])
        self.remote.set_enabled(connected, ("← Download", "View", "New folder", "Rename",
                                            "Delete", "Size"))
        self.local.set_enabled(connected, ("Upload →",))
        if not connected:
            self.remote.set_rows("", [], with_up=False)

    # -- events ---------------------------------------------------------------------------
    def on_events(self, events: list[Event]) -> None:
        logs: list[tuple[str, str]] = []
        transfers: dict[int, TransferItem] = {}
        for event in events:
            if isinstance(event, LogLine):
                logs.append((event.text, event.level))
            elif isinstance(event, TransferUpdated):
                transfers[event.item.id] = event.item  # newest wins: one redraw per item
            else:
                self.on_event(event)
        if logs:
            self.log.append_many(logs)
        if transfers:
            self._transfers_changed(list(transfers.values()))

    def on_event(self, event: Event) -> None:
        if isinstance(event, LocalListed):
            self._local_listed(event)
        elif isinstance(event, FtpListed):
            self.remote_path = event.path
            self.remote.set_rows(event.path, [self._remote_row(e) for e in event.entries])
        elif isinstance(event, FtpLoggedIn):
            self._set_connected(True)
            self.show_info(f"Logged in; {'MLSD' if event.info.mlsd else 'LIST'} listings"
                           f"{', ' + event.info.tls if event.info.tls else ''}.")
        elif isinstance(event, StateChanged):
            if event.state is ConnState.ESTABLISHED:
                secure = event.detail.partition(" (")[2].rstrip(")")
                self.state_var.set(f"● Connected{', ' + secure.split()[0] if secure else ''}")
                self.remote.title_label.configure(text=f"Remote — {event.detail}")
            elif event.state is ConnState.CLOSED:
                self.state_var.set("○ Not connected")
                self.remote.title_label.configure(text="Remote")
                if event.detail:
                    self.log.append(f"* disconnected: {event.detail}", "info")
                self._set_connected(False)
        elif isinstance(event, Closed):
            self._set_connected(False)
        elif isinstance(event, FtpTextViewed):
            self.viewers = [v for v in self.viewers if v.winfo_exists()]
            self.viewers.append(TextViewer(self, event.path, event.text, event.truncated))
        elif isinstance(event, FtpSizeKnown):
            self.show_info(f"{event.path}: {human_size(event.size)} ({event.size} bytes)"
                           if event.size is not None else f"{event.path}: size unknown")
        elif isinstance(event, FtpBusy):
            self.stop_button.state(["!disabled"] if event.task else ["disabled"])
        elif isinstance(event, FtpStopped):
            self.log.append(f"* stopped {event.task}", "info")
            if not event.closed:
                self.show_info(f"Stopped {event.task}; still connected.")
                return
            self.state_var.set("○ Not connected (stopped)")
            self.show_info(f"Stopped {event.task}: the connection is closed; press Connect "
                           "to connect again.")
        elif isinstance(event, FtpCleartextQuestion):
            self._ask_cleartext(event)
        elif isinstance(event, OverwriteQuestion):
            self._ask_overwrite(event)
        elif isinstance(event, Failed):
            self.show_error(event.message)
            self.log.append(f"! {event.message}", "warn")

    def _ask_cleartext(self, event: FtpCleartextQuestion) -> None:
        agree = messagebox.askyesno(
            "Send the password in clear?",
            f"{event.message}\n\nLog in WITHOUT encryption? Anyone on the path can read "
            "the password.", icon="warning", default="no", parent=self)
        if agree:
            self.connect(replace(event.options, allow_cleartext=True))
        else:
            self.state_var.set("○ Not connected (AUTH TLS refused)")

    def _ask_overwrite(self, event: OverwriteQuestion) -> None:
        item = event.item
        if item.id in self._dialogs:
            return

        def answer(choice: str, for_all: bool) -> None:
            self._dialogs.pop(item.id, None)
            if for_all:
                self.policy_var.set(next(k for k, v in POLICIES.items() if v == choice))
            if self.queue is not None:
                self.queue.answer(item.id, choice)

        self._dialogs[item.id] = OverwriteDialog(self, item.name, event.existing_size,
                                                 item.size, answer)

    # -- app hooks ------------------------------------------------------------------------
    def transcript_text(self) -> str | None:
        return self.log.get_text()

    def save_fields(self) -> None:
        super().save_fields()
        self.fields.update(local=str(self.local_path), ca_file=self.ca_file)

    def self_test(self) -> str | None:
        from core.ftp.listing import parse_list_line

        entry = parse_list_line("-rw-r--r-- 1 u g 5 Jan 01 2020 a b")
        if entry is None or entry.name != "a b":
            return "FTP LIST parser failed its self-test."
        return None

    def close(self) -> None:
        if self._poll_after is not None:
            self.after_cancel(self._poll_after)
            self._poll_after = None
        if self.queue is not None:
            self.queue.close(timeout=1.0)
            self.queue = None
        self.session.close(timeout=1.0)
        self.local_folder.close(timeout=1.0)
        self.app.bridge.detach(self.outbox)
