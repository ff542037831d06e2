"""SMTP tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class SmtpTab(ComingTab):
    title = "SMTP"
    key = "smtp"
    summary = (
        "A mail composer with attachments, STARTTLS/AUTH, VRFY and an annotated "
        "transcript, plus the lab inbox."
    )
