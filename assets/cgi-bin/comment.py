#!/usr/bin/env python3
"""The document's name/comment form handler (5.1.2), in Python 3 without the cgi module.

The form posts ``yourname`` and ``comment``; both must be filled in.
"""

import html
import os
import sys
from urllib.parse import parse_qs


def read_form() -> dict[str, str]:
    """Fields of a GET query string or a url-encoded POST body (first value of each)."""
    if os.environ.get("REQUEST_METHOD") == "POST":
        length = int(os.environ.get("CONTENT_LENGTH") or 0)
        query = sys.stdin.buffer.read(length).decode("utf-8", "replace")
    else:
        query = os.environ.get("QUERY_STRING", "")
    return {name: values[0] for name, values in parse_qs(query).items()}


form = read_form()
form_ok = bool(form.get("yourname", "").strip() and form.get("comment", "").strip())

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><title>Your comment</title>")
if form_ok:
    print("<p>Your name:", html.escape(form["yourname"]), "<br>")
    print("<p>Your comment:", html.escape(form["comment"]))
else:
    print("<p>Error: fields have not been filled.")
print('<p><a href="/comment.html">Back to the form</a>')
