"""Window shortcuts: they work from the terminal and stay quiet behind modal dialogs."""

from __future__ import annotations

import gc
import tkinter as tk
from pathlib import Path

import pytest

from gui.app import WirebenchApp


def test_shortcuts_do_not_act_behind_a_modal_dialog(app: WirebenchApp, wait_until) -> None:
    """Ctrl+2 and Ctrl+S typed in the real "Save transcript" dialog leave the window be."""
    app.select_tab(0)
    app.root.update()
    seen: dict[str, object] = {}

    def in_dialog() -> None:
        focus = str(app.root.tk.call("focus"))
        if not focus.startswith(".__tk_filedialog"):
            app.root.after(50, in_dialog)  # the dialog is not up yet
            return
        app.root.tk.call("event", "generate", focus, "<Control-Key-2>")
        app.root.tk.call("event", "generate", focus, "<Control-s>")
        app.root.update()
        seen["tab"] = app.notebook.index("current")
        seen["dialogs"] = [w for w in app.root.tk.call("winfo", "children", ".")
                           if str(w).startswith(".__tk_filedialog")]
        app.root.tk.call("event", "generate", focus, "<Escape>")  # Cancel

    app.root.after(100, in_dialog)
    app.root.focus_force()
    app.save_transcript()  # returns when the dialog is cancelled
    assert seen["tab"] == 0
    assert len(seen["dialogs"]) == 1  # Ctrl+S did not open a second dialog


def test_ctrl_q_quits_while_the_terminal_has_focus(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREBENCH_CONFIG_DIR", str(tmp_path))
    root = tk.Tk()
    fresh = WirebenchApp(root)
    try:
        fresh.select_tab(2)
        root.update()
        terminal = fresh.tab("telnet").terminal.text  # type: ignore[attr-defined]
        root.focus_force()
        terminal.focus_force()
        root.update()
        assert root.focus_get() is terminal
        terminal.event_generate("<Control-q>")
        assert fresh._closing
    finally:
        fresh.close()
        del fresh, root
        gc.collect()
