"""Saved messages: store, replace by name, import/export, and files that are not lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import UserError
from core.sockets.messages import MAX_FILE_BYTES, MessageStore, SavedMessage


def test_save_replace_delete_and_round_trip_through_a_file(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "m.json")
    assert store.load() == []
    store.save(SavedMessage("b", data="two"))
    store.save(SavedMessage("a", mode="UDP", port="9", format="hex", data="01 02"))
    store.save(SavedMessage("b", data="two again"))
    assert [(m.name, m.data) for m in store.load()] == [("a", "01 02"), ("b", "two again")]
    assert store.load()[0].target == "127.0.0.1:9"
    assert store.export_file(tmp_path / "out.json") == 2
    other = MessageStore(tmp_path / "other.json")
    assert other.import_file(tmp_path / "out.json") == 2
    assert other.load() == store.load()
    store.delete("a")
    assert [m.name for m in store.load()] == ["b"]
    with pytest.raises(UserError, match="Name is empty"):
        store.save(SavedMessage("  "))


def test_files_that_are_not_message_lists_are_refused(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "m.json")
    (tmp_path / "obj.json").write_text('{"name": "x"}')
    with pytest.raises(UserError, match="not a list"):
        store.import_file(tmp_path / "obj.json")
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(UserError, match="could not be read"):
        store.import_file(tmp_path / "bad.json")
    (tmp_path / "big.json").write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(UserError, match="larger than"):
        store.import_file(tmp_path / "big.json")
    with pytest.raises(UserError, match="does not exist"):
        store.import_file(tmp_path / "missing.json")
    (tmp_path / "mixed.json").write_text('[{"name": "ok", "data": 5}, {"nope": 1}, 3]')
    assert store.import_file(tmp_path / "mixed.json") == 1
    assert store.load()[0].data == "5"
