"""Servers tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class ServersTab(ComingTab):
    title = "Servers"
    key = "servers"
    summary = (
        "Embedded echo servers (threaded, select, fork), a CGI/1.1 web server and the lab"
        " peers, with live statistics."
    )
