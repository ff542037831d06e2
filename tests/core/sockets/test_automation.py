"""Repeat-send macros and auto-reply rules (the session side is in test_sockets.py)."""

from __future__ import annotations

import random

import pytest

from core.errors import UserError
from core.sockets.automation import AutoReply, RepeatPlan, expand_macros


def test_macros() -> None:
    now = 1_700_000_000.0
    text = expand_macros("#{{COUNTER}} {{UNIXTIME}} {{RANDOM}} {{TIME}}", 7, now,
                         random.Random(1))
    number, unix, rnd, clock = text.split()
    assert number == "#7" and unix == "1700000000" and 0 <= int(rnd) < 1_000_000
    assert len(clock) == 8 and clock.count(":") == 2
    with pytest.raises(UserError, match=r"unknown macro \{\{NOPE\}\}"):
        expand_macros("{{NOPE}}", 1)


def test_repeat_plan_validates_in_the_callers_thread() -> None:
    plan = RepeatPlan("n={{COUNTER}}", line_ending="LF", count=3)
    assert plan.payload(2) == b"n=2\n"
    with pytest.raises(UserError, match="Repeat count"):
        RepeatPlan("x", count=0)
    with pytest.raises(UserError, match="odd number of hex digits"):
        RepeatPlan("41 4", fmt="hex")


def test_auto_reply_literal_and_regex() -> None:
    literal = AutoReply.create("PING", "PONG\\r\\n")
    assert literal.matches(b"xxPINGxx") and not literal.matches(b"ping")
    assert literal.reply == b"PONG\r\n"
    regex = AutoReply.create(r"^HELO \\w+", "250 ok", regex=True)
    assert regex.matches(b"HELO there") and not regex.matches(b"EHLO there")
    hexed = AutoReply.create("01 02", "ff", fmt="hex")
    assert hexed.matches(b"\x00\x01\x02") and hexed.reply == b"\xff"
    with pytest.raises(UserError, match="not a valid regular expression"):
        AutoReply.create("(", "x", regex=True)
    with pytest.raises(UserError, match="Auto-reply match is empty"):
        AutoReply.create("", "x")
