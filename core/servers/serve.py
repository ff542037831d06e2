"""``wirebench serve KIND``: run embedded servers headless until Ctrl+C or SIGTERM, or
until one of them crashes (then it says why on stderr and exits with 3).

Never imports tkinter, so it runs on a machine with no display.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import signal
import sys
import threading
from pathlib import Path

from core.errors import UserError
from core.events import LogLine
from core.servers.base import ServerController
from core.servers.registry import LabRegistry, serve_kinds
from core.worker import Outbox

#: the exit code of ``wirebench serve`` when a server died while serving
EXIT_CRASHED = 3


def add_common_arguments(parser: argparse.ArgumentParser, default_port: int) -> None:
    """``--host`` and ``--port`` every kind takes (servers bind 127.0.0.1 by default)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; '' or 0.0.0.0 = all)")
    parser.add_argument("--port", type=int, default=default_port,
                        help=f"port to listen on (default {default_port}; 0 = any free port)")


def build_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--daemon", action="store_true",
                        help="detach from the terminal (double fork) and log to syslog")
    parser.add_argument("--pidfile", type=Path, help="write the server's process id here")
    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    lab = sub.add_parser("lab", help="every lab peer (echo, cgi, ftp, smtp, telnet, dns)",
                         description="Start every registered lab peer on its lab port.")
    lab.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    lab.add_argument("--ephemeral", action="store_true",
                     help="use free ports instead of the well-known lab ports")
    for name, kind in sorted(serve_kinds().items()):
        kp = sub.add_parser(name, help=kind.help, description=kind.help)
        kind.add_arguments(kp)


def daemonize(pidfile: Path | None) -> None:
    """The origin document's section 4.1, done fully: fork, setsid, fork, detach stdio."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if pidfile:
        pidfile.write_text(f"{os.getpid()}\n")


def _log_sink(outbox, logger: logging.Logger, stop: threading.Event) -> None:
    import queue

    while not stop.is_set():
        try:
            event = outbox.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(event, LogLine):
            logger.log(logging.WARNING if event.level != "info" else logging.INFO,
                       "%s: %s", event.source, event.text)


def run(args: argparse.Namespace) -> int:
    outbox = Outbox()
    if args.kind == "lab":
        registry = LabRegistry(host=args.host, ephemeral=args.ephemeral, outbox=outbox)
        controllers: list[ServerController] = registry.peers()
        if not controllers:
            print("wirebench serve lab: no lab peers are available in this build.",
                  file=sys.stderr)
            return 1
    else:
        kind = serve_kinds()[args.kind]
        if kind.preempt and kind.preempt(args):
            return 0
        try:
            controllers = kind.build(args)
        except UserError as exc:
            print(f"wirebench serve {args.kind}: {exc}", file=sys.stderr)
            return 2
        for c in controllers:
            c.outbox = outbox

    if args.daemon:
        daemonize(args.pidfile)
    elif args.pidfile:
        args.pidfile.write_text(f"{os.getpid()}\n")

    logger = logging.getLogger("wirebench.serve")
    logger.setLevel(logging.INFO)
    if args.daemon:
        handler: logging.Handler = logging.handlers.SysLogHandler(
            address="/dev/log" if os.path.exists("/dev/log") else ("localhost", 514))
        handler.setFormatter(logging.Formatter("wirebench[%(process)d]: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)

    stop = threading.Event()
    sink_stop = threading.Event()
    sink = threading.Thread(target=_log_sink, args=(outbox, logger, sink_stop), daemon=True)
    sink.start()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    # installed before any "listening" line is printed: a caller may signal right after it
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started: list[ServerController] = []
    failed = 0
    for c in controllers:
        try:
            address = c.start()
        except Exception as exc:
            failed += 1
            print(f"{c.kind}: could not start: {exc}", file=sys.stderr, flush=True)
            continue
        started.append(c)
        print(f"{c.kind} listening on {address}"
              + (f"  ({c.describe()})" if c.describe() else ""), flush=True)
    if not started:
        sink_stop.set()
        return 1

    crashed: list[ServerController] = []
    try:
        # a crashed server ends the run: a supervisor sees the exit code and restarts us
        while not stop.wait(0.2) and not crashed:
            crashed = [c for c in started if c.crash_reason]
    finally:
        for c in crashed:
            print(f"{c.kind} crashed: {c.crash_reason}", file=sys.stderr, flush=True)
        for c in started:
            c.stop()
        sink_stop.set()
        sink.join(1.0)
        if args.pidfile and args.pidfile.exists():
            try:
                args.pidfile.unlink()
            except OSError:
                pass
        print("stopped", flush=True)
    if crashed:
        return EXIT_CRASHED
    return 1 if failed else 0
