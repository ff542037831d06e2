#!/usr/bin/env python3
"""The document's second script (5.1.1): the same greeting, centred and larger."""

print("Content-Type: text/html")
print()

print("<title>CGI Test Page</title>")
print('<h1 style="text-align: center">Hello World!</h1>')
