"""The Socket tab driven like a user: fill fields, press buttons, read the views."""

from __future__ import annotations

import socket
from pathlib import Path

from gui.tabs.socket.tab import SocketTab
from tests.fixtures.socket_peers import EchoPeer


def choose_mode(tab: SocketTab, mode: str) -> None:
    tab.mode_box.set(mode)
    tab.mode_box.event_generate("<<ComboboxSelected>>")
    tab.update()


def fill(entry, text: str) -> None:  # noqa: ANN001
    entry.delete(0, "end")
    entry.insert(0, text)


def type_and_send(tab: SocketTab, text: str, fmt: str = "text", ending: str = "none") -> None:
    tab.format_box.set(fmt)
    tab.ending_box.set(ending)
    fill(tab.input, text)
    tab.send_button.invoke()


def shown(tab: SocketTab) -> str:
    tab.view.flush()
    return tab.view.get_text()


def test_connect_send_text_and_hex_see_echo_and_save(tab, tcp_echo: EchoPeer, wait_until,
                                                     tmp_path: Path) -> None:
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(tcp_echo.port))
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    assert "Established" in tab.state_var.get()
    assert tab.primary_button.instate(["disabled"]) and tab.mode_box.instate(["disabled"])

    type_and_send(tab, "hello\\tworld", ending="CRLF")
    wait_until(lambda: tab.counters["in"][0] == 13)
    text = shown(tab)
    assert text.count("hello\\tworld\\r\\n") == 2  # sent and echoed, escapes visible
    assert "▶" in text and "◀" in text
    assert tab.input.get() == ""  # sent lines leave the box (and go to history)

    type_and_send(tab, "ca:fe:ba:be 00", fmt="hex")
    wait_until(lambda: tab.counters["in"][0] == 18)
    tab.view_var.set("hex")
    tab._redraw()
    hex_text = shown(tab)
    assert hex_text.count("ca fe ba be 00") == 2
    assert "68 65 6c 6c 6f 09 77 6f  72 6c 64 0d 0a" in hex_text
    assert "\\xca" not in hex_text  # hex view: no text rendering

    tab.save_as("text", str(tmp_path / "t.txt"))
    tab.save_as("raw-in", str(tmp_path / "in.bin"))
    tab.save_as("hexdump", str(tmp_path / "t.hex"))
    assert (tmp_path / "in.bin").read_bytes() == b"hello\tworld\r\n\xca\xfe\xba\xbe\x00"
    saved = (tmp_path / "t.txt").read_text()
    assert ">> 127.0.0.1:" in saved and "<< 127.0.0.1:" in saved and "\\xca\\xfe" in saved
    assert "ca fe ba be 00" in (tmp_path / "t.hex").read_text()
    assert tab.transcript_text() == tab.transcript.as_text()

    tab.close_button.invoke()
    wait_until(lambda: "Closed" in tab.state_var.get())
    assert tab.primary_button.instate(["!disabled"])


def test_history_up_and_down(tab, tcp_echo: EchoPeer, wait_until) -> None:
    fill(tab.port_entry, str(tcp_echo.port))
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    for line in ("one", "two"):
        type_and_send(tab, line)
    tab.input.focus_force()
    tab.update()
    tab.input.event_generate("<Up>")
    assert tab.input.get() == "two"
    tab.input.event_generate("<Up>")
    assert tab.input.get() == "one"
    tab.input.event_generate("<Down>")
    assert tab.input.get() == "two"


def test_errors_are_one_sentence_in_the_tab(tab, wait_until) -> None:
    choose_mode(tab, "TCP client")
    type_and_send(tab, "abc")
    assert tab.error_var.get().startswith("⚠ Cannot send while closed")

    type_and_send(tab, "41 4", fmt="hex")
    assert "odd number of hex digits" in tab.error_var.get()
    assert tab.input.instate(["invalid"]) and tab.input.get() == "41 4"  # input kept

    fill(tab.port_entry, "70000")
    tab.primary_button.invoke()
    assert "Port must be 1–65535, got 70000" in tab.error_var.get()
    assert tab.port_entry.instate(["invalid"])

    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(port))
    tab.primary_button.invoke()
    wait_until(lambda: "Connection refused" in tab.error_var.get())
    assert "\n" not in tab.error_var.get() and "Traceback" not in tab.error_var.get()
    wait_until(lambda: tab.session.state.name == "Closed" and not tab.session.running)

    fill(tab.host_entry, "224.0.0.1")  # multicast: TCP has no route there
    tab.primary_button.invoke()
    wait_until(lambda: "Network unreachable" in tab.error_var.get())
    wait_until(lambda: tab.session.state.name == "Closed" and not tab.session.running)

    fill(tab.host_entry, "no-such-host.invalid")
    fill(tab.port_entry, "80")
    tab.primary_button.invoke()
    wait_until(lambda: "Name not found" in tab.error_var.get())
    assert tab.host_entry.instate(["invalid"])


