"""Socket tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class SocketTab(ComingTab):
    title = "Socket"
    key = "socket"
    summary = (
        "TCP, UDP and UNIX sockets as client or listener; send text, escapes or hex; a "
        "hex+ASCII dump with timestamps; TLS; the connection's state."
    )
