"""TelnetSettings: every bad field is named with its fix."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.telnet.settings import ENCODINGS, TelnetSettings


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"port": 70000}, "Port", "Port must be 1–65535"),
    ({"port": "http"}, "Port", "must be a number"),
    ({"host": " "}, "Host", "Host is empty"),
    ({"host": "exa mple.org"}, "Host", "contains spaces"),
    ({"mode": "ssh"}, "Mode", "telnet, raw"),
    ({"encoding": "klingon"}, "Encoding", "utf-8, latin-1, cp437"),
    ({"columns": 5000}, "Size", "out of range"),
    ({"keepalive": -1}, "Keepalive", r"0 \(off\)"),
])
def test_bad_fields_are_named(changes: dict, field: str, words: str) -> None:
    settings = TelnetSettings(**{"port": 23, **changes})
    with pytest.raises(UserError, match=words) as info:
        settings.validate()
    assert info.value.field_name == field


def test_good_settings_pass_and_port_becomes_a_number() -> None:
    for encoding in ENCODINGS:
        settings = TelnetSettings(port="2323", encoding=encoding)  # type: ignore[arg-type]
        settings.validate()
        assert settings.port == 2323
