"""The "Show as Python" window: a live, read-only script with Copy and Save."""

from __future__ import annotations

import functools
import threading
import tkinter as tk
from tkinter import filedialog, ttk

from core.codegen import render
from core.recording import Recording
from core.worker import Worker
from gui.widgets.scrolling import grid_scrolled

#: recordings carrying more payload than this render on a thread (a 25 MB mail becomes
#: a 100 MB literal: seconds of string work that must not freeze the window)
RENDER_INLINE_BYTES = 256 * 1024
#: longer scripts show their head only; Copy and Save still take the whole script
SHOWN_CHARS = 300_000


def _payload_size(recording: Recording) -> int:
    """Bytes and text the steps carry (a telnet line's wire is a list of bytes)."""
    def size(value: object) -> int:
        if isinstance(value, bytes | str):
            return len(value)
        if isinstance(value, list | tuple):
            return sum(size(item) for item in value)
        return 0
    return sum(size(value) for step in recording.steps() for value in step.args.values())


class CodeWindow(tk.Toplevel):
    """Shows ``render(recording)`` and refreshes it (at most twice a second) as the
    session goes on. Small recordings render on the Tk thread (pure string work, under a
    millisecond); large ones on ``worker`` (the script comes back through the bridge as an
    ``on_done`` call), and only a bounded head goes into the widget."""

    refresh_ms = 500

    def __init__(self, master: tk.Misc, recording: Recording, title: str,
                 worker: Worker) -> None:
        super().__init__(master)
        self.recording = recording
        self.worker = worker
        self.title(f"Show as Python — {title}")
        self.geometry("760x560")
        bar = ttk.Frame(self, padding=(8, 6))
        bar.pack(fill="x")
        self.info = ttk.Label(bar, text="")
        self.info.pack(side="left")
        self.close_button = ttk.Button(bar, text="Close", command=self.destroy)
        self.close_button.pack(side="right")
        ttk.Button(bar, text="Save…", command=self.save).pack(side="right", padx=(6, 0))
        ttk.Button(bar, text="Copy", command=self.copy).pack(side="right", padx=6)
        self.bind("<Escape>", lambda e: self.destroy())
        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        self.text = tk.Text(body, wrap="none", font=("TkFixedFont", 10), padx=8, pady=6,
                            undo=False)
        grid_scrolled(body, self.text)
        self._shown_version = -1
        self._script = ""
        self._rendering: threading.Thread | None = None  # the worker's, while it renders
        self._after: str | None = None
        self.refresh()

    @property
    def script(self) -> str:
        """The whole script (the widget may show only its head)."""
        return self._script

    def refresh(self) -> None:
        self._after = None
        if not self.winfo_exists():
            return
        version = self.recording.version
        if version != self._shown_version and self._rendering is None:
            if _payload_size(self.recording) <= RENDER_INLINE_BYTES:
                self._show(version, render(self.recording))
            else:
                self.info.configure(text="Writing a large script…")
                self._rendering = self.worker.submit(
                    render, self.recording, on_done=functools.partial(self._rendered, version),
                    on_error=self._render_failed, name="render-script")
        self._after = self.after(self.refresh_ms, self.refresh)

    def _rendered(self, version: int, script: str) -> None:
        """The worker's script, on the Tk thread (the window may be gone by then)."""
        self._rendering = None
        if self.winfo_exists():
            self._show(version, script)

    def _render_failed(self, message: str) -> None:
        self._rendering = None
        if self.winfo_exists():
            self.info.configure(text=f"Could not write the script: {message}")

    def _show(self, version: int, script: str) -> None:
        self._shown_version = version
        self._script = script
        shown = script
        if len(script) > SHOWN_CHARS:
            shown = (script[:SHOWN_CHARS] + f"\n# … {len(script) - SHOWN_CHARS:,} more "
                     "characters: Copy or Save takes the whole script\n")
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.insert("1.0", shown)
        self.text.configure(state="disabled")
        note = " (recording full: later steps left out)" if self.recording.truncated else ""
        self.info.configure(text=f"{len(self.recording)} steps recorded{note}")

    def refresh_now(self) -> None:
        """Show the latest steps at once instead of at the next timer tick."""
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        self.refresh()

    def copy(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.script)
        self.info.configure(text="Copied to the clipboard")

    def save(self, path: str | None = None) -> None:
        path = path or filedialog.asksaveasfilename(
            parent=self, defaultextension=".py", initialfile=f"{self.recording.kind}_session.py",
            filetypes=[("Python script", "*.py")])
        if not path:
            return
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.script)
        except OSError as exc:
            self.info.configure(text=f"Could not save {path}: {exc.strerror}")
        else:
            self.info.configure(text=f"Saved {path}")

    def destroy(self) -> None:
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        super().destroy()


def show_code(master: tk.Misc, recording: Recording, title: str, worker: Worker) -> CodeWindow:
    """Open (or raise) the script window for ``recording``; large scripts render on
    ``worker`` (the app's: its outbox is attached to the bridge)."""
    existing = getattr(recording, "_window", None)
    if existing is not None and existing.winfo_exists():
        existing.deiconify()
        existing.lift()
        existing.refresh_now()
        return existing
    window = CodeWindow(master, recording, title, worker)
    recording._window = window  # type: ignore[attr-defined]
    return window