def test_listener_peers_send_to_one_and_drop(tab, wait_until) -> None:
    choose_mode(tab, "TCP listener")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, "0")
    assert tab.primary_button.cget("text") == "Listen"
    tab.primary_button.invoke()
    wait_until(lambda: tab.session.local_address.endswith(tuple("0123456789"))
               and "Listening" in tab.state_var.get())
    port = int(tab.session.local_address.rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        wait_until(lambda: tab.peer_list.size() == 2)
        tab.peer_list.selection_set(0)
        tab.peer_list.event_generate("<<ListboxSelect>>")
        chosen = tab.to_var.get()
        assert chosen == tab.peer_list.get(0)
        type_and_send(tab, "only you")
        target = next(c for c in clients if chosen.endswith(f":{c.getsockname()[1]}"))
        assert target.recv(100) == b"only you"
        clients[0].sendall(b"from a client")
        wait_until(lambda: "from a client" in shown(tab))
        tab.drop_button.invoke()
        wait_until(lambda: tab.peer_list.size() == 1)
        assert target.recv(100) == b""
    finally:
        for client in clients:
            client.close()


def test_udp_mode_shows_recvfrom_peers(tab, udp_echo: EchoPeer, wait_until) -> None:
    choose_mode(tab, "UDP")
    assert tab.primary_button.cget("text") == "Open"
    assert tab.tls_check.instate(["disabled"])
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(udp_echo.port))
    tab.primary_button.invoke()
    wait_until(lambda: "Open (datagram)" in tab.state_var.get())
    type_and_send(tab, "ping over udp")
    wait_until(lambda: tab.peer_list.size() == 1)
    assert tab.peer_list.get(0) == f"127.0.0.1:{udp_echo.port}"
    assert shown(tab).count("\nping over udp\n") == 2  # sent, echoed (text lines)


def test_unix_stream_mode(tab, wait_until, unix_dir: Path) -> None:
    path = str(unix_dir / "tab.sock")
    peer = EchoPeer(family=socket.AF_UNIX, address=path)
    try:
        choose_mode(tab, "UNIX stream client")
        assert tab.path_entry.winfo_ismapped() and not tab.host_entry.winfo_ismapped()
        fill(tab.path_entry, path)
        tab.primary_button.invoke()
        wait_until(lambda: "Established" in tab.state_var.get())
        type_and_send(tab, "unix says hi")
        wait_until(lambda: shown(tab).count("\nunix says hi\n") == 2)
    finally:
        tab.close_button.invoke()
        wait_until(lambda: not tab.session.running)
        peer.close()


def test_one_megabyte_line_is_shown(tab, wait_until) -> None:
    choose_mode(tab, "TCP listener")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, "0")
    tab.primary_button.invoke()
    wait_until(lambda: "Listening" in tab.state_var.get() and tab.session.local_address)
    port = int(tab.session.local_address.rsplit(":", 1)[1])
    tab.view_var.set("text")
    tab._redraw()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"A" * 1_000_000 + b"<END>")
        wait_until(lambda: tab.counters["in"][0] == 1_000_005)
        text = shown(tab)
        assert "<END>" in text and text.count("A") >= 1_000_000
        assert max(len(line) for line in text.splitlines()) <= tab.view.wrap_at + 64


def test_dialogs_open_and_apply(tab, tcp_echo: EchoPeer, wait_until) -> None:
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(tcp_echo.port))
    dialog = tab.open_options()
    tab.option_vars["TCP_NODELAY"].set("on")
    assert "No socket open" in dialog.readback.get()
    dialog.destroy()
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    dialog = tab.open_options()
    assert "TCP_NODELAY=1" in dialog.readback.get()
    dialog.scrollback_var.set("50")
    dialog.set_scrollback()
    assert "Scrollback must be 100–1000000 chunks" in dialog.message.get()
    dialog.scrollback_var.set("500")
    dialog.set_scrollback()
    assert tab.transcript.max_records == 500 and dialog.message.get() == ""
    dialog.destroy()

    auto = tab.open_automation()
    fill(tab.input, "n={{COUNTER}} ")
    tab.ending_box.set("none")
    tab.format_box.set("text")
    auto.count_var.set("5")
    auto.interval_var.set("0")
    auto.start()
    wait_until(lambda: tab.counters["in"][0] == len("n=1 n=2 n=3 n=4 n=5 "))
    auto.match_var.set("(")
    auto.regex_var.set(True)
    auto.add_rule()
    assert "not a valid regular expression" in auto.message.get()
    auto.destroy()


