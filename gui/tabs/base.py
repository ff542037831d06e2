"""The base every tab stands on."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from core.events import Event, Failed

if TYPE_CHECKING:
    from core.servers.base import ServerController
    from gui.app import WirebenchApp


class Tab(ttk.Frame):
    """One notebook page. Holds widgets and sessions' handles, never sockets.

    Subclasses set ``title`` and ``key`` (settings section), build their widgets in
    ``__init__``, attach their sessions' outboxes with ``self.app.bridge.attach`` and
    react in :meth:`on_events`.
    """

    title = "Tab"
    key = "tab"

    def __init__(self, master: tk.Misc, app: WirebenchApp) -> None:
        super().__init__(master, padding=8)
        self.app = app
        #: settings key -> the Tk variable persisted under it (see :meth:`persisted`)
        self._persisted: dict[str, tk.Variable] = {}

    # -- events ---------------------------------------------------------------------
    def on_events(self, events: list[Event]) -> None:
        """A batch from the bridge; override to coalesce floods. Default: one by one."""
        for event in events:
            self.on_event(event)

    def on_event(self, event: Event) -> None:
        if isinstance(event, Failed):
            self.show_error(event.message)

    # -- helpers --------------------------------------------------------------------
    @property
    def fields(self) -> dict[str, Any]:
        """This tab's persisted last-used fields."""
        return self.app.settings.section(self.key)

    def persisted(self, key: str, default: str | bool | int) -> Any:
        """A Tk variable holding the last-used value of field ``key`` (or ``default``),
        saved back under ``key`` by :meth:`save_fields`. The default's type picks the
        variable: str -> StringVar, bool -> BooleanVar, int -> IntVar; a stored value
        of another type (a hand-edited settings file) falls back to the default."""
        stored = self.fields.get(key, default)
        var: tk.Variable
        if isinstance(default, bool):
            var = tk.BooleanVar(self, value=stored if isinstance(stored, bool) else default)
        elif isinstance(default, int):
            ok = isinstance(stored, int) and not isinstance(stored, bool)
            var = tk.IntVar(self, value=stored if ok else default)
        else:  # text fields; numbers typed as text (a port) were stored as text or int
            ok = isinstance(stored, str | int) and not isinstance(stored, bool)
            var = tk.StringVar(self, value=str(stored) if ok else default)
        self._persisted[key] = var
        return var

    def show_error(self, message: str) -> None:
        self.app.set_status(message, error=True)

    def show_info(self, message: str) -> None:
        self.app.set_status(message)

    def with_lab_peer(self, kind: str, then: Callable[[ServerController], None]) -> None:
        """Call ``then(peer)`` with the running lab peer ``kind``, starting that peer when
        it is off (so a tab's Lab button works on its first click)."""
        peer = self.app.lab.peer(kind)
        if peer is None:
            self.show_error(f"The lab {kind} server is not part of this build.")
            return
        if peer.running:
            then(peer)
            return
        self.show_info(f"Starting the lab {kind} server…")

        def started(errors: dict[str, str]) -> None:
            if peer.running:
                then(peer)
            else:
                self.show_error(f"The lab {kind} server did not start: "
                                f"{errors.get(peer.kind, 'it stopped at once')}")

        self.app.start_lab(done=started, kinds=(peer.kind,))

    # -- app hooks ------------------------------------------------------------------
    def transcript_text(self) -> str | None:
        """What File > Save transcript writes for this tab, or None when it has none."""
        return None

    def open_target(self, host: str, port: int | None = None) -> None:
        """Pre-fill the connection fields (cross-tab action, e.g. from Lookup results):
        the persisted ``host`` and ``port`` fields, where the tab has them."""
        if "host" in self._persisted:
            self._persisted["host"].set(host)
        if port and "port" in self._persisted:
            self._persisted["port"].set(str(port))

    def on_shown(self) -> None:
        """The tab became visible."""

    def self_test(self) -> str | None:
        """Quick offline check for ``--self-test``; return an error sentence or None."""
        return None

    def save_fields(self) -> None:
        """Copy widget values into :attr:`fields` before settings are written.

        Saves every :meth:`persisted` variable; a tab with more to save extends this."""
        self.fields.update({key: var.get() for key, var in self._persisted.items()})

    def close(self) -> None:
        """Stop sessions and threads; called once when the window closes."""


class BrokenTab(Tab):
    """Shown when a tab's module fails to import: the rest of the app keeps working."""

    def __init__(self, master: tk.Misc, app: WirebenchApp, title: str, error: str) -> None:
        super().__init__(master, app)
        self.title = title
        ttk.Label(self, text=f"The {title} tab could not load:", foreground="#b00").pack(
            anchor="w")
        text = tk.Text(self, height=12, wrap="word")
        text.insert("1.0", error)
        text.configure(state="disabled")
        text.pack(fill="both", expand=True)
