"""Expect/send scripts against a live telnet session (the document's login example, general).

A script is plain text, one step per line::

    timeout 10
    expect login:
    send lab
    expect Password:
    send {secret}
    expect-re \\$ $
    send help

``expect`` waits for literal text, ``expect-re`` for a regular expression (both within
the current ``timeout`` in seconds); ``send`` types a line and Enter, ``type`` types
without Enter. ``{secret}`` is replaced by the secret given to the run — it lives only in
memory, never in the script, the settings or a progress message.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from core.errors import UserError
from core.events import Event
from core.telnet.session import TelnetSession
from core.worker import Outbox

SECRET = "{secret}"
#: received text kept for matching (older text is dropped: a flood must not grow it)
_WINDOW = 65536
COMMANDS = ("expect", "expect-re", "send", "type", "timeout")


@dataclass(frozen=True)
class Step:
    action: str  # "expect" | "expect-re" | "send" | "type"
    argument: str
    timeout: float = 10.0
    line: int = 0

    def describe(self) -> str:
        shown = self.argument.replace(SECRET, "******")
        if self.action.startswith("expect"):
            kind = "regex" if self.action == "expect-re" else "text"
            return f"expect {kind} {shown!r} (timeout {self.timeout:g} s)"
        return f"{self.action} {shown!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AutomationProgress(Event):
    index: int  # 1-based step number
    total: int
    description: str
    state: str  # "running" | "matched" | "sent"


@dataclass(frozen=True, slots=True, kw_only=True)
class AutomationDone(Event):
    ok: bool
    message: str
    step: int = 0  # the failing step (1-based), 0 when ok


def parse_script(text: str) -> list[Step]:
    """Steps of a script; a bad line raises :class:`UserError` naming the line and fix."""
    steps: list[Step] = []
    timeout = 10.0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, _, argument = line.partition(" ")
        command = command.lower()
        if command not in COMMANDS:
            raise UserError(f"Script line {number}: unknown command {command!r}; use "
                            f"{', '.join(COMMANDS)}.", "Script")
        if command == "timeout":
            try:
                timeout = float(argument)
            except ValueError:
                timeout = -1
            if not 0 < timeout <= 3600:
                raise UserError(f"Script line {number}: timeout must be 0–3600 seconds, got "
                                f"{argument!r}.", "Script")
            continue
        if command.startswith("expect"):
            if not argument:
                raise UserError(f"Script line {number}: {command} needs the text to wait "
                                "for.", "Script")
            if command == "expect-re":
                try:
                    re.compile(argument)
                except re.error as exc:
                    raise UserError(f"Script line {number}: bad regular expression "
                                    f"({exc}); fix the pattern.", "Script") from None
        steps.append(Step(command, argument, timeout, number))
    if not steps:
        raise UserError("The script is empty: add steps such as 'expect login:' and "
                        "'send lab'.", "Script")
    return steps


class AutomationRun:
    """Runs steps on a thread against ``session``; progress goes to ``outbox``."""

    def __init__(self, session: TelnetSession, steps: list[Step], secret: str = "",
                 outbox: Outbox | None = None, source: str = "automation") -> None:
        if any(SECRET in s.argument for s in steps) and not secret:
            raise UserError("The script uses {secret} but the Secret field is empty: type "
                            "the password there.", "Secret")
        self.session = session
        self.steps = steps
        self._secret = secret
        self.outbox = outbox if outbox is not None else session.outbox
        self.source = source
        self._text = ""
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.result: AutomationDone | None = None

    def start(self) -> None:
        """Begin with the text already on screen (the prompt may have arrived)."""
        with self._cond:
            self._text = self.session.recent_text()
        self.session.add_listener(self._on_text)
        self._thread = threading.Thread(target=self._run, name=f"{self.source}:run",
                                        daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()
        with self._cond:
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _on_text(self, text: str) -> None:
        with self._cond:
            self._text = (self._text + text)[-_WINDOW:]
            self._cond.notify_all()

    def _post(self, event: Event) -> None:
        self.outbox.put(event)

    def _run(self) -> None:
        total = len(self.steps)
        try:
            for index, step in enumerate(self.steps, 1):
                self._post(AutomationProgress(source=self.source, index=index, total=total,
                                              description=step.describe(), state="running"))
                failure = self._do(step)
                if failure:
                    self._finish(False, f"Step {index} ({step.describe()}) failed: {failure}",
                                 index)
                    return
            self._finish(True, f"All {total} steps done.", 0)
        finally:
            self.session.remove_listener(self._on_text)

    def _finish(self, ok: bool, message: str, step: int) -> None:
        self.result = AutomationDone(source=self.source, ok=ok, message=message, step=step)
        self._post(self.result)

    def _do(self, step: Step) -> str:
        if step.action in ("send", "type"):
            if not self.session.connected:
                return "the session is not connected."
            end = "\r" if step.action == "send" else ""
            secret = SECRET in step.argument
            # the wire as sent, in pieces around the secret: the script gets the pieces,
            # never the secret itself (and a secret is not echoed locally)
            pieces = (step.argument + end).split(SECRET)
            wire = [self.session.wire_of(piece) for piece in pieces]
            self.session.recording.add(  # first: the peer may answer and close at once
                "send", text=None if secret else step.argument, wire=wire,
                secret=secret, prompt="", secret_name="telnet password")
            self.session.send_text(step.argument.replace(SECRET, self._secret) + end,
                                   record=False, hide=secret)
            return ""
        if step.action == "expect":
            def find(buf: str) -> int:
                at = buf.find(step.argument)
                return -1 if at < 0 else at + len(step.argument)
        else:
            pattern = re.compile(step.argument, re.MULTILINE)

            def find(buf: str) -> int:
                m = pattern.search(buf)
                return -1 if m is None else m.end()
        deadline = time.monotonic() + step.timeout
        with self._cond:
            while True:
                end = find(self._text)
                if end >= 0:
                    self._text = self._text[end:]  # the next expect looks after this match
                    self.session.recording.add("expect", pattern=step.argument,
                                               regex=step.action == "expect-re",
                                               timeout=step.timeout)
                    return ""
                if self._cancel.is_set():
                    return "cancelled."
                if not self.session.connected and not self.session.running:
                    return f"the connection closed; last received: {_tail(self._text)}"
                left = deadline - time.monotonic()
                if left <= 0:
                    return (f"timed out after {step.timeout:g} s; last received: "
                            f"{_tail(self._text)}")
                self._cond.wait(min(left, 0.25))


def _tail(text: str, size: int = 60) -> str:
    tail = text[-size:].replace("\r", "").strip()
    return repr(tail) if tail else "nothing"
