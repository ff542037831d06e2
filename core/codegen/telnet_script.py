"""Telnet sessions as a standard-library script that replays the wire, expect-style.

Steps (``Recording("telnet")``):

* ``connect`` host, port, raw (no negotiation), tls, verify, ca_file, term, cols, rows,
  encoding, active, local_options, remote_options (option numbers), environ
* ``expect``  pattern (text), regex (bool), timeout — from an automation
* ``send``    wire (list of bytes: exactly what went out, line end and IAC doubling
  included; a secret goes between two pieces), text (what the user meant, without the
  line end; None for a secret), secret (bool), secret_name, prompt (the text seen
  before the line was typed)
* ``special`` name (AYT, Break …), wire (the command's bytes)
* ``resize``  cols, rows (the window changed size: NAWS again)
* ``close``   by_peer (the server ended the connection)

The script negotiates the options the session agreed to (the same answers, so the
server is in the same mode: a session in BINARY mode sent CR NUL or a bare CR, and the
script sends exactly that), waits for each prompt the session saw, then sends the
recorded bytes. A secret is never written into the script: it is read from
``WIREBENCH_<SECRET_NAME>`` or asked for with getpass.
"""

from __future__ import annotations

import re

from core.codegen.pyliteral import bytes_literal, comment, header, literal, tls_context_lines
from core.recording import Recording, Step

_CLIENT = '''

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
BINARY, TTYPE, NAWS, NEW_ENVIRON = 0, 24, 31, 39
ANSI = re.compile(ANSI_PATTERN)


class Telnet:
    """A telnet client that answers option negotiation as the Wirebench session did."""

    def __init__(self, sock, *, raw, encoding, term="", cols=80, rows=24, environ=None,
                 will=(), do=(), active=True):
        self.sock, self.raw, self.encoding = sock, raw, encoding
        self.term, self.cols, self.rows = term, cols, rows
        self.environ = environ or {}
        self.will, self.do = set(will), set(do)
        self.us, self.him = {}, {}  # option -> "yes" or "want" (we asked first)
        self.text = ""  # received text not matched by expect() yet
        self.received = bytearray()  # what the server sent, without telnet commands
        self.closed = False
        self._state, self._sb = "data", bytearray()
        if not raw and active:  # the session's active start: offer and ask first
            for option in (TTYPE, NAWS, BINARY):
                if option in self.will:
                    self.us[option] = "want"
                    self._command(WILL, option)
            for option in (3, BINARY):
                if option in self.do:
                    self.him[option] = "want"
                    self._command(DO, option)

    def data(self, text):
        """Text as data bytes on the wire (IAC doubled in telnet mode)."""
        raw = text.encode(self.encoding)
        return raw if self.raw else raw.replace(b"\\xff", b"\\xff\\xff")

    def send(self, wire):
        self.sock.sendall(wire)

    def expect(self, text, timeout):
        """Wait until `text` (or a compiled regex) shows up in what the server sent."""
        deadline = time.monotonic() + timeout
        while True:
            plain = ANSI.sub("", self.text)
            found = text.search(plain) if isinstance(text, re.Pattern) else None
            end = found.end() if found else -1
            if not isinstance(text, re.Pattern):
                at = plain.find(text)
                end = -1 if at < 0 else at + len(text)
            if end >= 0:
                self.text = plain[end:]
                return
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                tail = plain[-60:]
                sys.exit(f"expected {text!r} within {timeout} s; last received: {tail!r}")
            self._read(left)

    def drain(self, quiet=1.0, until_closed=False, limit=30.0):
        """Read until the server is quiet for `quiet` seconds (or closes)."""
        deadline = time.monotonic() + limit
        while not self.closed and time.monotonic() < deadline:
            if not self._read(limit if until_closed else quiet):
                return

    def _read(self, timeout):
        self.sock.settimeout(max(0.01, timeout))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            self.closed = True
            return False
        data = self._parse(data)
        if len(self.received) < 1 << 24:  # what is printed at the end: at most 16 MiB
            self.received += data
        self.text = (self.text + data.decode(self.encoding, "replace"))[-65536:]
        return True

    def resize(self, cols, rows):
        """The window changed size: tell the server (NAWS) when it asked for it."""
        self.cols, self.rows = cols, rows
        if self.us.get(NAWS) == "yes":
            self._sb_send(NAWS, cols.to_bytes(2, "big") + rows.to_bytes(2, "big"))

    def _command(self, verb, option):
        self.sock.sendall(bytes((IAC, verb, option)))

    def _parse(self, data):
        if self.raw:
            return data
        out = bytearray()
        for byte in data:
            state = self._state
            if state == "data":
                if byte == IAC:
                    self._state = "iac"
                else:
                    out.append(byte)
            elif state == "iac":
                self._state = "data"
                if byte == IAC:
                    out.append(IAC)
                elif byte in (DO, DONT, WILL, WONT):
                    self._state = byte
                elif byte == SB:
                    self._sb.clear()
                    self._state = "sb"
            elif state == "sb":
                if byte == IAC:
                    self._state = "sb-iac"
                elif len(self._sb) < 4096:
                    self._sb.append(byte)
            elif state == "sb-iac":
                self._state = "sb" if byte == IAC else "data"
                if byte == IAC:
                    self._sb.append(IAC)
                elif byte == SE:
                    self._subnegotiation(bytes(self._sb))
            else:
                self._state = "data"
                self._option(state, byte)
        if BINARY not in self.him:  # outside BINARY, CR NUL stands for a bare CR
            out = out.replace(b"\\r\\x00", b"\\r")
        return bytes(out)

    def _option(self, verb, option):
        ours = verb in (DO, DONT)
        table, agreed = (self.us, self.will) if ours else (self.him, self.do)
        yes, no = (WILL, WONT) if ours else (DO, DONT)
        if verb in (DO, WILL):
            state = table.get(option)
            if state == "yes":
                return
            if state == "want" or option in agreed:
                table[option] = "yes"
                if state != "want":
                    self._command(yes, option)
                if ours and option == NAWS:
                    self._sb_send(NAWS, self.cols.to_bytes(2, "big") + self.rows.to_bytes(2, "big"))
            else:
                self._command(no, option)
        elif table.pop(option, None) == "yes":
            self._command(no, option)

    def _subnegotiation(self, payload):
        if not payload or self.us.get(payload[0]) != "yes" or payload[1:2] != b"\\x01":
            return
        if payload[0] == TTYPE:
            self._sb_send(TTYPE, b"\\x00" + self.term.encode("ascii", "replace"))
        elif payload[0] == NEW_ENVIRON:
            body = bytearray(b"\\x00")
            for name, value in self.environ.items():
                body += b"\\x00" + name.encode() + b"\\x01" + value.encode()
            self._sb_send(NEW_ENVIRON, bytes(body))

    def _sb_send(self, option, payload):
        payload = payload.replace(b"\\xff", b"\\xff\\xff")
        self.sock.sendall(bytes((IAC, SB, option)) + payload + bytes((IAC, SE)))
'''

