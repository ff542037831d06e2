"""Many names at once (``dig -f``), concurrently but bounded.

DNS mode pipelines queries over one UDP socket: at most ``window`` are in flight, each
with its own deadline and a retry; answers are matched by id and question. Truncated
answers are asked again over TCP. System mode sends names through the C resolver on
the bounded pool of :mod:`core.lookup.resolver`. Either way nothing grows without bound.
"""

from __future__ import annotations

import csv
import random
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from core.errors import UserError, check_port
from core.lookup.dns_fastwire import decode_reply, encode_query, encode_question
from core.lookup.dns_query import network_problem, parse_type, system_nameservers
from core.lookup.dnsnames import check_name, is_address

MAX_NAMES = 100_000
MODES = ("dns", "system")


@dataclass(frozen=True, slots=True)
class BatchRow:
    index: int
    name: str
    status: str  # NOERROR, NXDOMAIN, SERVFAIL, REFUSED, timeout, invalid, error
    answers: tuple[str, ...] = ()
    rtt_ms: float = 0.0
    note: str = ""


@dataclass(frozen=True, slots=True)
class BatchResult:
    rows: list[BatchRow]
    elapsed_s: float
    cancelled: bool = False

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.status] = out.get(row.status, 0) + 1
        return out

    def summary(self) -> str:
        parts = ", ".join(f"{v} {k}" for k, v in sorted(self.counts().items()))
        rate = len(self.rows) / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return (f"{len(self.rows)} names in {self.elapsed_s:.2f} s ({rate:.0f}/s): {parts}"
                + (" — cancelled" if self.cancelled else ""))


def parse_names(text: str) -> list[str]:
    """One name per line (or separated by spaces/commas); '#' comments and blanks skipped."""
    names = []
    for line in (text or "").splitlines():
        body = line.split("#", 1)[0]
        names.extend(w for w in body.replace(",", " ").split() if w)
    if len(names) > MAX_NAMES:
        raise UserError(f"Names: {len(names)} is too many for one batch; at most "
                        f"{MAX_NAMES}.", "Names")
    return names


def read_names(path: str | Path) -> list[str]:
    try:
        size = Path(path).stat().st_size
        if size > 16 * 1024 * 1024:
            raise UserError(f"{path} is {size // 1_048_576} MB; a names file may be at most "
                            "16 MB.", "File")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror}.", "File") from None
    return parse_names(text)


Progress = Callable[[int, int], None]


def _check_window(window: int) -> int:
    if not 1 <= window <= 1024:
        raise UserError(f"Concurrency must be 1–1024, got {window}.", "Concurrency")
    return window


def run_batch(names: Iterable[str], rdtype: str = "A", server: str = "",
              port: int | str = 53, mode: str = "dns", timeout: float = 2.0,
              tries: int = 2, window: int = 64, on_progress: Progress | None = None,
              cancel: threading.Event | None = None) -> BatchResult:
    """Resolve every name; rows keep the input order. Invalid names become rows too."""
    if mode not in MODES:
        raise UserError(f"Mode must be one of {', '.join(MODES)}.", "Mode")
    if not 0 < timeout <= 60:
        raise UserError("Timeout must be between 0 and 60 seconds.", "Timeout")
    _check_window(window)
    items = list(names)
    if not items:
        raise UserError("Names is empty: paste names, one per line, or open a file.",
                        "Names")
    rows: list[BatchRow | None] = [None] * len(items)
    valid: list[tuple[int, str]] = []
    for i, raw in enumerate(items):
        try:
            valid.append((i, check_name(raw, "Name", allow_address=False)))
        except UserError as exc:
            rows[i] = BatchRow(i, raw, "invalid", note=str(exc))
    start = time.monotonic()
    cancel = cancel or threading.Event()
    if mode == "dns":
        qtype = parse_type(rdtype)
        address = (server or "").strip() or next(iter(system_nameservers()), "")
        if not address:
            raise UserError("No system DNS server is configured: type a server.", "Server")
        number = check_port(port, "Port")
        if not is_address(address):
            from core.lookup.resolver import gethostbyname

            # a server given by name is looked up once, with a deadline, before the batch
            address = gethostbyname(check_name(address, "Server"), deadline=timeout)
        engine = UdpPipeline(address, number, qtype, timeout, max(1, tries), window)
        engine.run(valid, rows, on_progress, cancel)
    else:
        _run_system(valid, rows, timeout, min(window, 8), on_progress, cancel)
    elapsed = time.monotonic() - start
    done = [r for r in rows if r is not None]
    return BatchResult(done, elapsed, cancelled=cancel.is_set())


