"""The lab telnet shell's sample output."""

from __future__ import annotations

from core.servers.telnet_samples import color_demo, ls_listing, ls_lr_lines


def test_listing_stream_is_deterministic_and_coloured() -> None:
    a = list(ls_lr_lines(500))
    assert a == list(ls_lr_lines(500))
    assert len(a) == 500
    assert any("\x1b[1;34m" in line for line in a)
    assert any(line.startswith("-rw-r--r--") for line in a)


def test_listing_and_colour_demo_are_non_empty() -> None:
    assert ls_listing()[0].startswith("total ")
    assert any("38;5;" in line or "48;5;" in line for line in color_demo())
