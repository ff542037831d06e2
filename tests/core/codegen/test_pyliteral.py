"""Literals for generated scripts: plain values round-trip, other objects are refused."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.codegen.pyliteral import STDLIB_ONLY, bytes_literal, comment, header, literal

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4),
    max_leaves=12)


@given(plain)
def test_plain_values_round_trip(value) -> None:
    assert ast.literal_eval(literal(value)) == value


@given(st.binary(max_size=300))
def test_long_bytes_round_trip(data: bytes) -> None:
    assert ast.literal_eval(bytes_literal(data)) == data


@given(st.text())
def test_a_comment_is_one_savable_line(text: str) -> None:
    line = comment(text)
    compile(line, "c.py", "exec")
    line.encode("utf-8")
    assert "\n" not in line and "\r" not in line


def test_enums_are_written_as_values_and_objects_are_refused() -> None:
    assert literal(socket.AF_INET) == str(int(socket.AF_INET))
    assert literal([socket.SOCK_STREAM]) == f"[{int(socket.SOCK_STREAM)}]"
    assert literal(Path("/tmp/x")) == "'/tmp/x'"
    with pytest.raises(TypeError, match="no literal form"):
        literal(object())


def test_the_header_names_what_the_script_needs() -> None:
    assert f"Needs: {STDLIB_ONLY}." in header("X.", ["import socket"])
    assert "Needs: dnspython." in header("X.", ["import dns.query"], "dnspython")
