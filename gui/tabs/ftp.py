"""FTP tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class FtpTab(ComingTab):
    title = "FTP"
    key = "ftp"
    summary = (
        "A dual-pane FTP browser: listings, transfers with progress, cancel and resume, "
        "FTPS."
    )
