"""Echo server throughput against the stdlib twin of each design, in the same run.

vmbench-style: N client processes, each with one persistent connection, send a message
of 1, 10 or 100 KiB and wait for all of it to come back, as fast as they can for a few
seconds after a warm-up. Each server runs in its own fresh process, so the clients,
the server under test and its twin never share an interpreter. Ours and the twin are
measured alternately, the median of the runs is kept, and the ratio printed.

    python bench/echo.py            # 5 runs of 1 s per size and server (about 2 minutes)
    python bench/echo.py --quick    # 3 runs of 0.5 s (under a minute)

On a shared machine the load drifts by 2x within seconds, so the runs of ours and the
twin alternate (who goes first alternates too) and the ratio printed is the median of
the ratios of each adjacent pair; the req/s columns are the medians of the runs. The
server's CPU time per request (its whole process tree, from /proc) is printed too: it
depends far less on what else the machine is doing than req/s does.

Pairs: threaded vs socketserver.ThreadingTCPServer, select vs an asyncio Protocol server,
fork vs socketserver.ForkingTCPServer. Goal: every mode >= 1.0x its twin at every size.

    python bench/echo.py --c10k     # 10,000 idle clients on select and on asyncio

``--c10k``: the select server and its asyncio twin each get 10,000 concurrent idle
clients (held by one client process), then new clients, one every 15 ms, each connect
and echo 64 bytes 5 times; reported: the round trips' p50/p99 (goal p99 <= 10 ms) and
the server's RSS growth per idle connection, ours against the twin in the same run.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1024, 10 * 1024, 100 * 1024)
PAIRS = (("threaded", "ThreadingTCPServer"), ("select", "asyncio Protocol"),
         ("fork", "ForkingTCPServer"))


# -- servers (each in its own process: `echo.py --serve NAME`) ----------------------------
def serve(name: str) -> None:
    """Start one server on a free port, print the port, run until stdin closes."""
    sys.path.insert(0, str(ROOT))
    if name in ("threaded", "select", "fork"):
        from core.servers.echo.server import make_echo_server

        server = make_echo_server("tcp", name, "127.0.0.1", 0)
        server.start()
        print(server.port, flush=True)
        sys.stdin.read()
        server.stop()
        return
    if name == "asyncio Protocol":
        import asyncio

        raise_open_files_limit()  # what ours does at start, so the twin can hold C10K too

        class Echo(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def data_received(self, data: bytes) -> None:
                self.transport.write(data)  # type: ignore[attr-defined]

        async def main() -> None:
            loop = asyncio.get_running_loop()
            # the kernel's accept queue, as ours uses: with asyncio's default of 100 a
            # burst of connects stalls on SYN retries (--c10k took 50 s to connect)
            srv = await loop.create_server(Echo, "127.0.0.1", 0, backlog=socket.SOMAXCONN)
            print(srv.sockets[0].getsockname()[1], flush=True)
            await loop.run_in_executor(None, sys.stdin.read)
            srv.close()

        asyncio.run(main())
        return
    import socketserver

    class Handler(socketserver.BaseRequestHandler):
        def setup(self) -> None:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle(self) -> None:
            while True:
                data = self.request.recv(65536)
                if not data:
                    break
                self.request.sendall(data)

    cls = {"ThreadingTCPServer": socketserver.ThreadingTCPServer,
           "ForkingTCPServer": socketserver.ForkingTCPServer}[name]
    cls.allow_reuse_address = True
    cls.daemon_threads = True
    with cls(("127.0.0.1", 0), Handler) as srv:
        print(srv.server_address[1], flush=True)
        import threading

        threading.Thread(target=srv.serve_forever, daemon=True).start()
        sys.stdin.read()
        srv.shutdown()


class ServerProcess:
    def __init__(self, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def raise_open_files_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hold_idle_clients(port: int, count: int, deadline: float) -> list[socket.socket]:
    """``count`` connected clients that send nothing; each checked with one echo."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(held)} of {count} idle clients connected in time")
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(sock)
        for sock in held:  # a held client the server dropped or never served would fail
            sock.sendall(b"i")
        for sock in held:
            if sock.recv(1) != b"i":
                raise SystemExit("an idle client was closed by the server")
    except BaseException:
        for sock in held:
            sock.close()
        raise
    return held


