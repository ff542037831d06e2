"""Python CGI scripts without interpreter start-up: the server's side of the zygote.

:class:`PythonZygote` starts :mod:`core.servers.cgi.zygote_main` once, as a separate,
clean, single-threaded process (started with exec like any script, so the server — which
may live in the Tk process, with threads — never forks itself). Per request the server
hands it the script, the RFC 3875 environment and the three pipe ends; the zygote forks a
child that runs the script as ``__main__``. The server keeps driving the pipes with the
same :class:`~core.servers.cgi.process.CgiProcess` as for any script (deadline, stderr
log, process-group kill), so the two ways of running a script differ only in start-up.

When the zygote is off, unavailable (not POSIX) or has died, :meth:`PythonZygote.spawn`
returns None and the caller starts the script as a normal process.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from core.paths import python_command
from core.servers.cgi.env import inherited_variables
from core.servers.cgi.process import RUN_MARK, CgiProcess

ZYGOTE_SCRIPT = Path(__file__).with_name("zygote_main.py")
#: the Servers tab's "Python scripts" choice: forked from the zygote, or a new
#: interpreter each time (~40 ms more per request; for comparison)
PYTHON_STARTS = ("pre-started", "new process")
#: a placeholder in the zygote's own environment block, which is what /proc/PID/environ
#: shows of a forked child and its own forks: each child writes its run's mark over it
ZYGOTE_MARK = {RUN_MARK: "0" * 16}
START_TIMEOUT = 10.0  # seconds for the zygote to answer a fork request
MAX_REPLY = 4096


class ZygoteChild:
    """A script forked by the zygote: the ``ProcessHandle`` the pipe driver needs.

    The server is not its parent, so its exit status comes from the zygote's report.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"python zygote child {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def exited(self, code: int) -> None:
        self.returncode = code
        self._exited.set()


class _Pending:
    __slots__ = ("done", "child", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.child: ZygoteChild | None = None
        self.error = ""


class PythonZygote:
    """One pre-started Python that forks per request; thread-safe, restarts when it died."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self._log = log or (lambda message: None)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._pending: dict[int, _Pending] = {}
        self._children: dict[int, ZygoteChild] = {}
        self._next_id = 0
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> bool:
        """Start the zygote now (so the first request does not wait); False if it cannot."""
        with self._lock:
            self._stopped = False
            return self._ensure_started()

    def _ensure_started(self) -> bool:
        if self.running and self._control is not None:
            return True
        if os.name != "posix" or self._stopped:
            return False
        self._close_control()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # the environment scripts get, so its interpreter starts as theirs would (same
            # locale, so the same stdio encodings)
            self._proc = subprocess.Popen(
                [*python_command(), str(ZYGOTE_SCRIPT), str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env={**inherited_variables(), **ZYGOTE_MARK},
                cwd=ZYGOTE_SCRIPT.parent,
                start_new_session=True)
        except OSError as exc:
            ours.close()
            self._log(f"the Python zygote could not start ({exc}): Python scripts start a "
                      "new interpreter each")
            return False
        finally:
            theirs.close()
        self._control = ours
        self._reader = threading.Thread(target=self._read_replies, args=(ours,),
                                        name="cgi:zygote", daemon=True)
        self._reader.start()
        return True

    def spawn(self, script: Path, env: dict[str, str], cwd: Path, body: bytes,
              deadline: float, on_stderr: Callable[[str], None] | None = None
              ) -> CgiProcess | None:
        """Run ``script`` in a forked child, or None when the zygote cannot take it."""
        # the run's mark, as for a new process: processes it starts and that leave its
        # process group are found by it and killed when the request ends
        token = secrets.token_hex(8)
        env = {**env, RUN_MARK: token}
        pipes = [os.pipe() for _ in range(3)]
        child_ends = [pipes[0][0], pipes[1][1], pipes[2][1]]
        parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0])
        child = None
        try:
            child = self._fork(script, env, cwd, child_ends)
        finally:
            for fd in child_ends:
                os.close(fd)
            if child is None:
                for fd in parent_ends:
                    os.close(fd)
        if child is None:
            return None
        process = CgiProcess(child, *parent_ends, body, deadline, on_stderr)
        process.run_token = token
        return process

    def _fork(self, script: Path, env: dict[str, str], cwd: Path,
              fds: list[int]) -> ZygoteChild | None:
        pending = _Pending()
        with self._lock:
            if not self._ensure_started():
                return None
            assert self._control is not None
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = pending
            message = json.dumps({"id": request_id, "script": str(script), "cwd": str(cwd),
                                  "env": env}).encode()
            try:
                socket.send_fds(self._control, [message], fds)
            except OSError as exc:
                self._pending.pop(request_id, None)
                self._log(f"the Python zygote did not take a request ({exc}): "
                          "starting the script as a new process")
                if exc.errno != errno.EMSGSIZE:  # an oversized request is no fault of its
                    self._close_control()
                return None
        if not pending.done.wait(START_TIMEOUT) or pending.child is None:
            with self._lock:
                self._pending.pop(request_id, None)
            if pending.error:
                self._log(f"the Python zygote could not fork ({pending.error})")
            return None
        return pending.child

    def _read_replies(self, control: socket.socket) -> None:
        """The zygote's answers: a started child's pid, a reaped child's exit status."""
        try:
            while True:
                data = control.recv(MAX_REPLY)
                if not data:
                    break
                reply = json.loads(data)
                with self._lock:
                    if "id" in reply:
                        pending = self._pending.pop(reply["id"], None)
                        if pending is None:  # the request gave up waiting: kill it
                            if "pid" in reply:
                                _kill_group(reply["pid"])
                            continue
                        if "pid" in reply:
                            pending.child = ZygoteChild(reply["pid"])
                            self._children[reply["pid"]] = pending.child
                        else:
                            pending.error = reply.get("error", "unknown error")
                        pending.done.set()
                    elif "exit" in reply:
                        child = self._children.pop(reply["pid"], None)
                        if child is not None:
                            child.exited(reply["exit"])
        except (OSError, ValueError):
            pass
        self._orphaned(control)

    def _orphaned(self, control: socket.socket) -> None:
        """The zygote is gone: its children's exit statuses will never come."""
        with self._lock:
            children, self._children = self._children, {}
            pending, self._pending = self._pending, {}
            if self._control is control:
                self._close_control()
        for item in pending.values():
            item.error = "the zygote exited"
            item.done.set()
        for child in children.values():
            _kill_group(child.pid)
            child.exited(-signal.SIGKILL)

    def _close_control(self) -> None:
        if self._control is not None:
            try:
                self._control.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._control.close()
            self._control = None

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the zygote (running scripts are the server's to kill) and reap it."""
        with self._lock:
            self._stopped = True
            proc, self._proc = self._proc, None
            self._close_control()  # the zygote reads EOF and exits
            reader, self._reader = self._reader, None
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if reader is not None:
            reader.join(timeout)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
