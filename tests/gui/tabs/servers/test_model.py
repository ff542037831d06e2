"""Server entries of the Servers tab: validation, building, history (no Tk)."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.events import ServerStats
from core.servers.echo.server import LAB_PORT, ForkEchoServer, lab_peers
from gui.tabs.servers.model import lab_entry, tab_entries


def entry(key: str):
    return next(e for e in tab_entries() if e.key == key)


def tcp_entry():
    return entry("echo-tcp")


def test_entries_come_from_the_registry_in_order() -> None:
    assert [e.key for e in tab_entries()] == ["echo-tcp", "echo-udp", "echo-unix", "cgi"]
    first, second = tab_entries(), tab_entries()
    first[0].config["port"] = "1"
    assert second[0].config["port"] == "7001"  # each entry has its own form


def test_builds_an_echo_server_from_the_form() -> None:
    entry = tcp_entry()
    entry.config.update(port="0", mode="fork", fork_style="double", max_clients="3",
                        idle_timeout="2.5", buffer_kib="64")
    server = entry.build()
    assert isinstance(server, ForkEchoServer) and server.fork_style == "double"
    assert (server.limits.max_clients, server.limits.idle_timeout,
            server.limits.buffer_cap) == (3, 2.5, 64 * 1024)


@pytest.mark.parametrize(("values", "field"), [
    ({"port": "http"}, "Port"),
    ({"host": " "}, "Host"),
    ({"max_clients": "many"}, "Max clients"),
    ({"idle_timeout": "-1"}, "Idle timeout"),
    ({"buffer_kib": "0"}, "Buffer cap"),
])
def test_bad_fields_are_named(values: dict, field: str) -> None:
    entry = tcp_entry()
    entry.config.update(values)
    with pytest.raises(UserError) as info:
        entry.build()
    assert info.value.field_name == field


def test_history_turns_stats_into_rates() -> None:
    entry = tcp_entry()
    assert entry.record(ServerStats(kind="k", connections=2, bytes_in=0, at=100.0)) == (2, 0.0)
    assert entry.record(ServerStats(kind="k", connections=3, bytes_in=500, bytes_out=500,
                                    at=102.0)) == (3, 500.0)
    assert list(entry.history["Connections"]) == [2.0, 3.0]
    assert "3 connected" in entry.summary() and "500 B in" in entry.summary()
    entry.reset_history()
    assert entry.last is None and not entry.history["Bytes/s"]


def test_lab_entry_reconfigures_its_peer_only_when_stopped() -> None:
    peer = lab_peers()[0]
    entry = lab_entry(peer)
    assert entry.config["port"] == str(LAB_PORT)
    entry.config["port"] = "0"
    assert entry.build() is peer and peer.port == 0


def test_cgi_folders_must_exist(tmp_path) -> None:
    cgi = entry("cgi")
    cgi.config["root"] = str(tmp_path / "nowhere")
    with pytest.raises(UserError) as info:
        cgi.build()
    assert info.value.field_name == "Document root"


def test_cgi_python_start_setting_switches_the_zygote() -> None:
    from core.servers.cgi.zygote import PYTHON_STARTS

    cgi = entry("cgi")
    assert cgi.config["python_start"] == PYTHON_STARTS[0] and cgi.build().python_zygote
    cgi.config["python_start"] = PYTHON_STARTS[1]
    assert not cgi.build().python_zygote


def test_max_clients_left_empty_is_the_modes_default() -> None:
    tcp = entry("echo-tcp")
    tcp.config.update(port="0", mode="select")
    assert tcp.config["max_clients"] == "" and tcp.build().limits.max_clients == 10_000
    tcp.config.update(mode="threaded")
    assert tcp.build().limits.max_clients == 512
    tcp.config.update(mode="select", max_clients="40")
    assert tcp.build().limits.max_clients == 40
