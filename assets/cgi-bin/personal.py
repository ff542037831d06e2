#!/usr/bin/env python3
"""The document's personal-data form handler (5.1.2): append name, address and phone to a
file. The file lives in Wirebench's data folder (WIREBENCH_DATA_DIR), never beside the
script; every field is checked instead of "we suppose that all the fields have been filled".
"""

import html
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs

FIELDS = (("name", "Name"), ("address", "Address"), ("tel", "Phone"))


def read_form() -> dict[str, str]:
    """Fields of a GET query string or a url-encoded POST body (first value of each)."""
    if os.environ.get("REQUEST_METHOD") == "POST":
        length = int(os.environ.get("CONTENT_LENGTH") or 0)
        query = sys.stdin.buffer.read(length).decode("utf-8", "replace")
    else:
        query = os.environ.get("QUERY_STRING", "")
    return {name: values[0] for name, values in parse_qs(query).items()}


def one_line(value: str) -> str:
    # a CR or LF in a field would forge a second record in the file
    return " ".join(value.split())


form = {key: one_line(value) for key, value in read_form().items()}
missing = [label for key, label in FIELDS if not form.get(key)]

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><title>Personal data</title>")
if missing:
    print("<p>Error: please fill in", html.escape(", ".join(missing)) + ".")
else:
    folder = Path(os.environ.get("WIREBENCH_DATA_DIR") or Path.home())
    folder.mkdir(parents=True, exist_ok=True)
    record = "".join(f"{label}: {form[key]}\n" for key, label in FIELDS) + "\n"
    with open(folder / "personal-data.txt", "a", encoding="utf-8") as file:
        file.write(record)
    print("<p>Form submitted...ok.")
print('<p><a href="/personal.html">Back to the form</a>')
