"""The fork echo server's own process (origin document, section 4.2.3).

Run as a script by :mod:`core.servers.echo.fork`, never imported by the GUI: it is a
clean single-threaded process, the only kind that may safely ``fork()``. It inherits
the listening socket (``--fd``), accepts, and forks a child per connection — *simple*
(the parent waits the child) or *double* (child one forks child two and exits at once;
child two serves). The *fireman* reaps every exited child before each fork and whenever
SIGCHLD arrives, so no zombie is left. On Linux the helper makes itself a child
subreaper, so the orphaned second children are reaped here too, not left to init.

Stdlib only on purpose: it must run from a bare interpreter (or ``wirebench
--run-python``) without importing the app. It reports to its parent on stdout, one
line per record (each under PIPE_BUF, so lines from many children never interleave):

    READY <pid>                         listening
    OPEN <peer>                         a connection was accepted
    BYTES <peer> <in> <out> <requests>  traffic since the last report (from a child)
    CLOSE <peer> <in> <out> <reason>    a connection ended (from its child)
    LOG <level> <text>                  anything else worth a log line
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import mmap
import os
import selectors
import signal
import socket
import struct
import sys
import time

try:  # run as a script (this folder is sys.path[0]), or from the app's packages
    from relay import Counters, echo_until_eof
except ImportError:  # a frozen build runs this file with runpy: the app's copy
    from core.servers.echo.relay import Counters, echo_until_eof

PR_SET_CHILD_SUBREAPER = 36
HELPER_REPORTS = ("READY", "OPEN", "BYTES", "CLOSE", "LOG")
REPORT_EVERY = 0.5  # seconds between traffic reports of a busy child


def report(line: str) -> None:
    data = (line.replace("\n", " ")[:3000] + "\n").encode("utf-8", "replace")
    with contextlib.suppress(OSError):
        os.write(1, data)


def become_subreaper() -> bool:
    """Adopt our orphaned grandchildren (Linux) so the fireman reaps double forks too."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def peer_name(address: object, number: int) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = f"[{address[0]}]" if ":" in str(address[0]) else address[0]
        return f"{host}:{address[1]}"
    return f"unix-client#{number}"


class ActivityBoard:
    """Which child serves which client and when it last moved a byte, in memory shared
    across fork (an anonymous shared mapping), so the helper can evict the child idle
    longest when the server is full. One slot per child: (pid, last active time); pid
    -1 while the child starts, 0 when free. Torn reads only blur the choice a little.
    """

    SLOT = struct.Struct("qd")
    #: a slot's time once its child was told to go: it is never chosen twice
    EVICTING = -2.0

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.map = mmap.mmap(-1, slots * self.SLOT.size)

    def take(self) -> int | None:
        """A free slot for the next child, marked as starting; None when all are used."""
        for index in range(self.slots):
            if self.SLOT.unpack_from(self.map, index * self.SLOT.size)[0] == 0:
                self.set(index, -1, time.monotonic())
                return index
        return None

    def set(self, index: int, pid: int, when: float) -> None:
        self.SLOT.pack_into(self.map, index * self.SLOT.size, pid, when)

    def touch(self, index: int) -> None:
        self.set(index, os.getpid(), time.monotonic())

    def idlest(self) -> tuple[int, int, float] | None:
        """(slot, pid, idle seconds) of the child idle longest, None if no child runs."""
        best = None
        now = time.monotonic()
        for index in range(self.slots):
            pid, when = self.SLOT.unpack_from(self.map, index * self.SLOT.size)
            if pid > 0 and when != self.EVICTING and (best is None or when < best[2]):
                best = (index, pid, when)
        return None if best is None else (best[0], best[1], now - best[2])

    def free_pid(self, pid: int) -> None:
        """A reaped child's slot is free again (it may have died without freeing it)."""
        for index in range(self.slots):
            if self.SLOT.unpack_from(self.map, index * self.SLOT.size)[0] == pid:
                self.set(index, 0, 0.0)


