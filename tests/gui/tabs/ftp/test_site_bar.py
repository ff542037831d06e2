"""The FTP site bar: the Options dialog's limits reach the listing and the folder download,
bad values are named in the tab, and Stop ends a login or listing a hostile server holds."""

from __future__ import annotations

import pytest

from core.ftp.transfers import DONE
from tests.fixtures.ftp_peers import Script
from tests.gui.tabs.ftp.conftest import fill

#: far beyond any wait in these tests: a Stop that only waited for it would fail them
LONG_TIMEOUT = "120"


@pytest.mark.parametrize("var, typed, says", [
    ("listing_limit_var", "", "Listing limit is empty"),
    ("listing_limit_var", "eight", "Listing limit must be a number from 0.1 to 256 MB"),
    ("folder_limit_var", "0", "Folder entry limit must be from 1 to 10,000,000 entries"),
    ("folder_limit_var", "-4", "got -4"),
    ("folder_limit_var", "2.5", "Folder entry limit must be a whole number"),
    ("timeout_var", "99999", "Timeout must be from 0.1 to 3,600 seconds"),
])
def test_a_bad_option_is_named_in_the_tab_and_its_dialog_opens_on_it(app, tab, ftp_lab,
                                                                     var, typed, says):
    fill(tab, ftp_lab.port)
    getattr(tab, var).set(typed)
    tab.connect_button.invoke()
    assert says in app.status_var.get()
    assert not tab.session.busy  # nothing was started
    dialog = tab.options_dialog
    assert dialog is not None and dialog.winfo_exists()
    assert says in dialog.message.get()
    assert dialog.apply() is False  # still bad: the dialog stays, naming the field
    getattr(tab, var).set({"timeout_var": "20", "listing_limit_var": "8"}.get(var, "50000"))
    assert dialog.apply() is True and not dialog.winfo_exists()


def test_the_folder_entry_limit_from_the_tab_stops_a_folder_download(app, tab, ftp_lab,
                                                                     tmp_path, wait_until):
    many = ftp_lab.root / "many"
    many.mkdir()
    for n in range(12):
        (many / f"file{n:02}.txt").write_text(f"file {n}\n")
    fill(tab, ftp_lab.port)
    tab.open_options()
    tab.folder_limit_var.set(" 5 ")
    assert tab.options_dialog.apply()
    tab.connect_button.invoke()
    wait_until(lambda: "many" in tab.remote.names(), message="remote listing never came")
    assert tab.fields["max_folder_entries"] == " 5 "  # saved with the other fields
    tab.go_local(tmp_path)
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path))
    tab.remote.select_key("many")
    tab.download_selected()
    wait_until(lambda: "stopped after 5 entries" in app.status_var.get(),
               timeout=20, message=lambda: app.status_var.get())
    shown = app.status_var.get()
    assert shown.startswith("many/: 5 files queued")
    assert "Folder entry limit" in shown and "raise it in the FTP options" in shown
    assert "stopped after 5 entries (the Folder entry limit" in tab.log.get_text()
    wait_until(lambda: tab.queue.idle(), timeout=20)
    assert all(i.state == DONE for i in tab.queue.snapshot())
    assert len(list((tmp_path / "many").iterdir())) == 5  # of 12


def test_the_listing_limit_from_the_tab_cuts_a_big_listing(app, tab, ftp_lab, wait_until):
    big = ftp_lab.root / "big_folder"
    big.mkdir()
    for n in range(1200):  # MLSD lines of ~140 bytes: ~170 KB, more than 0.1 MB
        (big / f"{n:05}-{'x' * 80}.txt").touch()
    fill(tab, ftp_lab.port)
    tab.listing_limit_var.set("0.1")
    tab.connect_button.invoke()
    wait_until(lambda: "big_folder" in tab.remote.names(), message="remote listing never came")
    tab.go_remote("/big_folder")
    wait_until(lambda: tab.remote.path_var.get() == "/big_folder", timeout=20)
    assert "more than 0.1 MB (the Listing limit; raise it" in tab.log.get_text()
    assert 0 < len(tab.remote.names()) < 1200


def test_stop_ends_a_login_a_mute_server_holds_and_the_tab_connects_again(
        app, tab, scripted_ftp, ftp_lab, wait_until):
    mute = scripted_ftp(Script(mute=True))
    fill(tab, mute.port)
    tab.timeout_var.set(LONG_TIMEOUT)
    tab.connect_button.invoke()
    wait_until(lambda: "220 scripted" in tab.log.get_text())  # now waiting on AUTH TLS
    assert tab.stop_button.instate(["!disabled"])
    tab.stop_button.invoke()
    wait_until(lambda: tab.state_var.get() == "○ Not connected (stopped)", timeout=10,
               message=lambda: tab.state_var.get())
    assert "Stopped connecting" in app.status_var.get()
    assert "! " not in tab.log.get_text().split("220 scripted")[-1]  # no error reported
    fill(tab, ftp_lab.port)
    tab.connect_button.invoke()
    wait_until(lambda: "docs" in tab.remote.names(), message="no listing after the Stop")
    assert "Connected" in tab.state_var.get()


def test_stop_ends_a_dripping_listing_and_the_tab_connects_again(
        app, tab, scripted_ftp, ftp_lab, wait_until):
    dripping = scripted_ftp(Script(drip_listing=True))
    fill(tab, dripping.port, user="u", password="p")
    tab.tls_var.set("none")
    tab.timeout_var.set(LONG_TIMEOUT)
    tab.connect_button.invoke()
    wait_until(lambda: "150 opening" in tab.log.get_text())  # the listing drips now
    assert "Connected" in tab.state_var.get()
    tab.stop_button.invoke()
    wait_until(lambda: tab.state_var.get() == "○ Not connected (stopped)", timeout=10,
               message=lambda: tab.state_var.get())
    assert not tab.session.connected
    assert tab.disconnect_button.instate(["disabled"])
    wait_until(lambda: tab.stop_button.instate(["disabled"]))  # nothing left to stop
    tab.stop_browsing()
    assert "Nothing to stop" in app.status_var.get()
    fill(tab, ftp_lab.port)
    tab.connect_button.invoke()
    wait_until(lambda: "docs" in tab.remote.names(), message="no listing after the Stop")
