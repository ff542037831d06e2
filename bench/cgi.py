"""Requests per second of Wirebench's CGI server against lighttpd mod_cgi, same files, same run.

Three workloads: a shell CGI script (``hello.sh``), a Python CGI script (``hello.py``, both
servers run it with this interpreter) and a static file (``index.html``). Each server runs
in its own process; load comes from separate client processes, each holding one
persistent HTTP/1.1 connection. Goals: shell >= 0.5x, Python >= 3.0x (scripts fork from
Wirebench's pre-started Python zygote; lighttpd starts an interpreter per request),
static >= 0.3x. A fourth row runs Python CGI with the zygote off (``--no-python-zygote``),
which has to pay interpreter start-up like lighttpd: goal >= 1.0x as before the zygote.

    python bench/cgi.py            # 3 rounds of 3 s per workload, median
    python bench/cgi.py --quick    # 1 round of 1.5 s
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from required_tools import find_tool, require_tool  # noqa: E402

LIGHTTPD = find_tool("lighttpd")
#: (name, path, goal, which Wirebench server): "wirebench" runs Python scripts in the zygote
WORKLOADS = (("shell CGI", "/cgi-bin/hello.sh", 0.5, "wirebench"),
             ("Python CGI", "/cgi-bin/hello.py", 3.0, "wirebench"),
             ("Python, no zygote", "/cgi-bin/hello.py", 1.0, "no-zygote"),
             ("static file", "/index.html", 0.3, "wirebench"))


def client(port: int, path: str, warmup: float, duration: float) -> None:
    """One client process: GET ``path`` in a loop on one connection; print the count."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.monotonic()
    counting_from, until = start + warmup, start + warmup + duration
    count = 0
    while True:
        now = time.monotonic()
        if now >= until:
            break
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
        if now >= counting_from:
            count += 1
    print(count)


def measure(port: int, path: str, clients: int, warmup: float, duration: float) -> float:
    procs = [subprocess.Popen([sys.executable, __file__, "--client", str(port), path,
                               str(warmup), str(duration)], stdout=subprocess.PIPE, text=True)
             for _ in range(clients)]
    total = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=warmup + duration + 60)
        if proc.returncode:
            raise SystemExit(f"client failed against port {port}{path}")
        total += int(out)
    return total / duration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited at start (status {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start listening on {port}")


def start_lighttpd(site: Path, port: int) -> subprocess.Popen:
    conf = site / "lighttpd.conf"
    conf.write_text(f"""
server.modules = ("mod_alias", "mod_cgi")
server.document-root = "{site / 'www'}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{site / 'lighttpd-error.log'}"
server.max-keep-alive-requests = 100000
server.max-keep-alive-idle = 30
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")
alias.url = ("/cgi-bin/" => "{site / 'cgi-bin'}/")
$HTTP["url"] =~ "^/cgi-bin/" {{
    cgi.assign = (".py" => "{sys.executable}", ".sh" => "")
}}
""")
    proc = subprocess.Popen([LIGHTTPD, "-D", "-f", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_listening(port, proc, "lighttpd")
    return proc


def start_wirebench(site: Path, port: int, zygote: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "serve", "cgi", "--root", str(site / "www"),
         "--cgi-dir", str(site / "cgi-bin"), "--port", str(port), "--no-access-log",
         *([] if zygote else ["--no-python-zygote"])],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc, "wirebench serve cgi")
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round per workload")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        port, path, warmup, duration = args.client
        client(int(port), path, float(warmup), float(duration))
        return 0
    require_tool("lighttpd", "lighttpd", "the mod_cgi reference")
    rounds, warmup, duration = (1, 0.5, 1.5) if args.quick else (3, 1.0, 3.0)
    from core.paths import asset

    with tempfile.TemporaryDirectory(prefix="wb-bench-cgi-") as tmp:
        site = Path(tmp)
        shutil.copytree(asset("www"), site / "www")
        shutil.copytree(asset("cgi-bin"), site / "cgi-bin")
        ports = {"wirebench": free_port(), "no-zygote": free_port(), "lighttpd": free_port()}
        servers = {"lighttpd": start_lighttpd(site, ports["lighttpd"]),
                   "wirebench": start_wirebench(site, ports["wirebench"]),
                   "no-zygote": start_wirebench(site, ports["no-zygote"], zygote=False)}
        try:
            print(f"{args.clients} client processes, {rounds} round(s) of {duration:g} s "
                  f"after {warmup:g} s warm-up, median; Python {sys.version.split()[0]}; "
                  f"load average {os.getloadavg()[0]:.2f}")
            print(f"{'workload':<18} {'wirebench':>12} {'lighttpd':>12} {'ratio':>7} "
                  f"{'goal':>6}  verdict")
            failed = 0
            for name, path, goal, ours_key in WORKLOADS:
                results: dict[str, list[float]] = {ours_key: [], "lighttpd": []}
                for _ in range(rounds):
                    for server in ("lighttpd", ours_key):  # interleaved: same conditions
                        results[server].append(measure(ports[server], path, args.clients,
                                                       warmup, duration))
                ours = statistics.median(results[ours_key])
                theirs = statistics.median(results["lighttpd"])
                ratio = ours / theirs if theirs else float("inf")
                verdict = "ok" if ratio >= goal else "BELOW GOAL"
                failed += ratio < goal
                print(f"{name:<18} {ours:>10.0f}/s {theirs:>10.0f}/s {ratio:>6.2f}x "
                      f"{goal:>5.1f}x  {verdict}")
        finally:
            for proc in servers.values():
                stop(proc)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
