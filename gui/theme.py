"""The Sun Valley ttk theme (sv-ttk), loading only the variant in use.

``sv_ttk.set_theme`` sources both the light and the dark sprite sheets at start-up;
sourcing only the one shown halves the theme's share of start-up time. The other
variant is sourced the first time the user switches to it.
"""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import ttk


def _sv_paths() -> tuple[Path, Path] | None:
    try:
        import sv_ttk
    except ImportError:
        return None
    script = Path(sv_ttk.TCL_THEME_FILE_PATH)
    return script, script.parent / "theme"


def apply(root: tk.Tk, name: str) -> str:
    """Use the light or dark Sun Valley theme (or clam when sv-ttk is missing)."""
    name = "dark" if name == "dark" else "light"
    paths = _sv_paths()
    style = ttk.Style(root)
    if paths is None:
        style.theme_use("clam")
        return "clam"
    script, folder = paths
    loaded: set[str] = getattr(root, "_wb_sv_loaded", set())
    try:
        if name not in loaded:
            root.tk.call("source", str(folder / f"{name}.tcl"))
            loaded.add(name)
        if not getattr(root, "_wb_sv_common", False):
            # everything in sv.tcl after its two `source` lines: fonts and menu procs
            lines = script.read_text(encoding="utf-8").splitlines()
            root.tk.eval("\n".join(x for x in lines if not x.startswith("source ")))
            root._wb_sv_common = True  # type: ignore[attr-defined]
        root._wb_sv_loaded = loaded  # type: ignore[attr-defined]
        style.theme_use(f"sun-valley-{name}")
    except (tk.TclError, OSError):
        import sv_ttk

        sv_ttk.set_theme(name, root)
    return name
