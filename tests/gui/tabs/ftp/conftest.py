"""The FTP tab in the one real app window, and filling its site bar for a peer."""

from __future__ import annotations

import pytest

from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER


@pytest.fixture
def tab(app, wait_until):
    tab = app.tab("ftp")
    app.notebook.select(tab)
    yield tab
    # the window is shared by every GUI test: put the options back as a fresh tab has them
    for var, value in ((tab.timeout_var, "20"), (tab.keepalive_var, "30"),
                       (tab.listing_limit_var, "8"), (tab.folder_limit_var, "50000")):
        var.set(value)
    if tab.options_dialog is not None and tab.options_dialog.winfo_exists():
        tab.options_dialog.destroy()
    tab.session.stop()
    tab.session.disconnect()
    if tab.queue is not None:
        tab.queue.close()
        tab.queue = None
    wait_until(lambda: not tab.session.connected, timeout=5)


def fill(tab, port: int, *, user: str = LAB_USER, password: str = LAB_PASSWORD,
         anonymous: bool = False) -> None:
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(port))
    tab.user_var.set(user)
    tab.password_var.set(password)
    tab.anonymous_var.set(anonymous)
    tab.tls_var.set("explicit")
    tab.verify_var.set(False)  # the lab's self-signed certificate
