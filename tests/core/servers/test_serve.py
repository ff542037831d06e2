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


def _limit_open_files() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_a_server_that_dies_makes_serve_say_why_and_exit_non_zero(tmp_path: Path) -> None:
    """Fault 6: the select echo's loop dies on EMFILE (a real fault, reached from
    outside by opening more connections than the process may hold files); serve used
    to keep printing nothing and run on, 'listening' while dead."""
    import socket

    from core.servers.serve import EXIT_CRASHED

    env = _env_without_display()
    env["WIREBENCH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gui", "serve", "echo", "--mode", "select",
                             "--port", "0", "--max-clients", "1000"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_limit_open_files)
    clients: list[socket.socket] = []
    try:
        line = proc.stdout.readline()
        assert " listening on 127.0.0.1:" in line, proc.stderr.read()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        deadline = time.monotonic() + 30
        while proc.poll() is None and len(clients) < 100 and time.monotonic() < deadline:
            try:
                clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break  # the server closed its listener: it is down, as it must say
        out, err = proc.communicate(timeout=30)
    finally:
        for client in clients:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_CRASHED, err
    assert "echo-tcp-select crashed: OSError: [Errno 24] Too many open files" in err
    assert "Traceback" in err  # the cause, logged in full
    assert out.strip().endswith("stopped")
