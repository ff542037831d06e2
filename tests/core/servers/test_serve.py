"""``wirebench serve``: headless, no tkinter, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _env_without_display() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_serve_help_runs_without_a_display_or_tkinter() -> None:
    code = ("import sys\nfrom gui.cli import main\n"
            "try:\n    main(['serve', '--help'])\nexcept SystemExit as e:\n    rc = e.code\n"
            "assert 'tkinter' not in sys.modules, 'serve imported tkinter'\nsys.exit(rc)\n")
    result = subprocess.run([sys.executable, "-c", code], env=_env_without_display(),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "KIND" in result.stdout and "lab" in result.stdout


def test_serve_lab_starts_every_peer_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = _env_without_display()
    env["WIREBENCH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gui", "serve", "lab", "--ephemeral"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        from core.servers.registry import LabRegistry

        expected = len(LabRegistry(ephemeral=True).peers())
        if expected == 0:  # nothing registered: it must say so and fail, not hang
            assert proc.wait(30) == 1
            assert "no lab peers" in proc.stderr.read()
            return
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while len(lines) < expected and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert len(lines) == expected, proc.stderr.read()
        assert all(" listening on 127.0.0.1:" in line or " listening on [" in line
                   or " listening on /" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert out.strip().endswith("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()



def test_a_server_that_dies_makes_serve_say_why_and_exit_non_zero(tmp_path: Path) -> None:
    """Fault 6: the fork echo's helper process is killed (as the OOM killer would); serve
    used to log a line and run on with nothing listening, exiting 0 at the end."""
    from core.servers.serve import EXIT_CRASHED
    from tests.fixtures.processes import process_stats
    from tests.fixtures.waiting import wait_for

    env = _env_without_display()
    env["WIREBENCH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gui", "serve", "echo", "--mode", "fork",
                             "--port", "0"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert " listening on 127.0.0.1:" in line, proc.stderr.read()
        helpers: list[int] = []

        def helper_found() -> bool:
            helpers[:] = [pid for pid, stat in process_stats().items()
                          if stat[1] == str(proc.pid)]
            return len(helpers) == 1

        wait_for(helper_found, 10, "the fork helper process did not appear")
        os.kill(helpers[0], signal.SIGKILL)  # our child's child: the helper, nothing else
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_CRASHED, err
    assert ("echo-tcp-fork crashed: ChildProcessError: the fork helper process ended "
            "unexpectedly (exit status -9)") in err
    assert "Traceback" in err  # the cause, logged in full
    assert out.strip().endswith("stopped")
