"""Helpers for the screenshot scripts: start the real app, drive it, capture the screen.

Run a script under Xvfb, e.g.::

    xvfb-run -a -s "-screen 0 1280x800x24" python docs/shots/main_window.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("WIREBENCH_CONFIG_DIR", tempfile.mkdtemp(prefix="wb-shot-cfg-"))
os.environ.setdefault("WIREBENCH_DATA_DIR", tempfile.mkdtemp(prefix="wb-shot-data-"))


def launch(geometry: str | None = "1280x772+0+0", theme: str = "light"):  # -> WirebenchApp
    """The app with fresh settings; ``geometry=None`` keeps the size it picks itself."""
    from gui.app import WirebenchApp

    root = tk.Tk(className="Wirebench")
    app = WirebenchApp(root, lab_ephemeral=True)
    app.apply_theme(theme)
    if geometry is not None:
        root.geometry(geometry)
    pump(root, 0.5)
    return app


def pump(root: tk.Misc, seconds: float, until: Callable[[], object] | None = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        if until is not None and until():
            return
        time.sleep(0.01)


def capture(root: tk.Misc, name: str, folder: Path = ROOT / "docs") -> Path:
    """Save the app's window (menu bar included) as FOLDER/NAME.png (imagemagick's import)."""
    pump(root, 0.4)
    out = folder / f"{name}.png"
    top = root.winfo_toplevel()
    # the menu bar lives in the toplevel's wrapper, above the client area: crop the
    # screen from the wrapper's top edge to the client area's bottom edge
    wrapper_y = int(top.wm_geometry().rsplit("+", 1)[1])
    x, y = top.winfo_rootx(), top.winfo_rooty()
    width, height = top.winfo_width(), top.winfo_height() + (y - wrapper_y)
    subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+{x}+{wrapper_y}",
                    "+repage", str(out)], check=True)
    return out


def connect_socket_tab(app, port: int, timeout: float = 3.0):  # -> the Socket tab
    """Select the Socket tab and connect it as a TCP client to 127.0.0.1:``port``."""
    app.select_tab(0)
    tab = app.tab("socket")
    tab.view_var.set("both")
    tab.mode_var.set("TCP client")
    tab._on_mode_changed()
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(port))
    tab.primary_button.invoke()
    pump(app.root, timeout, lambda: tab.session.state.name == "Established")
    return tab
