"""The Servers tab in the real app: start an echo server, talk to it, watch, stop."""

from __future__ import annotations

import socket

import pytest

from tests.fixtures.server_peers import recv_all


@pytest.fixture
def tab(app, wait_until):
    from gui.app import TABS

    servers = app.tab("servers")
    app.select_tab(next(i for i, entry in enumerate(TABS) if entry[1] == "ServersTab"))
    yield servers
    # nothing this test started may outlive it
    for entry in servers.entries:
        if entry.running and not entry.busy:
            servers.select(entry.key)
            servers.stop_selected()
    wait_until(lambda: not any(e.running or e.busy for e in servers.entries), timeout=10)


@pytest.mark.parametrize("mode", ["threaded", "select", "fork"])
def test_start_talk_watch_stop(app, tab, wait_until, mode: str) -> None:
    tab.select("echo-tcp")
    tab.set_fields(host="127.0.0.1", port=0, mode=mode)
    tab.start_button.invoke()
    entry = tab.current
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    assert tab.status.cget("text").startswith("Running on 127.0.0.1:")
    assert tab.tree.set("echo-tcp", "state") == "running"
    assert "1 server running" in app.servers_var.get() or "servers running" in \
        app.servers_var.get()

    with socket.create_connection(("127.0.0.1", entry.controller.port), timeout=5) as sock:
        sock.sendall(b"hello from the test")
        assert recv_all(sock, 19) == b"hello from the test"
        wait_until(lambda: entry.last is not None and entry.last.connections == 1, timeout=10)
        assert "1 connected" in tab.summary.cget("text")
        assert tab.plot.latest("Connections") == 1
        name = f"127.0.0.1:{sock.getsockname()[1]}"
        wait_until(lambda: [tab.clients.item(i, "text") for i in tab.clients.get_children()]
                   == [name], timeout=10)
        (row,) = tab.clients.get_children()
        assert tab.clients.set(row, "state") == "Established"
        assert tab.pages.tab(1, "text") == "Clients (1)"
    wait_until(lambda: "closed (peer closed): 19 B in, 19 B out" in tab.log.get_text())
    assert "connected" in tab.log.get_text()

    tab.stop_button.invoke()
    wait_until(lambda: not entry.running and not entry.busy, timeout=10)
    assert tab.tree.set("echo-tcp", "state") == "stopped"
    assert tab.status.cget("text").startswith("Stopped")
    assert not tab.clients.get_children()
    assert str(tab.start_button.cget("state")) == "normal"


def test_bad_port_names_the_field(app, tab) -> None:
    tab.select("echo-tcp")
    tab.set_fields(port="70000")
    tab.start_button.invoke()
    assert "Port must be" in tab.status.cget("text")
    assert "Port must be" in app.status_var.get()
    assert not tab.current.running and not tab.current.busy
    assert app.root.focus_get() is tab.widgets["port"]


def test_port_in_use_is_reported_in_the_tab(app, tab, wait_until) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        tab.select("echo-tcp")
        tab.set_fields(port=holder.getsockname()[1], mode="select")
        tab.start_button.invoke()
        wait_until(lambda: not tab.current.busy, timeout=10)
        assert "in use" in tab.status.cget("text")
        assert "could not start" in tab.log.get_text()
    finally:
        holder.close()