def test_unticking_tls_after_a_tls_attempt_gives_plain_tcp(tab, tcp_echo: EchoPeer,
                                                            wait_until) -> None:
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(tcp_echo.port))
    if not tab.tls_var.get():
        tab.tls_check.invoke()
    tab.primary_button.invoke()  # the plain echo cannot speak TLS: this attempt fails
    wait_until(lambda: tab.primary_button.instate(["!disabled"]) and not tab.session.running)
    tab.tls_check.invoke()
    assert not tab.tls_var.get()
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    type_and_send(tab, "plain again")
    wait_until(lambda: tab.counters["in"][0] == len("plain again"))
    assert tcp_echo.received.endswith(b"plain again")
    assert "TLS" not in tab.error_var.get()


def test_hex_sends_exactly_the_bytes_typed(tab, tcp_echo: EchoPeer, wait_until) -> None:
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(tcp_echo.port))
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    tab.ending_box.set("CRLF")
    tab.format_box.set("hex")
    tab.format_box.event_generate("<<ComboboxSelected>>")
    assert tab.ending_box.instate(["disabled"])  # no line end in hex
    fill(tab.input, "de ad be ef 01 02 03")
    tab.input.focus_force()
    tab.input.event_generate("<Return>")
    wait_until(lambda: tab.counters["in"][0] == 7)
    assert tab.counters["out"][0] == 7 and tcp_echo.received == bytes.fromhex("deadbeef010203")
    tab.format_box.set("text")
    tab.format_box.event_generate("<<ComboboxSelected>>")
    assert tab.ending_box.instate(["!disabled"])


def dump_offsets(tab: SocketTab) -> list[str]:
    """The first column of every hexdump line on show."""
    return [line.split()[0] for line in shown(tab).splitlines()
            if line[:8].isalnum() and len(line) > 10 and line[8:10] == "  "]


def connect_echo(tab: SocketTab, port: int, wait_until) -> None:  # noqa: ANN001
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(port))
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())


def test_clear_and_new_connections_restart_counters_and_offsets(tab, tcp_echo: EchoPeer,
                                                                 wait_until) -> None:
    tab.view_var.set("hex")
    tab._redraw()
    connect_echo(tab, tcp_echo.port, wait_until)
    for word in ("abc", "def"):
        type_and_send(tab, word)
        wait_until(lambda w=word: tcp_echo.received.endswith(w.encode())
                   and tab.counters["in"][0] >= len(tcp_echo.received))
    assert dump_offsets(tab) == ["00000000", "00000000", "00000003", "00000003"]

    tab.clear_button.invoke()
    tab.counter_var.set("")
    wait_until(lambda: tab.counter_var.get() != "")  # the next 500 ms refresh
    assert "-" not in tab.counter_var.get() and min(tab.rates) >= 0
    type_and_send(tab, "gh")
    wait_until(lambda: tab.counters["in"][0] == 2)
    assert dump_offsets(tab) == ["00000000", "00000000"]

    tab.close_button.invoke()
    wait_until(lambda: "Closed" in tab.state_var.get() and not tab.session.running)
    tab.primary_button.invoke()  # a new connection: a new stream
    wait_until(lambda: "Established" in tab.state_var.get())
    type_and_send(tab, "ij")
    wait_until(lambda: tab.counters["in"][0] == 4)
    assert dump_offsets(tab)[-2:] == ["00000000", "00000000"]


def test_each_datagram_dumps_from_zero_and_close_forgets_peers(tab, udp_echo: EchoPeer,
                                                                wait_until) -> None:
    tab.view_var.set("hex")
    tab._redraw()
    choose_mode(tab, "UDP")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(udp_echo.port))
    tab.primary_button.invoke()
    wait_until(lambda: "Open (datagram)" in tab.state_var.get())
    for word in ("one", "two"):
        type_and_send(tab, word)
    wait_until(lambda: tab.counters["in"][1] == 2)
    assert dump_offsets(tab) == ["00000000"] * 4
    assert tab.peer_list.size() == 1
    tab.close_button.invoke()
    wait_until(lambda: "Closed" in tab.state_var.get() and not tab.session.running)
    assert tab.peer_list.size() == 0 and len(tab.to_box.cget("values")) == 1  # "all peers"


