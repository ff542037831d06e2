"""FTP tab: site bar, local | remote panes, transfer queue, protocol log.

The tab holds no sockets: an :class:`~core.ftp.session.FtpSession` browses and a
:class:`~core.ftp.transfers.TransferQueue` transfers on its own connection, both posting
to one outbox the bridge drains. Local file operations touch only the disk and run here.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import shutil
import time
import tkinter as tk
from dataclasses import replace
from pathlib import Path
from tkinter import filedialog, messagebox, simpledialog, ttk
from typing import TYPE_CHECKING

from core.errors import UserError
from core.events import Closed, Event, Failed, LogLine, StateChanged
from core.ftp.listing import RemoteEntry
from core.ftp.options import TLS_MODES, FtpOptions
from core.ftp.session import (
    FtpCleartextQuestion,
    FtpListed,
    FtpLoggedIn,
    FtpSession,
    FtpSizeKnown,
    FtpTextViewed,
)
from core.ftp.sites import Site, SiteStore, keyring_status
from core.ftp.transfers import (
    DONE,
    UPLOAD,
    OverwriteQuestion,
    TransferItem,
    TransferQueue,
    TransferUpdated,
)
from core.sizes import human_size
from core.states import ConnState
from core.worker import Outbox
from gui.tabs.base import Tab
from gui.tabs.ftp.dialogs import OverwriteDialog, TextViewer
from gui.tabs.ftp.file_pane import FilePane, PaneRow
from gui.tabs.ftp.transfer_queue import TransferQueueView
from gui.widgets.logview import LogView

if TYPE_CHECKING:
    from gui.app import WirebenchApp

POLICIES = {"Ask": "", "Overwrite": "overwrite", "Resume": "resume", "Skip": "skip"}
LOG_TAGS = {"send": {"foreground": "#1f5fa8"}, "recv": {"foreground": "#2e7d32"},
            "warn": {"foreground": "#b00020"}, "info": {"foreground": "#777777"}}


class FtpTab(Tab):
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
        self.local_path = Path(self.fields.get("local", str(Path.home()))).expanduser()
        if not self.local_path.is_dir():
            self.local_path = Path.home()
        self._dialogs: dict[int, OverwriteDialog] = {}
        self._poll_after: str | None = None
        self.viewers: list[TextViewer] = []
        self._build_site_bar()
        self._build_body()
        self.app.bridge.attach(self.outbox, self.on_events)
        self.refresh_local()
        self._set_connected(False)

    # -- layout -------------------------------------------------------------------------
    def _build_site_bar(self) -> None:
        f = self.fields
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        self.site_var = tk.StringVar(self)
        self.host_var = tk.StringVar(self, value=f.get("host", "127.0.0.1"))
        self.port_var = tk.StringVar(self, value=str(f.get("port", 2121)))
        self.user_var = tk.StringVar(self, value=f.get("user", "lab"))
        self.password_var = tk.StringVar(self)
        self.anonymous_var = tk.BooleanVar(self, value=f.get("anonymous", False))
        self.tls_var = tk.StringVar(self, value=f.get("tls", "explicit"))
        self.verify_var = tk.BooleanVar(self, value=f.get("verify", True))
        self.passive_var = tk.BooleanVar(self, value=f.get("passive", True))

        row1 = ttk.Frame(bar)
        row1.pack(fill="x")
        # saved sites live in a menu: the site bar must fit 1024 px
        self.sites_button = ttk.Menubutton(row1, text="Sites")
        self.sites_menu = tk.Menu(self.sites_button, tearoff=False)
        self.sites_button.configure(menu=self.sites_menu)
        self.sites_button.pack(side="left", padx=(0, 10))
        self.entries: dict[str, ttk.Entry] = {}
        for label, var, width, show in (("Host", self.host_var, 16, ""),
                                        ("Port", self.port_var, 6, ""),
                                        ("User", self.user_var, 10, ""),
                                        ("Password", self.password_var, 12, "•")):
            ttk.Label(row1, text=label).pack(side="left")
            entry = ttk.Entry(row1, textvariable=var, width=width, show=show)
            entry.pack(side="left", padx=(4, 8))
            entry.bind("<Return>", lambda e: self.connect())
            self.entries[label] = entry
        self.connect_button = ttk.Button(row1, text="Connect", style="Accent.TButton",
                                         command=self.connect)
        self.connect_button.pack(side="left")
        self.disconnect_button = ttk.Button(row1, text="Disconnect", command=self.disconnect)
        self.disconnect_button.pack(side="left", padx=(6, 0))

        row2 = ttk.Frame(bar)
        row2.pack(fill="x", pady=(6, 0))
        ttk.Checkbutton(row2, text="Anonymous", variable=self.anonymous_var,
                        command=self._anonymous_changed).pack(side="left")
        ttk.Label(row2, text="FTPS").pack(side="left", padx=(10, 4))
        self.tls_box = ttk.Combobox(row2, textvariable=self.tls_var, values=TLS_MODES,
                                    width=8, state="readonly")
        self.tls_box.pack(side="left")
        self.tls_box.bind("<<ComboboxSelected>>", lambda e: self._tls_changed())
        ttk.Checkbutton(row2, text="Verify TLS", variable=self.verify_var).pack(
            side="left", padx=(10, 0))
        self.ca_file = f.get("ca_file", "") or ""
        self.ca_button = ttk.Button(row2, text=self._ca_label(), command=self.choose_ca)
        self.ca_button.pack(side="left", padx=(6, 0))
        ttk.Checkbutton(row2, text="Passive", variable=self.passive_var).pack(
            side="left", padx=(10, 0))
        self.keyring_var = tk.StringVar(self, value="")
        ttk.Label(row2, textvariable=self.keyring_var, foreground="#a05a00").pack(
            side="left", padx=(10, 0))
        self.state_var = tk.StringVar(self, value="○ Not connected")
        self.state_label = ttk.Label(row2, textvariable=self.state_var, anchor="e")
        self.state_label.pack(side="right")
        self._reload_sites()
        self._anonymous_changed()

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
        self.binary_var = tk.BooleanVar(self, value=self.fields.get("binary", True))
        ttk.Radiobutton(head, text="Binary", value=True, variable=self.binary_var).pack(
            side="right")
        ttk.Radiobutton(head, text="ASCII", value=False, variable=self.binary_var).pack(
            side="right", padx=(0, 8))
        self.policy_var = tk.StringVar(self, value=self.fields.get("if_exists", "Ask"))
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
        split.add(log_box, weight=1)

        for widget in (self, self.local.tree, self.remote.tree):
            widget.bind("<F5>", lambda e: self._refresh_focused(), add="+")

    # -- site bar -----------------------------------------------------------------------
    def _ca_label(self) -> str:
        return f"CA: {Path(self.ca_file).name}" if self.ca_file else "CA file…"

    def choose_ca(self, path: str | None = None) -> None:
        """Trust a private CA (PEM) besides the system's; choosing nothing clears it."""
        if path is None:
            path = filedialog.askopenfilename(
                parent=self, title="CA certificate (PEM)",
                filetypes=(("PEM certificates", "*.pem *.crt"), ("All files", "*")))
        self.ca_file = path or ""
        self.ca_button.configure(text=self._ca_label())

    def _tls_changed(self) -> None:
        """Implicit FTPS lives on 990; switch the usual port along with the mode."""
        port, mode = self.port_var.get().strip(), self.tls_var.get()
        if mode == "implicit" and port == "21":
            self.port_var.set("990")
        elif mode != "implicit" and port == "990":
            self.port_var.set("21")

    def _anonymous_changed(self) -> None:
        anon = self.anonymous_var.get()
        for name in ("User", "Password"):
            self.entries[name].state(["disabled"] if anon else ["!disabled"])

    def _reload_sites(self) -> None:
        try:
            names = [site.name for site in self.sites.load()]
        except UserError as exc:
            self.show_error(str(exc))
            names = []
        menu = self.sites_menu
        menu.delete(0, "end")
        for name in names:
            menu.add_command(label=name, command=lambda n=name: self.load_site(n))
        if not names:
            menu.add_command(label="(no saved sites)", state="disabled")
        menu.add_separator()
        menu.add_command(label="Save this site…", command=self.save_site)
        current = self.site_var.get()
        menu.add_command(label=f"Forget {current}" if current else "Forget site",
                         command=self.forget_site, state="normal" if current else "disabled")
        self.site_names = names
        self.sites_button.configure(text=f"Site: {current}" if current else "Sites")
        self.keyring_var.set("Passwords not saved (no keyring)" if keyring_status() else "")

    def read_options(self) -> FtpOptions:
        """The site bar as options; raises UserError naming the field."""
        options = FtpOptions(
            host=self.host_var.get(), port=self.port_var.get(),  # type: ignore[arg-type]
            user=self.user_var.get(), password=self.password_var.get(),
            anonymous=self.anonymous_var.get(), tls=self.tls_var.get(),
            passive=self.passive_var.get(), verify=self.verify_var.get(),
            ca_file=self.ca_file or None)
        return options.validated()

    def connect(self, options: FtpOptions | None = None) -> None:
        try:
            options = options or self.read_options()
            self.session.connect(options)
        except UserError as exc:
            self._field_error(exc)
            return
        if self.queue is not None and self.options != options:
            self.queue.close(timeout=0)  # no join here: the Tk thread never waits on a peer
            self.queue = None
        self.options = options
        self.state_var.set(f"Connecting to {options.display}…")
        self.save_fields()

    def _field_error(self, exc: UserError) -> None:
        self.show_error(str(exc))
        entry = self.entries.get(exc.field_name)
        if entry is not None:
            entry.focus_set()

    def disconnect(self) -> None:
        self.session.disconnect()

    def save_site(self, name: str | None = None) -> None:
        try:
            self.read_options()
        except UserError as exc:
            self._field_error(exc)
            return
        if name is None:
            name = simpledialog.askstring("Save site", "Name for this site:",
                                          initialvalue=self.site_var.get()
                                          or self.host_var.get(), parent=self)
        if not name:
            return
        site = Site(name=name.strip(), host=self.host_var.get().strip(),
                    port=int(self.port_var.get()), user=self.user_var.get().strip(),
                    anonymous=self.anonymous_var.get(), tls=self.tls_var.get(),
                    passive=self.passive_var.get(), verify=self.verify_var.get())
        try:
            saved_password = self.sites.save(site, self.password_var.get())
        except (UserError, OSError) as exc:
            self.show_error(f"The site could not be saved: {exc}")
            return
        self._reload_sites()
        self.site_var.set(site.name)
        if self.password_var.get() and not site.anonymous and not saved_password:
            self.show_info(f"Saved site {site.name} without its password: "
                           "no system keyring is available.")
        else:
            self.show_info(f"Saved site {site.name}.")

    def load_site(self, name: str) -> None:
        site = next((s for s in self.sites.load() if s.name == name), None)
        if site is None:
            return
        self.host_var.set(site.host)
        self.port_var.set(str(site.port))
        self.user_var.set(site.user)
        self.anonymous_var.set(site.anonymous)
        self.tls_var.set(site.tls)
        self.passive_var.set(site.passive)
        self.verify_var.set(site.verify)
        self.password_var.set(self.sites.password(site))
        self.site_var.set(site.name)
        self._anonymous_changed()
        self._reload_sites()

    def forget_site(self) -> None:
        name = self.site_var.get()
        if name:
            self.sites.delete(name)
            self.site_var.set("")
            self._reload_sites()

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
        if isinstance(event, FtpListed):
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

    def _transfers_changed(self, items: list[TransferItem]) -> None:
        self.transfers.show(items)
        if any(i.state == "running" for i in items) and self._poll_after is None:
            self._poll_after = self.after(250, self._poll_running)
        finished = [i for i in items if i.state == DONE and not i.folder]
        if any(i.direction == UPLOAD for i in finished) and self.session.connected:
            self.session.refresh()
        into_here = [i for i in items if i.direction != UPLOAD
                     and i.local_path.parent == self.local_path]
        stale = time.monotonic() - self._local_listed > 2.0  # growing .part files
        if any(i in finished for i in into_here) or any(
                i.folder and i.state == DONE for i in items) or (into_here and stale):
            self.refresh_local()

    def _poll_running(self) -> None:
        """Progress events stop when the bytes stop (a bursty server, a stall): read the
        queue's in-memory counts so the bar shows the last burst and the speed decays."""
        self._poll_after = None
        if self.queue is None:
            return
        running = [i for i in self.queue.snapshot() if i.state == "running"]
        if running:
            self.transfers.show(running)
            self._poll_after = self.after(250, self._poll_running)

    # -- remote pane ---------------------------------------------------------------------
    @staticmethod
    def _remote_row(entry: RemoteEntry) -> PaneRow:
        return PaneRow(key=entry.name, text=entry.display, kind=entry.kind, size=entry.size,
                       modified=entry.modified, permissions=entry.permissions,
                       target=entry.target)

    def _need_session(self) -> bool:
        if not self.session.connected:
            self.show_error("Not connected: fill in the site bar and press Connect.")
            return False
        return True

    def _open_remote(self, row: PaneRow) -> None:
        """Enter/double-click: a folder (or link) opens; a file downloads, as in FileZilla."""
        if row.kind in ("dir", "link"):
            self.go_remote(row.key)
        elif row.kind == "file":
            self.download_selected()

    def _open_remote_selected(self) -> None:
        self.remote.open_selected()

    def go_remote(self, path: str) -> None:
        if self._need_session():
            try:
                self.session.change_dir(path)
            except UserError as exc:
                self.show_error(str(exc))

    def remote_up(self) -> None:
        if self._need_session():
            self.session.up()

    def refresh_remote(self) -> None:
        if self._need_session():
            self.session.refresh()

    def _remote_selection(self, what: str) -> list[PaneRow]:
        rows = [r for r in self.remote.selected() if r.kind != "raw"]
        if not rows:
            self.show_error(f"Select a remote item to {what} first.")
        return rows

    def view_remote(self) -> None:
        for row in self._remote_selection("view")[:1]:
            if row.is_dir:
                self.show_error(f"{row.text} is a folder: open it instead.")
            else:
                self.session.view(row.key)

    def size_remote(self) -> None:
        for row in self._remote_selection("measure")[:1]:
            self.session.size(row.key)

    def mkdir_remote(self, name: str | None = None) -> None:
        if not self._need_session():
            return
        name = name or simpledialog.askstring("New remote folder", "Folder name:", parent=self)
        if name:
            self._guarded(lambda: self.session.mkd(name))

    def rename_remote(self, new: str | None = None) -> None:
        for row in self._remote_selection("rename")[:1]:
            new = new or simpledialog.askstring("Rename", f"New name for {row.text}:",
                                                initialvalue=row.text, parent=self)
            if new and new != row.key:
                self._guarded(lambda r=row, n=new: self.session.rename(r.key, n))

    def delete_remote(self, confirm: bool = True) -> None:
        rows = self._remote_selection("delete")
        if not rows or not self._confirm_delete([r.text for r in rows], "the server",
                                                confirm):
            return
        for row in rows:
            if row.is_dir:  # with everything inside, as the confirmation said
                self._guarded(lambda r=row: self.session.remove_tree(r.key))
            else:
                self._guarded(lambda r=row: self.session.delete(r.key))

    def _confirm_delete(self, names: list[str], where: str, confirm: bool) -> bool:
        if not confirm:
            return True
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return messagebox.askyesno(
            "Delete", f"Delete {shown} from {where}? Folders are deleted with everything "
            "in them.", icon="warning", default="no", parent=self)

    def _guarded(self, action) -> None:
        try:
            action()
        except UserError as exc:
            self.show_error(str(exc))

    def show_python(self) -> None:
        """This session (browsing and finished transfers) as an ftplib script."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.session.recording, "FTP")

    # -- transfers -------------------------------------------------------------------------
    def _transfer_queue(self) -> TransferQueue | None:
        if self.options is None or not self.session.connected:
            self.show_error("Not connected: connect before transferring files.")
            return None
        if self.queue is None:
            self.queue = TransferQueue(self.options, self.outbox,
                                       recording=self.session.recording)
        return self.queue

    def download_selected(self) -> None:
        rows = self._remote_selection("download")
        q = self._transfer_queue() if rows else None
        if q is None:
            return
        policy = POLICIES.get(self.policy_var.get(), "")
        for row in rows:
            remote = posixpath.join(self.remote_path or "/", row.key)
            try:
                q.add_download(remote, self.local_path, size=row.size,
                               binary=self.binary_var.get(), folder=row.is_dir, policy=policy)
            except UserError as exc:
                self.show_error(str(exc))

    def upload_selected(self) -> None:
        rows = [r for r in self.local.selected()]
        if not rows:
            self.show_error("Select a local file or folder to upload first.")
            return
        q = self._transfer_queue()
        if q is None:
            return
        policy = POLICIES.get(self.policy_var.get(), "")
        for row in rows:
            try:
                q.add_upload(self.local_path / row.key, self.remote_path,
                             binary=self.binary_var.get(), policy=policy)
            except (UserError, OSError) as exc:
                self.show_error(str(exc))

    def cancel_selected(self) -> None:
        if self.queue is not None:
            for item_id in self.transfers.selected_ids() or [
                    i.id for i in self.queue.snapshot() if i.state == "running"]:
                self.queue.cancel(item_id)

    def resume_selected(self) -> None:
        if self.queue is not None:
            ids = self.transfers.selected_ids() or [
                i.id for i in self.queue.snapshot() if i.resumable]
            for item_id in ids:
                self.queue.resume(item_id)

    def clear_finished(self) -> None:
        if self.queue is not None:
            before = {i.id for i in self.queue.snapshot()}
            self.queue.clear_finished()
            after = {i.id for i in self.queue.snapshot()}
            self.transfers.forget(before - after)

    # -- local pane -------------------------------------------------------------------------
    def refresh_local(self) -> None:
        self._local_listed = time.monotonic()
        rows: list[PaneRow] = []
        try:
            with os.scandir(self.local_path) as it:
                for entry in it:
                    try:
                        st = entry.stat()
                        is_dir = entry.is_dir()
                    except OSError:
                        continue
                    rows.append(PaneRow(key=entry.name, text=entry.name,
                                        kind="dir" if is_dir else "file",
                                        size=None if is_dir else st.st_size,
                                        modified=dt.datetime.fromtimestamp(st.st_mtime)))
        except OSError as exc:
            self.show_error(f"Cannot list {self.local_path}: {exc.strerror or exc}.")
        self.local.set_rows(str(self.local_path), rows,
                            with_up=self.local_path.parent != self.local_path)

    def go_local(self, path: str | Path) -> None:
        target = Path(path).expanduser()
        if not target.is_absolute():
            target = self.local_path / target
        if not target.is_dir():
            self.show_error(f"Local folder {target} does not exist: type an existing folder.")
            return
        self.local_path = target.resolve()
        self.refresh_local()

    def local_up(self) -> None:
        self.go_local(self.local_path.parent)

    def _open_local(self, row: PaneRow) -> None:
        if row.is_dir:
            self.go_local(self.local_path / row.key)
        elif self.session.connected:
            self.upload_selected()

    def _open_local_selected(self) -> None:
        self.local.open_selected()

    def mkdir_local(self, name: str | None = None) -> None:
        name = name or simpledialog.askstring("New local folder", "Folder name:", parent=self)
        if not name:
            return
        if "/" in name or name in (".", ".."):
            self.show_error("Folder name must be a single name without '/'.")
            return
        try:
            (self.local_path / name).mkdir()
        except OSError as exc:
            self.show_error(f"Cannot create {name}: {exc.strerror or exc}.")
        self.refresh_local()

    def rename_local(self, new: str | None = None) -> None:
        rows = self.local.selected()[:1]
        for row in rows:
            new = new or simpledialog.askstring("Rename", f"New name for {row.text}:",
                                                initialvalue=row.text, parent=self)
            if not new or "/" in new:
                return
            try:
                (self.local_path / row.key).rename(self.local_path / new)
            except OSError as exc:
                self.show_error(f"Cannot rename {row.text}: {exc.strerror or exc}.")
        self.refresh_local()

    def delete_local(self, confirm: bool = True) -> None:
        rows = self.local.selected()
        if not rows or not self._confirm_delete([r.text for r in rows], "this computer",
                                                confirm):
            return
        for row in rows:
            path = self.local_path / row.key
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError as exc:
                self.show_error(f"Cannot delete {row.text}: {exc.strerror or exc}.")
        self.refresh_local()

    def _refresh_focused(self) -> None:
        if self.focus_get() is self.local.tree:
            self.refresh_local()
        elif self.session.connected:
            self.session.refresh()

    # -- app hooks ------------------------------------------------------------------------
    def transcript_text(self) -> str | None:
        return self.log.get_text()

    def open_target(self, host: str, port: int | None = None) -> None:
        self.host_var.set(host)
        if port:
            self.port_var.set(str(port))

    def save_fields(self) -> None:
        f = self.fields
        f.update(host=self.host_var.get(), port=self.port_var.get(), user=self.user_var.get(),
                 anonymous=self.anonymous_var.get(), tls=self.tls_var.get(),
                 verify=self.verify_var.get(), passive=self.passive_var.get(),
                 local=str(self.local_path), binary=self.binary_var.get(),
                 if_exists=self.policy_var.get(), ca_file=self.ca_file)

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
        self.app.bridge.detach(self.outbox)
