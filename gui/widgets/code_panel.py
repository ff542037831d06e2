"""The "Show as Python" window: a live, read-only script with Copy and Save."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk

from core.codegen import render
from core.recording import Recording


class CodeWindow(tk.Toplevel):
    """Shows ``render(recording)`` and refreshes it (at most twice a second) as the
    session goes on. Rendering is pure string work, so it runs on the Tk thread."""

    refresh_ms = 500

    def __init__(self, master: tk.Misc, recording: Recording, title: str) -> None:
        super().__init__(master)
        self.recording = recording
        self.title(f"Show as Python — {title}")
        self.geometry("760x560")
        bar = ttk.Frame(self, padding=(8, 6))
        bar.pack(fill="x")
        self.info = ttk.Label(bar, text="")
        self.info.pack(side="left")
        ttk.Button(bar, text="Save…", command=self.save).pack(side="right")
        ttk.Button(bar, text="Copy", command=self.copy).pack(side="right", padx=6)
        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        self.text = tk.Text(body, wrap="none", font=("TkFixedFont", 10), padx=8, pady=6,
                            undo=False)
        ys = ttk.Scrollbar(body, command=self.text.yview)
        xs = ttk.Scrollbar(body, orient="horizontal", command=self.text.xview)
        self.text.configure(yscrollcommand=ys.set, xscrollcommand=xs.set)
        self.text.grid(row=0, column=0, sticky="nsew")
        ys.grid(row=0, column=1, sticky="ns")
        xs.grid(row=1, column=0, sticky="ew")
        body.rowconfigure(0, weight=1)
        body.columnconfigure(0, weight=1)
        self._shown_version = -1
        self._after: str | None = None
        self.refresh()

    @property
    def script(self) -> str:
        return self.text.get("1.0", "end-1c")

    def refresh(self) -> None:
        self._after = None
        if not self.winfo_exists():
            return
        if self.recording.version != self._shown_version:
            self._shown_version = self.recording.version
            script = render(self.recording)
            self.text.configure(state="normal")
            self.text.delete("1.0", "end")
            self.text.insert("1.0", script)
            self.text.configure(state="disabled")
            note = " (recording full: later steps left out)" if self.recording.truncated else ""
            self.info.configure(text=f"{len(self.recording)} steps recorded{note}")
        self._after = self.after(self.refresh_ms, self.refresh)

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


def show_code(master: tk.Misc, recording: Recording, title: str) -> CodeWindow:
    """Open (or raise) the script window for ``recording``."""
    existing = getattr(recording, "_window", None)
    if existing is not None and existing.winfo_exists():
        existing.deiconify()
        existing.lift()
        existing.refresh_now()
        return existing
    window = CodeWindow(master, recording, title)
    recording._window = window  # type: ignore[attr-defined]
    return window
