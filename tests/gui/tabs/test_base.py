"""The tab base: fields declared once with ``persisted`` load and save themselves."""

from __future__ import annotations

import gc
import tkinter as tk

import pytest

from gui.tabs.base import Tab


class FieldsTab(Tab):
    key = "test-fields"


@pytest.fixture
def make_tab(app):
    made: list[Tab] = []

    def make(stored: dict) -> FieldsTab:
        app.settings.set(FieldsTab.key, dict(stored))
        tab = FieldsTab(app.root, app)
        made.append(tab)
        return tab

    yield make
    for tab in made:
        tab.destroy()
    app.settings.set(FieldsTab.key, {})
    made.clear()
    gc.collect()  # free the Tk variables here, on the Tk thread


def test_declared_once_loaded_and_saved(make_tab) -> None:
    tab = make_tab({"host": "example.org", "tls": True, "lines": 7, "port": 2121})
    host = tab.persisted("host", "127.0.0.1")
    tls = tab.persisted("tls", False)
    lines = tab.persisted("lines", 100)
    port = tab.persisted("port", "21")  # stored as a number by an older version
    fresh = tab.persisted("fresh", "default")
    assert isinstance(host, tk.StringVar) and isinstance(tls, tk.BooleanVar)
    assert isinstance(lines, tk.IntVar)
    assert (host.get(), tls.get(), lines.get(), port.get(), fresh.get()) == \
        ("example.org", True, 7, "2121", "default")
    host.set("changed")
    tls.set(False)
    tab.save_fields()
    assert tab.fields == {"host": "changed", "tls": False, "lines": 7, "port": "2121",
                          "fresh": "default"}


def test_a_stored_value_of_the_wrong_type_falls_back(make_tab) -> None:
    tab = make_tab({"host": ["not", "text"], "tls": "yes", "lines": True})
    assert tab.persisted("host", "127.0.0.1").get() == "127.0.0.1"
    assert tab.persisted("tls", False).get() is False
    assert tab.persisted("lines", 100).get() == 100


def test_open_target_fills_the_persisted_host_and_port(make_tab) -> None:
    tab = make_tab({})
    host = tab.persisted("host", "127.0.0.1")
    port = tab.persisted("port", "21")
    tab.open_target("ftp.example", 2121)
    assert (host.get(), port.get()) == ("ftp.example", "2121")
    tab.open_target("other.example")  # no port: the field keeps its value
    assert (host.get(), port.get()) == ("other.example", "2121")
