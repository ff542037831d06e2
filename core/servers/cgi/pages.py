"""The HTML the server writes itself: error pages, the CGI diagnosis page, folder listings."""

from __future__ import annotations

import html
import os
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

#: the origin document's section 5.1.3 checklist, as a server can check it today
CHECKLIST = (
    "The first line names the interpreter, e.g. <code>#!/bin/sh</code> or "
    "<code>#!/usr/bin/env python3</code> (<code>.py</code> scripts run with Wirebench's own "
    "Python, whatever that line says).",
    "The script is readable and executable: <code>chmod a+rx script</code>.",
    "It prints the headers, then one blank line, then the page.",
    "Run it in a console: a traceback shows the line at fault.",
)


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def reason(status: int) -> str:
    return _PHRASES.get(status, "Unknown")


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n"
        "<hr><address>Wirebench CGI server</address></body></html>\n"
    ).encode()


def error_page(status: int, detail: str) -> bytes:
    title = f"{status} {reason(status)}"
    return _page(title, f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(detail)}</p>")


def diagnosis_page(script_name: str, problem: str, diagnosis: str,
                   stderr_tail: list[str] | None = None) -> bytes:
    """A 500 page that says what went wrong with the script and how to fix it."""
    items = "\n".join(f"<li>{item}</li>" for item in CHECKLIST)
    tail = ""
    if stderr_tail:
        tail = ("<p>Last lines the script wrote to stderr:</p>\n<pre>"
                + html.escape("\n".join(stderr_tail)) + "</pre>")
    return _page(
        "500 Internal Server Error",
        f"<h1>500 Internal Server Error</h1>\n"
        f"<p>The script <code>{html.escape(script_name)}</code> failed: "
        f"<strong>{html.escape(problem)}</strong>.</p>\n"
        f"<p>{html.escape(diagnosis)}</p>\n{tail}\n"
        f"<p>Checklist:</p>\n<ul>\n{items}\n</ul>",
    )


def listing_page(url_path: str, folder: Path) -> bytes:
    """An index of ``folder`` (hidden entries left out), every name escaped."""
    rows = []
    if url_path != "/":
        rows.append('<li><a href="../">../</a></li>')
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
    except OSError:
        entries = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        name = entry.name + ("/" if entry.is_dir() else "")
        rows.append(f'<li><a href="{quote(name)}">{html.escape(name)}</a></li>')
    title = f"Index of {url_path}"
    return _page(title, f"<h1>{html.escape(title)}</h1>\n<ul>\n" + "\n".join(rows) + "\n</ul>")