def test_udp_echo_from_the_tab(app, tab, wait_until) -> None:
    tab.select("echo-udp")
    tab.set_fields(port=0)
    tab.start_button.invoke()
    entry = tab.current
    wait_until(lambda: entry.running and not entry.busy, timeout=10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(b"dgram", ("127.0.0.1", entry.controller.port))
        assert sock.recvfrom(100)[0] == b"dgram"
    wait_until(lambda: "datagrams from 127.0.0.1" in tab.log.get_text())


def test_unix_stream_from_the_tab(app, tab, wait_until, tmp_path) -> None:
    path = tmp_path / "tab.sock"
    tab.select("echo-unix")
    tab.set_fields(path=path, mode="select")
    tab.start_button.invoke()
    entry = tab.current
    wait_until(lambda: entry.running and not entry.busy, timeout=10)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(b"unix")
        assert recv_all(sock, 4) == b"unix"


def test_lab_peer_started_and_stopped_from_the_tab(app, tab, wait_until) -> None:
    key = "lab:echo-tcp"
    tab.select(key)
    entry = tab.current
    assert entry.lab and entry.controller is app.lab.peer("echo-tcp")
    tab.set_fields(port=0)
    tab.start_button.invoke()
    wait_until(lambda: entry.running and not entry.busy, timeout=10)
    with socket.create_connection(("127.0.0.1", entry.controller.port), timeout=5) as sock:
        sock.sendall(b"lab")
        assert recv_all(sock, 3) == b"lab"
    # the lab's events arrive through app.lab_listeners
    wait_until(lambda: "echo-tcp: 127.0.0.1:" in tab.log.get_text() and
               tab.tree.set(key, "state") == "running")
    tab.stop_button.invoke()
    wait_until(lambda: not entry.running and not entry.busy, timeout=10)


def test_cgi_row_serves_and_opens_the_browser(app, tab, wait_until, monkeypatch) -> None:
    import urllib.request
    import webbrowser

    tab.select("cgi")
    entry = tab.current
    assert str(tab.browser_button.cget("state")) == "disabled"  # not running yet
    opened: list[str] = []
    browser_found = [False]  # the machine has no browser at first

    def fake_open(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        return browser_found[0]

    monkeypatch.setattr(webbrowser, "open", fake_open)
    tab.set_fields(host="127.0.0.1", port=0, root="", cgi_dir="")
    tab.start_button.invoke()
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    url = f"http://127.0.0.1:{entry.controller.port}/"
    request = urllib.request.Request(url, headers={"X-Padding": "p" * 300})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200
    # "bytes in" counts the request head too (a GET has no body): > 300 padding bytes
    wait_until(lambda: entry.controller.stats().bytes_in > 300)
    tab.browser_button.invoke()
    wait_until(lambda: opened == [url] and "No web browser" in app.status_var.get(),
               message=app.status_var.get())
    assert "Opened" not in app.status_var.get()
    browser_found[0] = True
    tab.browser_button.invoke()
    wait_until(lambda: app.status_var.get() == f"Opened {url} in your web browser.",
               message=app.status_var.get())


def test_fork_style_only_for_fork_mode(app, tab) -> None:
    tab.select("echo-tcp")
    tab.set_fields(mode="threaded")
    app.root.update()
    assert str(tab.widgets["fork_style"].cget("state")) == "disabled"
    tab.set_fields(mode="fork")
    app.root.update()
    assert str(tab.widgets["fork_style"].cget("state")) == "readonly"


def test_self_test_and_transcript(app, tab) -> None:
    assert tab.self_test() is None
    assert isinstance(tab.transcript_text(), str)


def test_fork_helper_death_shown_and_restart_works(app, tab, wait_until) -> None:
    import os
    import signal

    tab.select("echo-tcp")
    tab.set_fields(port=0, mode="fork", fork_style="double")
    tab.start_button.invoke()
    entry = tab.current
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    first = entry.controller
    os.kill(first.helper_pid, signal.SIGKILL)
    wait_until(lambda: tab.tree.set("echo-tcp", "state") == "crashed", timeout=10)
    wait_until(lambda: "ended unexpectedly" in tab.log.get_text())
    assert tab.status.cget("text").startswith("Crashed: ChildProcessError: the fork helper")
    tab.start_button.invoke()  # also stops the dead one's stats ticker
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    assert entry.controller is not first
    with socket.create_connection(("127.0.0.1", entry.controller.port), timeout=5) as sock:
        sock.sendall(b"again")
        assert recv_all(sock, 5) == b"again"


def test_show_as_python_follows_the_chosen_design(app, tab, tmp_path) -> None:
    import subprocess
    import sys

    tab.select("echo-tcp")
    tab.set_fields(host="127.0.0.1", port=7321, mode="fork", fork_style="double")
    tab.python_button.invoke()
    window = tab._echo_recordings["echo-tcp"]._window
    try:
        script = window.script
        assert "fork design (double fork)" in script and "('127.0.0.1', 7321)" in script
        path = tmp_path / "echo.py"
        window.save(str(path))
        check = subprocess.run([sys.executable, "-m", "py_compile", str(path)],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        tab.set_fields(mode="select")
        tab.python_button.invoke()  # the same window, now the select design
        app.root.update()
        assert "selectors.DefaultSelector()" in window.script
    finally:
        window.destroy()


def test_server_names_fit_their_column(app, tab) -> None:
    import tkinter.font as tkfont

    app.root.update()
    font = tkfont.nametofont("TkDefaultFont")
    width = tab.tree.column("#0", "width")
    for parent in ("", *tab.tree.get_children("")):
        for iid in tab.tree.get_children(parent):
            indent = 40 if parent else 20  # the tree's indent and its open/close mark
            text = tab.tree.item(iid, "text")
            assert font.measure(text) + indent <= width, f"{text!r} is cut at {width} px"
    # an address with a 5-digit (ephemeral) port fits too
    assert font.measure("127.0.0.1:65535") + 8 <= tab.tree.column("address", "width")
    assert font.measure("stopped") + 8 <= tab.tree.column("state", "width")
    # and the three fit the list at 1024 px: the tree is not wider than its pane
    total = sum(tab.tree.column(c, "width") for c in ("#0", "address", "state"))
    assert total <= 420


def test_a_crashed_server_is_shown_with_its_reason_and_can_start_again(app, tab,
                                                                       wait_until) -> None:
    tab.select("echo-tcp")
    tab.set_fields(host="127.0.0.1", port=0, mode="select")
    tab.start_button.invoke()
    entry = tab.current
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    # what the guard of a serving thread does when the loop raises (core tests cover that)
    entry.controller.crashed(RuntimeError("loop failed"))
    wait_until(lambda: tab.tree.set("echo-tcp", "state") == "crashed", timeout=10)
    assert tab.status.cget("text") == ("Crashed: RuntimeError: loop failed. Press Start to "
                                       "run it again.")
    wait_until(lambda: "crashed: RuntimeError: loop failed" in tab.log.get_text())
    assert str(tab.start_button.cget("state")) == "normal"
    assert str(tab.stop_button.cget("state")) == "disabled"
    tab.start_button.invoke()
    wait_until(lambda: entry.running and not entry.busy, timeout=20)
    assert tab.tree.set("echo-tcp", "state") == "running" and not entry.crashed
    with socket.create_connection(("127.0.0.1", entry.controller.port), timeout=5) as sock:
        sock.sendall(b"back")
        assert recv_all(sock, 4) == b"back"