class UdpPipeline:
    """Up to ``window`` queries in flight on one connected UDP socket."""

    def __init__(self, server: str, port: int, qtype: int, timeout: float, tries: int,
                 window: int) -> None:
        self.server = server
        self.port = port
        self.qtype = qtype
        self.timeout = timeout
        self.tries = tries
        self.window = window

    def run(self, work: list[tuple[int, str]], rows: list, on_progress: Progress | None,
            cancel: threading.Event) -> None:
        total = len(rows)
        done = total - len(work)
        family = socket.AF_INET6 if ":" in self.server else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.connect((self.server, self.port))
        except OSError as exc:
            sock.close()
            raise network_problem(exc, self.server, self.port, "udp", self.timeout) from None
        sock.setblocking(False)
        pending = deque(work)
        # id -> [index, name, wire, question, sent_at, tries_left]
        inflight: dict[int, list] = {}
        truncated: list[tuple[int, str]] = []
        base = random.randrange(65536)
        last_progress = 0.0
        try:
            while (pending or inflight) and not cancel.is_set():
                now = time.monotonic()
                while pending and len(inflight) < self.window:
                    index, name = pending[0]
                    qid = (base + index) & 0xFFFF
                    if qid in inflight:
                        break
                    pending.popleft()
                    question = encode_question(name, self.qtype)
                    wire = encode_query(qid, question)
                    inflight[qid] = [index, name, wire, question, now, self.tries - 1]
                    self._send(sock, wire)
                oldest = min((e[4] for e in inflight.values()), default=now)
                wait = max(0.0, min(oldest + self.timeout - now, 0.2))
                readable, _, _ = select.select([sock], [], [], wait)
                if readable:
                    done += self._receive(sock, inflight, rows, truncated)
                now = time.monotonic()
                if now - oldest >= self.timeout:
                    done += self._expire(sock, inflight, rows, now)
                if on_progress is not None and now - last_progress > 0.1:
                    last_progress = now
                    on_progress(done, total)
        finally:
            sock.close()
        for index, name in truncated:
            if cancel.is_set():
                break
            rows[index] = self._tcp(index, name)
            done += 1
        if on_progress is not None:
            on_progress(done, total)

    def _expire(self, sock: socket.socket, inflight: dict[int, list], rows: list,
                now: float) -> int:
        finished = 0
        for qid, entry in list(inflight.items()):
            if now - entry[4] < self.timeout:
                continue
            if entry[5] > 0:
                entry[4], entry[5] = now, entry[5] - 1
                self._send(sock, entry[2])
            else:
                del inflight[qid]
                rows[entry[0]] = BatchRow(entry[0], entry[1], "timeout",
                                          rtt_ms=self.timeout * 1000 * self.tries,
                                          note=f"no answer after {self.tries} tries")
                finished += 1
        return finished

    def _send(self, sock: socket.socket, wire: bytes) -> None:
        try:
            sock.send(wire)
        except (BlockingIOError, ConnectionRefusedError):
            pass  # a full buffer or an ICMP error: the retry timer handles it

    def _receive(self, sock: socket.socket, inflight: dict[int, list], rows: list,
                 truncated: list[tuple[int, str]]) -> int:
        finished = 0
        recv = sock.recv
        qtype = self.qtype
        while True:
            try:
                wire = recv(65535)
            except (BlockingIOError, InterruptedError):
                return finished
            except ConnectionRefusedError:
                continue  # ICMP port unreachable from an earlier send; keep waiting
            if len(wire) < 12:
                continue
            entry = inflight.get(int.from_bytes(wire[:2], "big"))
            if entry is None:
                continue
            try:
                reply = decode_reply(wire, entry[3], qtype)
            except ValueError:
                continue  # garbage: the retry timer will ask again
            if reply is None:
                continue  # not the answer to our question: keep waiting
            del inflight[reply.qid]
            index, name = entry[0], entry[1]
            if reply.truncated:
                truncated.append((index, name))
                continue
            note = "" if reply.answers or reply.rcode != "NOERROR" else \
                "no records of this type (NODATA)"
            rows[index] = BatchRow(index, name, reply.rcode, reply.answers,
                                   (time.monotonic() - entry[4]) * 1000, note)
            finished += 1

    def _tcp(self, index: int, name: str) -> BatchRow:
        query = dns.message.make_query(name, self.qtype)
        start = time.monotonic()
        try:
            reply = dns.query.tcp(query, self.server, timeout=self.timeout, port=self.port)
        except Exception as exc:
            problem = network_problem(exc, self.server, self.port, "tcp", self.timeout)
            return BatchRow(index, name, "error", note=str(problem))
        return _row(index, name, reply, (time.monotonic() - start) * 1000, self.qtype,
                    note="truncated over UDP, answered over TCP")


