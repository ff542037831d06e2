from __future__ import annotations

import sys

from core import paths


def test_assets_are_found_with_the_sample_files() -> None:
    assert paths.asset("icons", "wirebench.png").is_file()
    assert paths.asset("origin-document.txt").read_text(encoding="utf-8").count("socket") > 10


def test_config_and_data_dirs_follow_the_override(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WIREBENCH_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("WIREBENCH_DATA_DIR", str(tmp_path / "d"))
    assert paths.config_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    assert paths.data_dir() == tmp_path / "d" and (tmp_path / "d").is_dir()


def test_python_command_is_this_interpreter_from_source() -> None:
    assert paths.python_command() == [sys.executable]
