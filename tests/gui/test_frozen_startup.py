"""The frozen build's runtime hook: it diverts multiprocessing helpers and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_ordinary_start_imports_nothing() -> None:
    out = run("import sys\n"
              "from gui.frozen_startup import divert_multiprocessing_helper as divert\n"
              "divert(['wirebench']); divert(['wirebench', '--run-python', 'x.py', '-c'])\n"
              "divert(['wirebench', '-c', 'print(1)'])\n"
              "print('multiprocessing' in sys.modules, 'inspect' in sys.modules)")
    assert out == "False False"


def test_a_spawned_worker_is_diverted_and_exits() -> None:
    """What ``--multiprocessing-fork`` does: become the worker, never return to the app."""
    out = run("import os, sys\n"
              "from gui.frozen_startup import divert_multiprocessing_helper as divert\n"
              "r, w = os.pipe(); os.close(w)\n"  # the parent is gone: the worker ends
              "try:\n"
              "    divert(['wirebench', '--multiprocessing-fork', f'pipe_handle={r}'])\n"
              "except SystemExit:\n"
              "    print('diverted')\n"
              "except BaseException as exc:\n"
              "    print('diverted', type(exc).__name__)\n"
              "else:\n"
              "    print('returned')\n")
    assert out.startswith("diverted")
