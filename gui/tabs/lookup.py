"""Lookup tab (its issue is still open: a placeholder that says so)."""

from gui.tabs.base import ComingTab


class LookupTab(ComingTab):
    title = "Lookup"
    key = "lookup"
    summary = (
        "The resolver and services functions (gethostbyname, getservbyname, htons …) and "
        "real DNS queries with trace and batch."
    )
