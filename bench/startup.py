"""Startup time: process start to first window mapped, from source and frozen,
against a bare Tk hello-world measured in the same run.

    xvfb-run -a python bench/startup.py [--runs 7] [--build]

Goals, for the source and the frozen app alike: window mapped <= 1.8x and first tab drawn
<= 3.0x the bare Tk hello-world's time to mapped. ``--build`` builds the frozen app first
when dist/wirebench/wirebench is missing (through the running interpreter: run it as
``.venv/bin/python bench/startup.py --build``, no activated venv needed). Exit status 1
when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from required_tools import python_module_command

ROOT = Path(__file__).resolve().parents[1]
MAPPED_GOAL = 1.8
READY_GOAL = 3.0
FROZEN = ROOT / "dist" / "wirebench" / "wirebench"

BARE_TK = """
import time, tkinter as tk
root = tk.Tk()
tk.Label(root, text="hello").pack()
def mapped(e):
    if e.widget is root:
        print(f"mapped {time.time():.6f}", flush=True)
        root.after_idle(root.destroy)
root.bind("<Map>", mapped, add="+")
root.mainloop()
"""


def time_to(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from process start to each probe line ("mapped", and "ready" for the app)."""
    start = time.time()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    marks = {line.split()[0]: float(line.split()[1]) - start
             for line in out.stdout.splitlines() if line.startswith(("mapped ", "ready "))}
    if "mapped" not in marks:
        raise RuntimeError(f"{cmd[0]} never mapped a window:\n{out.stdout}\n{out.stderr}")
    return marks


def measure(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    time_to(cmd, env)  # warm the page cache
    samples = [time_to(cmd, env) for _ in range(runs)]
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--build", action="store_true", help="build the frozen app if missing")
    args = parser.parse_args()
    if "DISPLAY" not in os.environ:
        print("needs a display: run under xvfb-run -a", file=sys.stderr)
        return 2
    env = dict(os.environ, WIREBENCH_STARTUP_PROBE="1",
               WIREBENCH_CONFIG_DIR=tempfile.mkdtemp(prefix="wb-bench-"),
               WIREBENCH_DATA_DIR=tempfile.mkdtemp(prefix="wb-bench-"),
               PYTHONPATH=str(ROOT))
    bare = measure([sys.executable, "-c", BARE_TK], env, args.runs)["mapped"]
    print(f"bare Tk hello-world : {bare * 1000:7.1f} ms to mapped (median of {args.runs}, "
          f"load average {os.getloadavg()[0]:.2f})")
    missed = report("source", measure([sys.executable, "-m", "gui"], env, args.runs), bare)
    if not FROZEN.exists() and args.build:
        pyinstaller = python_module_command("PyInstaller", "build")
        subprocess.run([*pyinstaller, "--noconfirm", "--log-level", "WARN", "build.spec"],
                       cwd=ROOT, check=True)
    if FROZEN.exists():
        missed += report("frozen", measure([str(FROZEN)], env, args.runs), bare)
    else:
        print("wirebench (frozen)  : not built (run with --build, or "
              f"{sys.executable} -m PyInstaller build.spec)")
    print("all goals met" if not missed else f"{missed} goal(s) MISSED")
    return 1 if missed else 0


def report(build: str, marks: dict[str, float], bare: float) -> int:
    """Print one build's two ratios to bare Tk; the number of goals it missed."""
    missed = 0
    for mark, what, goal in (("mapped", "to mapped         ", MAPPED_GOAL),
                             ("ready", "to first tab drawn", READY_GOAL)):
        ratio = marks[mark] / bare
        missed += ratio > goal
        label = f"wirebench ({build})" if mark == "mapped" else ""
        print(f"{label:<20}: {marks[mark] * 1000:7.1f} ms {what} ratio {ratio:.2f}x bare Tk "
              f"  goal <= {goal}x  {'OK' if ratio <= goal else 'MISSED'}")
    return missed


if __name__ == "__main__":
    sys.exit(main())
