"""``wirebench --self-test`` from source, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_self_test_from_source_exits_zero(tmp_path: Path) -> None:
    env = dict(os.environ, WIREBENCH_CONFIG_DIR=str(tmp_path / "cfg"),
               WIREBENCH_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "gui", "--self-test"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test: 6 tabs visited" in result.stdout
    assert "all stopped" in result.stdout
