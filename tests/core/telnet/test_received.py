from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import UserError
from core.telnet.received import ReceivedBytes


def test_keeps_at_most_its_limit() -> None:
    received = ReceivedBytes(limit=10)
    received.add(b"12345678")
    received.add(b"abcdef")
    received.add(b"more")
    assert received.data() == b"12345678ab"
    received.clear()
    assert received.data() == b""


@pytest.mark.parametrize("reply", [b"HTTP/1.0 200 OK\r\nA: b\r\n\r\n<p>x</p>",
                                   b"HTTP/1.0 200 OK\nA: b\n\n<p>x</p>"])
def test_an_http_reply_is_saved_without_its_head(reply: bytes, tmp_path: Path) -> None:
    received = ReceivedBytes()
    received.add(reply)
    saved = received.save(tmp_path / "new" / "page.html")
    assert saved.read_bytes() == b"<p>x</p>"


def test_saving_nothing_or_into_a_file_names_the_fix(tmp_path: Path) -> None:
    received = ReceivedBytes()
    with pytest.raises(UserError, match="Nothing received yet"):
        received.save(tmp_path / "x.html")
    received.add(b"plain bytes")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(UserError, match="Choose another folder") as info:
        received.save(tmp_path / "file" / "x.html")
    assert info.value.field_name == "Save"
    assert received.save(tmp_path / "ok.bin").read_bytes() == b"plain bytes"