def _row(index: int, name: str, reply: dns.message.Message, rtt: float, qtype: int,
         note: str = "") -> BatchRow:
    values = tuple(rd.to_text() for rrset in reply.answer for rd in rrset
                   if rrset.rdtype in (qtype, dns.rdatatype.CNAME))
    status = dns.rcode.to_text(reply.rcode())
    if status == "NOERROR" and not values:
        note = note or "no records of this type (NODATA)"
    return BatchRow(index, name, status, values, rtt, note)


def _run_system(work: list[tuple[int, str]], rows: list, timeout: float, window: int,
                on_progress: Progress | None, cancel: threading.Event) -> None:
    import concurrent.futures

    from core.lookup.resolver import gethostbyname_ex

    total = len(rows)
    done = total - len(work)

    def one(index: int, name: str) -> BatchRow:
        start = time.monotonic()
        try:
            entry = gethostbyname_ex(name, deadline=timeout)
        except UserError as exc:
            text = str(exc)
            status = "NXDOMAIN" if "not found" in text.lower() else (
                "timeout" if "did not answer" in text else "error")
            return BatchRow(index, name, status, note=text,
                            rtt_ms=(time.monotonic() - start) * 1000)
        return BatchRow(index, name, "NOERROR", tuple(entry.addresses),
                        (time.monotonic() - start) * 1000,
                        note=f"canonical {entry.name}" if entry.name != name else "")

    with concurrent.futures.ThreadPoolExecutor(
            max_workers=window, thread_name_prefix="ThreadPoolExecutor-batch") as pool:
        queue = deque(work)
        running: set[concurrent.futures.Future] = set()
        while (queue or running) and not cancel.is_set():
            while queue and len(running) < window:
                running.add(pool.submit(one, *queue.popleft()))
            finished, running = concurrent.futures.wait(
                running, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                row = future.result()
                rows[row.index] = row
                done += 1
            if on_progress is not None:
                on_progress(done, total)
        for future in running:
            future.cancel()


CSV_HEADER = ("index", "name", "status", "answers", "rtt_ms", "note")


def _cell(text: str) -> str:
    # a spreadsheet would run a cell starting with = + - @ as a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_csv(result: BatchResult | list[BatchRow], path: str | Path) -> Path:
    rows = result.rows if isinstance(result, BatchResult) else result
    target = Path(path)
    try:
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_HEADER)
            for row in rows:
                writer.writerow([row.index + 1, _cell(row.name), row.status,
                                 _cell(" ".join(row.answers)), f"{row.rtt_ms:.1f}",
                                 _cell(row.note)])
    except OSError as exc:
        raise UserError(f"Cannot write {target}: {exc.strerror}; choose another folder.",
                        "File") from None
    return target