#: escape sequences the script strips before it looks for a prompt (as the session does)
ANSI_PATTERN = r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
#: how long a script waits for a prompt the session saw before a typed line
PROMPT_TIMEOUT = 15.0


def _env_name(name: str) -> str:
    return "WIREBENCH_" + (re.sub(r"[^A-Za-z0-9]+", "_", name).upper().strip("_") or "SECRET")


def _connect_lines(a: dict, imports: list[str]) -> list[str]:
    host, port = str(a.get("host", "127.0.0.1")), int(a.get("port", 23))
    raw = bool(a.get("raw"))
    lines = [f"sock = socket.create_connection(({literal(host)}, {port}), timeout=10)"]
    if a.get("tls"):
        imports.append("import ssl")
        lines += tls_context_lines(a.get("ca_file"), a.get("verify", True))
        lines.append(f"sock = context.wrap_socket(sock, server_hostname={literal(host)})")
    if raw:
        lines += ["# raw mode: a plain TCP stream, no telnet negotiation",
                  f"t = Telnet(sock, raw=True, encoding={literal(a.get('encoding', 'utf-8'))})"]
        return lines
    lines += [
        "# the options the session agreed to, so the server ends up in the same mode",
        "t = Telnet(sock, raw=False,",
        f"           encoding={literal(str(a.get('encoding', 'utf-8')))}, "
        f"term={literal(str(a.get('term', 'xterm-256color')))},",
        f"           cols={int(a.get('cols', 80))}, rows={int(a.get('rows', 24))}, "
        f"environ={literal({str(k): str(v) for k, v in dict(a.get('environ', {})).items()})},",
        f"           will={literal([int(o) for o in a.get('local_options', [0, 3, 24, 31])])}, "
        f"do={literal([int(o) for o in a.get('remote_options', [0, 1, 3])])}, "
        f"active={bool(a.get('active', True))})",
    ]
    return lines


