"""Python CGI through the pre-started zygote: the same responses as a fresh interpreter.

Two servers serve one site, one forking scripts from the zygote and one starting a new
interpreter per script; every sample script and a set of edge scripts must answer both
byte for byte (after the few fields that differ by nature: Date, the ports).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.paths import asset
from core.servers.cgi.server import CgiLimits, CgiServer
from core.servers.cgi.zygote import ZYGOTE_SCRIPT
from tests.core.servers.cgi.cgi_site import (
    SCRIPTS,
    body_of,
    logs,
    pretend_frozen,
    raw_request,
    status_of,
)

EDGE_SCRIPTS = {
    # reads its body, answers with a status and headers of its own
    "stdin.py": (
        "import hashlib, sys\n"
        "data = sys.stdin.buffer.read()\n"
        "print('Status: 201 Created')\n"
        "print('X-Edge: yes')\n"
        "print('Content-Type: text/plain')\n"
        "print()\n"
        "print(len(data), hashlib.sha256(data).hexdigest())\n"
    ),
    # a complete answer, then a non-zero exit; an atexit handler still writes
    "exits.py": (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('Content-Type: text/plain')\n"
        "print()\n"
        "print('before exit')\n"
        "sys.exit(3)\n"
    ),
    "message_exit.py": "import sys\nprint('Content-Type: text/plain\\n')\nsys.exit('bye')\n",
    "raises.py": "print('Content-Type: text/plain')\nprint()\nprint('partial')\n1 / 0\n",
    "syntax.py": "print('Content-Type: text/plain')\nprint(\n",
    # forks: the child writes and exits through the normal exit path, the parent waits
    "forks.py": (
        "import os, sys\n"
        "print('Content-Type: text/plain')\n"
        "print()\n"
        "sys.stdout.flush()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print('from child')\n"
        "    sys.exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('from parent')\n"
    ),
    "big.py": SCRIPTS["big.py"],  # 10 MiB
    # a file left open: its buffer reaches the disk when the interpreter exits
    "unclosed.py": (
        "import os\n"
        "log = open(os.path.join(os.environ['WIREBENCH_DATA_DIR'], 'unclosed.txt'), 'w')\n"
        "log.write('x' * 1000)\n"
        "print('Content-Type: text/plain')\n"
        "print()\n"
        "print('left open')\n"
    ),
    "argv_path.py": (
        "import os, sys\n"
        "print('Content-Type: text/plain')\n"
        "print()\n"
        "print(sys.argv == [__file__], __name__, os.getcwd() == os.path.dirname(__file__),\n"
        "      sys.path[0] == os.path.dirname(__file__), os.getpgrp() == os.getpid())\n"
    ),
    "hangs.py": (
        "import os, time\n"
        "open(os.path.join(os.environ['WIREBENCH_DATA_DIR'], 'hangs.pid'), 'w')"
        ".write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    ),
    # leaves its process group two ways, a forked daemon and an exec'd one: both must die
    # when the request ends (the run's mark in their /proc/PID/environ, issue 14)
    "escapes.py": (
        "import os, subprocess, sys, time\n"
        "data = os.environ['WIREBENCH_DATA_DIR']\n"
        "subprocess.Popen(['setsid', 'sh', '-c', f'echo $$ > {data}/exec.pid; exec sleep 60'],\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    open(os.path.join(data, 'fork.pid'), 'w').write(str(os.getpid()))\n"
        "    os.close(1); os.close(2)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "while not all(os.path.exists(os.path.join(data, n)) for n in ('exec.pid', 'fork.pid')):\n"
        "    time.sleep(0.01)\n"
        "print('Content-Type: text/plain\\n')\n"
        "print('left two behind')\n"
    ),
    "ppid.py": "import os\nprint('Content-Type: text/plain\\n')\nprint(os.getppid())\n",
}

LIMITS = CgiLimits(script_timeout=3.0)


class Site:
    def __init__(self, base: Path) -> None:
        self.root, self.cgi_dir = base / "www", base / "cgi-bin"
        shutil.copytree(asset("www"), self.root)
        shutil.copytree(asset("cgi-bin"), self.cgi_dir)
        for name, source in EDGE_SCRIPTS.items():
            (self.cgi_dir / name).write_text(source)
        self.data = {mode: base / f"data-{mode}" for mode in ("zygote", "process")}
        for folder in self.data.values():
            folder.mkdir()


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path) -> Site:
    return Site(tmp_path)


@pytest.fixture(name="servers")
def servers_fixture(site: Site) -> Iterator[dict[str, CgiServer]]:
    servers = {mode: CgiServer(root=site.root, cgi_dir=site.cgi_dir, limits=LIMITS,
                               data_dir=site.data[mode], python_zygote=mode == "zygote")
               for mode in ("zygote", "process")}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def request(server: CgiServer, target: str, body: bytes | None = None) -> bytes:
    method = "POST" if body is not None else "GET"
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if body is not None:
        head += ("Content-Type: application/x-www-form-urlencoded\r\n"
                 f"Content-Length: {len(body)}\r\n")
    return raw_request(server.port, (head + "\r\n").encode() + (body or b""), timeout=20)


def normalized(response: bytes, server: CgiServer) -> tuple[int, list[bytes], bytes]:
    """Status, headers without Date/Content-Length, body with ports and data folder blanked."""
    head = response.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    headers = [h for h in head[1:]
               if not h.lower().startswith((b"date:", b"content-length:"))]
    body = body_of(response).replace(str(server.port).encode(), b"PORT")
    body = body.replace(str(server.data_dir).encode(), b"DATA")
    body = re.sub(rb"(WIREBENCH_CGI_RUN</th><td><code>)[0-9a-f]+", rb"\1TOKEN", body)
    body = re.sub(rb"(REMOTE_PORT</th><td><code>)\d+", rb"\1N", body)
    return status_of(response), headers, body


def both(servers: dict[str, CgiServer], target: str, body: bytes | None = None) -> tuple:
    answers = [normalized(request(srv, target, body), srv) for srv in servers.values()]
    assert answers[0] == answers[1], target
    return answers[0]


SAMPLES = [("/cgi-bin/hello.py", None), ("/cgi-bin/hello_centered.py", None),
           ("/cgi-bin/hello.sh", None), ("/cgi-bin/env.py?a=1&b=%20", None),
           ("/cgi-bin/comment.py", b"yourname=Ann&comment=hi%21"),
           ("/cgi-bin/comment.py?yourname=&comment=", None),
           ("/cgi-bin/personal.py", b"name=Ann&address=Road+1&tel=123"),
           ("/cgi-bin/personal.py", b"name=Ann")]


@pytest.mark.parametrize(("target", "body"), SAMPLES)
def test_sample_scripts_answer_alike(servers: dict[str, CgiServer], target: str,
                                     body: bytes | None) -> None:
    status, _, _ = both(servers, target, body)
    assert status == 200


def test_sample_script_files_are_all_covered() -> None:
    covered = {target.split("?")[0].rsplit("/", 1)[1] for target, _ in SAMPLES}
    assert covered == {path.name for path in asset("cgi-bin").iterdir() if path.is_file()}


def test_personal_data_lands_alike(servers: dict[str, CgiServer], site: Site) -> None:
    both(servers, "/cgi-bin/personal.py", b"name=Bo&address=Lane&tel=9")
    files = [(site.data[mode] / "personal-data.txt").read_text() for mode in servers]
    assert files[0] == files[1] == "Name: Bo\nAddress: Lane\nPhone: 9\n\n"


def test_body_on_stdin_status_and_headers(servers: dict[str, CgiServer]) -> None:
    data = os.urandom(300_000)
    status, headers, body = both(servers, "/cgi-bin/stdin.py", data)
    assert status == 201 and b"X-Edge: yes" in headers
    assert body == f"{len(data)} {hashlib.sha256(data).hexdigest()}\n".encode()


@pytest.mark.parametrize("name", ["exits.py", "message_exit.py", "raises.py", "syntax.py"])
def test_exits_and_failures_answer_alike(servers: dict[str, CgiServer], name: str) -> None:
    both(servers, f"/cgi-bin/{name}")
    stderr = {mode: [e.text for e in logs(srv) if "stderr:" in e.text]
              for mode, srv in servers.items()}
    assert stderr["zygote"] == stderr["process"]  # tracebacks and messages, line for line


def test_atexit_handlers_run(servers: dict[str, CgiServer]) -> None:
    _, _, body = both(servers, "/cgi-bin/exits.py")
    assert body == b"before exit\natexit ran\n"


def test_a_script_that_forks(servers: dict[str, CgiServer]) -> None:
    _, _, body = both(servers, "/cgi-bin/forks.py")
    assert body == b"from child\nfrom parent\n"


def test_ten_megabytes_of_output(servers: dict[str, CgiServer]) -> None:
    _, _, body = both(servers, "/cgi-bin/big.py")
    assert body == (bytes(range(256)) * 4096) * 10


def test_unclosed_files_are_flushed(servers: dict[str, CgiServer], site: Site) -> None:
    both(servers, "/cgi-bin/unclosed.py")
    for mode in servers:
        assert (site.data[mode] / "unclosed.txt").read_text() == "x" * 1000


def test_argv_name_cwd_path_and_process_group(servers: dict[str, CgiServer]) -> None:
    _, _, body = both(servers, "/cgi-bin/argv_path.py")
    assert body == b"True __main__ True True True\n"


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_a_hanging_script_is_killed_at_its_deadline(servers: dict[str, CgiServer],
                                                    site: Site) -> None:
    status, _, _ = both(servers, "/cgi-bin/hangs.py")
    assert status == 504
    for mode in servers:
        assert wait_gone(int((site.data[mode] / "hangs.pid").read_text()))


def test_processes_that_leave_the_group_die_with_the_request(
        servers: dict[str, CgiServer], site: Site) -> None:
    _, _, body = both(servers, "/cgi-bin/escapes.py")
    assert body == b"left two behind\n"
    for mode in servers:
        for name in ("exec.pid", "fork.pid"):
            pid = int((site.data[mode] / name).read_text())
            assert wait_gone(pid), f"{mode}: the {name[:-4]}ed escapee {pid} still runs"


def zygote_pid(server: CgiServer) -> int:
    proc = server._zygote._proc  # noqa: SLF001 - the test checks the real process
    assert proc is not None
    return proc.pid


def test_scripts_really_fork_from_a_single_threaded_zygote(
        servers: dict[str, CgiServer]) -> None:
    pid = zygote_pid(servers["zygote"])
    assert body_of(request(servers["zygote"], "/cgi-bin/ppid.py")).strip() == str(pid).encode()
    assert body_of(request(servers["process"], "/cgi-bin/ppid.py")).strip() == \
        str(os.getpid()).encode()
    status = Path(f"/proc/{pid}/status").read_text()
    assert re.search(r"^Threads:\s+1$", status, re.M)


def test_a_dead_zygote_is_replaced(servers: dict[str, CgiServer]) -> None:
    server = servers["zygote"]
    old = zygote_pid(server)
    os.kill(old, signal.SIGKILL)
    server._zygote._proc.wait(10)  # noqa: SLF001 - reaped, so its pid is really gone
    for _ in range(3):
        assert status_of(request(server, "/cgi-bin/hello.py")) == 200
    new = zygote_pid(server)
    assert new != old
    assert body_of(request(server, "/cgi-bin/ppid.py")).strip() == str(new).encode()


def test_stop_ends_the_zygote(site: Site) -> None:
    server = CgiServer(root=site.root, cgi_dir=site.cgi_dir, data_dir=site.data["zygote"])
    server.start()
    pid = zygote_pid(server)
    server.stop()
    assert wait_gone(pid)


def test_the_frozen_build_runs_the_zygote_through_run_python(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen build has no python: the zygote runs as ``wirebench --run-python``."""
    pretend_frozen(tmp_path, monkeypatch)
    server = CgiServer(root=site.root, cgi_dir=site.cgi_dir, data_dir=site.data["zygote"])
    server.start()
    try:
        pid = zygote_pid(server)
        response = request(server, "/cgi-bin/comment.py", b"yourname=Frozen&comment=ok")
        assert b"Your name: Frozen" in body_of(response)
        # read after a request: right after start it may still be exec()ing (the
        # wrapper shell becoming python), when /proc shows an empty command line
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"--run-python" in cmdline and str(ZYGOTE_SCRIPT).encode() in cmdline
        assert body_of(request(server, "/cgi-bin/ppid.py")).strip() == str(pid).encode()
    finally:
        server.stop()


def test_the_switch_turns_it_off(site: Site) -> None:
    server = CgiServer(root=site.root, cgi_dir=site.cgi_dir, python_zygote=False)
    server.start()
    try:
        assert server._zygote is None  # noqa: SLF001
        assert body_of(request(server, "/cgi-bin/ppid.py")).strip() == str(os.getpid()).encode()
    finally:
        server.stop()


def test_serve_flag_turns_it_off() -> None:
    import argparse

    from core.servers.cgi.server import SERVE_KINDS

    kind = SERVE_KINDS["cgi"]
    parser = argparse.ArgumentParser()
    kind.add_arguments(parser)
    on, = kind.build(parser.parse_args(["--port", "0"]))
    off, = kind.build(parser.parse_args(["--port", "0", "--no-python-zygote"]))
    assert on.python_zygote and not off.python_zygote
