"""The Python CGI zygote: a clean, single-threaded process that forks once per request.

Run as a script (``python zygote_main.py FD``, or ``wirebench --run-python zygote_main.py
FD`` in the frozen build), never imported by the server: it must stay free of threads,
Tk and sockets other than its control socket, since it forks. The server
(:mod:`core.servers.cgi.zygote`) sends one message per request on the control socket (a
UNIX SOCK_SEQPACKET socket, FD): JSON with the script, its folder and its complete
environment, plus the script's stdin, stdout and stderr pipe ends as passed descriptors.
The zygote forks; the child becomes what ``python SCRIPT`` would have been — its own
process group (so a kill reaches whatever it starts), the three pipes as fds 0-2, exactly the
given environment, the script's folder as cwd and sys.path[0], the script run as
``__main__``, then what the interpreter's exit does that a script can see (threads
joined, atexit handlers, ``__main__`` cleared, flushed output, the exit status). The
zygote answers ``{"id", "pid"}`` at once and ``{"pid", "exit"}`` when it reaps the child,
since only a parent can learn a child's exit status.

Interpreter start-up (~40 ms) and the imports below are paid once, not per request.
"""

import atexit
import builtins
import gc
import io
import json
import os
import selectors
import signal
import socket
import sys
import types

RUN_MARK = "WIREBENCH_CGI_RUN"  # core.servers.cgi.process.RUN_MARK (no core import here)
MAX_MESSAGE = 1 << 20  # a request's JSON (the environment is bounded by the head limits)

# stdlib modules CGI scripts commonly import: loaded once here, shared by every child
PRELOAD = ("pkgutil", "html", "json", "urllib.parse", "datetime", "traceback", "runpy", "io",
           "http.cookies", "base64", "hashlib", "random", "string", "time")


def reap(control: socket.socket) -> None:
    """Report every child that has exited."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})
                     .encode())


def serve(control: socket.socket) -> dict | None:
    """Fork per request until the server closes the socket; returns only in a child."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # wakes the selector
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                continue
            message, fds, _flags, _addr = socket.recv_fds(control, MAX_MESSAGE, 3)
            if not message:
                return None  # the server stopped
            job = json.loads(message)
            try:
                pid = os.fork()
            except OSError as exc:
                for fd in fds:
                    os.close(fd)
                control.send(json.dumps({"id": job["id"], "error": str(exc)}).encode())
                continue
            if pid == 0:  # the child: drop the zygote's own plumbing, keep the job
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                selector.close()
                control.close()
                os.close(wake_r)
                os.close(wake_w)
                job["fds"] = fds
                return job
            for fd in fds:
                os.close(fd)
            try:  # the child's own process group, before the server learns its pid, so
                os.setpgid(pid, pid)  # a kill of the group can never miss it
            except OSError:
                pass  # the child got there first
            control.send(json.dumps({"id": job["id"], "pid": pid}).encode())
        reap(control)


def mark_process_environ(name: str, value: str) -> bool:
    """Write ``value`` over the placeholder ``name=000…`` in this process's initial
    environment block (Linux), in place, so /proc/PID/environ of this process and of
    what it forks without exec carries the run's mark the server sweeps by (what it
    execs gets ``os.environ``, which has it too). False when it cannot."""
    placeholder = f"\0{name}=".encode() + b"0" * len(value)
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end: fields 50, 51
        if not value or not 0 < start < end:
            return False
        import ctypes

        block = ctypes.string_at(start, end - start)
        at = (b"\0" + block).find(placeholder)
        if at < 0:
            return False
        ctypes.memmove(start + at + len(name) + 1, value.encode(), len(value))
        return True
    except (OSError, ValueError, IndexError):
        return False


def exit_code(exc: SystemExit) -> int:
    """What the interpreter makes of ``sys.exit(code)``: a message is printed, status 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_script(job: dict) -> int:
    """In the forked child: become ``python SCRIPT`` for this request; the exit status."""
    # its own process group (the server kills the group); not its own session, which
    # would fail once the zygote has made it a group leader
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    for fd, target in zip(job["fds"], (0, 1, 2), strict=True):
        os.dup2(fd, target)
    for fd in job["fds"]:
        if fd > 2:
            os.close(fd)
    os.environ.clear()
    os.environ.update(job["env"])
    mark_process_environ(RUN_MARK, job["env"].get(RUN_MARK, ""))
    os.chdir(job["cwd"])
    script = job["script"]
    sys.argv = [script]
    sys.path[0] = os.path.dirname(script)
    main_module = types.ModuleType("__main__")
    main_module.__file__ = script
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    try:
        with io.open_code(script) as handle:
            code = compile(handle.read(), script, "exec")
        exec(code, main_module.__dict__)
        status = 0
    except SystemExit as exc:
        status = exit_code(exc)
    except BaseException as exc:  # as the interpreter would: traceback, status 1
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next  # hide the zygote's own frame
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        del exc, tb
        status = 1
    return shut_down(status, main_module)


def shut_down(status: int, main_module: types.ModuleType) -> int:
    """The parts of interpreter exit a script can see, in the interpreter's order.

    A full finalization in a forked child costs ~25 ms (it tears down every module the
    zygote loaded, copying each page it touches), so the child ends with ``os._exit``
    after: waiting for non-daemon threads, atexit handlers, clearing ``__main__`` (so
    objects it held are finalized: unclosed files flush), a garbage collection, and
    flushing stdout and stderr (a failed flush means status 120, as in CPython).
    """
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()  # noqa: SLF001 - what Py_Finalize calls first
    atexit._run_exitfuncs()  # noqa: SLF001
    main_module.__dict__.clear()
    gc.collect()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            if status == 0:
                status = 120
    return status


def main() -> int:
    control = socket.socket(fileno=int(sys.argv[1]))
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    gc.freeze()  # what the zygote loaded is never collected: children copy fewer pages
    job = serve(control)
    if job is None:
        return 0
    os._exit(run_script(job) & 0xFF)  # see shut_down() for why not sys.exit


if __name__ == "__main__":
    sys.exit(main())