def new_client_round_trips(port: int, clients: int, echoes: int,
                           pace: float = 0.0) -> list[float]:
    """Seconds per 64-byte echo of ``clients`` fresh connections, ``echoes`` each."""
    message, times = os.urandom(64), []
    for _ in range(clients):
        # paced over seconds, so the samples also meet the server's periodic work (its
        # idle sweep over every client twice a second), not only the quiet moments
        time.sleep(pace)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(echoes):
                started = time.perf_counter()
                sock.sendall(message)
                got = b""
                while len(got) < len(message):
                    chunk = sock.recv(64 - len(got))
                    if not chunk:
                        raise SystemExit("the server closed a new client")
                    got += chunk
                times.append(time.perf_counter() - started)
    return times


def c10k(idle: int, new_clients: int) -> int:
    """Both servers under ``idle`` idle clients: new clients' echo latency and RSS/conn."""
    if raise_open_files_limit() < idle + 200:
        raise SystemExit(f"the open files hard limit is below {idle + 200}: raise it "
                         "(ulimit -Hn, or /etc/security/limits.conf) to hold the clients")
    print(f"C10K: {idle:,} idle clients, then {new_clients} new clients (one every 15 ms) x "
          f"5 echoes of 64 B; "
          f"load average {os.getloadavg()[0]:.2f}")
    results = {}
    for name in ("select", "asyncio Protocol"):
        server = ServerProcess(name)
        try:
            new_client_round_trips(server.port, 20, 5)  # warm-up
            before = rss_kib(server.proc.pid)
            started = time.monotonic()
            held = hold_idle_clients(server.port, idle, started + 120)
            opened = time.monotonic() - started
            try:
                per_conn = (rss_kib(server.proc.pid) - before) * 1024 / idle
                times = sorted(new_client_round_trips(server.port, new_clients, 5, 0.015))
            finally:
                for sock in held:
                    sock.close()
        finally:
            server.close()
        p50 = times[len(times) // 2] * 1000
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
        results[name] = (p50, p99, per_conn)
        print(f"  {name:<17} {idle:,} idle clients held (opened in {opened:.1f} s); new "
              f"client echo p50 {p50:.2f} ms, p99 {p99:.2f} ms; RSS {per_conn:,.0f} B/conn")
    ours, twin = results["select"], results["asyncio Protocol"]
    print(f"  select vs asyncio: p99 {twin[1] / ours[1]:.2f}x (>1 = ours faster), RSS per "
          f"connection {twin[2] / ours[2] if ours[2] > 0 else float('inf'):.2f}x "
          "(>1 = ours smaller)")
    met = ours[1] <= 10.0
    print(f"goal p99 <= 10 ms with {idle:,} idle clients: {'met' if met else 'NOT met'}")
    return 0 if met else 1


# -- clients -------------------------------------------------------------------------------
def client(port: int, size: int, seconds: float) -> int:
    """One persistent connection: echo ``size``-byte messages for ``seconds``; count them."""
    message = os.urandom(size)
    buf = bytearray(size)
    view = memoryview(buf)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sock.sendall(message)
            got = 0
            while got < size:
                n = sock.recv_into(view[got:])
                if not n:
                    raise ConnectionError("server closed the connection")
                got += n
            count += 1
    return count


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and every descendant, reaped ones included.

    Live processes (zombies too) count their own user+system time; children that were
    already waited for are in their parent's cutime/cstime. Summing both over the tree
    counts every process once, so fork servers are charged for their children.
    """
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.processes import process_stats

    # fields[1] = ppid; [11..14] = utime, stime, cutime, cstime (clock ticks)
    stats = {pid: (int(fields[1]), float(sum(int(x) for x in fields[11:15])))
             for pid, fields in process_stats().items()}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo.extend(children.get(pid, ()))
    return total / os.sysconf("SC_CLK_TCK")


def measure(pool: concurrent.futures.Executor, server: ServerProcess, size: int,
            seconds: float, clients: int) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request) of one run."""
    cpu = tree_cpu(server.proc.pid)
    start = time.monotonic()
    futures = [pool.submit(client, server.port, size, seconds) for _ in range(clients)]
    total = sum(f.result() for f in futures)
    elapsed = time.monotonic() - start
    time.sleep(0.05)  # let the fork servers reap the run's children (their CPU time)
    cpu = tree_cpu(server.proc.pid) - cpu
    return total / elapsed, cpu / max(total, 1) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="3 runs of 0.5 s per size")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    parser.add_argument("--seconds", type=float, default=None, help="per run (1, quick 0.5)")
    parser.add_argument("--runs", type=int, default=None, help="median of (5, quick 3)")
    parser.add_argument("--modes", default="threaded,select,fork")
    parser.add_argument("--c10k", action="store_true",
                        help="10,000 idle clients: new clients' echo latency, RSS/conn")
    parser.add_argument("--idle", type=int, default=10_000, help="idle clients for --c10k")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if args.c10k:
        return c10k(args.idle, 200)
    seconds = args.seconds or (0.5 if args.quick else 1.0)
    runs = args.runs or (3 if args.quick else 5)
    modes = args.modes.split(",")
    print(f"echo bench: {args.clients} client processes, {runs} run(s) of {seconds:g} s per "
          f"size, median; {os.cpu_count()} CPUs")
    print(f"{'mode':<9} {'size':>7} {'ours req/s':>11} {'twin req/s':>11}  ratio  "
          f"pair range  {'CPU µs/req':>14}  cpu   twin")
    print(f"{'':<9} {'':>7} {'':>11} {'':>11}  {'':5}  {'':10}  {'ours / twin':>14}  ratio")
    worst = float("inf")
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.clients, mp_context=ctx) as pool:
        for mode, twin_name in PAIRS:
            if mode not in modes:
                continue
            ours, twin = ServerProcess(mode), ServerProcess(twin_name)
            try:
                for size in SIZES:
                    for server in (ours, twin):  # warm-up: connections, caches, forks
                        measure(pool, server, size, min(0.5, seconds), args.clients)
                    rates: dict[str, list[float]] = {"ours": [], "twin": []}
                    costs: dict[str, list[float]] = {"ours": [], "twin": []}
                    for run in range(runs):
                        # alternate who goes first: the machine's load drifts over time
                        order = (("ours", ours), ("twin", twin))
                        for label, server in order if run % 2 == 0 else order[::-1]:
                            rate, cost = measure(pool, server, size, seconds, args.clients)
                            rates[label].append(rate)
                            costs[label].append(cost)
                    a = statistics.median(rates["ours"])
                    b = statistics.median(rates["twin"])
                    pairs = [x / y for x, y in zip(rates["ours"], rates["twin"], strict=True)]
                    ratio = statistics.median(pairs)
                    worst = min(worst, ratio)
                    ca, cb = statistics.median(costs["ours"]), statistics.median(costs["twin"])
                    print(f"{mode:<9} {size // 1024:>4} KiB {a:>11.0f} {b:>11.0f}  "
                          f"{ratio:4.2f}x  {min(pairs):4.2f}-{max(pairs):4.2f}  "
                          f"{ca:6.1f} / {cb:5.1f}  {cb / ca if ca else 0:4.2f}x  {twin_name}",
                          flush=True)
            finally:
                ours.close()
                twin.close()
    print("ratio: median of the paired runs' req/s ratios (>1 = ours faster); cpu ratio: "
          "twin's server CPU per request / ours (>1 = ours cheaper)")
    print(f"worst ratio {worst:.2f}x (goal >= 1.00x): {'met' if worst >= 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