class Fireman:
    """Collects zombies: the document's ``fireman(pids)`` — ``waitpid(-1, WNOHANG)``
    until no exited child remains, crossing each off the children list."""

    def __init__(self, board: ActivityBoard | None = None) -> None:
        self.children: set[int] = set()  # simple fork: the document's children_list
        self.reaped = 0
        self.board = board

    def __call__(self) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.reaped += 1
            self.children.discard(pid)
            if self.board is not None:
                self.board.free_pid(pid)

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self()
            try:
                os.waitpid(-1, os.WNOHANG)  # raises once no child at all is left
            except ChildProcessError:
                return
            time.sleep(0.01)


def handle(client: socket.socket, peer: str, idle_timeout: float, recv_size: int,
           board: ActivityBoard | None = None, slot: int | None = None) -> None:
    """The connection handler a child runs: echo until EOF, then half-close.

    A SIGALRM every REPORT_EVERY seconds (setitimer) reports the traffic since the last
    report, so it shows up even when the client then goes quiet, and counts the idle
    time: when no byte moved for the idle timeout (a silent client, or one that stopped
    reading while sendall() waits) the handler shuts the socket down, which ends the
    recv() or sendall() in progress. They carry no timeout, so the kernel arms no timer
    on every wait; the handler never raises, so it cannot interrupt the cleanup.
    """
    traffic = Counters()
    reported = (0, 0, 0)
    seen = 0
    idle = 0.0
    expired = False
    tick = min(REPORT_EVERY, idle_timeout)
    reason = "peer closed"
    evicted = False
    if board is not None and slot is not None:
        board.touch(slot)

    def flush() -> None:
        nonlocal reported
        now = (traffic.bytes_in, traffic.bytes_out, traffic.requests)
        if now != reported:
            report(f"BYTES {peer} {now[0] - reported[0]} {now[1] - reported[1]} "
                   f"{now[2] - reported[2]}")
            reported = now

    def on_alarm(signum: int, frame: object) -> None:
        nonlocal seen, idle, expired
        flush()
        moved = traffic.bytes_in + traffic.bytes_out
        if moved != seen:
            seen, idle = moved, 0.0
            if board is not None and slot is not None:
                board.touch(slot)
        elif not expired:
            idle += tick
            if idle >= idle_timeout:
                expired = True
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)

    def on_evict(signum: int, frame: object) -> None:
        nonlocal evicted, expired
        evicted = expired = True  # expired: no half-close, the socket is shut down
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)

    client.setblocking(True)
    signal.signal(signal.SIGUSR1, on_evict)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    try:
        echo_until_eof(client, traffic, recv_size)
        if not expired:
            client.shutdown(socket.SHUT_WR)  # half-close: all echoed, FIN back
    except ConnectionResetError:
        reason = "reset by peer"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        client.close()
    if evicted:
        reason = "evicted: the idlest when the server was full (max clients)"
    elif expired:
        reason = f"idle for {idle_timeout:g} s"
    if board is not None and slot is not None:
        board.set(slot, 0, 0.0)
    flush()
    report(f"CLOSE {peer} {traffic.bytes_in} {traffic.bytes_out} {reason}")


