from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.version import __version__
from gui.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"wirebench {__version__}"


def test_flags_parse() -> None:
    args = build_parser().parse_args(["--lab"])
    assert args.lab and not args.self_test


def test_run_python_runs_a_script_with_its_arguments(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\nsys.exit(3)\n")
    result = subprocess.run([sys.executable, "-m", "gui", "--run-python", str(script), "x"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 3
    assert result.stdout.strip() == "args ['x']"


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--lab" in out and "--self-test" in out and "serve" in out
