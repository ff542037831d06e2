"""What a telnet session records for "Show as Python": typed lines as wire bytes.

A typed line becomes one ``send`` step holding what went over the wire (``wire``: the
exact bytes, line end and IAC doubling included), what the user meant (``text``) and the
prompt that preceded it (``prompt``), so a script can wait for that prompt and replay the
bytes (core/codegen/telnet_script.py).

Secrets never reach the recording. A line is a secret when the prompt before it asks
for one (``Password:``), or when the server echoes (remote echo) but did not echo that
line back — the way ``login`` hides a password. A secret step keeps only the wire around
the secret (``wire`` parts; the secret goes between them). While a line is a secret,
local echo is off, so it reaches neither the screen, the text log nor a transcript.
"""

from __future__ import annotations

import re
import threading

from core.recording import Recording

#: a prompt that asks for something secret
SECRET_PROMPT = re.compile(r"(pass(word|phrase|code)?|\bpin|secret|token)\b[^\n]{0,20}$",
                           re.IGNORECASE)
SECRET_NAME = "telnet password"
_PROMPT_CHARS = 80
_SEEN_CAP = 8192
_ECHO_SLACK = 4


def prompt_of(recent: str) -> str:
    """The text a line is typed after: the end of the last received line."""
    line = recent.rsplit("\n", 1)[-1].rsplit("\r", 1)[-1]
    return line.strip()[-_PROMPT_CHARS:]


def _squash(text: str) -> str:
    """Text without control characters (an echo may break lines or ring the bell)."""
    return re.sub(r"[\x00-\x1f\x7f]", "", text)


class TypedLines:
    """Turns typing into ``send`` steps. Typing calls come from one thread (the Tk
    thread); :meth:`received` comes from the screen thread, hence the lock."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._meant = ""
        self._wire = bytearray()
        self._prompt = ""
        self._count = 0  # lines typed in this connection
        self._active = False
        self.secret = False  # the line being typed is a secret (no local echo)
        self._seen = ""  # text received since the line started (echo detection)
        # a line sent while the server echoes, not echoed yet: secret until it is
        self._pending: tuple[int, dict] | None = None

    def start_line(self, recent: str) -> None:
        """Called before the first character of a line is sent."""
        if self._active:
            return
        with self._lock:
            self._pending = None
            self._seen = ""
        self._active = True
        self._prompt = prompt_of(recent)
        self.secret = bool(SECRET_PROMPT.search(self._prompt))

    def typed(self, ch: str, wire: bytes) -> None:
        """One character typed (erase keys edit what is meant); ``wire``: what was sent."""
        self._wire += wire
        if ch in "\x7f\b":
            self._meant = self._meant[:-1]
        elif ch == "\x15":
            self._meant = ""
        else:
            self._meant += ch

    def sent(self, wire: bytes) -> None:
        """Bytes sent for the characters already passed to :meth:`typed`."""
        self._wire += wire

    def enter(self, wire: bytes, enter: bytes, remote_echo: bool) -> None:
        """Enter: ``wire`` is what was sent for it (the whole line in line mode), of
        which ``enter`` is the line end."""
        self._wire += wire
        self._count += 1
        args = {"text": self._meant, "wire": [bytes(self._wire)], "secret": False,
                "prompt": self._prompt, "secret_name": SECRET_NAME}
        # a line hidden only because no echo came back gets a variable of its own: a
        # script must never type the password where some other line was meant
        name = SECRET_NAME if self.secret else f"telnet line {self._count}"
        masked = dict(args, text=None, wire=[b"", enter], secret=True, secret_name=name)
        if self.secret:
            self.recording.add("send", **masked)
        elif remote_echo and _squash(self._meant):
            index = self.recording.add("send", **masked)
            with self._lock:
                self._pending = (index, args)
                self._check_echo()
        else:
            self.recording.add("send", **args)
        self._meant = ""
        self._wire = bytearray()
        self._active = False
        self.secret = False

    def closed(self) -> None:
        """The server closed and all it sent was seen. A line it never answered at all
        (``exit``: the server just hung up) shows no sign of a secret; a line after which
        something else came back stays one."""
        with self._lock:
            if self._pending is not None and not _squash(self._seen).strip():
                index, args = self._pending
                self.recording.replace(index, "send", **args)
            self._pending = None

    def received(self, plain: str) -> None:
        """Text from the server (screen thread): an echo turns a pending line public."""
        with self._lock:
            self._seen = (self._seen + plain)[-_SEEN_CAP:]
            if self._pending is not None:
                self._check_echo()

    def _check_echo(self) -> None:
        assert self._pending is not None
        index, args = self._pending
        meant, seen = _squash(args["text"]), _squash(self._seen).lstrip()
        # the echo comes before anything the server answers (give or take a late echo of
        # the previous line end, such as "^@")
        window = len(meant) + _ECHO_SLACK
        if meant in seen[:window]:
            self.recording.replace(index, "send", **args)
            self._pending = None
        elif len(seen) >= window:  # something else came back: it stays a secret
            self._pending = None
