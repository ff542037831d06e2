"""One cgi-bin for lighttpd's mod_cgi and for ``wirebench serve cgi --root DIR``.

``env.py`` dumps what a script receives as JSON: the RFC 3875 meta-variables, the
HTTP_* variables and the body it read from stdin. The same DIR (document root with a
``cgi-bin`` folder) goes to both servers, so their answers can be compared key by key.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.daemon_peers import peer_program
from tests.fixtures.waiting import wait_for
from tests.interop.wirebench_serve import stop_process

START_DEADLINE = 15.0
START_ATTEMPTS = 3

ENV_SCRIPT = """#!/usr/bin/env python3
import json, os, sys
length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length).decode("latin-1") if length else ""
names = {k: v for k, v in os.environ.items()
         if k.startswith(("HTTP_", "SERVER_", "REQUEST_", "REMOTE_", "CONTENT_", "PATH_",
                          "SCRIPT_", "QUERY_", "GATEWAY_", "AUTH_", "DOCUMENT_"))}
sys.stdout.write("Content-Type: application/json\\r\\nX-Request-Method: %s\\r\\n\\r\\n"
                 % os.environ.get("REQUEST_METHOD", ""))
sys.stdout.write(json.dumps({"env": names, "body": body}, sort_keys=True))
"""


def make_site(base: Path) -> Path:
    """DIR with index.html and cgi-bin/env.py (also under a name that needs encoding)."""
    root = base / "site"
    (root / "cgi-bin").mkdir(parents=True)
    (root / "index.html").write_text("<p>interop</p>\n")
    for name in ("env.py", "my env.py"):
        script = root / "cgi-bin" / name
        script.write_text(ENV_SCRIPT)
        script.chmod(0o755)
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int, process: subprocess.Popen) -> bool:
    """True once something answers on ``port``; False when ``process`` exited first."""
    def answered_or_exited() -> bool:
        if process.poll() is not None:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_for(answered_or_exited, START_DEADLINE,
             f"nothing listened on 127.0.0.1:{port} within {START_DEADLINE} s", interval=0.05)
    return process.poll() is None


class Lighttpd:
    """lighttpd -D with mod_cgi for /cgi-bin/ of ``root``, in ``folder``, on a free port."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.log = folder / "lighttpd-error.log"
        conf = folder / "lighttpd.conf"
        # a free port can be taken between our probe and lighttpd's bind: a few tries
        for _attempt in range(START_ATTEMPTS):
            self.port = _free_port()
            conf.write_text(f"""
server.modules = ("mod_cgi",)
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{self.log}"
server.tag = "lighttpd"
mimetype.assign = (".html" => "text/html")
$HTTP["url"] =~ "^/cgi-bin/" {{ cgi.assign = ("" => "") }}
""")
            self.process = subprocess.Popen(
                [peer_program("lighttpd", "lighttpd"), "-D", "-f", str(conf)],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
            if _listening(self.port, self.process):
                return
        detail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        pytest.fail(f"lighttpd exited with {self.process.returncode}: {detail}")

    def stop(self) -> int:
        return stop_process(self.process)
