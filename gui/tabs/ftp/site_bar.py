"""The FTP tab's site bar: connection fields, FTPS options, saved sites, Stop, and the
Options dialog (timeouts and limits)."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import filedialog, simpledialog, ttk

from core.errors import UserError
from core.ftp.options import LIMITS, TLS_MODES, FtpOptions
from core.ftp.sites import Site, keyring_status
from core.servers.lab_account import LAB_PASSWORD, LAB_USER
from gui.tabs.ftp.dialogs import FtpOptionsDialog


class SiteBar:
    """The site-bar part of :class:`~gui.tabs.ftp.tab.FtpTab` (a mixin of its session)."""

    def _build_site_bar(self) -> None:
        f = self.fields
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        self.site_var = tk.StringVar(self)
        self.host_var = self.persisted("host", "127.0.0.1")
        self.port_var = self.persisted("port", "2121")
        self.user_var = self.persisted("user", "lab")
        self.password_var = tk.StringVar(self)
        self.anonymous_var = self.persisted("anonymous", False)
        self.tls_var = self.persisted("tls", "explicit")
        self.verify_var = self.persisted("verify", True)
        self.passive_var = self.persisted("passive", True)
        # typed text, checked at Connect (FtpOptions.validated names the field at fault)
        defaults = FtpOptions("")
        self.timeout_var = self.persisted("timeout", f"{defaults.timeout:g}")
        self.keepalive_var = self.persisted("keepalive", f"{defaults.keepalive:g}")
        self.listing_limit_var = self.persisted("max_listing_mb", f"{defaults.max_listing_mb:g}")
        self.folder_limit_var = self.persisted("max_folder_entries",
                                               str(defaults.max_folder_entries))
        self.options_dialog: FtpOptionsDialog | None = None

        row1 = ttk.Frame(bar)
        row1.pack(fill="x")
        # saved sites live in a menu: the site bar must fit 1024 px
        self.sites_button = ttk.Menubutton(row1, text="Sites")
        self.sites_menu = tk.Menu(self.sites_button, tearoff=False)
        self.sites_button.configure(menu=self.sites_menu)
        self.sites_button.pack(side="left", padx=(0, 10))
        self.entries: dict[str, ttk.Entry] = {}
        for label, var, width, show in (("Host", self.host_var, 14, ""),
                                        ("Port", self.port_var, 6, ""),
                                        ("User", self.user_var, 10, ""),
                                        ("Password", self.password_var, 10, "•")):
            ttk.Label(row1, text=label).pack(side="left")
            entry = ttk.Entry(row1, textvariable=var, width=width, show=show)
            entry.pack(side="left", padx=(4, 8))
            entry.bind("<Return>", lambda e: self.connect())
            self.entries[label] = entry
        self.connect_button = ttk.Button(row1, text="Connect", style="Accent.TButton",
                                         command=self.connect)
        self.connect_button.pack(side="left")
        # Stop ends a login or listing that a slow server holds, instead of its Timeout
        self.stop_button = ttk.Button(row1, text="Stop", command=self.stop_browsing)
        self.stop_button.pack(side="left", padx=(6, 0))
        self.stop_button.state(["disabled"])  # until a connect or listing runs (FtpBusy)
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
        self.options_button = ttk.Button(row2, text="Options…", command=self.open_options)
        self.options_button.pack(side="left", padx=(10, 0))
        self.keyring_var = tk.StringVar(self, value="")
        ttk.Label(row2, textvariable=self.keyring_var, foreground="#a05a00").pack(
            side="left", padx=(10, 0))
        self.state_var = tk.StringVar(self, value="○ Not connected")
        self.state_label = ttk.Label(row2, textvariable=self.state_var, anchor="e")
        self.state_label.pack(side="right")
        self._reload_sites()
        self._anonymous_changed()

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
        menu.add_command(label=f"Lab FTP server  ({LAB_USER} / {LAB_PASSWORD})",
                         command=self.use_lab)
        menu.add_separator()
        for name in names:
            menu.add_command(label=name, command=lambda n=name: self.load_site(n))
        if not names:
            menu.add_command(label="(no saved sites)", state="disabled")
        menu.add_separator()
        no_keyring = keyring_status()
        menu.add_command(label="Save this site…" + (
            "  (no keyring: without its password)" if no_keyring else ""),
            command=self.save_site)
        current = self.site_var.get()
        menu.add_command(label=f"Forget {current}" if current else "Forget site",
                         command=self.forget_site, state="normal" if current else "disabled")
        self.site_names = names
        self.sites_button.configure(text=f"Site: {current}" if current else "Sites")
        # short: the site bar must fit 1024 px; the Sites menu and a save say the rest
        self.keyring_var.set("No keyring" if no_keyring else "")

    def read_options(self) -> FtpOptions:
        """The site bar as options; raises UserError naming the field."""
        options = FtpOptions(
            host=self.host_var.get(), port=self.port_var.get(),  # type: ignore[arg-type]
            user=self.user_var.get(), password=self.password_var.get(),
            anonymous=self.anonymous_var.get(), tls=self.tls_var.get(),
            passive=self.passive_var.get(), verify=self.verify_var.get(),
            # a lab peer is verified against the lab's own CA, for that connection only
            ca_file=self.app.lab.ca_for(self.host_var.get(), self.port_var.get())
            or self.ca_file or None,
            # text as typed: validated() parses it and names the field at fault
            timeout=self.timeout_var.get(), keepalive=self.keepalive_var.get(),
            max_listing_mb=self.listing_limit_var.get(),
            max_folder_entries=self.folder_limit_var.get())
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
        # the state stays short (the site bar must fit 1024 px); the status bar says where
        self.state_var.set("◌ Connecting…")
        self.show_info(f"Connecting to {options.display}…")
        self.save_fields()

    def _field_error(self, exc: UserError) -> None:
        self.show_error(str(exc))
        if exc.field_name in LIMITS:  # it lives in the Options dialog: open it there
            self.open_options().show_error_for(exc.field_name, str(exc))
        entry = self.entries.get(exc.field_name)
        if entry is not None:
            entry.focus_set()

    def open_options(self) -> FtpOptionsDialog:
        if self.options_dialog is not None and self.options_dialog.winfo_exists():
            self.options_dialog.lift()
        else:
            self.options_dialog = FtpOptionsDialog(self)
        return self.options_dialog

    def disconnect(self) -> None:
        self.session.disconnect()

    def stop_browsing(self) -> None:
        """End the running connect, listing or folder change now (transfers go on)."""
        if self.session.stop():
            self.show_info("Stopping…")
        else:
            self.show_info("Nothing to stop: no connect or listing is running.")

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

    def use_lab(self) -> None:
        """The lab FTP server as a site: host, port, login and FTPS with verification on
        (its certificate checked against the lab CA), starting the server when it is off."""
        self.with_lab_peer("ftp", self._fill_lab)

    def _fill_lab(self, peer) -> None:  # noqa: ANN001 - FtpLabServer
        self.site_var.set("")
        self.host_var.set(peer.host)
        self.port_var.set(str(peer.port))
        self.user_var.set(LAB_USER)
        self.password_var.set(LAB_PASSWORD)
        self.anonymous_var.set(False)
        self.tls_var.set(peer.tls)
        self.verify_var.set(True)
        self._anonymous_changed()
        self._reload_sites()
        self.show_info(f"Lab FTP server at {peer.address}: login {LAB_USER} / "
                       f"{LAB_PASSWORD}; press Connect.")

    def forget_site(self) -> None:
        name = self.site_var.get()
        if name:
            self.sites.delete(name)
            self.site_var.set("")
            self._reload_sites()
