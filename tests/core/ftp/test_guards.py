"""Names from the server never leave the chosen folder; CR/LF never reaches a command."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import UserError
from core.ftp.guards import check_argument, local_component, safe_local_path


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "x\r\nDELE y", "nul\x00"])
def test_line_breaks_are_refused_naming_the_field(value):
    with pytest.raises(UserError) as info:
        check_argument(value, "File name")
    assert info.value.field_name == "File name"


@pytest.mark.parametrize("name,expected", [
    ("../x", "x"), ("/etc/passwd", "passwd"), ("a/../../b", "b"), ("..\\..\\win.ini", "win.ini"),
    ("bell\x07name", "bell_name"), ("caf\udce9", "caf\ufffd"),
])
def test_server_names_become_one_safe_component(name, expected):
    assert local_component(name) == expected


@pytest.mark.parametrize("name", ["..", ".", "", "/", "a/.."])
def test_names_that_are_not_files_are_refused(name):
    with pytest.raises(UserError):
        local_component(name)


def test_symlink_in_the_folder_cannot_redirect_a_write(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "trap").symlink_to(outside / "victim")
    with pytest.raises(UserError, match="outside"):
        safe_local_path(folder, "trap")


@given(st.text(max_size=60))
def test_no_name_escapes(name):
    folder = Path("/tmp/wb-guard-root")
    try:
        path = safe_local_path(folder, name)
    except UserError:
        return
    assert path.parent == folder.resolve()
