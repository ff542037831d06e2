from __future__ import annotations

from pathlib import Path

from core.recording import Recording
from gui.widgets.code_panel import show_code


def test_window_follows_the_recording_and_saves(app, wait_until, tmp_path: Path) -> None:
    rec = Recording("socket")
    window = show_code(app.root, rec, "Socket")
    try:
        assert "Nothing recorded yet" in window.script
        rec.add("connect", family="tcp", host="127.0.0.1", port=7000)
        rec.add("send", data=b"\x00\xff\r\n")
        wait_until(lambda: "b'\\x00\\xff\\r\\n'" in window.script)
        assert show_code(app.root, rec, "Socket") is window  # one window per recording
        target = tmp_path / "s.py"
        window.save(str(target))
        assert target.read_text() == window.script
        compile(window.script, "s.py", "exec")
        window.copy()
        assert app.root.clipboard_get() == window.script
    finally:
        window.destroy()
