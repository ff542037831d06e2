"""Name checks: every bad input gets a sentence naming the field and the fix."""

from __future__ import annotations

import time

import pytest

from core.errors import UserError
from core.lookup.dnsnames import check_name, is_address, to_dns_name


def test_plain_and_idn_names_encode() -> None:
    assert check_name("Example.COM") == "Example.COM"
    assert check_name("bücher.example") == "xn--bcher-kva.example"
    assert check_name("wirebench.test.") == "wirebench.test."
    assert check_name("127.0.0.1") == "127.0.0.1"
    assert check_name("::1") == "::1"
    assert to_dns_name("a.b").to_text() == "a.b."


@pytest.mark.parametrize(("text", "needle"), [
    ("", "empty"),
    ("   ", "empty"),
    ("a..b", "empty label"),
    (".leading", "empty label"),
    ("a" * 64 + ".com", "at most 63"),
    (("a" * 60 + ".") * 5, "at most 253"),
    ("has space.com", "space"),
])
def test_bad_names_are_explained(text: str, needle: str) -> None:
    with pytest.raises(UserError) as info:
        check_name(text, "Host")
    assert needle in str(info.value)
    assert info.value.field_name == "Host"
    assert str(info.value).startswith("Host")


def test_invalid_idn_is_a_user_error_not_a_crash() -> None:
    # U+0080 control and a lone combining mark are refused by IDNA
    for text in ("a\u0080b.com", "\u0301abc.com", "\ufffd.com"):
        with pytest.raises(UserError) as info:
            check_name(text)
        assert "international name" in str(info.value) or "label" in str(info.value)


def test_label_that_grows_past_63_once_encoded() -> None:
    label = "".join(chr(0x4E00 + i * 37) for i in range(30))  # 30 CJK: > 63 encoded
    with pytest.raises(UserError) as info:
        check_name(label + ".example")
    assert "once encoded" in str(info.value) or "at most 63" in str(info.value)


def test_overlong_unicode_is_refused_before_encoding() -> None:
    huge = "ü" * 2_000_000  # punycode of this would take minutes
    start = time.monotonic()
    with pytest.raises(UserError) as info:
        check_name(huge)
    assert "at most 253" in str(info.value)
    assert time.monotonic() - start < 5  # a generous bound: encoding would take far longer
    with pytest.raises(UserError):
        check_name("a." + "ü" * 100_000 + ".b")


def test_is_address() -> None:
    assert is_address("10.0.0.1") and is_address("fe80::1%eth0")
    assert not is_address("10.0.0.256") and not is_address("host")


def test_ip_address_refused_where_a_name_is_needed() -> None:
    with pytest.raises(UserError):
        to_dns_name("")
