"""The frozen build: PyInstaller onedir from build.spec, then its own self-test."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_frozen_app_builds_and_passes_its_self_test(tmp_path: Path) -> None:
    # through this interpreter: the venv need not be activated for its scripts to be on PATH
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is missing: install the 'build' extra (pip install -e '.[build]')")
    dist, work = tmp_path / "dist", tmp_path / "work"
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build.spec")],
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

    # PyInstaller's multiprocessing hook is replaced by gui/frozen_startup.py: a spawned
    # worker re-runs the executable and must become the worker, not a second app
    pool_script = tmp_path / "pool.py"
    pool_script.write_text("import multiprocessing as mp\n"
                           "if __name__ == '__main__':\n"
                           "    with mp.get_context('spawn').Pool(1) as pool:\n"
                           "        print(pool.apply(abs, (-3,)))\n")
    ran = subprocess.run([str(exe), "--run-python", str(pool_script)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "3", ran.stdout + ran.stderr

    _frozen_fork_echo_round_trip(exe, env)
    _frozen_cgi_runs_python_scripts(exe, env)

    headless = {k: v for k, v in env.items() if k != "DISPLAY"}
    helped = subprocess.run([str(exe), "serve", "--help"], env=headless, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0 and "KIND" in helped.stdout


@contextlib.contextmanager
def _serve(exe: Path, env: dict[str, str], *args: str) -> Iterator[int]:
    """Run ``exe serve ARGS --port 0``; yield its port; on exit it must stop cleanly on
    SIGTERM (killed only if it did not)."""
    proc = subprocess.Popen([str(exe), "serve", *args, "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert " listening on 127.0.0.1:" in line, line + proc.stderr.read()
        yield int(line.split("listening on 127.0.0.1:")[1].split()[0])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _frozen_fork_echo_round_trip(exe: Path, env: dict[str, str]) -> None:
    """The fork echo server's helper process is a script the frozen app runs itself."""
    with _serve(exe, env, "echo", "--mode", "fork") as port, \
            socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"frozen fork\r\n")
        assert client.recv(100) == b"frozen fork\r\n"


def _frozen_cgi_runs_python_scripts(exe: Path, env: dict[str, str]) -> None:
    """A .py CGI script runs with the app's own interpreter: no system Python needed."""
    bare = dict(env, PATH="/nonexistent")  # no python3 to be found on the PATH
    with _serve(exe, bare, "cgi") as port, urllib.request.urlopen(
            f"http://127.0.0.1:{port}/cgi-bin/hello.py", timeout=30) as reply:
        assert reply.status == 200
        assert b"Hello World!" in reply.read()
