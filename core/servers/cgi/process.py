"""Run one CGI script: choose its command, start it, feed stdin, stream stdout, log stderr.

One thread drives all three pipes with a selector, so a script that writes megabytes to
stdout and stderr while the server is still writing its request body never deadlocks, and
the script's deadline is enforced by the same loop (no extra thread per request). Where
pipes cannot be selected (Windows), :class:`ThreadedCgiProcess` keeps the same contract
with stdin fed on one thread, stderr drained on another and a timer for the deadline.

Launch failures carry a *diagnosis* in the words of the origin document's section 5.1.3
checklist: interpreter line, executable bit, and so on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from core.paths import python_command

_READ = 65536
MAX_STDERR_LINES = 200
_STDERR_LINE = 2000


class ScriptLaunchError(Exception):
    """The script cannot be started; ``diagnosis`` says what to check (document 5.1.3)."""

    def __init__(self, problem: str, diagnosis: str) -> None:
        super().__init__(f"{problem}: {diagnosis}")
        self.problem = problem
        self.diagnosis = diagnosis


class ScriptTimeout(Exception):
    """The script ran past its deadline and was killed."""


class ProcessHandle(Protocol):
    """What the runner needs of a started process (a Popen, or a forked Python child)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


def _interpreter_problem(first_line: bytes, env_path: str) -> str | None:
    """Why the ``#!`` line cannot work, or None when it can."""
    words = first_line[2:].decode("utf-8", "replace").strip().split()
    if not words:
        return "the interpreter line '#!' names no program, e.g. '#!/bin/sh'"
    program = words[0]
    if not os.path.isabs(program):
        return f"the interpreter line names '{program}': it must be an absolute path"
    if not os.path.isfile(program):
        return f"the interpreter line names {program}, which does not exist on this machine"
    if not os.access(program, os.X_OK):
        return f"the interpreter {program} is not executable (chmod a+rx it)"
    if os.path.basename(program) == "env" and len(words) > 1:
        target = next((w for w in words[1:] if not w.startswith("-")), None)
        if target and shutil.which(target, path=env_path) is None:
            return (f"the interpreter line runs '{target}' through env, but no '{target}' "
                    f"is on the PATH ({env_path})")
    return None


def script_command(script: Path, env_path: str = os.defpath) -> list[str]:
    """The argv that runs ``script``; raise ScriptLaunchError with a 5.1.3 diagnosis."""
    if not os.access(script, os.R_OK):
        raise ScriptLaunchError("script not readable",
                                f"{script.name} cannot be read by the server: chmod a+r it")
    if script.suffix.lower() == ".py":
        # the app's own interpreter, whatever the #! line says (frozen builds have no python)
        return [*python_command(), str(script)]
    with open(script, "rb") as handle:
        head = handle.read(256)
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    has_shebang = first_line.startswith(b"#!")
    if sys.platform != "win32" and not os.access(script, os.X_OK):
        hint = "" if has_shebang else " and add an interpreter line such as '#!/bin/sh'"
        raise ScriptLaunchError("script not executable",
                                f"{script.name} lacks the executable bit: chmod a+rx it{hint}")
    if not has_shebang and not head.startswith(b"\x7fELF"):
        raise ScriptLaunchError(
            "no interpreter line",
            f"{script.name} does not start with '#!': add an interpreter line such as "
            "'#!/bin/sh' or '#!/usr/bin/env python3'")
    if has_shebang:
        problem = _interpreter_problem(first_line, env_path)
        if problem:
            raise ScriptLaunchError("wrong interpreter line", problem)
    return [str(script)]


#: marks every process a script starts (it is in their environment) so that the ones
#: that left its session (``setsid``, a daemon's double fork) are found and killed when
#: the request ends, as systemd's KillMode=control-group does with a cgroup
RUN_MARK = "WIREBENCH_CGI_RUN"


