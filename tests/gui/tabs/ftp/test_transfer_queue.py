"""The transfer queue view: rows with bars, speed and ETA; the current-transfer line."""

from __future__ import annotations

import gc
from pathlib import Path
from tkinter import ttk

from core.ftp.transfers import DONE, FAILED, RUNNING, TransferItem
from gui.tabs.ftp.transfer_queue import TransferQueueView, bar, duration, rate_text


def item(**kw) -> TransferItem:
    base = dict(id=1, direction="download", remote_path="/big.bin",
                local_path=Path("/tmp/big.bin"), size=4 << 20)
    base.update(kw)
    return TransferItem(**base)


def test_helpers():
    assert bar(0.5).startswith("██████░░░░░░") and bar(0.5).endswith("50%")
    assert bar(2.0).endswith("100%")
    assert duration(None) == "" and duration(75) == "1:15" and duration(3725) == "1:02:05"
    assert rate_text(0) == "" and rate_text(2 << 20) == "2.0 MiB/s"


def test_rows_update_in_place_and_show_progress(app):
    top = ttk.Frame(app.root)
    view = TransferQueueView(top)
    view.pack()
    try:
        view.show([item(state=RUNNING, done=1 << 20, rate=float(1 << 20))])
        values = view.tree.item("1", "values")
        assert values[1] == "running" and "25%" in values[2] and values[4] == "1.0 MiB/s"
        assert values[5] == "0:03"
        assert "Downloading big.bin: 1.0 MiB of 4.0 MiB" in view.current_var.get()
        assert float(view.progress.cget("value")) == 250
        view.show([item(state=DONE, done=4 << 20)])
        assert len(view.tree.get_children()) == 1
        assert view.tree.item("1", "values")[1] == "done"
        view.show([item(id=2, state=FAILED, done=10, resumable=True, error="cut off")])
        assert view.tree.item("2", "values")[1] == "failed (resumable)"
        assert "cut off" in view.current_var.get()
        view.tree.selection_set("2")
        assert view.selected_ids() == [2]
        view.forget([1, 2])
        assert view.tree.get_children() == ()
    finally:
        top.destroy()
        del view
        gc.collect()  # free its Tk variables on this (the Tk) thread