def test_a_success_clears_the_last_error(tab, tcp_echo: EchoPeer, wait_until) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    status = tab.app.status_var
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(port))
    tab.primary_button.invoke()
    wait_until(lambda: "refused" in tab.error_var.get(), message=tab.error_var.get())
    assert status.get().startswith("⚠")
    fill(tab.port_entry, str(tcp_echo.port))
    tab.primary_button.invoke()
    wait_until(lambda: "Established" in tab.state_var.get())
    assert tab.error_var.get() == "" and not status.get().startswith("⚠")
    assert f"connected to 127.0.0.1:{tcp_echo.port}" in status.get()


def test_lab_button_starts_the_echo_and_fills_the_form(tab, wait_until) -> None:
    peer = tab.app.lab.peer("echo-tcp")
    assert not peer.running
    choose_mode(tab, "TCP listener")
    fill(tab.port_entry, "1")
    tab.lab_button.invoke()
    try:
        wait_until(lambda: peer.running and tab.port_var.get() == str(peer.port))
        assert tab.mode_var.get() == "TCP client" and tab.host_var.get() == "127.0.0.1"
        assert "Lab echo server" in tab.app.status_var.get()
        tab.primary_button.invoke()
        wait_until(lambda: "Established" in tab.state_var.get())
        type_and_send(tab, "hello lab")
        wait_until(lambda: tab.counters["in"][0] == len("hello lab"))
    finally:
        tab.close_button.invoke()
        wait_until(lambda: not tab.session.running)
        peer.stop()


def test_menu_buttons_show_one_arrow(tab) -> None:
    for button in (tab.save_button, tab.shutdown_button):
        assert "▾" not in button.cget("text")  # the theme draws its own


def test_tls_errors_read_right(tab, trust_ca, wait_until, tmp_path: Path) -> None:
    import ssl
    import threading

    ca_file = tmp_path / "ca.pem"
    trust_ca.cert_pem.write_to_path(str(ca_file))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trust_ca.issue_cert("localhost").configure_cert(server_ctx)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def accept_twice() -> None:  # 1: rejected by the client; 2: hangs up after hello
        for _ in range(2):
            try:
                conn, _ = listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello\n")
            except (OSError, ssl.SSLError):
                continue  # the client rejected our name: fine, that is the first test

    server = threading.Thread(target=accept_twice)
    server.start()
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(listener.getsockname()[1]))
    if not tab.tls_var.get():
        tab.tls_check.invoke()
    tab.ca_var.set(str(ca_file))
    tab.sni_var.set("wrong.example")
    try:
        tab.primary_button.invoke()
        wait_until(lambda: "certificate rejected" in tab.error_var.get(),
                   message=tab.error_var.get())
        assert ".." not in tab.error_var.get()  # was "…'wrong.example'.. Give a CA file"
        wait_until(lambda: not tab.session.running)

        tab.sni_var.set("localhost")
        tab.primary_button.invoke()
        wait_until(lambda: tab.counters["in"][0] == 6)  # "hello", then the peer is gone
        server.join(10)
        wait_until(lambda: "ReadShut" in tab.session.state.name or not tab.session.running,
                   message=tab.state_var.get())
        type_and_send(tab, "anyone there?")
        wait_until(lambda: tab.error_var.get() != "", message=shown(tab))
        assert "closed the TLS connection" in tab.error_var.get(), tab.error_var.get()
        assert "speaks TLS" not in tab.error_var.get()
    finally:
        listener.close()
        server.join(10)
        tab.ca_var.set("")
        tab.sni_var.set("")
        tab.tls_check.invoke()


def test_both_view_shows_binary_as_a_dump_only(tab, tcp_echo: EchoPeer, wait_until) -> None:
    connect_echo(tab, tcp_echo.port, wait_until)
    type_and_send(tab, "00 01 02 03 04 05 ff fe 10 11", fmt="hex")
    wait_until(lambda: tab.counters["in"][0] == 10)  # one echo each: no coalescing
    type_and_send(tab, "plain words")
    wait_until(lambda: tab.counters["in"][0] == 21)
    text = shown(tab)
    assert "\\x00\\x01" not in text  # no escape soup above the dump
    assert text.count("10 bytes (binary)") == 2
    assert "00 01 02 03 04 05 ff fe  10 11" in text
    assert text.count("\nplain words\n") == 2  # text stays text in "both"
