#!/usr/bin/env python3
"""The origin document's first CGI script (section 5.1.1): headers, a blank line, the page."""

print("Content-Type: text/html")
print()

print("Hello World!")
