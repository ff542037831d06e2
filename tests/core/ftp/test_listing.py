"""LIST dialects and MLSD facts parsed into entries; odd lines kept raw."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.ftp.listing import (
    DIR,
    FILE,
    LINK,
    RAW,
    display_name,
    parse_list_line,
    parse_listing,
    parse_mlsd_line,
)

NOW = dt.datetime(2024, 3, 15, 12, 0)


def test_unix_file_with_time_and_spaces_in_the_name():
    e = parse_list_line("-rw-r--r--    1 owner    group       12345 Mar 10 09:41 my report.txt",
                        NOW)
    assert (e.name, e.kind, e.size) == ("my report.txt", FILE, 12345)
    assert e.modified == dt.datetime(2024, 3, 10, 9, 41)
    assert e.permissions == "-rw-r--r--"


def test_unix_recent_date_in_the_future_means_last_year():
    e = parse_list_line("-rw-r--r-- 1 o g 1 Dec 24 18:00 xmas", NOW)
    assert e.modified == dt.datetime(2023, 12, 24, 18, 0)


def test_unix_year_column_and_directory():
    e = parse_list_line("drwxr-xr-x   2 ftp      ftp          4096 Jan  1  2020 pub", NOW)
    assert (e.name, e.kind) == ("pub", DIR)
    assert e.modified == dt.datetime(2020, 1, 1)


def test_unix_symlink_has_a_target():
    e = parse_list_line("lrwxrwxrwx 1 root root 7 Feb  2  2021 latest -> v2.0/x y", NOW)
    assert (e.name, e.kind, e.target) == ("latest", LINK, "v2.0/x y")


def test_unix_without_group_and_with_acl_marker():
    e = parse_list_line("-rw-r--r--+ 1 owner 99 Jun 30 2019 notes.md", NOW)
    assert (e.name, e.size) == ("notes.md", 99)


def test_iso_dates_from_some_servers():
    e = parse_list_line("-rw-r--r-- 1 u g 10 2023-05-06 07:08 iso.txt", NOW)
    assert e.modified == dt.datetime(2023, 5, 6, 7, 8)


def test_dos_iis_lines():
    d = parse_list_line("01-02-20  03:04PM       <DIR>          Program Files")
    f = parse_list_line("12-31-2019  11:59AM             1024 readme 1.txt")
    assert (d.name, d.kind) == ("Program Files", DIR)
    assert d.modified == dt.datetime(2020, 1, 2, 15, 4)
    assert (f.name, f.kind, f.size) == ("readme 1.txt", FILE, 1024)


def test_total_and_dot_entries_skipped_unknown_kept_raw():
    lines = ["total 12", "drwxr-xr-x 2 u g 4096 Jan 1 2020 .",
             "drwxr-xr-x 2 u g 4096 Jan 1 2020 ..", "something odd here", ""]
    entries = parse_listing(lines, mlsd=False, now=NOW)
    assert [(e.kind, e.name) for e in entries] == [(RAW, "something odd here")]


def test_mlsd_facts():
    e = parse_mlsd_line("type=file;size=42;modify=20240102030405.123;perm=r; a b.txt")
    assert (e.name, e.kind, e.size) == ("a b.txt", FILE, 42)
    assert e.modified == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert parse_mlsd_line("type=cdir;modify=20240102030405; /x") is None
    assert parse_mlsd_line("type=OS.unix=slink:/t; l").kind == LINK
    assert parse_mlsd_line("garbage").kind == RAW


def test_display_name_replaces_bad_bytes_and_shows_control_characters():
    assert display_name("caf\udce9") == "caf\ufffd"
    assert display_name("a\x1b[2Jb") == "a\\x1b[2Jb"


@given(st.text(max_size=200))
def test_any_line_parses_or_is_kept_raw(line):
    for mlsd in (False, True):
        for entry in parse_listing([line], mlsd=mlsd, now=NOW):
            assert entry.kind in (FILE, DIR, LINK, RAW, "other")