def _send_lines(a: dict, imports: list[str], secrets: dict[str, str],
                waited: bool) -> list[str]:
    lines: list[str] = []
    prompt = str(a.get("prompt") or "")
    if prompt and not waited:  # an expect step just before has waited already
        lines.append(f"t.expect({literal(prompt)}, {PROMPT_TIMEOUT})  # the prompt seen")
    wire = [bytes(piece) for piece in a.get("wire", [])]
    if not wire:  # a recording from before wire bytes were kept: what was meant
        wire = [str(a.get("text") or "").encode()]
    if not a.get("secret"):
        meant = a.get("text")
        if meant is not None and str(meant).encode() != wire[0]:
            lines.append(comment(f"meant: {meant!r}; the exact bytes sent:"))
        lines.append(f"t.send({bytes_literal(wire[0])})")
        return lines
    imports += ["import getpass", "import os"]
    env = _env_name(str(a.get("secret_name") or "password"))
    if env not in secrets:
        secrets[env] = f"secret_{len(secrets) + 1}"
        lines += [
            "# a secret was typed here: it is not in this script.",
            f"# Set {env} or type it when asked.",
            f"{secrets[env]} = os.environ.get({literal(env)}) or "
            f"getpass.getpass({literal((prompt or 'Password:') + ' ')})"]
    parts = [bytes_literal(wire[0])] if wire[0] else []
    for piece in wire[1:]:
        parts += [f"t.data({secrets[env]})"] + ([bytes_literal(piece)] if piece else [])
    pieces = " + ".join(parts) or "b''"
    lines.append(f"t.send({pieces})")
    return lines


def _step_lines(step: Step, imports: list[str], secrets: dict[str, str],
                waited: bool) -> list[str]:
    a = step.args
    if step.op == "connect":
        return _connect_lines(a, imports)
    if step.op == "expect":
        text = str(a.get("pattern", ""))
        timeout = float(a.get("timeout", 10))
        # the tab matches regexes line by line (re.MULTILINE), so does the script
        pattern = (f"re.compile({literal(text)}, re.MULTILINE)" if a.get("regex")
                   else literal(text))
        return [f"t.expect({pattern}, {timeout})"]
    if step.op == "send":
        return _send_lines(a, imports, secrets, waited)
    if step.op == "special":
        return [f"t.send({bytes_literal(bytes(a.get('wire', b'')))})  "
                + comment(f"IAC {a.get('name')}")]
    if step.op == "resize":
        return [f"t.resize({int(a.get('cols', 80))}, {int(a.get('rows', 24))})"]
    if step.op == "close":
        if a.get("by_peer"):
            return ["t.drain(until_closed=True)  # the server ended the session", "sock.close()"]
        return ["t.drain(quiet=1.0)", "sock.close()"]
    return [comment(f"step {step.op!r} has no replay in this script: left out")]


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import re", "import socket", "import sys", "import time"]
    body: list[str] = []
    secrets: dict[str, str] = {}
    waited = False
    for step in steps:
        body += _step_lines(step, imports, secrets, waited)
        waited = step.op == "expect"
    if not steps or steps[0].op != "connect":
        return header("Telnet session.", []) + (
            "\n# Nothing recorded yet: connect, type or run an automation in the tab.\n")
    if steps[-1].op != "close":
        body += ["# the session was still open: read what is left, then close",
                 "t.drain(quiet=1.0)", "sock.close()"]
    body.append("sys.stdout.write(t.received.decode(t.encoding, errors='replace'))")
    out = header("Telnet session, replayed byte for byte.", imports)
    out += f"\nANSI_PATTERN = {literal(ANSI_PATTERN)}" + _CLIENT + "\n\n"
    return out + "\n".join(body) + "\n"