def spawn(command: list[str], env: dict[str, str], cwd: Path, body: bytes, deadline: float,
          on_stderr: Callable[[str], None] | None = None,
          threaded: bool = sys.platform == "win32") -> CgiProcess:
    """Start the script in its own session so a kill reaches its children too."""
    token = secrets.token_hex(8)
    env = {**env, RUN_MARK: token}
    pipes = [os.pipe() for _ in range(3)]
    child_ends = (pipes[0][0], pipes[1][1], pipes[2][1])
    parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0])
    try:
        popen = subprocess.Popen(
            command, stdin=child_ends[0], stdout=child_ends[1], stderr=child_ends[2],
            env=env, cwd=cwd, start_new_session=sys.platform != "win32")
    except OSError as exc:
        for fd in (*child_ends, *parent_ends):
            os.close(fd)
        raise _launch_error(command, exc) from None
    for fd in child_ends:
        os.close(fd)
    runner = ThreadedCgiProcess if threaded else CgiProcess
    process = runner(popen, *parent_ends, body, deadline, on_stderr)
    process.run_token = token
    return process


def _launch_error(command: list[str], exc: OSError) -> ScriptLaunchError:
    if isinstance(exc, FileNotFoundError):
        return ScriptLaunchError("wrong interpreter line",
                                 f"the program {command[0]} cannot be found")
    if isinstance(exc, PermissionError):
        return ScriptLaunchError("script not executable",
                                 f"{command[-1]} cannot be executed: chmod a+rx it")
    return ScriptLaunchError("cannot start the script",
                             f"{exc.strerror}: check its first line is '#!' and an interpreter")


def kill_tree(handle: ProcessHandle) -> None:
    """SIGKILL the script and everything it started (its own session)."""
    try:
        if sys.platform != "win32":
            os.killpg(handle.pid, signal.SIGKILL)
        else:
            handle.kill()
    except (ProcessLookupError, PermissionError):
        pass


def kill_escapees(token: str, first_pid: int) -> int:
    """SIGKILL every process still carrying this run's mark; how many were found.

    Linux (/proc) only. Only pids handed out since the script's (``first_pid``) are
    read: the kernel allocates them in a cycle, and /proc/sys/kernel/ns_last_pid says
    where it is now. A script that scrubs its environment escapes this sweep.
    """
    if not token or not os.path.isdir("/proc"):
        return 0
    needle = f"\0{RUN_MARK}={token}\0".encode()
    found = 0
    for _ in range(ESCAPEE_PASSES):
        # an escapee may fork while we look, or be caught in exec() (its environment
        # reads empty until the new program's is in place): look again
        killed = 0
        unsure = False
        last_pid = _last_pid()
        for name in os.listdir("/proc"):
            if not name.isdigit() or not _born_after(int(name), first_pid, last_pid):
                continue
            try:
                with open(f"/proc/{name}/environ", "rb") as f:
                    environ = f.read(1 << 20)
            except OSError:
                continue
            if not environ:
                unsure = unsure or environ_pending(int(name))
            elif needle in b"\0" + environ + b"\0":
                with contextlib.suppress(OSError):
                    os.kill(int(name), signal.SIGKILL)
                    killed += 1
        found += killed
        if not killed and not unsure:
            break
        if unsure:
            time.sleep(0.005)
    return found


#: sweeps of /proc at most per run (each after the first only when the last one killed
#: something or met a process whose environment could not be read yet)
ESCAPEE_PASSES = 5
_PF_KTHREAD = 0x00200000


