"""The package as pip installs it (non-editable): code, assets and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_wheel_carries_the_assets_and_the_command(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=500)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("wirebench-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for needed in ("assets/origin-document.txt", "assets/icons/wirebench.png",
                       "assets/www/index.html", "assets/cgi-bin/hello.py",
                       "assets/cgi-bin/hello.sh", "core/servers/echo/fork_helper.py",
                       "gui/app.py", "core/events.py"):
            assert needed in names, needed
        # a shell CGI script must stay executable once installed
        mode = zf.getinfo("assets/cgi-bin/hello.sh").external_attr >> 16
        assert mode & 0o111, oct(mode)
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "wirebench = gui.cli:main" in zf.read(entry_points).decode()
        assert not any(n.startswith(("tests/", "bench/")) for n in names)
