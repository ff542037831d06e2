"""SendBacklog and thin_notes: what a telnet server that asks without reading may cost."""

from __future__ import annotations

from core.events import LogLine
from core.telnet.backlog import (
    ANSWER_BACKLOG,
    MAX_NOTES_PER_READ,
    OUT_CAP,
    SendBacklog,
    thin_notes,
)
from core.telnet.protocol import Negotiation


def make() -> tuple[SendBacklog, list[str], list[int]]:
    warnings: list[str] = []
    wakes: list[int] = []
    return SendBacklog(warnings.append, lambda: wakes.append(1)), warnings, wakes


def test_answers_stop_at_the_backlog_and_say_so_once() -> None:
    backlog, warnings, _ = make()
    answer = b"\x1b[1;1R"
    while len(backlog) < ANSWER_BACKLOG:
        backlog.add_answer(answer)
    for _ in range(1000):
        backlog.add_answer(answer)
    assert len(backlog) < ANSWER_BACKLOG + len(answer)
    assert backlog.answers_dropped == 1000 * len(answer)
    assert len(warnings) == 1 and "not reading" in warnings[0]
    del backlog[:len(backlog) // 2]  # the server read some: answers flow again
    backlog.add_answer(answer)
    assert backlog.endswith(answer)


def test_typed_input_is_refused_past_the_cap_and_clear_frees_everything() -> None:
    backlog, warnings, wakes = make()
    backlog.add_typed(b"x" * OUT_CAP)
    backlog.add_typed(b"y")
    assert len(backlog) == OUT_CAP and b"y" not in backlog[-1:]
    assert "1 bytes of input dropped" in warnings[0] and wakes
    backlog.clear()
    assert len(backlog) == 0 and backlog.answers_dropped == 0
    backlog.answer_query(b"ok")
    assert bytes(backlog) == b"ok" and len(wakes) == 3


def test_thin_notes_keeps_the_first_notes_and_every_other_event() -> None:
    note = Negotiation(source="t", direction="recv", command="SB", option="TTYPE")
    other = LogLine(source="t", text="kept")
    events = [note] * (MAX_NOTES_PER_READ + 50) + [other]
    thinned = thin_notes(events, "t")
    assert thinned[:MAX_NOTES_PER_READ] == [note] * MAX_NOTES_PER_READ
    assert thinned[MAX_NOTES_PER_READ] is other
    assert "50 more telnet negotiation messages" in thinned[-1].text
    few = [note, other]
    assert thin_notes(few, "t") is few
