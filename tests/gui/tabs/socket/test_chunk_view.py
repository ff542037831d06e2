"""ChunkView: frames, slices, modes (the tab's use of it is in test_socket_console.py)."""

from __future__ import annotations

from core.transcript import IN, NOTE, OUT, Record
from gui.tabs.socket.chunk_view import ChunkView


def test_chunk_view_slices_big_records_across_frames(app) -> None:  # noqa: ANN001
    """A chunk bigger than one frame is drawn in slices, in order, nothing lost."""
    view = ChunkView(app.root, frame_chars=10_000)
    try:
        lines = b"".join(b"line %05d\n" % i for i in range(3000))
        view.add([Record(IN, lines, "peer")])
        view._frame()
        first = view.get_text()
        assert 0 < first.count("\n") < 3000  # only a slice so far
        view.flush()
        text = view.get_text()
        assert [f"line {i:05d}\\n" for i in range(3000)] == [
            line.split("  ", 1)[-1] for line in text.splitlines()]
        view.mode = "hex"
        view.redraw([Record(IN, bytes(range(256)) * 64, "peer")])
        view.flush()
        rows = [line for line in view.get_text().splitlines() if line[:8].isalnum()]
        assert len(rows) == 1024 and rows[-1].startswith("00003ff0")
    finally:
        view.destroy()


def test_flood_beyond_what_can_be_drawn_is_dropped_with_a_note(app) -> None:  # noqa: ANN001
    view = ChunkView(app.root, max_pending_chars=50_000)
    try:
        view.add([Record(OUT, b"x" * 1000, "p") for _ in range(100)])
        view.add([Record(NOTE, b"the end", "")])
        view.flush()
        text = view.get_text()
        assert text.startswith("… ") and "came faster than they can be shown" in text
        assert view.chunks_skipped > 0 and view.bytes_skipped == view.chunks_skipped * 1000
        assert text.rstrip().endswith("the end")
    finally:
        view.destroy()


def test_modes_and_columns(app) -> None:  # noqa: ANN001
    view = ChunkView(app.root)
    try:
        records = [Record(OUT, b"GET /\r\n", "10.0.0.1:80", at=0.0),
                   Record(IN, b"HTTP/1.0 200\r\n", "10.0.0.1:80", at=0.5)]
        view.redraw(records)
        view.flush()
        assert "GET /\\r\\n" in view.get_text() and "10.0.0.1:80" in view.get_text()
        view.mode, view.show_peer, view.show_time = "hex", False, False
        view.redraw(records)
        view.flush()
        text = view.get_text()
        assert "10.0.0.1" not in text and "47 45 54 20 2f 0d 0a" in text
        assert "00000000  48 54 54 50" in text  # each direction counts its own offsets
    finally:
        view.destroy()
