"""Starting scripts, the 5.1.3 launch diagnoses, and driving the three pipes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from core.servers.cgi.process import ScriptLaunchError, ScriptTimeout, script_command, spawn
from tests.fixtures.waiting import wait_for


def write(path: Path, text: str, mode: int = 0o755) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def run(command: list[str], cwd: Path, body: bytes = b"", timeout: float = 20.0,
        threaded: bool = False):
    lines: list[str] = []
    process = spawn(command, {"PATH": os.defpath}, cwd, body, time.monotonic() + timeout,
                    lines.append, threaded=threaded)
    out = b""
    try:
        while chunk := process.read():
            out += chunk
        code = process.finish()
    finally:
        process.close()
    return out, code, lines, process


def test_python_scripts_use_the_apps_interpreter(tmp_path: Path) -> None:
    script = write(tmp_path / "a.py", "#!/nonexistent/python\n", 0o644)
    assert script_command(script) == [sys.executable, str(script)]


def test_shell_scripts_run_directly(tmp_path: Path) -> None:
    script = write(tmp_path / "a.sh", "#!/bin/sh\necho hi\n")
    assert script_command(script) == [str(script)]


@pytest.mark.parametrize(("source", "mode", "problem", "words"), [
    ("echo hi\n", 0o755, "no interpreter line", "'#!/bin/sh'"),
    ("#!/no/such/sh\n", 0o755, "wrong interpreter line", "does not exist"),
    ("#!sh\n", 0o755, "wrong interpreter line", "absolute path"),
    ("#!\n", 0o755, "wrong interpreter line", "names no program"),
    ("#!/usr/bin/env wb-no-such-lang\n", 0o755, "wrong interpreter line", "on the PATH"),
    ("#!/bin/sh\n", 0o644, "script not executable", "chmod a+rx"),
    ("echo\n", 0o644, "script not executable", "add an interpreter line"),
    ("#!{tmp}/plain.txt\n", 0o755, "wrong interpreter line", "not executable"),
])
def test_launch_diagnoses(tmp_path: Path, source: str, mode: int, problem: str,
                          words: str) -> None:
    write(tmp_path / "plain.txt", "not a program", 0o644)
    script = write(tmp_path / "s.sh", source.replace("{tmp}", str(tmp_path)), mode)
    with pytest.raises(ScriptLaunchError) as info:
        script_command(script)
    assert info.value.problem == problem and words in info.value.diagnosis


def test_missing_script(tmp_path: Path) -> None:
    with pytest.raises(ScriptLaunchError, match="chmod a\\+r"):
        script_command(tmp_path / "gone.py")


def test_spawn_failure_is_diagnosed(tmp_path: Path) -> None:
    with pytest.raises(ScriptLaunchError, match="cannot be found"):
        spawn([str(tmp_path / "missing")], {}, tmp_path, b"", time.monotonic() + 5)


# both ways of driving the pipes: a selector (POSIX) and threads (Windows), run here alike
both_runners = pytest.mark.parametrize("threaded", [False, True], ids=["selector", "threads"])


@both_runners
def test_big_stdin_stdout_and_stderr_at_once(tmp_path: Path, threaded: bool) -> None:
    script = write(tmp_path / "cat.py", (
        "import sys\n"
        "data = sys.stdin.buffer.read()\n"
        "for i in range(3000):\n"
        "    sys.stderr.write(f'line {i}\\n')\n"
        "sys.stdout.buffer.write(data * 3)\n"
        "sys.exit(3)\n"))
    body = os.urandom(1 << 20)
    out, code, lines, process = run(script_command(script), tmp_path, body, threaded=threaded)
    assert out == body * 3 and code == 3
    assert len(lines) == 200 and lines[0] == "line 0"  # logging is bounded
    assert process.stderr_lines == 3000 and process.stderr_tail[-1] == "line 2999"


@both_runners
def test_script_that_ignores_stdin(tmp_path: Path, threaded: bool) -> None:
    script = write(tmp_path / "x.sh", "#!/bin/sh\necho done\n")
    out, code, _, _ = run(script_command(script), tmp_path, b"x" * (1 << 20), threaded=threaded)
    assert (out, code) == (b"done\n", 0)


@both_runners
def test_deadline_kills_the_whole_process_group(tmp_path: Path, threaded: bool) -> None:
    pid_file = tmp_path / "child.pid"
    script = write(tmp_path / "hang.sh", f"#!/bin/sh\nsleep 60 &\necho $! > {pid_file}\n"
                                         "echo partial\nwait\n")
    process = spawn(script_command(script), {"PATH": os.defpath}, tmp_path, b"",
                    time.monotonic() + 1.0, threaded=threaded)
    try:
        assert process.read() == b"partial\n"
        with pytest.raises(ScriptTimeout):
            process.read()
    finally:
        process.close()
    child = int(pid_file.read_text())
    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, 5, "the script's child survived the kill")
    assert process.handle.poll() is not None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # dead, waiting for init to reap it


@both_runners
def test_a_setsid_escapee_dies_when_the_script_ends(tmp_path: Path, threaded: bool) -> None:
    pid_file = tmp_path / "escapee.pid"
    script = write(tmp_path / "escape.sh", "#!/bin/sh\nsetsid sleep 60 </dev/null "
                   f">/dev/null 2>&1 &\necho $! > {pid_file}\necho done\n")
    out, code, _, process = run(script_command(script), tmp_path, threaded=threaded)
    assert (out, code) == (b"done\n", 0)
    escapee = int(pid_file.read_text())
    assert process.escapees >= 1
    deadline = time.monotonic() + 5
    while not _gone(escapee) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(escapee), "the setsid child outlived its script"


def test_pids_born_after_the_script_across_the_counter_wrap() -> None:
    from core.servers.cgi.process import _born_after

    assert _born_after(120, 100, 150) and not _born_after(90, 100, 150)
    assert not _born_after(160, 100, 150)
    # the counter wrapped: 4,000,000 -> 300 since the script (pid 4,000,000) started
    assert _born_after(4_000_100, 4_000_000, 300) and _born_after(200, 4_000_000, 300)
    assert not _born_after(500, 4_000_000, 300)
    assert _born_after(5, 100, None) and not _born_after(100, 100, None)


def test_an_empty_environment_is_looked_at_again_only_for_a_live_user_process() -> None:
    """A process caught in exec() reads an empty environment for a moment: the sweep
    looks again. A zombie or a kernel thread never gets one: no second look for them."""
    import subprocess

    from core.servers.cgi.process import environ_pending

    live = subprocess.Popen(["sleep", "30"], env={})
    dead = subprocess.Popen(["true"])
    try:
        with open(f"/proc/{live.pid}/environ", "rb") as f:
            assert f.read() == b""
        assert environ_pending(live.pid)
        deadline = time.monotonic() + 5
        while not _gone(dead.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _gone(dead.pid)  # a zombie: not reaped yet
        assert not environ_pending(dead.pid)
        assert not environ_pending(1 << 30)  # no such process
    finally:
        live.kill()
        live.wait()
        dead.wait()
