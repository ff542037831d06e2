from __future__ import annotations

from pathlib import Path

from core.settings import Settings


def test_round_trip_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Settings(path)
    s.set("geometry", "1024x700+10+10")
    s.section("socket")["host"] = "example.org"
    s.save()
    again = Settings(path)
    assert again.get("geometry") == "1024x700+10+10"
    assert again.section("socket") == {"host": "example.org"}


def test_corrupt_file_starts_empty_and_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    s = Settings(path)
    assert s.get("theme", "light") == "light"
    s.set("theme", "dark")
    s.save()
    assert Settings(path).get("theme") == "dark"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temp files left
