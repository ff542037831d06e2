"""Telnet tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class TelnetTab(ComingTab):
    title = "Telnet"
    key = "telnet"
    summary = (
        "A real terminal with option negotiation and a VT100 screen, a raw mode for "
        "typing HTTP or SMTP by hand, and login automation."
    )
