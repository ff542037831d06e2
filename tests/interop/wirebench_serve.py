"""``wirebench serve KIND ...`` run as a user runs it, from this checkout, on free ports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STOP_DEADLINE = 10.0


def stop_process(process: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL after a deadline; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(STOP_DEADLINE)


class WirebenchServe:
    """Starts ``python -m gui.cli serve KIND ARGS --port 0``; :attr:`line` is its banner."""

    def __init__(self, kind: str, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gui.cli", "serve", kind, *args, "--port", "0"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        # the banner comes once the server listens (serve.py prints it after start())
        self.line = self.process.stdout.readline() if self.process.stdout else ""
        match = re.search(rf"{kind} listening on 127\.0\.0\.1:(\d+)", self.line)
        if not match:
            self.stop()
            pytest.fail(f"wirebench serve {kind} did not start: {self.line!r}")
        self.port = int(match.group(1))

    def stop(self) -> int:
        code = stop_process(self.process)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code
