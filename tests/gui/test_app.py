from __future__ import annotations

import gc
import sys
import tkinter as tk
from pathlib import Path

import pytest

from gui.app import TABS, WirebenchApp
from gui.tabs.base import BrokenTab


def test_six_tabs_in_order(app: WirebenchApp) -> None:
    titles = [app.notebook.tab(i, "text").strip() for i in range(app.notebook.index("end"))]
    assert titles == ["Socket", "Lookup", "Telnet", "FTP", "SMTP", "Servers"]
    assert len(app.tabs) == len(TABS)
    assert {t.key for t in app.tabs} == {"socket", "lookup", "telnet", "ftp", "smtp", "servers"}
    assert not any(isinstance(t, BrokenTab) for t in app.tabs)


def test_ctrl_number_switches_tabs(app: WirebenchApp, wait_until) -> None:
    app.root.focus_force()
    for index in (2, 5, 0):
        app.notebook.event_generate(f"<Control-Key-{index + 1}>")
        wait_until(lambda i=index: app.notebook.index("current") == i)
    assert app.current_tab() is app.tabs[0]


def test_status_bar_shows_errors_and_info(app: WirebenchApp) -> None:
    app.set_status("Port must be 1–65535, got 70000.", error=True)
    assert "70000" in app.status_var.get() and app.last_error.startswith("Port")
    app.set_status("Ready")
    assert app.status_var.get() == "Ready"


def test_menus_exist(app: WirebenchApp) -> None:
    labels = [app.menu.entrycget(i, "label") for i in range(app.menu.index("end") + 1)
              if app.menu.type(i) == "cascade"]
    assert labels == ["File", "View", "Lab", "Help"]


def test_theme_switch_round_trip(app: WirebenchApp) -> None:
    app.apply_theme("dark")
    assert app.settings.get("theme") == "dark"
    app.root.update()
    # the menu bar (and its X11 clone, the one on screen) goes dark with the rest
    bars = [w for w in app.root.tk.splitlist(app.root.tk.call("winfo", "children", "."))
            if app.root.tk.call("winfo", "class", w) == "Menu"]
    assert bars and all(str(app.root.tk.call(w, "cget", "-background")).lower()
                        in ("#1c1c1c", "#292929") for w in bars)
    app.apply_theme("light")
    assert app.theme_var.get() == "light"


def test_origin_document_opens(app: WirebenchApp) -> None:
    before = set(app.root.winfo_children())
    app.show_origin()
    (top,) = [w for w in app.root.winfo_children() if w not in before]
    text = next(w for w in top.winfo_children() if isinstance(w, tk.Text))
    assert "Python Network Programming" in text.get("1.0", "6.0")
    top.destroy()


