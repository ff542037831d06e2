"""The payload codec: escapes, hex, line endings, encodings, hexdump; parse(format(x)) == x."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.codec import (
    ENCODINGS,
    LINE_ENDINGS,
    display_text,
    format_escaped,
    format_hex,
    hexdump,
    parse_escaped,
    parse_hex,
    parse_payload,
)
from core.errors import UserError


@given(st.binary(max_size=300), st.sampled_from(ENCODINGS))
def test_escaped_round_trip(data: bytes, encoding: str) -> None:
    assert parse_escaped(format_escaped(data, encoding), encoding) == data


@given(st.binary(max_size=300), st.sampled_from([" ", ":", "", ","]))
def test_hex_round_trip(data: bytes, sep: str) -> None:
    assert parse_hex(format_hex(data, sep)) == data


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=100))
def test_plain_text_without_backslashes_is_encoded_as_is(text: str) -> None:
    text = text.replace("\\", "")
    assert parse_escaped(text, "utf-8") == text.encode("utf-8")


@given(st.binary(max_size=200))
def test_hexdump_holds_every_byte(data: bytes) -> None:
    lines = hexdump(data, offset=0x100).splitlines() if data else []
    assert len(lines) == (len(data) + 15) // 16
    digits = "".join(line[10:58].replace(" ", "") for line in lines)
    assert bytes.fromhex(digits) == data


def test_escapes() -> None:
    assert parse_escaped(r"GET / HTTP/1.0\r\n\r\n") == b"GET / HTTP/1.0\r\n\r\n"
    assert parse_escaped(r"a\tb\0c\\d\x7f\xFF\e[0m") == b"a\tb\0c\\d\x7f\xff\x1b[0m"
    assert parse_escaped("é", "latin-1") == b"\xe9"
    assert parse_escaped("é", "utf-8") == b"\xc3\xa9"
    assert parse_escaped("═", "cp437") == b"\xcd"


@pytest.mark.parametrize("text, message", [
    (r"\q", r"unknown escape \\q at position 1"),
    ("abc\\", "lone backslash"),
    (r"\x4", r"needs two hex digits"),
    (r"\xzz", r"needs two hex digits"),
])
def test_bad_escapes_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        parse_escaped(text)
    assert info.value.field_name == "Payload"


def test_unencodable_character_names_encoding_and_fix() -> None:
    with pytest.raises(UserError, match=r"cannot be written in ascii; pick utf-8"):
        parse_escaped("naïve", "ascii")


def test_hex_accepts_common_spellings() -> None:
    expected = b"\x48\x65\x6c\x6c\x6f"
    for text in ("48656c6c6f", "48 65 6c 6c 6f", "48:65:6C:6c:6f", "0x48, 0x65, 0x6c, 0x6c, 0x6f",
                 "48-65-6c-6c-6f", "4865\n6c6c\t6f"):
        assert parse_hex(text) == expected, text


def test_bad_hex_is_a_clear_sentence() -> None:
    with pytest.raises(UserError, match=r"odd number of hex digits \(3\).*0a not a"):
        parse_hex("41 4")
    with pytest.raises(UserError, match=r"'g' is not a hex digit \(byte 2\)"):
        parse_hex("41 4g")


def test_payload_line_endings_and_formats() -> None:
    assert {k: parse_payload("hi", "text", k) for k in LINE_ENDINGS} == {
        "none": b"hi", "CR": b"hi\r", "LF": b"hi\n", "CRLF": b"hi\r\n"}
    assert parse_payload("41 42", "hex", "CRLF") == b"AB"  # hex: exactly the bytes typed
    with pytest.raises(UserError, match="Format must be text or hex"):
        parse_payload("x", "base64")
    with pytest.raises(UserError, match="Line ending must be one of"):
        parse_payload("x", "text", "LFCR")
    with pytest.raises(UserError, match="Encoding must be one of"):
        parse_payload("x", "text", "none", "ebcdic")


def test_format_escaped_and_display_text() -> None:
    assert format_escaped(b"a\\b\r\n\x00\x1b\xff") == r"a\\b\r\n\0\e\xff"
    assert format_escaped("é".encode()) == "é"
    assert format_escaped("é".encode(), "ascii") == r"\xc3\xa9"
    assert format_escaped(b"\xc2\x85") == r"\xc2\x85"  # NEL: valid utf-8, not printable
    assert display_text(b"one\r\ntwo\n") == "one\\r\\n\ntwo\\n"
    assert display_text(b"a\nb") == "a\\n\nb" and display_text(b"") == ""
    assert display_text(b"x\\n\\\n") == "x\\\\n\\\\\\n"  # backslash-n is no line break


@given(st.binary(max_size=200))
def test_display_text_is_format_escaped_with_line_breaks(data: bytes) -> None:
    shown = display_text(data)
    assert shown.replace("\n", "") == format_escaped(data)
    assert shown.count("\n") == max(0, data.count(b"\n") - data.endswith(b"\n"))


def test_hexdump_layout() -> None:
    assert hexdump(b"Hello, world!\x00\x01\x02\x7fABC", offset=16) == (
        "00000010  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|\n"
        "00000020  7f 41 42 43                                       |.ABC|")
    assert hexdump(b"") == ""
