"""Send a big attachment to the lab sink: Wirebench's SmtpSession against plain smtplib.

Goal: a 25 MB attachment sends with progress shown and the UI responsive. The reference
is the stdlib twin, ``smtplib.SMTP.sendmail`` of the same bytes to the same aiosmtpd
sink in the same run. While each send runs, a 20 ms ticker thread stands in for the Tk
loop and records its worst delay (what a user would feel as a stall).

    python bench/smtp_send.py           # 25 MB attachment, 3 rounds
    python bench/smtp_send.py --quick   # 5 MB, 1 round
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("WIREBENCH_DATA_DIR", tempfile.mkdtemp(prefix="wb-bench-data-"))
os.environ.setdefault("WIREBENCH_CONFIG_DIR", tempfile.mkdtemp(prefix="wb-bench-cfg-"))

from core.events import Progress  # noqa: E402
from core.servers.smtp.sink import SmtpSink  # noqa: E402
from core.smtp.message import MailDraft, build_message  # noqa: E402
from core.smtp.session import SmtpSession  # noqa: E402
from core.smtp.settings import SmtpSettings  # noqa: E402
from core.worker import drain  # noqa: E402


class Ticker:
    """A thread that wants to run every 20 ms; its worst lateness is the stall."""

    def __init__(self, period: float = 0.02) -> None:
        self.period = period
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.wait(self.period):
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - self.period)
            last = now

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 MB, one round")
    parser.add_argument("--mb", type=int, default=None, help="attachment size in MB")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    size_mb = args.mb or (5 if args.quick else 25)
    rounds = args.rounds or (1 if args.quick else 3)

    folder = Path(tempfile.mkdtemp(prefix="wb-bench-smtp-"))
    blob = folder / "attachment.bin"
    blob.write_bytes(os.urandom(size_mb * 1024 * 1024))
    draft = MailDraft(sender="bench@example.com", to="lab@localhost", subject="bench",
                      body="bench\n", attachments=[str(blob)])
    started = time.perf_counter()
    mail = build_message(draft)
    build_s = time.perf_counter() - started

    ours: list[float] = []
    ref: list[float] = []
    stall_ours = stall_ref = 0.0
    progress_events = 0
    with SmtpSink(port=0) as sink:
        settings = SmtpSettings.parse("127.0.0.1", sink.port, "none")
        for _ in range(rounds):
            session = SmtpSession()
            with Ticker() as ticker:
                t0 = time.perf_counter()
                session.send(settings, mail)
                ours.append(time.perf_counter() - t0)
            stall_ours = max(stall_ours, ticker.worst)
            progress_events = sum(isinstance(e, Progress) for e in drain(session.outbox))
            with Ticker() as ticker:
                t0 = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", sink.port, local_hostname="bench") as client:
                    client.sendmail(mail.sender, list(mail.recipients), mail.data)
                ref.append(time.perf_counter() - t0)
            stall_ref = max(stall_ref, ticker.worst)
            sink.store.clear()

    mb = mail.size / 1e6
    o, r = statistics.median(ours), statistics.median(ref)
    print(f"message: {size_mb} MB attachment -> {mb:.1f} MB on the wire; "
          f"built in {build_s:.2f} s")
    print(f"SmtpSession (transcript + progress): {o:.2f} s  {mb / o:6.1f} MB/s  "
          f"worst 20 ms-ticker stall {stall_ours * 1000:.0f} ms  "
          f"({progress_events} progress events)")
    print(f"smtplib.sendmail (reference):        {r:.2f} s  {mb / r:6.1f} MB/s  "
          f"worst 20 ms-ticker stall {stall_ref * 1000:.0f} ms")
    print(f"ratio ours/reference time: {o / r:.2f} (goal <= 1.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
