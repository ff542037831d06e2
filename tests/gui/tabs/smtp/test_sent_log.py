"""SentLogView shows the sent log newest first, refusals included."""

from __future__ import annotations

import gc

from core.smtp.drafts import SentEntry
from gui.tabs.smtp.sent_log import SentLogView


def test_rows(app):
    view = SentLogView(app.root)
    try:
        view.show([
            SentEntry(at=2_000_000_000, server="mx:25", sender="a@b.c",
                      recipients=("x@y.z",), subject="new", size=2048, outcome="250 ok",
                      refused=("bad@y.z",)),
            SentEntry(at=1_000_000_000, server="mx:25", sender="a@b.c",
                      recipients=("x@y.z",), subject="old", size=10, outcome="250 ok"),
        ])
        rows = view.rows()
        assert [r[3] for r in rows] == ["new", "old"]
        assert rows[0][2] == "x@y.z  (refused: bad@y.z)" and rows[0][4] == "2.0 KiB"
        view.show([])
        assert view.rows() == []
    finally:
        view.destroy()
        gc.collect()  # Tk variables must die on the Tk thread, not in a worker's GC
