from __future__ import annotations

from pathlib import Path

from core.recording import Recording
from gui.widgets.code_panel import show_code


def test_window_follows_the_recording_and_saves(app, wait_until, tmp_path: Path) -> None:
    rec = Recording("socket")
    window = show_code(app.root, rec, "Socket", app.worker)
    try:
        assert "Nothing recorded yet" in window.script
        rec.add("connect", family="tcp", host="127.0.0.1", port=7000)
        rec.add("send", data=b"\x00\xff\r\n")
        wait_until(lambda: "b'\\x00\\xff\\r\\n'" in window.script)
        assert show_code(app.root, rec, "Socket", app.worker) is window  # one window per recording
        target = tmp_path / "s.py"
        window.save(str(target))
        assert target.read_text() == window.script
        compile(window.script, "s.py", "exec")
        window.copy()
        assert app.root.clipboard_get() == window.script
    finally:
        window.destroy()


def test_a_large_session_renders_off_the_tk_thread_and_shows_its_head(app, wait_until,
                                                                     tmp_path: Path) -> None:
    from gui.widgets import code_panel

    rec = Recording("socket")
    rec.add("connect", family="tcp", host="127.0.0.1", port=7000)
    rec.add("send", data=bytes(range(256)) * 8192)  # 2 MiB: a 6 MB literal
    window = show_code(app.root, rec, "Socket", app.worker)
    try:
        assert window._rendering is not None  # not rendered on the Tk thread
        wait_until(lambda: window._rendering is None and window.script, timeout=60)
        shown = window.text.get("1.0", "end-1c")
        assert len(window.script) > code_panel.SHOWN_CHARS
        assert len(shown) < len(window.script) and "Copy or Save takes the whole" in shown
        target = tmp_path / "big.py"
        window.save(str(target))
        assert target.read_text() == window.script
        compile(window.script, "big.py", "exec")
    finally:
        window.destroy()


def test_close_button_and_escape_close_the_window(app) -> None:
    rec = Recording("socket")
    window = show_code(app.root, rec, "Socket", app.worker)
    window.update()
    window.close_button.invoke()
    assert not window.winfo_exists()
    window = show_code(app.root, rec, "Socket", app.worker)  # a fresh one: the old is gone
    window.update()
    window.text.focus_force()
    window.update()
    window.text.event_generate("<Escape>")
    assert not window.winfo_exists()
