"""FtpOptions: each bad field is named; anonymous gets the user@host password; the limits
typed in the tab are parsed and kept in range."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.ftp.options import LIMITS, FtpOptions


def test_options_name_the_field_at_fault():
    with pytest.raises(UserError) as info:
        FtpOptions("", 21).validated()
    assert info.value.field_name == "Host"
    with pytest.raises(UserError) as info:
        FtpOptions("h", 70000, anonymous=True).validated()
    assert info.value.field_name == "Port"
    with pytest.raises(UserError) as info:
        FtpOptions("h", 21, user="bob\r\nDELE x", password="p").validated()
    assert info.value.field_name == "User"
    anon = FtpOptions("h", 21, anonymous=True).validated()
    assert anon.user == "anonymous" and "@" in anon.password


def test_limits_must_be_positive():
    with pytest.raises(UserError) as info:
        FtpOptions("h", 21, anonymous=True, max_listing_mb=0).validated()
    assert info.value.field_name == "Listing limit"
    with pytest.raises(UserError) as info:
        FtpOptions("h", 21, anonymous=True, max_folder_entries=0).validated()
    assert info.value.field_name == "Folder entry limit"


@pytest.mark.parametrize("field, keyword", [("Timeout", "timeout"),
                                            ("Keepalive", "keepalive"),
                                            ("Listing limit", "max_listing_mb"),
                                            ("Folder entry limit", "max_folder_entries")])
@pytest.mark.parametrize("typed, says", [("", "is empty"), ("  ", "is empty"),
                                         ("lots", "got 'lots'"), ("0", "got 0"),
                                         ("-5", "got -5"), ("1e12", "got 1e12"),
                                         ("nan", "got 'nan'"), ("inf", "got inf")])
def test_a_bad_limit_is_one_sentence_naming_the_field_and_the_range(field, keyword, typed,
                                                                    says):
    with pytest.raises(UserError) as info:
        FtpOptions("h", 21, anonymous=True, **{keyword: typed}).validated()
    message = str(info.value)
    assert info.value.field_name == field
    assert message.startswith(field) and says in message
    unit = LIMITS[field][0]
    # one sentence that says what to type: the range and its unit
    assert message.endswith(".") and ". " not in message
    assert " from " in message and f" {unit}" in message


def test_limits_typed_as_text_are_parsed_and_a_fraction_of_entries_is_refused():
    options = FtpOptions("h", 21, anonymous=True, timeout=" 7.5 ", keepalive="60",
                         max_listing_mb="0.5", max_folder_entries="30").validated()
    assert (options.timeout, options.keepalive) == (7.5, 60.0)
    assert (options.max_listing_mb, options.max_folder_entries) == (0.5, 30)
    assert isinstance(options.max_folder_entries, int)
    with pytest.raises(UserError, match="whole number") as info:
        FtpOptions("h", 21, anonymous=True, max_folder_entries="2.5").validated()
    assert info.value.field_name == "Folder entry limit"
    top = FtpOptions("h", 21, anonymous=True, max_listing_mb=256,
                     max_folder_entries=10_000_000).validated()
    assert top.max_listing_mb == 256
    # validated() runs again in each connection: a whole float is still a whole number
    assert FtpOptions("h", 21, anonymous=True,
                      max_folder_entries=30.0).validated().max_folder_entries == 30
