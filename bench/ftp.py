"""FTP transfer speed: the core transfer queue against curl, same server, same run.

A lab FTP server (pyftpdlib) runs in its own process so that neither client shares its
interpreter. Each round downloads (RETR) and uploads (STOR) one file with curl and with
``core.ftp.transfers.TransferQueue`` (a fresh login each time, as curl does), writing to
real files. Prints MB/s of the best round per client and the ratio core/curl.

    python bench/ftp.py            # 256 MB, 3 rounds
    python bench/ftp.py --quick    # 32 MB, 1 round
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


from core.ftp.options import FtpOptions  # noqa: E402
from core.ftp.transfers import DONE, FINISHED, OVERWRITE, TransferQueue  # noqa: E402
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER  # noqa: E402

TIMEOUT = 240.0  # seconds for any single transfer: the bench always ends


def start_server(root: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui", "serve", "ftp", "--port", "0", "--tls", "none",
         "--root", str(root)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the lab FTP server did not start: {line!r}")
    port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
    return proc, port


def curl(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-s", "-S", "--fail", "--max-time", str(int(TIMEOUT)), *args],
                   check=True)
    return time.perf_counter() - started


def core(port: int, add) -> float:
    options = FtpOptions("127.0.0.1", port, user=LAB_USER, password=LAB_PASSWORD,
                         timeout=30)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 MB, one round")
    parser.add_argument("--size-mb", type=int, help="file size in MB (default 256)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3)")
    parser.add_argument("--verbose", action="store_true", help="print every timed transfer")
    args = parser.parse_args()
    size_mb = args.size_mb or (32 if args.quick else 256)
    rounds = args.rounds or (1 if args.quick else 3)
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed: the reference is missing")

    work = Path(tempfile.mkdtemp(prefix="wb-bench-ftp-"))
    served = work / "served"
    (served / "upload").mkdir(parents=True)
    local = work / "local"
    local.mkdir()
    source = served / "big.bin"
    make_file(source, size_mb << 20)
    upload_src = local / "up.bin"
    shutil.copyfile(source, upload_src)
    proc, port = start_server(served)
    url = f"ftp://{LAB_USER}:{LAB_PASSWORD}@127.0.0.1:{port}"
    best: dict[str, float] = {}
    try:
        for round_no in range(rounds):
            runs = {
                "RETR curl": lambda: curl(["-o", str(local / "curl.bin"), f"{url}/big.bin"]),
                "RETR core": lambda: core(port, lambda q: q.add_download(
                    "/big.bin", local, policy=OVERWRITE)),
                "STOR curl": lambda: curl(["-T", str(upload_src), f"{url}/upload/curl.bin"]),
                "STOR core": lambda: core(port, lambda q: q.add_upload(
                    upload_src, "/upload", policy=OVERWRITE)),
            }
            order = list(runs.items())
            if round_no % 2:  # alternate who goes first: neither always meets a warm cache
                order = [order[1], order[0], order[3], order[2]]
            for name, run in order:
                os.sync()  # flush the previous run's dirty pages outside the timed part
                seconds = run()
                best[name] = min(best.get(name, float("inf")), seconds)
                if args.verbose:
                    print(f"  round {round_no + 1}: {name} {size_mb / seconds:.0f} MB/s")
            for leftover in (local / "curl.bin", local / "big.bin"):
                leftover.unlink(missing_ok=True)
        if (served / "upload" / "up.bin").stat().st_size != size_mb << 20:
            raise SystemExit("core upload has the wrong size")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(f"FTP transfers, {size_mb} MB file, best of {rounds} round(s), pyftpdlib server "
          "in its own process, loopback")
    for direction in ("RETR", "STOR"):
        ref, ours = best[f"{direction} curl"], best[f"{direction} core"]
        print(f"  {direction}: curl {size_mb / ref:8.1f} MB/s   core {size_mb / ours:8.1f} MB/s"
              f"   ratio core/curl {ref / ours:.2f}x (goal >= 1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
