"""The lab telnet server: telnetlib3's server with a login prompt and a tiny shell.

telnetlib3 does the protocol (it offers SGA, BINARY, ECHO, asks TTYPE and NAWS, and
NEW-ENVIRON), on its own asyncio loop thread. After ``login:``/``Password:`` a shell
answers ``help``, ``echo``, ``date``, ``colors``, ``ls``, ``flood N``, ``size``, ``exit``.
Input is read by one task that echoes as it goes, so typing is echoed even while
``flood`` prints (Ctrl-C stops a flood) — that is what the terminal bench measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import socket
import threading
import time

import telnetlib3
from telnetlib3.server import TelnetServer

from core.errors import UserError
from core.servers.base import ServerController, ServerStartError
from core.servers.lab_account import LAB_PASSWORD, LAB_USER
from core.servers.registry import ServeKind
from core.servers.serve import add_common_arguments
from core.servers.telnet_samples import color_demo, ls_listing, ls_lr_lines

LAB_PORT = 2323
PROMPT = "\x1b[1;32mlab@wirebench\x1b[0m:\x1b[1;34m~\x1b[0m$ "
#: ``flood`` stops at this many lines (a typo must not keep the server busy for hours)
MAX_FLOOD = 5_000_000
#: ``flood`` writes this many lines (about 6 KiB), then lets typing through: the echo of
#: a key waits behind one batch at most
FLOOD_BATCH = 100
#: bytes one client's output may queue in the server before a flood waits: about what
#: a pty and telnetd hold, so an echo stays close behind a flood (the terminal bench
#: measured key -> echo painted p50 9.1 ms with 32 KiB and 200-line batches, 6.7 ms so)
WRITE_BUFFER_HIGH = 8192
#: longest input line kept: Linux's canonical tty line discipline keeps 4095 characters
#: plus the newline (N_TTY_BUF_SIZE 4096) and drops the rest; so does this shell
MAX_LINE = 4096
#: complete lines typed ahead of a busy shell (during a flood) that are kept; the rest
#: are dropped, as a full tty input buffer drops them: 64 x MAX_LINE bounds the memory
MAX_TYPEAHEAD = 64
#: window sizes and terminal types remembered for the tests and the log (newest last)
SEEN_KEPT = 64
#: bytes of one client's input handled per event-loop turn: telnetlib3 parses byte by
#: byte, and one 256 KiB read parsed at once would freeze every other client for a second
FEED_SLICE = 4096
#: sessions at once (systemd's MaxConnections=64 for an Accept=yes socket such as
#: telnet.socket); when full the session idle longest is closed for the new one
MAX_CLIENTS = 64

HELP = """Commands:
  help          this list
  echo TEXT     print TEXT
  date          the server's date and time
  colors        16 colours, the 256-colour cube, true colour, bold/underline/reverse
  ls            a directory listing (ls -l style, coloured)
  flood N       print N lines of a coloured ls -lR listing (Ctrl-C stops it)
  size          the window size and terminal type the client reported
  exit          log out"""

class _LabConnection:
    """One logged-in (or logging-in) client: an input task and the shell."""

    def __init__(self, lab: TelnetLabServer, reader, writer) -> None:  # noqa: ANN001
        self.lab = lab
        self.reader = reader
        self.writer = writer
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.interrupt = asyncio.Event()
        self.echo = True
        #: the line being typed, one character per item (no quadratic ``str +=``)
        self.buffer: list[str] = []
        self.overlong = False

    def write(self, text: str) -> None:
        data = text.replace("\n", "\r\n")
        self.lab.count(bytes_out=len(data))
        self.writer.write(data)

    async def read_input(self) -> None:
        """Read characters forever: echo, edit, queue complete lines."""
        skip_lf = False
        while True:
            chunk = await self.reader.read(4096)
            if not chunk:
                await self.lines.put(None)
                return
            self.lab.count(bytes_in=len(chunk))
            for ch in chunk:
                if skip_lf and ch in "\n\x00":
                    skip_lf = False
                    continue
                skip_lf = False
                if ch in "\r\n":
                    skip_lf = ch == "\r"
                    line = "".join(self.buffer)
                    self.buffer.clear()
                    self.overlong = False
                    self.writer.echo("\r\n")
                    if self.lines.qsize() < MAX_TYPEAHEAD:
                        self.lines.put_nowait(line)
                    else:
                        self.lab.log_limit("typeahead", f"{MAX_TYPEAHEAD} typed lines wait "
                                           "for a busy shell: dropping more (max typeahead)")
                elif ch == "\x03":
                    self.interrupt.set()
                    self.buffer.clear()
                    self.overlong = False
                    self.writer.echo("^C\r\n")
                elif ch == "\x04" and not self.buffer:
                    await self.lines.put("exit")
                elif ch in "\x7f\b":
                    if self.buffer:
                        self.buffer.pop()
                        if self.echo:
                            self.writer.echo("\b \b")
                elif ch == "\x1b" or (ch < " " and ch != "\t"):
                    continue
                elif len(self.buffer) >= self.lab.max_line - 1:
                    if not self.overlong:  # a tty drops the rest of the line: so do we
                        self.overlong = True
                        self.lab.log(f"input line too long: kept {self.lab.max_line - 1} "
                                     "characters, dropping the rest (max line)", "warning")
                else:
                    self.buffer.append(ch)
                    if self.echo:
                        self.writer.echo(ch)

    async def run(self) -> None:
        reader_task = asyncio.get_running_loop().create_task(self.read_input())
        try:
            self.write(f"\nWirebench lab telnet server (user {LAB_USER!r}, password "
                       f"{LAB_PASSWORD!r})\n\n")
            if await self.login():
                await self.shell()
        finally:
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader_task
            self.writer.close()

    async def ask(self, prompt: str, echo: bool = True) -> str | None:
        self.echo = echo
        self.write(prompt)
        await self.writer.drain()
        line = await self.lines.get()
        self.echo = True
        return line

    async def login(self) -> bool:
        for _ in range(3):
            user = await self.ask("login: ")
            if user is None:
                return False
            password = await self.ask("Password: ", echo=False)
            if password is None:
                return False
            if user.strip() == LAB_USER and password == LAB_PASSWORD:
                self.lab.log(f"telnet login as {user.strip()!r}")
                self.write(f"Last login: {datetime.datetime.now():%a %b %d %H:%M:%S} "
                           "from 127.0.0.1\nType 'help' for the commands.\n")
                return True
            self.write("\nLogin incorrect\n")
            await asyncio.sleep(0.2)
        return False

    async def shell(self) -> None:
        while True:
            self.interrupt.clear()
            line = await self.ask(PROMPT)
            if line is None:
                return
            self.lab.count(requests=1)
            command, _, arg = line.strip().partition(" ")
            if command in ("exit", "logout", "quit"):
                self.write("logout\n")
                await self.writer.drain()
                return
            await self.dispatch(command, arg.strip())

    async def dispatch(self, command: str, arg: str) -> None:
        w = self.writer
        if not command:
            return
        if command == "help":
            self.write(HELP + "\n")
        elif command == "echo":
            self.write(arg + "\n")
        elif command == "date":
            self.write(f"{datetime.datetime.now().astimezone():%a %b %d %H:%M:%S %Z %Y}\n")
        elif command in ("colors", "colours"):
            self.write("\n".join(color_demo()) + "\n")
        elif command == "ls":
            self.write("\n".join(ls_listing()) + "\n")
        elif command == "size":
            self.write(f"{w.get_extra_info('cols')} columns x {w.get_extra_info('rows')} rows,"
                       f" TERM={w.get_extra_info('TERM') or 'unknown'}\n")
        elif command == "flood":
            await self.flood(arg)
        else:
            self.write(f"{command}: command not found (try 'help')\n")

    async def flood(self, arg: str) -> None:
        try:
            count = int(arg or "1000")
        except ValueError:
            self.write(f"flood: N must be a number, got {arg!r}\n")
            return
        count = max(0, min(MAX_FLOOD, count))
        batch: list[str] = []
        for line in ls_lr_lines(count):
            batch.append(line)
            if len(batch) >= FLOOD_BATCH:
                self.write("\n".join(batch) + "\n")
                batch.clear()
                await self.writer.drain()
                # drain() does not yield while the buffer is below its high-water mark:
                # yield anyway so typing is echoed and Ctrl-C is seen during a flood
                await asyncio.sleep(0)
                if self.interrupt.is_set():
                    self.write("\x1b[0m\nflood interrupted\n")
                    return
        if batch:
            self.write("\n".join(batch) + "\n")
        self.write(f"\x1b[0m-- {count} lines --\n")


def _remember(seen: list, item: object) -> None:
    seen.append(item)
    if len(seen) > SEEN_KEPT:
        del seen[: len(seen) - SEEN_KEPT]


class TelnetLabServer(ServerController):
    kind = "telnet"
    title = "Telnet (login + shell)"

    def __init__(self, host: str = "127.0.0.1", port: int = LAB_PORT, outbox=None,  # noqa: ANN001
                 tls: bool = False, max_line: int = MAX_LINE,
                 max_clients: int = MAX_CLIENTS) -> None:
        super().__init__(host, port, outbox)
        self.tls = tls
        self.max_line = max_line
        self.max_clients = max_clients
        #: the protocol objects of the open sessions (loop thread only)
        self._sessions: set = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._tasks: set[asyncio.Task] = set()
        #: (columns, rows) of the last SEEN_KEPT NAWS received, newest last (tests read
        #: this); bounded, so a client sending NAWS forever costs nothing that stays
        self.naws_seen: list[tuple[int, int]] = []
        #: the last SEEN_KEPT terminal types the clients reported
        self.ttypes_seen: list[str] = []

    def describe(self) -> str:
        return f"login {LAB_USER} / password {LAB_PASSWORD}" + (" (TLS)" if self.tls else "")

    @property
    def running(self) -> bool:
        return self._server is not None

    def _protocol_factory(self) -> type[TelnetServer]:
        lab = self

        class LabProtocol(TelnetServer):
            _unfed: memoryview | None = None
            last_active = 0.0

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                self.last_active = time.monotonic()
                lab._admit(self)
                # small buffers keep an echo close behind a flood (a lab shell is for
                # typing, not bulk transfer)
                transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)  # type: ignore[attr-defined]
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)

            def connection_lost(self, exc: Exception | None) -> None:
                lab._sessions.discard(self)
                super().connection_lost(exc)

            def data_received(self, data: bytes) -> None:
                self.last_active = time.monotonic()
                if len(data) <= FEED_SLICE:
                    super().data_received(data)
                    return
                # a big read: parse it a slice per loop turn, reading nothing more meanwhile
                self._unfed = memoryview(data)
                self._transport.pause_reading()
                self._feed_slice()

            def _feed_slice(self) -> None:
                unfed = self._unfed
                transport = self._transport
                if unfed is None or transport is None or transport.is_closing():
                    self._unfed = None
                    return
                piece, rest = unfed[:FEED_SLICE], unfed[FEED_SLICE:]
                self._unfed = rest if len(rest) else None
                super().data_received(bytes(piece))
                if self._unfed is not None:
                    asyncio.get_running_loop().call_soon(self._feed_slice)
                elif self._transport is not None and not self._transport.is_closing():
                    self._transport.resume_reading()

            def on_naws(self, rows: int, cols: int) -> None:
                super().on_naws(rows, cols)
                _remember(lab.naws_seen, (cols, rows))

            def on_ttype(self, ttype: str) -> None:
                super().on_ttype(ttype)
                _remember(lab.ttypes_seen, ttype)

        return LabProtocol

    def _admit(self, session) -> None:  # noqa: ANN001 (a LabProtocol)
        if len(self._sessions) >= self.max_clients:
            idlest = min(self._sessions, key=lambda p: p.last_active)
            self._sessions.discard(idlest)
            transport = idlest._transport
            if transport is not None and not transport.is_closing():
                transport.write(b"\r\nToo many sessions: closing the idlest one.\r\n")
                transport.close()
            self.log_limit("max clients", f"{self.max_clients} sessions open (max clients): "
                           "closed the one idle longest for a new one")
        self._sessions.add(session)

    async def _shell(self, reader, writer) -> None:  # noqa: ANN001
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.count(opened=1)
        try:
            await _LabConnection(self, reader, writer).run()
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as exc:  # one client's fault never reaches the others
            self.log(f"telnet session ended by an error: {type(exc).__name__}: {exc}", "error")
            writer.close()
        finally:
            self.count(closed=1)
            if task is not None:
                self._tasks.discard(task)

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ssl_ctx = None
        if self.tls:
            from core.tlscerts import server_context

            ssl_ctx = server_context()
        ready = threading.Event()
        self._loop = loop
        self._thread = threading.Thread(target=self.guarded(self._run_loop), args=(loop, ready),
                                        name="telnet-lab:loop", daemon=True)
        self._thread.start()
        ready.wait(5)
        future = asyncio.run_coroutine_threadsafe(telnetlib3.create_server(
            host=self.host, port=self.port, protocol_factory=self._protocol_factory(),
            shell=self._shell, encoding="utf8", force_binary=True, connect_maxwait=1.0,
            # no MCCP: a client-compressed stream (MCCP3) is inflated without a size cap
            timeout=3600, ssl=ssl_ctx, compression=False), loop)
        try:
            self._server = future.result(10)
        except BaseException:
            self._halt_loop()
            raise
        sockets = self._server.sockets or ()
        if not sockets:
            self._halt_loop()
            raise ServerStartError("The telnet server did not bind a socket.", "Port")
        self.port = sockets[0].getsockname()[1]

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.close()

    def _halt_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(2)
        self._loop = self._thread = None

    def _stop(self, timeout: float) -> None:
        loop, server = self._loop, self._server
        self._server = None
        if loop is None:
            return

        async def shutdown() -> None:
            if server is not None:
                server.close()
            for task in list(self._tasks):
                task.cancel()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=timeout / 2)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        self._halt_loop()


def lab_peers(host: str = "127.0.0.1", ephemeral: bool = False) -> list[ServerController]:
    return [TelnetLabServer(host, 0 if ephemeral else LAB_PORT)]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, LAB_PORT)
    parser.add_argument("--tls", action="store_true",
                        help="speak TLS (telnets) with the lab's self-signed certificate")
    parser.add_argument("--max-clients", type=int, default=MAX_CLIENTS,
                        help=f"sessions at once (default {MAX_CLIENTS}, as systemd's "
                             "telnet.socket); when full the idlest is closed")
    parser.add_argument("--max-line", type=int, default=MAX_LINE,
                        help=f"longest input line in characters (default {MAX_LINE}, as a "
                             "Linux tty); the rest of a longer line is dropped")


def _build(args: argparse.Namespace) -> list[ServerController]:
    if args.max_line < 2:
        raise UserError(f"--max-line must be at least 2 characters, got {args.max_line}.",
                        "--max-line")
    if args.max_clients < 1:
        raise UserError(f"--max-clients must be at least 1, got {args.max_clients}.",
                        "--max-clients")
    return [TelnetLabServer(args.host, args.port, tls=args.tls, max_line=args.max_line,
                            max_clients=args.max_clients)]


SERVE_KINDS = {
    "telnet": ServeKind(
        help=f"the lab telnet server (login {LAB_USER}/{LAB_PASSWORD}, a tiny shell)",
        add_arguments=_add_arguments, build=_build),
}
