"""The main window: notebook of tabs, menus, status bar; ``run_app()`` is the entry."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import tkinter as tk
from functools import cached_property
from tkinter import ttk

from core.paths import asset
from core.settings import Settings
from core.version import __version__
from gui import geometry, shortcuts, theme

# Start-up: what the window needs before it maps is imported here, the rest (logging,
# typing, file dialogs, traceback: ~15 ms together) when first used
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from core.events import Event
    from core.servers.registry import LabRegistry
    from core.worker import Worker
    from gui.bridge import Bridge
    from gui.tabs.base import Tab



def _log() -> logging.Logger:
    import logging

    return logging.getLogger(__name__)

#: (module, class, title, settings key) of every tab, in notebook order (Ctrl+1..6)
TABS: tuple[tuple[str, str, str, str], ...] = (
    ("gui.tabs.socket.tab", "SocketTab", "Socket", "socket"),
    ("gui.tabs.lookup.tab", "LookupTab", "Lookup", "lookup"),
    ("gui.tabs.telnet.tab", "TelnetTab", "Telnet", "telnet"),
    ("gui.tabs.ftp.tab", "FtpTab", "FTP", "ftp"),
    ("gui.tabs.smtp.tab", "SmtpTab", "SMTP", "smtp"),
    ("gui.tabs.servers.tab", "ServersTab", "Servers", "servers"),
)

MIN_SIZE = (960, 640)


class WirebenchApp:
    def __init__(self, root: tk.Tk, lab_ephemeral: bool = False) -> None:
        self.root = root
        self.settings = Settings()
        self._lab_ephemeral = lab_ephemeral
        self.lab_listeners: list[Callable[[list[Event]], None]] = []
        self._pages: list[ttk.Frame] = []  # placeholders, replaced by tabs once built
        self._built: dict[int, Tab] = {}
        self._closing = False

        root.title("Wirebench")
        root.minsize(*MIN_SIZE)
        root.geometry(geometry.restore(self.settings.get("geometry"), root.winfo_screenwidth(),
                                       root.winfo_screenheight(), MIN_SIZE))
        self._set_icon()
        self.apply_theme(self.settings.get("theme", "light"))

        self.status_var = tk.StringVar(root, value="Ready")
        self.servers_var = tk.StringVar(root, value="No servers running")
        self._build_menu()
        self._build_status_bar()  # packed first so the notebook cannot squeeze it out
        self.notebook = ttk.Notebook(root)
        self.notebook.pack(fill="both", expand=True, padx=6, pady=(6, 0))
        self._build_pages()
        last = self.settings.get("last_tab", 0)
        if isinstance(last, int) and 0 <= last < len(TABS):
            self.notebook.select(last)
        self.notebook.bind("<<NotebookTabChanged>>", self._on_tab_changed)
        # the window is shown first and the tab on show is built right after it maps:
        # the user sees the window ~100 ms sooner instead of a blank screen
        self._first_map = root.bind("<Map>", self._build_first_tab, add="+")
        self.first_tab_built = False

        shortcuts.install(root, {
            **{f"<Control-Key-{i + 1}>": lambda i=i: self.select_tab(i) for i in range(len(TABS))},
            "<Control-s>": self.save_transcript}, {"<Control-q>": self.close})
        root.protocol("WM_DELETE_WINDOW", self.close)

    # -- the plumbing, made on first use (after the window is shown) -------------------
    # Networking modules cost ~40 ms to import; nothing on screen needs them before the
    # first tab is built, so the window maps first.
    @cached_property
    def bridge(self) -> Bridge:
        from gui.bridge import Bridge

        return Bridge(self.root)

    @cached_property
    def worker(self) -> Worker:
        from core.worker import Worker

        worker = Worker("app")
        self.bridge.attach(worker.outbox, self._on_app_events)
        return worker

    @cached_property
    def lab(self) -> LabRegistry:
        from core.servers.registry import LabRegistry

        return LabRegistry(ephemeral=self._lab_ephemeral, outbox=self.worker.outbox)

    # -- construction -----------------------------------------------------------------
    def _set_icon(self) -> None:
        try:
            self._icon = tk.PhotoImage(file=str(asset("icons", "wirebench.png")))
            self.root.iconphoto(True, self._icon)
        except (tk.TclError, OSError):
            pass

    def apply_theme(self, name: str) -> None:
        name = "dark" if name == "dark" else "light"
        theme.apply(self.root, name)
        self.settings.set("theme", name)
        if hasattr(self, "theme_var"):
            self.theme_var.set(name)

    def _build_menu(self) -> None:
        menu = tk.Menu(self.root)
        file_menu = tk.Menu(menu, tearoff=False)
        file_menu.add_command(label="Save transcript of this tab…", accelerator="Ctrl+S",
                              command=self.save_transcript)
        file_menu.add_separator()
        file_menu.add_command(label="Quit", accelerator="Ctrl+Q", command=self.close)
        menu.add_cascade(label="File", menu=file_menu)

        view = tk.Menu(menu, tearoff=False)
        self.theme_var = tk.StringVar(self.root, value=self.settings.get("theme", "light"))
        view.add_radiobutton(label="Light theme", variable=self.theme_var, value="light",
                             command=lambda: self.apply_theme("light"))
        view.add_radiobutton(label="Dark theme", variable=self.theme_var, value="dark",
                             command=lambda: self.apply_theme("dark"))
        menu.add_cascade(label="View", menu=view)

        lab = tk.Menu(menu, tearoff=False)
        lab.add_command(label="Start all lab peers", command=self.start_lab)
        lab.add_command(label="Stop all lab peers", command=self.stop_lab)
        menu.add_cascade(label="Lab", menu=lab)

        help_menu = tk.Menu(menu, tearoff=False)
        help_menu.add_command(label="The origin document", command=self.show_origin)
        help_menu.add_command(label="About Wirebench", command=self.show_about)
        menu.add_cascade(label="Help", menu=help_menu)
        self.root.configure(menu=menu)
        self.menu = menu

    def _build_status_bar(self) -> None:
        bar = ttk.Frame(self.root, padding=(8, 4))
        bar.pack(fill="x", side="bottom")
        self.status_label = ttk.Label(bar, textvariable=self.status_var, anchor="w")
        self.status_label.pack(side="left", fill="x", expand=True)
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        ttk.Label(bar, textvariable=self.servers_var, anchor="e").pack(side="right")

    def _build_pages(self) -> None:
        """One empty page per tab; a tab is built the first time it is needed.

        Building only the tab on show keeps start-up near a bare Tk window; the other
        tabs' modules (and their field libraries) are imported on a thread meanwhile.
        """
        for _module, _cls, title, _key in TABS:
            page = ttk.Frame(self.notebook)
            self._pages.append(page)
            self.notebook.add(page, text=f"  {title}  ")

    def _realize(self, index: int) -> Tab:
        tab = self._built.get(index)
        if tab is not None:
            return tab
        module_name, class_name, title, _key = TABS[index]
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            tab = cls(self.notebook, self)
        except Exception:
            import traceback

            _log().exception("tab %s failed to load", title)
            from gui.tabs.base import BrokenTab

            tab = BrokenTab(self.notebook, self, title, traceback.format_exc())
        # the built tab takes its placeholder's place, so the notebook manages the tab
        # itself (notebook.select(tab) and notebook.index(tab) work as usual)
        placeholder = self._pages[index]
        was_current = self.notebook.select() == str(placeholder)
        self._built[index] = tab
        self.notebook.insert(placeholder, tab, text=f"  {title}  ")
        self.notebook.forget(placeholder)
        placeholder.destroy()
        self._pages[index] = tab
        if was_current:
            self.notebook.select(tab)
        return tab

    @property
    def tabs(self) -> list[Tab]:
        """Every tab, built if it was not yet."""
        return [self._realize(i) for i in range(len(TABS))]

    def preload_tabs(self) -> threading.Thread:
        """Import the other tabs' modules on a thread, so switching to them is quick."""

        def work() -> None:
            for module_name, *_ in TABS:
                try:
                    importlib.import_module(module_name)
                except Exception:  # reported when the tab is built on the Tk thread
                    _log().debug("preloading %s failed", module_name, exc_info=True)

        thread = threading.Thread(target=work, name="wb-keep-preload", daemon=True)
        thread.start()
        return thread

    # -- behaviour --------------------------------------------------------------------
    def current_tab(self) -> Tab:
        return self._realize(self.notebook.index("current"))

    def select_tab(self, index: int) -> None:
        if 0 <= index < len(TABS):
            self.notebook.select(index)

    def tab(self, key: str) -> Tab | None:
        """The tab whose settings key is ``key`` (for cross-tab actions), built if needed."""
        index = next((i for i, entry in enumerate(TABS) if entry[3] == key), None)
        return None if index is None else self._realize(index)

    def tab_index(self, tab: Tab) -> int:
        return self.notebook.index(tab)

    def _build_first_tab(self, event: tk.Event) -> None:
        if event.widget is not self.root or self.first_tab_built:
            return
        self.root.unbind("<Map>", self._first_map)
        self.root.after_idle(self._show_first_tab)

    def _show_first_tab(self) -> None:
        self.first_tab_built = True
        self.worker  # noqa: B018 - creating it attaches the app's own events to the bridge
        self._on_tab_changed(None)
        self.root.event_generate("<<WirebenchReady>>")

    def _on_tab_changed(self, event: object) -> None:
        if not self.first_tab_built:
            return  # the notebook announces its first page before the window maps
        try:
            index = self.notebook.index("current")
        except tk.TclError:
            return
        tab = self._realize(index)
        self.settings.set("last_tab", index)
        tab.on_shown()

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_var.set(("⚠ " if error else "") + text)
        self.status_label.configure(foreground="#c0392b" if error else "")
        self.status_is_error = error
        if error:
            self.last_error = text

    def clear_error(self, text: str = "Ready") -> None:
        """A tab's next success: an error on show is old news now (info stays)."""
        if getattr(self, "status_is_error", False):
            self.set_status(text)

    def save_transcript(self) -> None:
        tab = self.current_tab()
        text = tab.transcript_text()
        if text is None:
            self.set_status(f"The {tab.title} tab has no transcript to save.")
            return
        from tkinter import filedialog

        path = filedialog.asksaveasfilename(
            parent=self.root, title=f"Save {tab.title} transcript",
            defaultextension=".txt", initialfile=f"wirebench-{tab.key}.txt")
        if not path:
            return
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            self.set_status(f"Could not save the transcript to {path}: {exc.strerror}.",
                            error=True)
        else:
            self.set_status(f"Transcript saved to {path}")

    def open_in_browser(self, url: str) -> None:
        """Open ``url`` in the user's browser (off the Tk thread); the status bar says
        whether a browser took it, not merely that it was asked to."""
        import webbrowser

        def work() -> tuple[bool, str]:
            return webbrowser.open(url, new=2), url

        self.set_status(f"Opening {url} in your web browser…")
        self.worker.submit(work, on_done=lambda result: self._browser_done(*result))

    def _browser_done(self, opened: bool, url: str) -> None:
        if opened:
            self.set_status(f"Opened {url} in your web browser.")
        else:
            self.set_status(f"No web browser could be started for {url}: open it in one "
                            "yourself, or set the BROWSER variable.", error=True)

    # -- lab ----------------------------------------------------------------------------
    def start_lab(self, done: Callable[[dict[str, str]], None] | None = None,
                  kinds: tuple[str, ...] | None = None) -> None:
        """Start the lab peers (only ``kinds`` when given) off the Tk thread."""
        self.set_status("Starting lab peers…")

        def started(errors: dict[str, str]) -> None:
            if errors:
                self.set_status("Lab: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                                error=True)
            else:
                self.set_status(f"Lab running: {len(self.lab.running())} peers on 127.0.0.1")
            if done:
                done(errors)

        self.worker.submit(self.lab.start_all, kinds, on_done=started)

    def stop_lab(self) -> None:
        # the "Lab running: 7 peers" of the start must not outlive the peers
        self.worker.submit(self.lab.stop_all, on_done=lambda _: self.set_status(
            "Lab stopped: every lab peer is off."))

    def _on_app_events(self, events: list[Event]) -> None:
        from core.events import Failed, LogLine, ServerCrashed, ServerStarted, ServerStopped

        server_change = False
        for event in events:
            if isinstance(event, Failed):
                self.set_status(event.message, error=True)
            elif isinstance(event, ServerStarted | ServerStopped | ServerCrashed):
                server_change = True
            elif isinstance(event, LogLine) and event.level == "error":
                self.set_status(f"{event.source}: {event.text}", error=True)
        if server_change:
            self.refresh_servers_status()
        for listener in list(self.lab_listeners):
            listener(events)

    def refresh_servers_status(self, extra: int = 0) -> None:
        running = self.lab.running()
        count = len(running) + extra
        if count == 0:
            self.servers_var.set("No servers running")
        else:
            names = ", ".join(p.kind for p in running[:4]) + ("…" if len(running) > 4 else "")
            self.servers_var.set(f"{count} server{'s' * (count != 1)} running"
                                 + (f": {names}" if names else ""))

    # -- help ---------------------------------------------------------------------------
    def show_about(self) -> None:
        from tkinter import messagebox

        messagebox.showinfo(
            "About Wirebench", f"Wirebench {__version__}\n\nA desktop workbench for exploring "
            "network protocols by hand: sockets, DNS, telnet, FTP, SMTP and embedded servers.\n"
            f"Python {sys.version.split()[0]}, Tk {self.root.tk.call('info', 'patchlevel')}",
            parent=self.root)

    def show_origin(self) -> None:
        top = tk.Toplevel(self.root)
        top.title("Python Network Programming (Tîponut, 2001) — the origin document")
        top.geometry("860x640")
        text = tk.Text(top, wrap="word", padx=12, pady=8, font=("TkTextFont", 11))
        scroll = ttk.Scrollbar(top, command=text.yview)
        text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        text.pack(fill="both", expand=True)
        try:
            text.insert("1.0", asset("origin-document.txt").read_text(encoding="utf-8"))
        except OSError as exc:
            text.insert("1.0", f"The document is missing from assets/: {exc}")
        text.configure(state="disabled")

    # -- shutdown -----------------------------------------------------------------------
    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        try:
            # what geometry() takes back: the frame's place, not the client area's
            self.settings.set("geometry", self.root.wm_geometry())
            for tab in self._built.values():
                tab.save_fields()
            self.settings.save()
        except (OSError, tk.TclError):
            _log().warning("could not save settings", exc_info=True)
        for tab in self._built.values():
            try:
                tab.close()
            except Exception:
                _log().exception("closing tab %s", tab.title)
        # servers stop off the Tk thread but we wait (bounded) so no thread outlives Tk
        if "lab" in self.__dict__:  # never made: nothing to stop
            stopper = threading.Thread(target=self.lab.stop_all, daemon=True)
            stopper.start()
            stopper.join(3.0)
        if "bridge" in self.__dict__:
            self.bridge.close()
        # timers of views (counters, idle ticks) would fire into destroyed widgets and
        # print "bgerror … invalid command name" on the way out
        # (Tcl's own cancel: each widget deletes its callback commands when destroyed)
        for pending in self.root.tk.splitlist(self.root.tk.call("after", "info")):
            self.root.tk.call("after", "cancel", pending)
        self.root.destroy()


def run_self_test(app: WirebenchApp) -> int:
    """Visit every tab, start and stop every lab peer; 0 when all went well."""
    from gui.tabs.base import BrokenTab

    failures: list[str] = []
    root = app.root

    def pump(seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            root.update()
            time.sleep(0.01)

    pump(0.3)
    for index in range(len(TABS)):
        app.select_tab(index)
        pump(0.1)
        tab = app.current_tab()
        if not tab.winfo_ismapped():
            failures.append(f"tab {tab.title} is not shown when selected")
        try:
            problem = tab.self_test()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"tab {tab.title}: {problem}")
        if isinstance(tab, BrokenTab):
            failures.append(f"tab {tab.title} failed to load")
    result: dict[str, dict[str, str]] = {}
    app.start_lab(done=lambda errors: result.setdefault("errors", errors))
    pump(30, lambda: "errors" in result)
    if "errors" not in result:
        failures.append("lab peers did not start within 30 s")
    else:
        failures.extend(f"lab peer {k}: {v}" for k, v in result["errors"].items())
    running = len(app.lab.running())
    stopped = threading.Event()
    app.worker.submit(lambda: (app.lab.stop_all(), stopped.set()))
    pump(10, stopped.is_set)
    if app.lab.running():
        failures.append("lab peers still running after stop: "
                        + ", ".join(p.kind for p in app.lab.running()))
    print(f"self-test: {len(app.tabs)} tabs visited, {len(app.lab.peers())} lab peers "
          f"({running} started, all stopped)" if not failures else "self-test FAILED:")
    for failure in failures:
        print(f"  - {failure}")
    return 1 if failures else 0


def run_app(lab: bool = False, self_test: bool = False) -> int:
    root = tk.Tk(className="Wirebench")
    app = WirebenchApp(root, lab_ephemeral=self_test)
    if self_test:
        code = run_self_test(app)
        app.close()
        return code
    if lab:
        root.after(50, app.start_lab)
    root.after(300, app.preload_tabs)
    if os.environ.get("WIREBENCH_STARTUP_PROBE"):
        # bench/startup.py: report when the window is first mapped and when its first tab
        # is built and drawn, then quit
        def mapped(event: tk.Event) -> None:
            if event.widget is root:
                print(f"mapped {time.time():.6f}", flush=True)

        def ready(event: tk.Event) -> None:
            root.update_idletasks()
            print(f"ready {time.time():.6f}", flush=True)
            root.after_idle(app.close)

        root.bind("<Map>", mapped, add="+")
        root.bind("<<WirebenchReady>>", ready, add="+")
    root.mainloop()
    return 0
