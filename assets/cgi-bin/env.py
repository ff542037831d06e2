#!/usr/bin/env python3
"""Show the RFC 3875 meta-variables this request produced — the script's whole view."""

import html
import os

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><title>CGI environment</title><h1>CGI environment</h1><table>")
for name in sorted(os.environ):
    print(f"<tr><th align=left>{html.escape(name)}</th>"
          f"<td><code>{html.escape(os.environ[name])}</code></td></tr>")
print("</table>")
