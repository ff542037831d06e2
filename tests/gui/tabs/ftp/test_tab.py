"""A user connects to the lab FTP server, navigates, downloads and uploads with progress."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.ftp.transfers import DONE, RUNNING
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER
from tests.fixtures.disk_audit import disk_calls
from tests.gui.tabs.ftp.conftest import fill


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connect_navigate_download_upload_with_progress(app, tab, ftp_lab, tmp_path,
                                                         wait_until):
    big = ftp_lab.root / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096 * 24)  # 24 MiB: several progress events
    fill(tab, ftp_lab.port)
    tab.connect_button.invoke()
    wait_until(lambda: "docs" in tab.remote.names(), message="remote listing never came")
    assert "Connected" in tab.state_var.get() and "TLS" in tab.state_var.get()
    assert f"lab@127.0.0.1:{ftp_lab.port}" in tab.remote.title_label.cget("text")
    assert "> PASS ********" in tab.log.get_text()
    assert LAB_PASSWORD not in tab.log.get_text()

    # navigate: double-click equivalent (Enter) into docs, then up with ..
    tab.remote.select_key("docs")
    tab.remote.tree.focus_force()
    app.root.update()
    tab.remote.tree.event_generate("<Return>")
    wait_until(lambda: tab.remote.path_var.get() == "/docs")
    assert "rfc959-summary.txt" in tab.remote.names()
    tab.remote.select_key("..")
    tab.remote.open_selected()
    wait_until(lambda: tab.remote.path_var.get() == "/")

    # sortable columns: size descending puts the big file first among files
    tab.remote.sort_by("size")
    tab.remote.sort_by("size")
    files = [n for n in tab.remote.names() if n not in ("docs", "upload")]
    assert files[0] == "big.bin"

    # download with progress into the chosen local folder
    tab.go_local(tmp_path)
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path))
    seen: list[str] = []
    original_show = tab.transfers.show

    def record(items):
        seen.extend(i.state for i in items)
        original_show(items)

    tab.transfers.show = record
    tab.remote.select_key("big.bin")
    tab.remote.open_selected()  # what Enter and double-click do: a file downloads
    wait_until(lambda: (tmp_path / "big.bin").exists(), timeout=60)
    wait_until(lambda: DONE in seen)
    assert RUNNING in seen
    assert sha(tmp_path / "big.bin") == sha(big)
    wait_until(lambda: "big.bin" in tab.local.names())
    assert "done" in tab.transfers.current_var.get()

    # upload from the local pane into /upload
    (tmp_path / "mine.txt").write_text("uploaded from the tab\n")
    tab.refresh_local()
    wait_until(lambda: "mine.txt" in tab.local.names())
    tab.go_remote("/upload")
    wait_until(lambda: tab.remote.path_var.get() == "/upload")
    tab.local.select_key("mine.txt")
    tab.upload_selected()
    wait_until(lambda: "mine.txt" in tab.remote.names(), timeout=20)
    assert (ftp_lab.root / "upload" / "mine.txt").read_text() == "uploaded from the tab\n"

    # operations: new folder, rename, delete (confirmation skipped by the test)
    tab.mkdir_remote("fresh")
    wait_until(lambda: "fresh" in tab.remote.names())
    tab.remote.select_key("fresh")
    tab.rename_remote("renamed")
    wait_until(lambda: "renamed" in tab.remote.names())
    (ftp_lab.root / "upload" / "renamed" / "inside.txt").write_text("folders go whole")
    tab.remote.select_key("renamed")
    tab.delete_remote(confirm=False)
    wait_until(lambda: "renamed" not in tab.remote.names())
    assert not (ftp_lab.root / "upload" / "renamed").exists()
    tab.remote.select_key("mine.txt")
    tab.delete_remote(confirm=False)
    wait_until(lambda: "mine.txt" not in tab.remote.names())
    assert not (ftp_lab.root / "upload" / "mine.txt").exists()


def test_bad_port_is_named_in_the_status_bar(app, tab, wait_until):
    fill(tab, 1)
    tab.port_var.set("99999")
    tab.connect_button.invoke()
    assert "Port" in app.status_var.get() and "65535" in app.status_var.get()
    assert not tab.session.connected


def test_certificate_verification_failure_is_a_clear_error(app, tab, ftp_lab, wait_until):
    fill(tab, ftp_lab.port)
    tab.verify_var.set(True)
    tab.connect_button.invoke()
    wait_until(lambda: "certificate" in app.status_var.get().lower(), timeout=10)
    assert not tab.session.connected


def test_anonymous_view_and_size(app, tab, ftp_lab, wait_until):
    fill(tab, ftp_lab.port, anonymous=True, user="", password="")
    tab.connect_button.invoke()
    wait_until(lambda: "readme.txt" in tab.remote.names())
    before = len(tab.viewers)
    tab.remote.select_key("readme.txt")
    tab.view_remote()
    wait_until(lambda: len(tab.viewers) > before)
    viewer = tab.viewers[-1]
    assert "Welcome" in viewer.view.get_text()
    viewer.destroy()
    tab.remote.select_key("large.bin")
    tab.size_remote()
    wait_until(lambda: "bytes" in app.status_var.get())


def test_existing_file_asks_and_overwrite_replaces_it(app, tab, ftp_lab, tmp_path, wait_until):
    (tmp_path / "readme.txt").write_text("old local copy")
    fill(tab, ftp_lab.port)
    tab.policy_var.set("Ask")
    tab.go_local(tmp_path)
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path))
    tab.connect_button.invoke()
    wait_until(lambda: "readme.txt" in tab.remote.names())
    tab.remote.select_key("readme.txt")
    tab.download_selected()
    wait_until(lambda: tab._dialogs, message="no overwrite question")
    (dialog,) = tab._dialogs.values()
    assert dialog.winfo_exists()
    dialog.answer("overwrite")
    wait_until(lambda: (tmp_path / "readme.txt").read_bytes()
               == (ftp_lab.root / "readme.txt").read_bytes())
    assert not tab._dialogs


def test_saved_site_without_keyring_says_so_and_reloads(app, tab, wait_until):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        tab.host_var.set("ftp.example.org")
        tab.port_var.set("21")
        tab.anonymous_var.set(False)
        tab.user_var.set("alice")
        tab.password_var.set("pw")
        tab.tls_var.set("explicit")
        tab.save_site("example")
        assert "without its password" in app.status_var.get()
        assert "example" in tab.site_names
        assert tab.sites_menu.entrycget(0, "label").startswith("Lab FTP server")
        assert tab.sites_menu.entrycget(2, "label") == "example"  # after the lab site
        tab.host_var.set("elsewhere")
        tab.load_site("example")
        assert (tab.host_var.get(), tab.user_var.get(), tab.password_var.get()) == \
            ("ftp.example.org", "alice", "")
        assert tab.site_var.get() == "example"
        tab.forget_site()
        assert "example" not in tab.site_names
    finally:
        keyring.set_keyring(previous)


def test_crlf_in_a_new_folder_name_is_refused_in_the_tab(app, tab, ftp_lab, wait_until):
    fill(tab, ftp_lab.port)
    tab.connect_button.invoke()
    wait_until(lambda: "upload" in tab.remote.names())
    tab.mkdir_remote("bad\r\nDELE readme.txt")
    assert "line break" in app.status_var.get()
    assert (ftp_lab.root / "readme.txt").exists()


def test_ftps_with_a_chosen_ca_verifies_and_connects(app, tab, trusted_ftps, wait_until):
    server, ca_file = trusted_ftps
    fill(tab, server.port)
    tab.verify_var.set(True)
    tab.choose_ca(str(ca_file))
    assert "ca.pem" in tab.ca_button.cget("text")
    try:
        tab.connect_button.invoke()
        wait_until(lambda: "large.bin" in tab.remote.names())
        assert "TLS" in tab.state_var.get()
    finally:
        tab.choose_ca("")


def test_missing_ca_file_is_named(app, tab, ftp_lab):
    fill(tab, ftp_lab.port)
    tab.choose_ca("/nonexistent/ca.pem")
    try:
        tab.connect_button.invoke()
        assert "CA file" in app.status_var.get()
    finally:
        tab.choose_ca("")


def test_implicit_mode_moves_the_usual_port(app, tab):
    tab.port_var.set("21")
    tab.tls_var.set("implicit")
    tab.tls_box.event_generate("<<ComboboxSelected>>")
    assert tab.port_var.get() == "990"
    tab.tls_var.set("explicit")
    tab.tls_box.event_generate("<<ComboboxSelected>>")
    assert tab.port_var.get() == "21"


def test_local_pane_creates_renames_and_deletes_off_the_tk_thread(app, tab, tmp_path,
                                                                  wait_until):
    (tmp_path / "old.txt").write_text("x")
    (tmp_path / "full" / "deep").mkdir(parents=True)
    (tmp_path / "full" / "deep" / "f.bin").write_bytes(b"1")
    tab.go_local(tmp_path)
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path))
    assert sorted(tab.local.names()) == ["full", "old.txt"]

    with disk_calls() as calls:  # the Tk thread asks; a worker touches the disk
        tab.mkdir_local("fresh")
        wait_until(lambda: "fresh" in tab.local.names())
        tab.local.select_key("old.txt")
        tab.rename_local("new.txt")
        wait_until(lambda: "new.txt" in tab.local.names())
        tab.local.select_key("full")
        tab.delete_local(confirm=False)
        wait_until(lambda: "full" not in tab.local.names())
    assert {c for c, _ in calls} >= {"os.scandir", "os.mkdir", "os.rename", "shutil.rmtree"}
    assert not [c for c in calls if c[1] == "MainThread"], calls
    assert (tmp_path / "fresh").is_dir()
    assert (tmp_path / "new.txt").read_text() == "x"
    assert not (tmp_path / "full").exists()

    tab.mkdir_local("a/b")
    assert "single name" in app.status_var.get()
    tab.go_local(tmp_path / "missing")
    wait_until(lambda: "does not exist" in app.status_var.get())
    assert tab.local_path == tmp_path
    tab.local.select_key("fresh")
    tab.local.open_selected()  # a folder opens
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path / "fresh"))
    tab.local_up()
    wait_until(lambda: tab.local.path_var.get() == str(tmp_path))


def test_lab_site_connects_on_first_click_with_ftps_verified(app, tab, wait_until):
    peer = app.lab.peer("ftp")
    assert not peer.running
    tab.password_var.set("")
    tab.ca_file = ""  # a new user: no CA chosen
    tab.sites_menu.invoke(0)  # Sites > Lab FTP server
    try:
        wait_until(lambda: peer.running and tab.port_var.get() == str(peer.port))
        assert (tab.user_var.get(), tab.password_var.get()) == (LAB_USER, LAB_PASSWORD)
        assert tab.tls_var.get() == "explicit" and tab.verify_var.get()
        assert f"{LAB_USER} / {LAB_PASSWORD}" in app.status_var.get()
        tab.connect_button.invoke()
        wait_until(lambda: "readme.txt" in tab.remote.names(), message=app.status_var.get())
        assert "TLS" in tab.state_var.get() and tab.ca_file == ""
        assert "ftps://" in tab.remote.title_label.cget("text")
    finally:
        tab.session.disconnect()
        wait_until(lambda: not tab.session.connected, timeout=5)
        peer.stop()


def test_a_session_in_clear_is_not_labelled_ftps(app, tab, ftp_lab_list_only, wait_until):
    from dataclasses import replace

    fill(tab, ftp_lab_list_only.port)  # FTPS explicit; this plain server refuses AUTH TLS
    options = tab.read_options()
    tab.connect(replace(options, allow_cleartext=True))  # the user said yes to the question
    wait_until(lambda: "readme.txt" in tab.remote.names(), message=app.status_var.get())
    title = tab.remote.title_label.cget("text")
    assert "ftps://" not in title and f"ftp://lab@127.0.0.1:{ftp_lab_list_only.port}" in title
    assert "cleartext" in title and "cleartext" in tab.state_var.get()


def test_a_rejected_certificate_names_the_server_not_the_task(app, tab, ftp_lab,
                                                              wait_until):
    fill(tab, ftp_lab.port)
    tab.verify_var.set(True)  # ftp_lab is not the app's lab peer: its certificate is unknown
    tab.ca_file = ""
    tab.connect_button.invoke()
    wait_until(lambda: "certificate rejected" in app.status_var.get(),
               message=app.status_var.get())
    status = app.status_var.get()
    assert f"127.0.0.1:{ftp_lab.port}" in status and "connecting" not in status
    assert ".." not in status


def test_panes_get_the_room_and_the_log_folds_away(app, tab, wait_until):
    tab.go_local(Path.home())
    wait_until(lambda: len(tab.local.tree.get_children()) >= 8)  # listed off the Tk thread
    rows = tab.local.tree.get_children()
    assert len(rows) >= 8, "the test needs a local folder with 8 entries"
    tab.local.tree.yview_moveto(0)
    app.root.update()
    assert tab.local.tree.bbox(rows[7]), "the 8th local row is not in view"
    shown = tab.log_shown.get()
    tab.log_toggle.invoke()
    app.root.update()
    assert (str(tab.log_box) in tab.split.panes()) is not shown
    tab.log_toggle.invoke()
    app.root.update()
    assert (str(tab.log_box) in tab.split.panes()) is shown
    assert tab.local.tree.bbox(rows[7])


def test_unix_permissions_new_rows_in_view_and_cancel_clears_the_eta(
        app, tab, tmp_path, wait_until):
    from core.servers.ftp_lab import FtpLabServer

    slow = FtpLabServer(port=0, tls="none", rate_limit=200_000, large_size=8 * 1024 * 1024)
    slow.start()
    try:
        for i in range(8):
            (slow.root / f"small{i}.txt").write_text(f"file {i}\n")
        fill(tab, slow.port)
        tab.tls_var.set("none")
        tab.go_local(tmp_path)
        tab.connect_button.invoke()
        wait_until(lambda: "large.bin" in tab.remote.names(), message=app.status_var.get())
        perms = {r.key: r.permissions for r in tab.remote.rows.values()}
        assert perms["readme.txt"] == "-rw-r--r--" and perms["docs"].startswith("drwx")

        view = tab.transfers
        tab.remote.tree.selection_set([i for i, r in tab.remote.rows.items()
                                       if r.key.startswith("small")])
        tab.download_selected()
        wait_until(lambda: all((tmp_path / f"small{i}.txt").exists() for i in range(8)))
        app.root.update()
        last = view.tree.get_children()[-1]
        assert view.tree.bbox(last), "the newest transfer row is scrolled out of view"

        tab.remote.tree.selection_set([i for i, r in tab.remote.rows.items()
                                       if r.key == "large.bin"])
        tab.download_selected()
        wait_until(lambda: "Downloading large.bin" in view.current_var.get(), timeout=20)
        view.tree.selection_set([iid for iid in view.tree.get_children()
                                 if view.tree.item(iid, "text") == "large.bin"])
        tab.cancel_selected()
        wait_until(lambda: "cancelled" in view.current_var.get(),
                   message=view.current_var.get())
        assert "ETA" not in view.current_var.get()
        state = next(view.tree.set(i, "state") for i in view.tree.get_children()
                     if view.tree.item(i, "text") == "large.bin")
        width = view.tree.column("state", "width")
        import tkinter.font as tkfont
        assert tkfont.nametofont("TkDefaultFont").measure(state) < width, state
    finally:
        tab.session.disconnect()
        if tab.queue is not None:
            tab.queue.close()
            tab.queue = None
        wait_until(lambda: not tab.session.connected, timeout=5)
        slow.stop()
