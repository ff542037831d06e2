"""Repeat-send macros and auto-reply rules: the parts of a session that act on their own."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

from core.codec import parse_payload
from core.errors import UserError

MACROS = ("{{COUNTER}}", "{{TIME}}", "{{UNIXTIME}}", "{{RANDOM}}")
_MACRO = re.compile(r"\{\{([A-Za-z]*)\}\}")


def expand_macros(template: str, counter: int, now: float | None = None,
                  rng: random.Random | None = None) -> str:
    """Replace ``{{COUNTER}} {{TIME}} {{UNIXTIME}} {{RANDOM}}`` in ``template``."""
    now = time.time() if now is None else now
    rng = rng or random

    def value(match: re.Match[str]) -> str:
        name = match.group(1).upper()
        if name == "COUNTER":
            return str(counter)
        if name == "TIME":
            return time.strftime("%H:%M:%S", time.localtime(now))
        if name == "UNIXTIME":
            return str(int(now))
        if name == "RANDOM":
            return str(rng.randrange(1_000_000))
        raise UserError(f"Payload: unknown macro {match.group(0)}; use "
                        f"{', '.join(MACROS)}.", "Payload")

    return _MACRO.sub(value, template)


@dataclass(frozen=True, slots=True)
class RepeatPlan:
    """Send ``template`` ``count`` times, every ``interval_ms`` (0: as fast as the link)."""

    template: str
    fmt: str = "text"
    line_ending: str = "none"
    encoding: str = "utf-8"
    count: int = 10
    interval_ms: int = 1000
    peer: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 100_000_000:
            raise UserError(f"Repeat count must be 1–100000000, got {self.count}.", "Count")
        if not 0 <= self.interval_ms <= 86_400_000:
            raise UserError(f"Repeat interval must be 0–86400000 ms, got {self.interval_ms}.",
                            "Interval")
        self.payload(1)  # a bad template fails now, in the caller's thread

    def payload(self, counter: int) -> bytes:
        text = expand_macros(self.template, counter) if "{{" in self.template else self.template
        return parse_payload(text, self.fmt, self.line_ending, self.encoding)


@dataclass(frozen=True, slots=True)
class AutoReply:
    """When received bytes match ``pattern`` (literal bytes or a regex), send ``reply``."""

    pattern: bytes
    reply: bytes
    regex: bool = False

    @classmethod
    def create(cls, match_text: str, reply_text: str, regex: bool = False,
               fmt: str = "text", encoding: str = "utf-8") -> AutoReply:
        pattern = parse_payload(match_text, fmt, "none", encoding, field="Auto-reply match")
        if not pattern:
            raise UserError("Auto-reply match is empty: type the bytes that trigger the reply.",
                            "Auto-reply match")
        if regex:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise UserError(f"Auto-reply match is not a valid regular expression: {exc}.",
                                "Auto-reply match") from None
        reply = parse_payload(reply_text, fmt, "none", encoding, field="Auto-reply reply")
        return cls(pattern, reply, regex)

    def matches(self, data: bytes) -> bool:
        if self.regex:
            return re.search(self.pattern, data) is not None
        return self.pattern in data
