"""The Socket tab's saved messages window: save the form, send with a click, export and
import, against a real echo peer."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.socket_peers import EchoPeer
from tests.gui.tabs.socket.test_tab import choose_mode, fill


def test_saved_messages_send_with_one_click_and_travel_as_a_file(tab, tcp_echo: EchoPeer,
                                                                  wait_until,
                                                                  tmp_path: Path) -> None:
    from core.sockets.messages import MessageStore

    store = MessageStore(tmp_path / "messages.json")
    choose_mode(tab, "TCP client")
    fill(tab.host_entry, "127.0.0.1")
    fill(tab.port_entry, str(tcp_echo.port))
    tab.format_box.set("hex")
    fill(tab.input, "01 02 03 04")
    window = tab.open_saved()
    window.store = store
    try:
        window.name_var.set("ping bytes")
        window.save_button.invoke()
        assert window.tree.get_children() == ("ping bytes",)
        exported = tmp_path / "out.json"
        window.export(str(exported))
        window.tree.selection_set("ping bytes")
        window.delete_selected()
        assert window.tree.get_children() == ()
        window.import_(str(exported))
        assert window.tree.get_children() == ("ping bytes",)

        fill(tab.input, "")
        tab.format_box.set("text")
        window.tree.selection_set("ping bytes")
        window.send_button.invoke()  # closed: it connects, then sends
        wait_until(lambda: tab.counters["in"][0] == 4)
        assert tcp_echo.received == b"\x01\x02\x03\x04"
        window.send_button.invoke()  # open to the same target: sent at once
        wait_until(lambda: tab.counters["in"][0] == 8)
    finally:
        window.destroy()
    (tmp_path / "junk.json").write_text('{"not": "a list"}')
    window = tab.open_saved()
    window.store = store
    window.import_(str(tmp_path / "junk.json"))
    assert "not a list of saved messages" in window.note_var.get()
    window.destroy()
