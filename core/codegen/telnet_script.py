"""Telnet sessions as a telnetlib3 script: the origin document's read_until/write login
(section 6.1) on the maintained successor of the removed ``telnetlib``.

Steps (``Recording("telnet")``):

* ``connect`` host, port, raw (no negotiation), tls, verify, term, cols, rows
* ``expect``  pattern (text), regex (bool), timeout
* ``send``    text (exact characters; the line ending is part of it; ``{secret}`` marks
  where a secret goes), secret (bool), secret_name (names its environment variable)
* ``close``

A secret is never written into the script: it is read from
``WIREBENCH_<SECRET_NAME>`` or a prompt.
"""

from __future__ import annotations

import re

from core.codegen.pyliteral import header, tls_context_lines
from core.recording import Recording

_HELPERS = '''

async def expect(reader, pattern, timeout, transcript):
    """Read until `pattern` (bytes, or a compiled regex) arrives; the document's read_until."""
    if isinstance(pattern, re.Pattern):
        data = await asyncio.wait_for(reader.readuntil_pattern(pattern), timeout)
    else:
        data = await asyncio.wait_for(reader.readuntil(pattern), timeout)
    transcript += data
    return data


async def read_for(reader, quiet, transcript):
    """Whatever else arrives until the server is quiet for `quiet` seconds."""
    while True:
        try:
            data = await asyncio.wait_for(reader.read(65536), quiet)
        except asyncio.TimeoutError:
            return
        if not data:
            return
        transcript += data
'''


def _env_name(name: str) -> str:
    return "WIREBENCH_" + (re.sub(r"[^A-Za-z0-9]+", "_", name).upper().strip("_") or "SECRET")


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import asyncio", "import re", "import sys", "import telnetlib3"]
    body: list[str] = []
    raw = False
    for step in steps:
        a = step.args
        if step.op == "connect":
            raw = bool(a.get("raw"))
            host, port = a.get("host", "127.0.0.1"), int(a.get("port", 23))
            opts = [f"{host!r}", f"{port}", "encoding=False",
                    f"term={a.get('term', 'xterm-256color')!r}",
                    f"cols={int(a.get('cols', 80))}", f"rows={int(a.get('rows', 24))}",
                    "connect_minwait=0.1"]
            if a.get("tls"):
                imports.append("import ssl")
                body += ["    " + line for line in
                         tls_context_lines(a.get("ca_file"), a.get("verify", True))]
                opts.append("ssl=context")
            if raw:
                body += ["    # raw mode: a plain TCP stream, no telnet negotiation",
                         f"    reader, writer = await asyncio.open_connection({host!r}, {port})"]
            else:
                body.append("    reader, writer = await telnetlib3.open_connection(")
                body.append("        " + ", ".join(opts) + ")")
            body.append("    transcript = bytearray()")
        elif step.op == "expect":
            text = str(a.get("pattern", ""))
            timeout = float(a.get("timeout", 10))
            # the tab matches regexes line by line (re.MULTILINE), so does the script
            pat = (f"re.compile({('(?m)' + text).encode()!r})" if a.get("regex")
                   else repr(text.encode()))
            if raw and not a.get("regex"):
                body.append(f"    transcript += await asyncio.wait_for(reader.readuntil({pat}), "
                            f"{timeout})")
            elif raw:
                body.append(f"    await read_for(reader, {timeout}, transcript)")
            else:
                body.append(f"    await expect(reader, {pat}, {timeout}, transcript)")
        elif step.op == "send":
            if a.get("secret"):
                imports += ["import getpass", "import os"]
                env = _env_name(str(a.get("secret_name", "password")))
                text = str(a.get("text", ""))
                if "{secret}" not in text:
                    text = "{secret}" + text
                body += ["    # the secret is not stored in this script",
                         f"    secret = os.environ.get({env!r}) or getpass.getpass('Password: ')",
                         f"    writer.write({text!r}.replace('{{secret}}', secret).encode())"]
            else:
                body.append(f"    writer.write({str(a.get('text', '')).encode()!r})")
        elif step.op == "close":
            body += ["    await read_for(reader, 1.0, transcript)", "    writer.close()"]
    if not body:
        return header("Telnet session.", ["import telnetlib3"]) + (
            "\n# Nothing recorded yet: connect and run an automation in the tab.\n")
    if not any(s.op == "close" for s in steps):
        body += ["    await read_for(reader, 1.0, transcript)", "    writer.close()"]
    body.append("    sys.stdout.write(transcript.decode('utf-8', errors='replace'))")
    out = header("Telnet session.", imports) + _HELPERS + "\n\nasync def main():\n"
    out += "\n".join(body) + "\n\n\nasyncio.run(main())\n"
    return out