def environ_pending(pid: int) -> bool:
    """Whether a process whose environment read empty may still show one: a live user
    process (caught in exec(), or one started with an empty environment), not a
    zombie or a kernel thread, which never will."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        state, flags = fields[0], int(fields[6])
    except (OSError, IndexError, ValueError):
        return False
    return state not in (b"Z", b"X") and not flags & _PF_KTHREAD


def _last_pid() -> int | None:
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def _born_after(pid: int, first_pid: int, last_pid: int | None) -> bool:
    """Whether ``pid`` was handed out after ``first_pid`` (up to ``last_pid``, across
    the wrap of the pid counter); every pid but the first when the last is unknown."""
    if last_pid is None:
        return pid != first_pid
    if last_pid >= first_pid:
        return first_pid < pid <= last_pid
    return pid > first_pid or pid <= last_pid


def _reap(handle: ProcessHandle, end: float) -> int:
    """Wait for the script's exit until ``end``, then kill it (and its children)."""
    try:
        return handle.wait(max(0.0, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        kill_tree(handle)
        try:
            return handle.wait(2.0)
        except subprocess.TimeoutExpired:  # unkillable (uninterruptible sleep): give up
            return -9


class CgiProcess:
    """Pipes of one running script, driven from the calling thread."""

    #: the value of RUN_MARK in the script's environment ("" = no sweep)
    run_token = ""
    #: processes of the script found and killed outside its session at close
    escapees = 0

    def __init__(self, handle: ProcessHandle, stdin_fd: int, stdout_fd: int, stderr_fd: int,
                 body: bytes, deadline: float,
                 on_stderr: Callable[[str], None] | None = None) -> None:
        self.handle = handle
        self.deadline = deadline
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.stderr_lines = 0
        self._on_stderr = on_stderr
        self._body = memoryview(body)
        self._stderr_partial = b""
        self._selector = selectors.DefaultSelector()
        self._stdout_fd = stdout_fd
        self._stdin_fd: int | None = stdin_fd
        self._stderr_fd: int | None = stderr_fd
        self._stdout_open = True
        self._closed = False
        for fd in (stdin_fd, stdout_fd, stderr_fd):
            os.set_blocking(fd, False)
        self._selector.register(stdout_fd, selectors.EVENT_READ)
        self._selector.register(stderr_fd, selectors.EVENT_READ)
        if body:
            self._selector.register(stdin_fd, selectors.EVENT_WRITE)
        else:
            self._close_stdin()

    def _close_stdin(self) -> None:
        if self._stdin_fd is not None:
            fd, self._stdin_fd = self._stdin_fd, None
            try:
                self._selector.unregister(fd)
            except KeyError:
                pass
            os.close(fd)

    def _close_stderr(self) -> None:
        if self._stderr_fd is not None:
            fd, self._stderr_fd = self._stderr_fd, None
            self._selector.unregister(fd)
            os.close(fd)
            if self._stderr_partial:
                self._emit_stderr(self._stderr_partial)
                self._stderr_partial = b""

    def _take_stderr(self, data: bytes) -> None:
        """Split stderr into lines (an endless line is cut) and report each."""
        lines = (self._stderr_partial + data).split(b"\n")
        self._stderr_partial = lines.pop()
        if len(self._stderr_partial) > _STDERR_LINE:
            lines.append(self._stderr_partial)
            self._stderr_partial = b""
        for raw in lines:
            self._emit_stderr(raw)

    def _emit_stderr(self, raw: bytes) -> None:
        line = raw.rstrip(b"\r").decode("utf-8", "replace")[:_STDERR_LINE]
        self.stderr_tail.append(line)
        self.stderr_lines += 1
        if self._on_stderr and self.stderr_lines <= MAX_STDERR_LINES:
            self._on_stderr(line)

    def _handle_stderr(self) -> None:
        assert self._stderr_fd is not None
        try:
            data = os.read(self._stderr_fd, _READ)
        except BlockingIOError:
            return
        if not data:
            self._close_stderr()
            return
        self._take_stderr(data)

    def _handle_stdin(self) -> None:
        assert self._stdin_fd is not None
        try:
            written = os.write(self._stdin_fd, self._body[:_READ])
        except BlockingIOError:
            return
        except (BrokenPipeError, OSError):
            self._close_stdin()  # the script did not want (all of) its input
            return
        self._body = self._body[written:]
        if not self._body:
            self._close_stdin()

    def read(self) -> bytes:
        """The next chunk of stdout; b"" at its end. Raise ScriptTimeout past the deadline."""
        while self._stdout_open:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ScriptTimeout()
            for key, _ in self._selector.select(min(remaining, 1.0)):
                fd = key.fd
                if fd == self._stdout_fd:
                    try:
                        data = os.read(fd, _READ)
                    except BlockingIOError:
                        continue
                    if data:
                        return data
                    self._stdout_open = False
                    self._selector.unregister(fd)
                    break
                if fd == self._stderr_fd:
                    self._handle_stderr()
                elif fd == self._stdin_fd:
                    self._handle_stdin()
        return b""

    def finish(self, grace: float = 2.0) -> int:
        """After stdout ended: drain stderr, reap the script (killing it if it lingers)."""
        self._close_stdin()
        if self._stdout_open:  # output no longer wanted (a local redirect): drop it
            self._stdout_open = False
            self._selector.unregister(self._stdout_fd)
        end = min(self.deadline, time.monotonic() + grace)
        while self._stderr_fd is not None:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            if self._selector.select(remaining):
                self._handle_stderr()
        code = _reap(self.handle, end)
        self.close()
        return code

    def kill(self) -> None:
        kill_tree(self.handle)

    def close(self) -> None:
        """Release every pipe and reap the process."""
        if self._closed:
            return
        self._closed = True
        self._close_stdin()
        self._close_stderr()
        if self._stdout_open:
            self._stdout_open = False
            self._selector.unregister(self._stdout_fd)
        try:
            os.close(self._stdout_fd)
        except OSError:
            pass
        self._selector.close()
        if self.handle.poll() is None:
            _reap(self.handle, time.monotonic())
        self.escapees = kill_escapees(self.run_token, self.handle.pid)


class ThreadedCgiProcess(CgiProcess):
    """The same contract on blocking pipes, for systems whose selectors cannot watch pipes
    (Windows): stdin is fed and stderr drained on two threads, a timer enforces the
    deadline by killing the script, which ends stdout."""

    def __init__(self, handle: ProcessHandle, stdin_fd: int, stdout_fd: int, stderr_fd: int,
                 body: bytes, deadline: float,
                 on_stderr: Callable[[str], None] | None = None) -> None:
        self.handle = handle
        self.deadline = deadline
        self.stderr_tail = deque(maxlen=20)
        self.stderr_lines = 0
        self._on_stderr = on_stderr
        self._stderr_partial = b""
        self._stdout_fd = stdout_fd
        self._stdout_open = True
        self._closed = False
        self._expired = threading.Event()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._feeder = threading.Thread(target=self._feed, args=(stdin_fd, body),
                                        name="cgi:stdin", daemon=True)
        self._drainer = threading.Thread(target=self._drain, args=(stderr_fd,),
                                         name="cgi:stderr", daemon=True)
        self._timer.start()
        self._feeder.start()
        self._drainer.start()

    def _expire(self) -> None:
        self._expired.set()
        kill_tree(self.handle)

    @staticmethod
    def _feed(fd: int, body: bytes) -> None:
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view[:_READ]):]
        except OSError:
            pass  # the script did not want (all of) its input
        finally:
            os.close(fd)

    def _drain(self, fd: int) -> None:
        try:
            while data := os.read(fd, _READ):
                self._take_stderr(data)
            if self._stderr_partial:
                self._emit_stderr(self._stderr_partial)
        except OSError:
            pass
        finally:
            os.close(fd)

    def read(self) -> bytes:
        if not self._stdout_open:
            return b""
        data = os.read(self._stdout_fd, _READ) if not self._expired.is_set() else b""
        if data:
            return data
        self._stdout_open = False
        if self._expired.is_set():
            raise ScriptTimeout()
        return b""

    def finish(self, grace: float = 2.0) -> int:
        end = min(self.deadline, time.monotonic() + grace)
        self._drainer.join(max(0.0, end - time.monotonic()))
        code = _reap(self.handle, end)
        self.close()
        return code

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        if self.handle.poll() is None:
            _reap(self.handle, time.monotonic())
        self.escapees = kill_escapees(self.run_token, self.handle.pid)
        self._feeder.join(2.0)
        self._drainer.join(2.0)
        self._timer.join(2.0)
        try:
            os.close(self._stdout_fd)
        except OSError:
            pass
