"""The Servers tab's widgets: server list, settings form, summary, sparkline, clients, log."""

from __future__ import annotations

from tkinter import filedialog, ttk

from core.servers.cgi.zygote import PYTHON_STARTS
from core.servers.echo.common import FORK_STYLES, MODES
from core.sizes import human_rate
from gui.tabs.servers.model import FIELDS
from gui.tabs.servers.sparkline import Series, Sparkline
from gui.widgets.logview import LogView

LOG_TAGS = {"warning": {"foreground": "#b9770e"}, "error": {"foreground": "#c0392b"},
            "source": {"foreground": "#2e86de"}}
LAB_NODE = "lab-peers"


class ServersLayout:
    """Builds the widgets of :class:`~gui.tabs.servers.tab.ServersTab` (a mixin of the tab)."""

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.columnconfigure(1, weight=1)
        self.rowconfigure(0, weight=1)

        left = ttk.Frame(self)
        left.grid(row=0, column=0, sticky="nsew", padx=(0, 8))
        left.rowconfigure(1, weight=1)
        ttk.Label(left, text="Servers", font=("TkHeadingFont", 11, "bold")).grid(
            row=0, column=0, sticky="w", pady=(0, 4))
        self.tree = ttk.Treeview(left, columns=("address", "state"), show="tree headings",
                                 selectmode="browse", height=14)
        self.tree.heading("#0", text="Server")
        self.tree.heading("address", text="Address")
        self.tree.heading("state", text="State")
        # the names are the longest texts: they get the width (and any spare room)
        self.tree.column("#0", width=208, minwidth=190, stretch=True)
        self.tree.column("address", width=130, minwidth=125, stretch=False)
        self.tree.column("state", width=68, minwidth=66, stretch=False)
        self.tree.grid(row=1, column=0, sticky="nsew")
        for entry in self.entries:
            if entry.lab and not self.tree.exists(LAB_NODE):
                self.tree.insert("", "end", iid=LAB_NODE, text="Lab peers", open=True)
            self.tree.insert(LAB_NODE if entry.lab else "", "end", iid=entry.key,
                             text=entry.label,
                             values=(self._address(entry), self._state(entry)))
        self.tree.selection_set(self.current.key)
        self.tree.bind("<<TreeviewSelect>>", self._on_select)
        self.about = ttk.Label(left, text="", wraplength=410, justify="left",
                               foreground="#666")
        self.about.grid(row=2, column=0, sticky="ew", pady=(8, 0))
        if self._lab_error:
            ttk.Label(left, text=self._lab_error, foreground="#c0392b", wraplength=410).grid(
                row=3, column=0, sticky="w")

        right = ttk.Frame(self)
        right.grid(row=0, column=1, sticky="nsew")
        right.columnconfigure(0, weight=1)
        right.rowconfigure(4, weight=1)

        self.form = ttk.LabelFrame(right, text="Settings", padding=(8, 4))
        self.form.grid(row=0, column=0, sticky="ew")
        self.form.columnconfigure(1, weight=1)
        self.form.columnconfigure(3, weight=1)
        self.widgets: dict[str, ttk.Widget] = {}
        self.labels: dict[str, ttk.Label] = {}
        for key, label in FIELDS.items():
            self.labels[key] = ttk.Label(self.form, text=label)
            if key == "mode":
                widget: ttk.Widget = ttk.Combobox(self.form, textvariable=self.vars[key],
                                                  values=MODES, state="readonly", width=10)
            elif key == "fork_style":
                widget = ttk.Combobox(self.form, textvariable=self.vars[key],
                                      values=FORK_STYLES, state="readonly", width=10)
            elif key == "python_start":
                widget = ttk.Combobox(self.form, textvariable=self.vars[key],
                                      values=PYTHON_STARTS, state="readonly", width=12)
            elif key in ("root", "cgi_dir"):
                widget = ttk.Frame(self.form)
                entry = ttk.Entry(widget, textvariable=self.vars[key])
                entry.pack(side="left", fill="x", expand=True)
                ttk.Button(widget, text="Browse…", command=lambda k=key: self._browse(k)).pack(
                    side="left", padx=(4, 0))
            else:
                widget = ttk.Entry(self.form, textvariable=self.vars[key],
                                   width=34 if key == "path" else 16)
            self.widgets[key] = widget
        self.vars["mode"].trace_add("write", lambda *a: self._sync_fork_style())

        bar = ttk.Frame(right)
        bar.grid(row=1, column=0, sticky="ew", pady=(8, 4))
        self.start_button = ttk.Button(bar, text="Start", style="Accent.TButton",
                                       command=self.start_selected)
        self.start_button.pack(side="left")
        self.stop_button = ttk.Button(bar, text="Stop", command=self.stop_selected)
        self.stop_button.pack(side="left", padx=(6, 0))
        self.browser_button = ttk.Button(bar, text="Open in browser",
                                         command=self.open_in_browser)
        self.browser_button.pack(side="left", padx=(6, 0))
        self.python_button = ttk.Button(bar, text="Show as Python", command=self.show_python)
        self.python_button.pack(side="left", padx=(6, 0))
        self.status = ttk.Label(bar, text="", anchor="w")
        self.status.pack(side="left", padx=(12, 0), fill="x", expand=True)

        self.summary = ttk.Label(right, text="", anchor="w", foreground="#666")
        self.summary.grid(row=2, column=0, sticky="ew")

        self.plot = Sparkline(right, (
            Series("Connections", "#2e86de", lambda v: f"{v:.0f}"),
            Series("Bytes/s", "#e67e22", human_rate),
        ), height=120)
        self.plot.grid(row=3, column=0, sticky="ew", pady=(4, 6))

        self.pages = ttk.Notebook(right)
        self.pages.grid(row=4, column=0, sticky="nsew")
        logbox = ttk.Frame(self.pages, padding=(0, 4, 0, 0))
        logbox.columnconfigure(0, weight=1)
        logbox.rowconfigure(1, weight=1)
        head = ttk.Frame(logbox)
        head.grid(row=0, column=0, sticky="ew")
        ttk.Label(head, text="Connections, errors and starts of every server").pack(
            side="left")
        ttk.Button(head, text="Clear", command=lambda: self.log.clear()).pack(side="right")
        self.log = LogView(logbox, max_lines=5000, height=10, tags=LOG_TAGS)
        self.log.grid(row=1, column=0, sticky="nsew")
        self.pages.add(logbox, text="Log (all servers)")

        clientbox = ttk.Frame(self.pages, padding=(0, 4, 0, 0))
        clientbox.columnconfigure(0, weight=1)
        clientbox.rowconfigure(0, weight=1)
        self.clients = ttk.Treeview(clientbox, columns=("state", "in", "out"),
                                    show="tree headings", selectmode="none")
        self.clients.heading("#0", text="Peer")
        self.clients.heading("state", text="State (4.3.2)")
        self.clients.heading("in", text="Bytes in")
        self.clients.heading("out", text="Bytes out")
        self.clients.column("#0", width=200)
        for column in ("state", "in", "out"):
            self.clients.column(column, width=110, anchor="e" if column != "state" else "w")
        scroll = ttk.Scrollbar(clientbox, command=self.clients.yview)
        self.clients.configure(yscrollcommand=scroll.set)
        self.clients.grid(row=0, column=0, sticky="nsew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.clients_note = ttk.Label(clientbox, text="", foreground="#666")
        self.clients_note.grid(row=1, column=0, sticky="w")
        self.pages.add(clientbox, text="Clients")

    def _browse(self, key: str) -> None:
        folder = filedialog.askdirectory(parent=self, title=FIELDS[key],
                                         initialdir=self.vars[key].get() or None)
        if folder:
            self.vars[key].set(folder)
