"""Startup time: process start to first window mapped, from source and frozen,
against a bare Tk hello-world measured in the same run.

    xvfb-run -a python bench/startup.py [--runs 7] [--build]

Goals: source <= 2.0x bare Tk, frozen <= 1.3x source. ``--build`` builds the frozen app
first when dist/wirebench/wirebench is missing.
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

ROOT = Path(__file__).resolve().parents[1]
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
    source = measure([sys.executable, "-m", "gui"], env, args.runs)
    print(f"bare Tk hello-world : {bare * 1000:7.1f} ms to mapped (median of {args.runs})")
    ratio = source["mapped"] / bare
    print(f"wirebench (source)  : {source['mapped'] * 1000:7.1f} ms to mapped   ratio "
          f"{ratio:.2f}x bare Tk   goal <= 2.0x  {'OK' if ratio <= 2.0 else 'MISSED'}")
    print(f"                      {source['ready'] * 1000:7.1f} ms to its first tab drawn "
          f"({source['ready'] / bare:.2f}x bare Tk)")
    if not FROZEN.exists() and args.build:
        subprocess.run(["pyinstaller", "--noconfirm", "--log-level", "WARN", "build.spec"],
                       cwd=ROOT, check=True)
    if FROZEN.exists():
        frozen = measure([str(FROZEN)], env, args.runs)
        ratio = frozen["mapped"] / source["mapped"]
        print(f"wirebench (frozen)  : {frozen['mapped'] * 1000:7.1f} ms to mapped   ratio "
              f"{ratio:.2f}x source   goal <= 1.3x  {'OK' if ratio <= 1.3 else 'MISSED'}")
        print(f"                      {frozen['ready'] * 1000:7.1f} ms to its first tab drawn "
              f"({frozen['ready'] / source['ready']:.2f}x source)")
    else:
        print("wirebench (frozen)  : not built (run with --build, or pyinstaller build.spec)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
