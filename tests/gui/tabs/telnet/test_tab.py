"""The Telnet tab against the real lab server: typing, colours in the view, resize -> NAWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from core.servers.telnet_lab import TelnetLabServer
from gui.tabs.telnet.tab import DECCKM, TelnetTab


@pytest.fixture
def tab(app, telnet_lab: TelnetLabServer, wait_until: Callable[..., None]) -> Iterator[TelnetTab]:  # noqa: ANN001
    tab = app.tab("telnet")
    app.select_tab(app.tabs.index(tab))
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(telnet_lab.port))
    tab.mode_var.set("telnet")
    tab.tls_var.set(False)
    tab.connect()
    wait_until(lambda: "login:" in tab.terminal.all_text(), message="no login prompt")
    yield tab
    tab.session.close()
    wait_until(lambda: tab.connect_button.cget("text") == "Connect", timeout=5)


def type_keys(tab: TelnetTab, text: str) -> None:
    widget = tab.terminal.text
    widget.focus_force()
    for ch in text:
        if ch == "\r":
            widget.event_generate("<KeyPress>", keysym="Return")
        elif ch == " ":
            widget.event_generate("<KeyPress>", keysym="space")
        else:
            widget.event_generate("<KeyPress>", keysym=ch)


def test_typing_reaches_the_server_and_colours_render(
        tab: TelnetTab, wait_until: Callable[..., None]) -> None:
    type_keys(tab, "lab\r")
    wait_until(lambda: "Password:" in tab.terminal.all_text())
    type_keys(tab, "wirebench\r")
    wait_until(lambda: "lab@wirebench" in tab.terminal.all_text())
    assert "wirebench\n" not in tab.terminal.all_text().split("Password:")[1][:12]
    type_keys(tab, "echo typed\r")
    wait_until(lambda: "\ntyped" in tab.terminal.all_text(), message="echo output missing")
    type_keys(tab, "colors\r")
    wait_until(lambda: "true colour" in tab.terminal.all_text())
    # find "fg1" (red) and "br1" (bright red) cells and check their Tk tags
    t = tab.terminal
    lines = t.all_text().split("\n")
    y = next(i for i, line in enumerate(lines) if " fg1 " in line)
    x = lines[y].index("fg1")
    assert t.tags_at(y, x)["foreground"] == "#cd0000"
    y2 = next(i for i, line in enumerate(lines) if " bg2 " in line)
    assert t.tags_at(y2, lines[y2].index("bg2"))["background"] == "#00cd00"
    y3 = next(i for i, line in enumerate(lines) if "underline" in line and "bold" in line)
    assert t.tags_at(y3, lines[y3].index("underline")).get("underline") in ("1", "True")
    assert t.tags_at(y3, lines[y3].index("bold"))["weight"] == "bold"
    assert t.tags_at(y3, lines[y3].index("italic"))["slant"] == "italic"
    # the prompt is coloured too (bold green user@host)
    assert t.tags_at(len(lines) - 1 if "lab@" in lines[-1] else
                     max(i for i, line in enumerate(lines) if "lab@wirebench" in line),
                     0)["foreground"] == "#00ff00"
    # the inspector saw the negotiation by name
    wait_until(lambda: "recv WILL ECHO" in tab.side.inspector.get_text())


def test_resize_sends_naws(tab: TelnetTab, telnet_lab: TelnetLabServer,
                           wait_until: Callable[..., None]) -> None:
    cw, ch = tab.terminal.cell_size()
    tab.terminal.text.event_generate("<Configure>", width=cw * 72 + 10, height=ch * 19 + 6)
    wait_until(lambda: telnet_lab.naws_seen[-1:] == [(72, 19)],
               message=f"NAWS seen: {telnet_lab.naws_seen[-3:]}")
    wait_until(lambda: "sent SB NAWS 72 19" in tab.side.inspector.get_text())
    wait_until(lambda: tab.terminal.columns == 72 and tab.terminal.rows == 19)


def test_bad_port_is_reported_in_the_tab(app, wait_until: Callable[..., None]) -> None:  # noqa: ANN001
    tab = app.tab("telnet")
    tab.port_var.set("99999")
    tab.connect()
    assert "Port must be 1–65535" in app.status_var.get()
    assert not tab.session.running


def test_keys_map_to_xterm_sequences(app, scripted_peer, wait_until: Callable[..., None]) -> None:  # noqa: ANN001
    from tests.fixtures.telnet_peers import ScriptedPeer

    # a server that echoes and suppresses go-ahead (the client is in character mode) and
    # turns on application cursor keys (DECCKM)
    peer = scripted_peer(ScriptedPeer.greeter(b"\xff\xfb\x01\xff\xfb\x03ready\r\n\x1b[?1h"))
    tab = app.tab("telnet")
    app.select_tab(app.tabs.index(tab))
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(peer.port))
    tab.connect()
    wait_until(lambda: "ready" in tab.terminal.all_text())
    wait_until(lambda: tab.session.character_mode)
    wait_until(lambda: DECCKM in tab.session.screen.mode)
    widget = tab.terminal.text
    widget.focus_force()
    for keysym, state in (("Up", 0), ("F5", 0), ("c", 4), ("x", 8), ("Home", 0),
                          ("BackSpace", 0), ("Return", 0), ("F12", 0)):
        widget.event_generate("<KeyPress>", keysym=keysym, state=state)
    expected = b"\x1bOA\x1b[15~\x03\x1bx\x1bOH\x7f\r\x00\x1b[24~"
    assert peer.wait_for(expected), bytes(peer.received)
    tab.session.close()
    wait_until(lambda: not tab.session.running)


def test_wheel_scrolls_back_and_typing_returns(
        tab: TelnetTab, wait_until: Callable[..., None]) -> None:
    tab.type_text("lab\r")
    wait_until(lambda: "Password:" in tab.terminal.all_text())
    tab.type_text("wirebench\r")
    wait_until(lambda: "lab@wirebench" in tab.terminal.all_text())
    tab.type_text("flood 200\r")
    wait_until(lambda: "-- 200 lines --" in tab.terminal.all_text())
    widget = tab.terminal.text
    widget.event_generate("<Button-4>", x=5, y=5)
    wait_until(lambda: tab.terminal.offset == 3)
    assert "scrolled back 3" in tab.scroll_var.get()
    widget.event_generate("<KeyPress>", keysym="Prior", state=1)  # Shift+PgUp
    wait_until(lambda: tab.terminal.offset == 3 + tab.terminal.rows - 1)
    assert "-- 200 lines --" not in tab.terminal.all_text()
    tab.type_text("x")  # typing goes back to the live screen
    wait_until(lambda: tab.terminal.offset == 0 and "-- 200 lines --" in tab.terminal.all_text())


def test_automation_panel_logs_in_and_never_saves_the_secret(
        tab: TelnetTab, wait_until: Callable[..., None]) -> None:
    from gui.tabs.telnet.side_panel import DEFAULT_SCRIPT

    if not tab._inspector_visible:
        tab.toggle_inspector()
    tab.side.script_text.delete("1.0", "end")
    tab.side.script_text.insert("1.0", DEFAULT_SCRIPT)
    tab.side.secret_var.set("wirebench")
    tab.side.run_button.invoke()
    wait_until(lambda: tab.side.auto_var.get().startswith("All"), timeout=20,
               message=f"automation: {tab.side.auto_var.get()}")
    wait_until(lambda: "true colour" in tab.terminal.all_text())
    tab.save_fields()
    assert "wirebench" not in repr({k: v for k, v in tab.fields.items() if k != "script"})
    assert "{secret}" in tab.fields["script"]
    tab.toggle_inspector()


def test_connection_fields_come_back_in_a_new_tab(app) -> None:  # noqa: ANN001
    """What the user set before connecting is what the next start shows."""
    tab = app.tab("telnet")
    before = {key: var.get() for key, var in tab._persisted.items()}
    tab.host_var.set("kept.example")
    tab.port_var.set("2424")
    tab.tls_var.set(True)
    tab.keepalive_var.set("30")
    tab.environ_var.set(False)
    tab._set_ca_file("/tmp/lab.pem")
    tab.save_fields()
    fresh = TelnetTab(app.root, app)
    try:
        assert (fresh.host_var.get(), fresh.port_var.get(), fresh.tls_var.get(),
                fresh.keepalive_var.get(), fresh.environ_var.get()) == \
            ("kept.example", "2424", True, "30", False)
        assert fresh._settings().ca_file == "/tmp/lab.pem"
    finally:
        fresh.close()
        fresh.destroy()
        for key, value in before.items():  # the app is shared by later tests
            tab._persisted[key].set(value)
        tab.save_fields()


def test_typing_opens_a_key_window_and_painted_frames_are_acknowledged(
        tab: TelnetTab, wait_until: Callable[..., None]) -> None:
    """A key lifts the screen thread's frame cap (its echo is painted at once) and the
    tab tells the screen thread each time it painted, so frames never queue behind it."""
    painter = tab.session.screen_thread
    type_keys(tab, "l")
    assert painter._key_until > 0  # noqa: SLF001 - the window a keystroke opened
    wait_until(lambda: "login: l" in tab.terminal.all_text(), message="no echo")
    wait_until(lambda: not painter._unpainted)  # noqa: SLF001


def test_a_failed_connect_is_told_in_the_terminal(app, wait_until) -> None:  # noqa: ANN001
    import socket

    tab = app.tab("telnet")
    app.select_tab(app.tabs.index(tab))
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(port))
    tab.mode_var.set("telnet")
    tab.tls_var.set(False)
    tab.connect_button.invoke()
    wait_until(lambda: "Connection failed." in tab.terminal.all_text(),
               message=tab.terminal.all_text())
    assert "refused" in tab.terminal.all_text().replace("\n", " ")
    wait_until(lambda: tab.connect_button.cget("text") == "Connect", timeout=5)


def test_the_status_bar_stops_saying_connected_when_the_peer_leaves(
        app, tab: TelnetTab, wait_until) -> None:  # noqa: ANN001
    assert app.status_var.get().startswith("Telnet: connected")
    type_keys(tab, "lab\r")
    wait_until(lambda: "Password:" in tab.terminal.all_text())
    type_keys(tab, "wirebench\r")
    wait_until(lambda: "$ " in tab.terminal.all_text())
    type_keys(tab, "exit\r")  # the server ends the session
    wait_until(lambda: tab.connect_button.cget("text") == "Connect", timeout=10)
    assert not app.status_var.get().startswith("Telnet: connected")
    assert "disconnected" in app.status_var.get()


def test_lab_button_then_connect_logs_in_with_the_shown_login(app, wait_until) -> None:  # noqa: ANN001
    from core.servers.lab_account import LAB_PASSWORD, LAB_USER

    tab = app.tab("telnet")
    app.select_tab(app.tabs.index(tab))
    peer = app.lab.peer("telnet")
    assert not peer.running
    tab.port_var.set("1")
    tab.lab_button.invoke()
    try:
        wait_until(lambda: peer.running and tab.port_var.get() == str(peer.port))
        assert f"{LAB_USER} / {LAB_PASSWORD}" in tab.lab_label.cget("text")
        tab.connect_button.invoke()
        wait_until(lambda: "login:" in tab.terminal.all_text(), message="no login prompt")
        type_keys(tab, f"{LAB_USER}\r")
        wait_until(lambda: "Password:" in tab.terminal.all_text())
        type_keys(tab, f"{LAB_PASSWORD}\r")
        wait_until(lambda: "lab@wirebench" in tab.terminal.all_text(),
                   message=tab.terminal.all_text())
    finally:
        tab.session.close()
        wait_until(lambda: tab.connect_button.cget("text") == "Connect", timeout=5)
        peer.stop()
