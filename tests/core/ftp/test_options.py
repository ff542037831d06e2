"""FtpOptions: each bad field is named; anonymous gets the user@host password."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.ftp.options import FtpOptions


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
