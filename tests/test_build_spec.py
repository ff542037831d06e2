"""The frozen build: PyInstaller onedir from build.spec, then its own self-test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_frozen_app_builds_and_passes_its_self_test(tmp_path: Path) -> None:
    if shutil.which("pyinstaller") is None and not (Path(sys.executable).parent /
                                                   "pyinstaller").exists():
        pytest.fail("PyInstaller is missing: install the 'build' extra (pip install -e '.[build]')")
    pyinstaller = shutil.which("pyinstaller") or str(Path(sys.executable).parent / "pyinstaller")
    dist, work = tmp_path / "dist", tmp_path / "work"
    build = subprocess.run(
        [pyinstaller, "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
         "--workpath", str(work), str(ROOT / "build.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=800)
    assert build.returncode == 0, build.stderr[-4000:]
    exe = dist / "wirebench" / "wirebench"
    assert exe.is_file() and (dist / "wirebench" / "_internal" / "assets" / "icons").is_dir()

    env = dict(os.environ, WIREBENCH_CONFIG_DIR=str(tmp_path / "cfg"),
               WIREBENCH_DATA_DIR=str(tmp_path / "data"))
    assert "DISPLAY" in env, "pytest-xvfb should have provided a display"
    run = subprocess.run([str(exe), "--self-test"], env=env, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "self-test: 6 tabs visited" in run.stdout

    # the frozen app runs Python scripts itself (CGI scripts need no system Python)
    script = tmp_path / "hello.py"
    script.write_text("import sys, json\nprint(json.dumps(sys.argv[1:]))\n")
    ran = subprocess.run([str(exe), "--run-python", str(script), "a b"], capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0 and ran.stdout.strip() == '["a b"]'

    headless = {k: v for k, v in env.items() if k != "DISPLAY"}
    helped = subprocess.run([str(exe), "serve", "--help"], env=headless, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0 and "KIND" in helped.stdout
