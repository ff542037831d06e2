"""DNS batch: Wirebench's pipelined batch vs ``dig -f`` over the same names, same run.

The server is dnsmasq when it is installed (a fast C server, so the clients are what is
measured), else the lab DNS server. References measured in the same run:

* ``dig -f NAMES`` (when dig is installed; the script says so when it is not);
* one dnspython ``dns.query.udp`` call per name, in sequence (the obvious Python loop).

Goal: the batch is at least 3x faster than ``dig -f``. Bounded: every subprocess has a
timeout, sizes are moderate, ``--quick`` cuts them further.

    python bench/dns_batch.py [--quick] [--names 1000] [--rounds 3] [--server lab]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dns.message  # noqa: E402
import dns.query  # noqa: E402
from required_tools import find_tool, missing_tool_note  # noqa: E402

from core.lookup.dns_batch import run_batch  # noqa: E402
from core.servers.dns.lab import DnsLabServer  # noqa: E402

GOAL = 3.0
SUBPROCESS_TIMEOUT = 120


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


class Dnsmasq:
    """dnsmasq in the foreground answering every name under bench.test with 127.0.0.1."""

    zone = "bench.test"

    def __init__(self, exe: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "--keep-in-foreground", "--conf-file=/dev/null", f"--port={self.port}",
             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
             f"--address=/{self.zone}/127.0.0.1", "--pid-file=", "--cache-size=0",
             "--user=" + ("root" if _is_root() else "nobody")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self) -> None:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited: " + self.proc.stderr.read().decode()[:300])
            try:
                dns.query.udp(dns.message.make_query(f"ready.{self.zone}", "A"), "127.0.0.1",
                              port=self.port, timeout=0.2)
                return
            except Exception:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dnsmasq did not answer within 5 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def time_wirebench(names: list[str], port: int) -> tuple[float, int]:
    start = time.perf_counter()
    result = run_batch(names, "A", "127.0.0.1", port, window=64, timeout=2.0)
    elapsed = time.perf_counter() - start
    return elapsed, sum(1 for r in result.rows if r.answers)


def time_dig(dig: str, path: Path, port: int) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([dig, "@127.0.0.1", "-p", str(port), "-f", str(path), "+noall",
                           "+answer", "+tries=1", "+time=2"], capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, sum(1 for line in done.stdout.splitlines() if "\tA\t" in line)


def time_dnspython_loop(names: list[str], port: int) -> tuple[float, int]:
    start = time.perf_counter()
    answered = 0
    for name in names:
        reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port,
                              timeout=2)
        answered += bool(reply.answer)
    return time.perf_counter() - start, answered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 names, 2 rounds")
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("auto", "lab"), default="auto",
                        help="auto = dnsmasq when installed, else the lab server")
    args = parser.parse_args()
    count = 200 if args.quick else max(1, min(args.names, 20_000))
    rounds = 2 if args.quick else max(1, min(args.rounds, 10))

    dnsmasq_exe = find_tool("dnsmasq") if args.server == "auto" else None
    dig = find_tool("dig")
    server: Dnsmasq | DnsLabServer
    if dnsmasq_exe:
        server = Dnsmasq(dnsmasq_exe)
        zone, label = Dnsmasq.zone, f"dnsmasq ({dnsmasq_exe})"
    else:
        server = DnsLabServer("127.0.0.1", 0, hierarchy=False)
        server.start()
        zone = "batch.wirebench.test"
        label = "the lab DNS server" + ("" if args.server == "lab" else
                                        f" ({missing_tool_note('dnsmasq', 'dnsmasq-base')})")
    names = [f"host{i}.{zone}" for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="wb-dnsbench-") as tmp:
        path = Path(tmp) / "names.txt"
        path.write_text("\n".join(names) + "\n")
        print(f"DNS batch bench: {count} A lookups, {rounds} rounds, server: {label} "
              f"on 127.0.0.1:{server.port}")
        if not dig:
            print(f"{missing_tool_note('dig', 'dnsutils')}: the dig -f comparison "
                  "is skipped, the goal cannot be checked in this run.")
        results: dict[str, list[float]] = {"wirebench batch": [], "dig -f": [],
                                           "dnspython loop": []}
        answered: dict[str, int] = {}
        try:
            # one untimed pass first: every client then meets the same warm server (the
            # lab server has a packet cache; dnsmasq runs with --cache-size=0)
            time_wirebench(names, server.port)
            for _ in range(rounds):
                t, n = time_wirebench(names, server.port)
                results["wirebench batch"].append(t)
                answered["wirebench batch"] = n
                if dig:
                    t, n = time_dig(dig, path, server.port)
                    results["dig -f"].append(t)
                    answered["dig -f"] = n
                t, n = time_dnspython_loop(names, server.port)
                results["dnspython loop"].append(t)
                answered["dnspython loop"] = n
        finally:
            server.stop()
    print(f"{'client':<18}{'median s':>10}{'best s':>10}{'names/s':>10}{'answered':>10}")
    for client, times in results.items():
        if not times:
            continue
        median = statistics.median(times)
        print(f"{client:<18}{median:>10.3f}{min(times):>10.3f}{count / median:>10.0f}"
              f"{answered[client]:>10}")
    ours = statistics.median(results["wirebench batch"])
    loop_ratio = statistics.median(results["dnspython loop"]) / ours
    print(f"ratio vs dnspython loop: {loop_ratio:.1f}x")
    if results["dig -f"]:
        ratio = statistics.median(results["dig -f"]) / ours
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"ratio vs dig -f: {ratio:.1f}x faster (goal >= {GOAL:.0f}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
