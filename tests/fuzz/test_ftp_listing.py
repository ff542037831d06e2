"""Fuzzed: FTP LIST and MLSD listing parsers (core/ftp/listing.py)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.ftp.listing import decode_wire, parse_list_line, parse_listing, parse_mlsd_line
from tests.fuzz.budget import fuzz

NOW = dt.datetime(2026, 6, 1, 12, 0)
_UNIXISH = st.builds(
    lambda perms, links, size, month, day, when, name: (
        f"{perms} {links} owner group {size} {month} {day} {when} {name}"),
    st.text("-dlrwxsStT", min_size=10, max_size=10), st.integers(0, 99),
    st.one_of(st.integers(0, 10**20), st.text(max_size=5)),
    st.sampled_from(["Jan", "Feb", "Dec", "Foo", ""]), st.integers(-1, 40),
    st.one_of(st.from_regex(r"\A\d{1,2}:\d{1,2}\Z"), st.integers(0, 99999).map(str)),
    st.text(max_size=30))
_DOSISH = st.builds(
    lambda date, time, size, name: f"{date} {time} {size} {name}",
    st.from_regex(r"\A\d{1,2}-\d{1,2}-\d{2,4}\Z"), st.from_regex(r"\A\d{1,2}:\d{2}[AP]M\Z"),
    st.one_of(st.just("<DIR>"), st.integers(0, 10**15).map(str)), st.text(max_size=30))
_MLSDISH = st.builds(
    lambda facts, name: ";".join(f"{k}={v}" for k, v in facts) + "; " + name,
    st.lists(st.tuples(st.sampled_from(["type", "size", "modify", "perm", "unix.mode",
                                        "Type", "x"]),
                       st.text(max_size=20)), max_size=6),
    st.text(max_size=30))
LINE = st.one_of(_UNIXISH, _DOSISH, _MLSDISH, st.text(max_size=200),
                 st.binary(max_size=200).map(decode_wire))


@fuzz(300)
@given(st.lists(LINE, max_size=20), st.booleans())
def test_listing_parsers_never_raise_and_stay_within_the_lines(lines: list[str],
                                                               mlsd: bool) -> None:
    entries = parse_listing(lines, mlsd, NOW)
    assert len(entries) <= len(lines)
    for line in lines:
        for entry in (parse_list_line(line, NOW), parse_mlsd_line(line)):
            if entry is None:
                continue
            assert entry.name in line or entry.is_raw
            assert entry.size is None or entry.size >= 0
            assert entry.kind in ("file", "dir", "link", "other", "raw")