def serve(args: argparse.Namespace) -> int:
    listener = socket.socket(fileno=args.fd)
    listener.setblocking(False)
    stopping = False
    subreaper = become_subreaper()
    if args.style == "double" and not subreaper:
        report("LOG warning this system cannot adopt orphans: double-fork children are "
               "reaped by init and max clients is not enforced")

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGCHLD, lambda s, f: None)  # only to wake the selector

    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "listener")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    # twice max clients: an evicted child still holds its slot until it has exited
    board = ActivityBoard(2 * args.max_clients + 1)
    fireman = Fireman(board)
    accepted = 0
    report(f"READY {os.getpid()}")

    def live() -> int:
        # every served connection ends as one process reaped by the fireman (the child,
        # or in double fork the adopted child two; child one is waited at fork time)
        if args.style == "double" and not subreaper:
            return 0  # child two goes to init, so we never learn that it ended
        return accepted - fireman.reaped

    while not stopping:
        for key, _ in sel.select(1.0):
            if key.data == "wake":
                with contextlib.suppress(OSError):
                    while wake_r.recv(4096):
                        pass
                continue
            while not stopping:
                try:
                    client, address = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                        continue
                    if exc.errno in (errno.EMFILE, errno.ENFILE):
                        # out of fds: never die; a child will exit and give one back
                        report("LOG warning out of file descriptors (open files limit)")
                        time.sleep(0.05)
                        break
                    raise
                accepted += 1
                peer = peer_name(address, accepted)
                fireman()
                if live() - evicting(board) > args.max_clients:  # this one is counted
                    evict_idlest(board, args.max_clients, peer)
                slot = board.take()
                if slot is None:  # every slot held by children still exiting: rare
                    accepted -= 1
                    report(f"LOG warning {peer} refused: {args.max_clients} clients already "
                           "connected and none could be evicted yet (max clients)")
                    client.close()
                    continue
                if client.family != socket.AF_UNIX:
                    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                report(f"OPEN {peer}")
                pid = fork_handler(args, client, peer, listener, (wake_r, wake_w),
                                   board, slot)
                client.close()  # the parent's copy: the child owns the connection now
                if pid:
                    fireman.children.add(pid)
        fireman()

    # stopping: the controller signalled our whole process group; reap everyone
    listener.close()
    for pid in list(fireman.children):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    fireman.wait_all(0.5)
    return 0


def evicting(board: ActivityBoard) -> int:
    """Children told to go that have not exited yet (they hold a slot, not a client)."""
    return sum(1 for i in range(board.slots)
               if board.SLOT.unpack_from(board.map, i * board.SLOT.size)[1] == board.EVICTING)


def evict_idlest(board: ActivityBoard, max_clients: int, newcomer: str) -> None:
    """Full: tell the child idle longest to close its client (SIGUSR1) and exit."""
    found = board.idlest()
    if found is None:
        return
    slot, pid, idle = found
    board.set(slot, pid, board.EVICTING)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGUSR1)
    report(f"LOG warning {max_clients} clients connected (max clients): evicted the one "
           f"idle {max(0.0, idle):.0f} s to serve {newcomer}")


def fork_handler(args: argparse.Namespace, client: socket.socket, peer: str,
                 listener: socket.socket, extra: tuple[socket.socket, ...],
                 board: ActivityBoard | None = None, slot: int | None = None) -> int:
    """Fork (simple or double); returns the pid the parent keeps, 0 if none to track."""
    # block SIGTERM across fork so a stop arriving now still kills the child promptly
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        pid = os.fork()
        if pid == 0:
            child_main(args, client, peer, listener, extra, board, slot)  # never returns
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    if args.style == "double":
        # the document waits child one in the parent; it exits right after forking
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return 0
    return pid


def child_main(args: argparse.Namespace, client: socket.socket, peer: str,
               listener: socket.socket, extra: tuple[socket.socket, ...],
               board: ActivityBoard | None = None, slot: int | None = None) -> None:
    code = 0
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        listener.close()  # "a good habit": the child never accepts
        for sock in extra:
            sock.close()
        if args.style == "double" and os.fork():
            os._exit(0)  # child one: done; child two is adopted and serves
        handle(client, peer, args.idle_timeout, args.recv_size, board, slot)
    except BaseException:  # a child must never return into the accept loop
        code = 1
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    parser.add_argument("--style", choices=("simple", "double"), default="simple")
    parser.add_argument("--max-clients", type=int, default=512)
    parser.add_argument("--idle-timeout", type=float, default=300.0)
    parser.add_argument("--recv-size", type=int, default=64 * 1024)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
