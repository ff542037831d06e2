"""FTP transfer speed: the core transfer queue against curl, same server, same run.

The server runs in its own process so that neither client shares its interpreter: the lab
FTP server (pyftpdlib) or vsftpd (started by the bench in a temp folder on a free port,
anonymous login). Each round downloads (RETR) and uploads (STOR) one file with curl and
with ``core.ftp.transfers.TransferQueue`` (a fresh login each time, as curl does), writing
to real files. Prints MB/s of the best round per client and the ratio core/curl.

    python bench/ftp.py                    # plain FTP, lab server, 256 MB, 3 rounds
    python bench/ftp.py --server vsftpd    # plain FTP against vsftpd
    python bench/ftp.py --tls              # explicit FTPS (AUTH TLS, TLS on data too,
                                           # session reuse required); vsftpd when installed
    python bench/ftp.py --quick            # 32 MB, 1 round

With ``--tls`` both clients verify the server's certificate (a self-signed one made for
the run, given as the CA file) and curl runs with ``--ssl-reqd``. Goal: core/curl >= 1.0x
both ways. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from required_tools import find_tool, require_tool  # noqa: E402
from vsftpd_peer import VsftpdPeer  # noqa: E402

from core.ftp.options import TLS_EXPLICIT, TLS_NONE, FtpOptions  # noqa: E402
from core.ftp.transfers import DONE, FINISHED, OVERWRITE, TransferQueue  # noqa: E402
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER  # noqa: E402
from core.tlscerts import self_signed  # noqa: E402

TIMEOUT = 240.0  # seconds for any single transfer: the bench always ends


class LabPeer:
    """The lab FTP server (``wirebench serve ftp``) in its own process."""

    def __init__(self, root: Path, work: Path, tls: bool) -> None:
        self.root, self.work, self.tls = root, work, tls
        self.port = 0
        self.proc: subprocess.Popen | None = None
        # its certificate lands in the data folder given here: the clients' CA file
        self.ca_file = work / "data" / "tls" / "lab-cert.pem"

    def __enter__(self) -> LabPeer:
        env = dict(os.environ, WIREBENCH_DATA_DIR=str(self.work / "data"),
                   WIREBENCH_CONFIG_DIR=str(self.work / "config"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gui", "serve", "ftp", "--port", "0",
             "--tls", "explicit" if self.tls else "none", "--root", str(self.root)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.__exit__()
            raise SystemExit(f"the lab FTP server did not start: {line!r}")
        self.port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class Clients:
    """curl and the core transfer queue, set up alike for one server."""

    def __init__(self, curl: str, port: int, login: tuple[str, str] | None,
                 ca_file: Path | None, remote_root: str = "") -> None:
        # remote_root: vsftpd runs without chroot, so the core client (which names files
        # by absolute path) prefixes the served folder; curl's URL paths are relative
        self.port, self.login, self.ca_file = port, login, ca_file
        self.remote_root = remote_root
        credentials = f"{login[0]}:{login[1]}@" if login else ""  # none: anonymous
        self.url = f"ftp://{credentials}127.0.0.1:{port}"
        self.curl_args = [curl, "-s", "-S", "--fail", "--max-time", str(int(TIMEOUT))]
        if ca_file:
            self.curl_args += ["--ssl-reqd", "--cacert", str(ca_file)]

    def curl(self, args: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run([*self.curl_args, *args], check=True)
        return time.perf_counter() - started

    def core(self, add) -> float:
        user, password = self.login or ("", "")
        options = FtpOptions("127.0.0.1", self.port, user=user, password=password,
                             anonymous=self.login is None,
                             tls=TLS_EXPLICIT if self.ca_file else TLS_NONE,
                             ca_file=str(self.ca_file) if self.ca_file else None, timeout=30)
        started = time.perf_counter()
        queue = TransferQueue(options)
        try:
            item_id = add(queue)
            deadline = started + TIMEOUT
            while queue.items[item_id].state not in FINISHED:
                if time.perf_counter() > deadline:
                    raise SystemExit("core transfer timed out")
                try:  # every state change posts an event: wake on it, as the GUI bridge would
                    queue.outbox.get(timeout=0.5)
                except Empty:
                    pass
            item = queue.items[item_id]
            if item.state != DONE:
                raise SystemExit(f"core transfer failed: {item.error}")
            return time.perf_counter() - started
        finally:
            queue.close()


def make_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)


def choose_server(name: str, tls: bool) -> str | None:
    """The vsftpd executable when the bench runs against vsftpd, else None (lab server)."""
    if name == "lab":
        return None
    if name == "vsftpd":
        return require_tool("vsftpd", "vsftpd", "the vsftpd server mode")
    # auto: FTPS against vsftpd when it is installed (the server users meet), plain FTP
    # against the lab server (the figures kept in docs/benchmarks.md since the start)
    return find_tool("vsftpd") if tls else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 MB, one round")
    parser.add_argument("--size-mb", type=int, help="file size in MB (default 256)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3)")
    parser.add_argument("--tls", action="store_true",
                        help="explicit FTPS (AUTH TLS, protected data, session reuse)")
    parser.add_argument("--server", choices=("auto", "lab", "vsftpd"), default="auto",
                        help="auto: vsftpd for --tls when installed, else the lab server")
    parser.add_argument("--verbose", action="store_true", help="print every timed transfer")
    args = parser.parse_args()
    size_mb = args.size_mb or (32 if args.quick else 256)
    rounds = args.rounds or (1 if args.quick else 3)
    curl = require_tool("curl", "curl")
    vsftpd = choose_server(args.server, args.tls)

    work = Path(tempfile.mkdtemp(prefix="wb-bench-ftp-"))
    served = work / "served"
    (served / "upload").mkdir(parents=True)
    local = work / "local"
    local.mkdir()
    source = served / "big.bin"
    make_file(source, size_mb << 20)
    upload_src = local / "up.bin"
    shutil.copyfile(source, upload_src)
    best: dict[str, float] = {}
    try:
        if vsftpd:
            tls_files = self_signed(folder=work / "tls") if args.tls else None
            peer: VsftpdPeer | LabPeer = VsftpdPeer(vsftpd, served, work, tls_files)
            ca_file, login = (tls_files[0] if tls_files else None), None
            label, remote_root = "vsftpd", str(served)
        else:
            peer = LabPeer(served, work, args.tls)
            ca_file, login = (peer.ca_file if args.tls else None), (LAB_USER, LAB_PASSWORD)
            label, remote_root = "pyftpdlib lab server", ""
        with peer:
            clients = Clients(curl, peer.port, login, ca_file, remote_root)
            run_rounds(clients, rounds, size_mb, local, upload_src, best, args.verbose)
        if (served / "upload" / "up.bin").stat().st_size != size_mb << 20:
            raise SystemExit("core upload has the wrong size")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mode = "explicit FTPS (curl --ssl-reqd; both verify the certificate)" if args.tls \
        else "plain FTP"
    print(f"FTP transfers, {mode}, {size_mb} MB file, best of {rounds} round(s), {label} "
          f"in its own process, loopback, load average {os.getloadavg()[0]:.2f}")
    missed = 0
    for direction in ("RETR", "STOR"):
        ref, ours = best[f"{direction} curl"], best[f"{direction} core"]
        missed += ref / ours < 1.0
        print(f"  {direction}: curl {size_mb / ref:8.1f} MB/s   core {size_mb / ours:8.1f} MB/s"
              f"   ratio core/curl {ref / ours:.2f}x (goal >= 1.0x: "
              f"{'met' if ref / ours >= 1.0 else 'NOT met'})")
    return 1 if missed else 0


def run_rounds(clients: Clients, rounds: int, size_mb: int, local: Path, upload_src: Path,
               best: dict[str, float], verbose: bool) -> None:
    """Time each client each way per round; keep each one's best time in ``best``."""
    url = clients.url
    for round_no in range(rounds):
        runs = {
            "RETR curl": lambda: clients.curl(["-o", str(local / "curl.bin"), f"{url}/big.bin"]),
            "RETR core": lambda: clients.core(lambda q: q.add_download(
                f"{clients.remote_root}/big.bin", local, policy=OVERWRITE)),
            "STOR curl": lambda: clients.curl(["-T", str(upload_src),
                                               f"{url}/upload/curl.bin"]),
            "STOR core": lambda: clients.core(lambda q: q.add_upload(
                upload_src, f"{clients.remote_root}/upload", policy=OVERWRITE)),
        }
        order = list(runs.items())
        if round_no % 2:  # alternate who goes first: neither always meets a warm cache
            order = [order[1], order[0], order[3], order[2]]
        for name, run in order:
            os.sync()  # flush the previous run's dirty pages outside the timed part
            seconds = run()
            best[name] = min(best.get(name, float("inf")), seconds)
            if verbose:
                print(f"  round {round_no + 1}: {name} {size_mb / seconds:.0f} MB/s")
        for leftover in (local / "curl.bin", local / "big.bin"):
            leftover.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
