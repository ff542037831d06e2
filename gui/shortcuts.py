"""Window-wide key bindings that stay out of the way of dialogs.

A binding acts only when its key was pressed in the main window (or, for the ``anywhere``
ones such as Ctrl+Q, in any window of the app) and no modal dialog holds the grab: Ctrl+1
typed in "Save transcript" must not switch the tab behind it, nor Ctrl+S open a second one.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Mapping

Action = Callable[[], object]


def guarded(root: tk.Tk, action: Action,
            anywhere: bool = False) -> Callable[[tk.Event], str | None]:
    def handler(event: tk.Event) -> str | None:
        # Tcl paths, not widgets: Tk's own file dialog has no tkinter objects
        call = root.tk.call
        try:
            grab = str(call("grab", "current"))
            if grab and str(call("winfo", "toplevel", grab)) != ".":
                return None
            top = str(call("winfo", "toplevel", str(event.widget)))
        except tk.TclError:
            return None
        if top != "." and not anywhere:
            return None
        action()
        return "break"

    return handler


def install(root: tk.Tk, main_window: Mapping[str, Action],
            anywhere: Mapping[str, Action]) -> None:
    """Bind ``main_window`` keys for the main window and ``anywhere`` keys for all."""
    for sequence, action in main_window.items():
        root.bind_all(sequence, guarded(root, action))
    for sequence, action in anywhere.items():
        root.bind_all(sequence, guarded(root, action, anywhere=True))