def test_window_geometry_and_fields_persist(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREBENCH_CONFIG_DIR", str(tmp_path))
    root = tk.Tk()
    first = WirebenchApp(root)
    root.geometry("1024x700+20+30")
    root.update()
    socket_tab = first.tab("socket")
    socket_tab.host_entry.delete(0, "end")  # type: ignore[attr-defined]
    socket_tab.host_entry.insert(0, "example.org")  # type: ignore[attr-defined]
    first.tab("ftp").binary_var.set(False)  # type: ignore[attr-defined]
    first.tab("ftp").folder_limit_var.set("1234")  # type: ignore[attr-defined]
    first.tab("smtp").security_var.set("tls")  # type: ignore[attr-defined]
    first.tab("smtp").password_var.set("secret")  # type: ignore[attr-defined]
    first.close()
    root2 = tk.Tk()
    second = WirebenchApp(root2)
    try:
        assert second.settings.get("geometry").startswith("1024x700")
        assert second.tab("socket").fields["host"] == "example.org"
        assert second.tab("socket").host_var.get() == "example.org"  # type: ignore[attr-defined]
        assert second.tab("ftp").binary_var.get() is False  # type: ignore[attr-defined]
        assert second.tab("ftp").folder_limit_var.get() == "1234"  # type: ignore[attr-defined]
        assert second.tab("smtp").security_var.get() == "tls"  # type: ignore[attr-defined]
        assert "secret" not in (tmp_path / "settings.json").read_text()
    finally:
        second.close()
        # collect the closed roots here, on the Tk thread: a collection that happens to run
        # on a worker thread would delete Tcl interpreters there (Tcl_AsyncDelete abort)
        del first, second, root, root2
        gc.collect()


def test_tabs_are_built_when_first_needed(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREBENCH_CONFIG_DIR", str(tmp_path))
    root = tk.Tk()
    fresh = WirebenchApp(root)
    try:
        assert list(fresh._built) == []  # the window maps before any tab is built
        assert "bridge" not in fresh.__dict__ and "lab" not in fresh.__dict__
        root.update()
        assert fresh.first_tab_built and list(fresh._built) == [0]  # only the tab on show
        assert "bridge" in fresh.__dict__
        ftp = fresh.tab("ftp")
        assert ftp is not None and ftp.key == "ftp" and sorted(fresh._built) == [0, 3]
        assert fresh.tab("ftp") is ftp  # built once
        fresh.select_tab(5)
        root.update()
        assert fresh.current_tab().key == "servers"
        loader = fresh.preload_tabs()
        loader.join(60)
        assert not loader.is_alive()
        assert all(module in sys.modules for module, *_ in TABS)
    finally:
        fresh.close()
        del fresh, root
        gc.collect()


_FLOOD_THEN_QUIT = r"""
import os, socket, tempfile, threading, time, tkinter as tk
home = tempfile.mkdtemp()
os.environ["WIREBENCH_CONFIG_DIR"] = os.path.join(home, "c")
os.environ["WIREBENCH_DATA_DIR"] = os.path.join(home, "d")
from gui.app import TABS, WirebenchApp
server = socket.create_server(("127.0.0.1", 0))
def flood():
    conn, _ = server.accept()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            conn.sendall(b"x" * 65536)
        except OSError:
            break
    conn.close()
threading.Thread(target=flood, daemon=True).start()
root = tk.Tk(className="Wirebench")
app = WirebenchApp(root, lab_ephemeral=True)
for index in range(len(TABS)):
    app.select_tab(index)
    root.update()
app.select_tab(0)
tab = app.tab("socket")
tab.host_var.set("127.0.0.1")
tab.port_var.set(str(server.getsockname()[1]))
tab.primary_button.invoke()
end = time.monotonic() + 20
while time.monotonic() < end and tab.counters["in"][0] < 1_000_000:
    root.update()
print("received", tab.counters["in"][0])
root.after(1, app.close)  # from the event loop, as the window's close button does
root.mainloop()
# timers left behind fire in the next event loop of this thread (Tcl's timer queue is
# per thread): run one for a while, as a second window or Tk's exit handlers would
other = tk.Tk()
end = time.monotonic() + 1.5
while time.monotonic() < end:
    other.update()
    time.sleep(0.01)
other.destroy()
"""


def test_quitting_after_a_flood_leaves_no_background_errors() -> None:
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _FLOOD_THEN_QUIT], cwd=root, timeout=90,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    assert "received" in done.stdout and int(done.stdout.split()[-1]) >= 1_000_000
    assert "bgerror" not in done.stderr and "invalid command name" not in done.stderr, \
        done.stderr


def test_lab_status_follows_stop_all(app: WirebenchApp, wait_until) -> None:
    started: dict[str, dict] = {}
    app.start_lab(done=lambda errors: started.setdefault("errors", errors),
                  kinds=("echo-tcp",))
    wait_until(lambda: "errors" in started)
    assert started["errors"] == {} and "Lab running: 1 peers" in app.status_var.get()
    app.stop_lab()
    wait_until(lambda: not app.lab.running() and "Lab stopped" in app.status_var.get(),
               message=app.status_var.get())
    assert "running" not in app.status_var.get()
