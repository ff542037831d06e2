"""Iterative resolution from root hints, step by step (``dig +trace``).

Each step asks one server without recursion and records what came back: a referral to
the next zone's servers, the final answer, a CNAME to chase from the top again, or an
error. Servers are taken from glue; a name server without glue is resolved by a nested
trace (bounded). Every query has its own timeout and the whole trace a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from core.errors import UserError, check_port
from core.events import Event
from core.lookup.dns_query import RecordRow, network_problem, parse_type, rows_of
from core.lookup.dnsnames import is_address, to_dns_name

#: IANA root hints (a few of the thirteen are enough to start)
INTERNET_ROOTS: tuple[tuple[str, str], ...] = (
    ("a.root-servers.net.", "198.41.0.4"),
    ("b.root-servers.net.", "170.247.170.2"),
    ("c.root-servers.net.", "192.33.4.12"),
    ("d.root-servers.net.", "199.7.91.13"),
    ("e.root-servers.net.", "192.203.230.10"),
    ("f.root-servers.net.", "192.5.5.241"),
    ("i.root-servers.net.", "192.36.148.17"),
    ("k.root-servers.net.", "193.0.14.129"),
    ("m.root-servers.net.", "202.12.27.33"),
)
LAB_ROOTS: tuple[tuple[str, str], ...] = (("a.root-servers.test.", "127.0.0.2"),)

MAX_STEPS = 30
MAX_CNAMES = 8
MAX_SERVERS_TRIED = 3


@dataclass(frozen=True, slots=True)
class TraceStep:
    number: int
    zone: str  # the zone the asked server is supposed to serve
    server_name: str
    server_address: str
    rtt_ms: float
    kind: str  # referral | answer | cname | nxdomain | nodata | error | timeout
    rcode: str
    records: list[RecordRow] = field(default_factory=list)
    note: str = ""

    def text(self) -> str:
        head = (f"#{self.number} {self.zone:<20} asked {self.server_name} "
                f"({self.server_address}) in {self.rtt_ms:.1f} ms -> {self.kind.upper()}"
                f" {self.rcode}")
        body = [f"    {r.text()}" for r in self.records]
        if self.note:
            body.append(f"    ; {self.note}")
        return "\n".join([head, *body])


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceStepEvent(Event):
    """One step of a running trace, posted as it happens so the view fills in live."""

    step: TraceStep


@dataclass(frozen=True, slots=True)
class TraceResult:
    qname: str
    rdtype: str
    steps: list[TraceStep]
    answer: list[RecordRow]
    rcode: str
    complete: bool
    problem: str = ""
    elapsed_ms: float = 0.0

    def text(self) -> str:
        lines = [f"; trace of {self.qname} {self.rdtype}"]
        lines += [s.text() for s in self.steps]
        lines.append(f";; {'answer' if self.complete else 'stopped'}: {self.rcode}"
                     f" after {len(self.steps)} steps, {self.elapsed_ms:.0f} ms"
                     + (f" — {self.problem}" if self.problem else ""))
        return "\n".join(lines) + "\n"


def parse_roots(text: str | list[str] | tuple, field_name: str = "Root servers"
                ) -> list[tuple[str, str]]:
    """Root hints from 'name=address' or bare addresses, comma/space/newline separated."""
    if isinstance(text, list | tuple):
        items = [f"{n}={a}" if isinstance(n, str) and a else str(n)
                 for n, a in (x if isinstance(x, tuple) else (x, "") for x in text)]
    else:
        items = (text or "").replace(",", " ").split()
    roots: list[tuple[str, str]] = []
    for item in items:
        name, _, address = item.rpartition("=")
        address = address.strip()
        if not is_address(address):
            raise UserError(f"{field_name}: {address[:45]!r} is not an IP address; give "
                            "addresses such as 198.41.0.4 (optionally name=address).",
                            field_name)
        roots.append((name.strip() or address, address))
    if not roots:
        raise UserError(f"{field_name} is empty: give at least one root server address.",
                        field_name)
    return roots


class Tracer:
    def __init__(self, roots: list[tuple[str, str]], port: int, timeout: float,
                 deadline: float, on_step: Callable[[TraceStep], None] | None) -> None:
        self.roots = roots
        self.port = port
        self.timeout = timeout
        self.deadline = deadline
        self.on_step = on_step
        self.steps: list[TraceStep] = []

    def _record(self, **kw) -> TraceStep:
        step = TraceStep(number=len(self.steps) + 1, **kw)
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)
        return step

    def _ask(self, qname: dns.name.Name, rdtype: int, zone: str,
             servers: list[tuple[str, str]]) -> dns.message.Message | None:
        for name, address in servers[:MAX_SERVERS_TRIED]:
            left = self.deadline - time.monotonic()
            if left <= 0:
                return None
            query = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232)
            query.flags &= ~dns.flags.RD
            start = time.monotonic()
            try:
                try:
                    reply = dns.query.udp(query, address, timeout=min(self.timeout, left),
                                          port=self.port, ignore_unexpected=True,
                                          raise_on_truncation=True)
                except dns.message.Truncated:
                    reply = dns.query.tcp(query, address, port=self.port,
                                          timeout=max(0.05, min(self.timeout,
                                                                self.deadline - time.monotonic())))
            except Exception as exc:
                problem = network_problem(exc, address, self.port, "udp", self.timeout)
                self._record(zone=zone, server_name=name, server_address=address,
                             rtt_ms=(time.monotonic() - start) * 1000, kind="timeout"
                             if "timeout" in str(problem) else "error", rcode="-",
                             note=str(problem))
                continue
            reply.trace_rtt = (time.monotonic() - start) * 1000  # type: ignore[attr-defined]
            reply.trace_server = (name, address)  # type: ignore[attr-defined]
            return reply
        return None

    def resolve(self, qname: dns.name.Name, rdtype: int, depth: int = 0) -> TraceResult:
        start = time.monotonic()
        servers = list(self.roots)
        zone = "."
        answer: list[RecordRow] = []
        target = qname
        cnames = 0
        rdtype_text = dns.rdatatype.to_text(rdtype)
        while len(self.steps) < MAX_STEPS:
            if time.monotonic() >= self.deadline:
                return self._result(qname, rdtype_text, answer, "-", False,
                                    "the trace ran out of time (deadline)", start)
            reply = self._ask(target, rdtype, zone, servers)
            if reply is None:
                return self._result(qname, rdtype_text, answer, "-", False,
                                    f"no server for zone {zone} answered", start)
            sname, saddr = reply.trace_server  # type: ignore[attr-defined]
            rtt = reply.trace_rtt  # type: ignore[attr-defined]
            rcode = reply.rcode()
            rcode_text = dns.rcode.to_text(rcode)
            base = dict(zone=zone, server_name=sname, server_address=saddr, rtt_ms=rtt,
                        rcode=rcode_text)
            if rcode == dns.rcode.NXDOMAIN:
                self._record(kind="nxdomain", records=rows_of(reply.authority),
                             note=f"{target} does not exist", **base)
                return self._result(qname, rdtype_text, answer, rcode_text, True,
                                    f"{target} does not exist (NXDOMAIN)", start)
            if rcode != dns.rcode.NOERROR:
                self._record(kind="error", records=[], note=f"server answered {rcode_text}",
                             **base)
                return self._result(qname, rdtype_text, answer, rcode_text, False,
                                    f"{sname} answered {rcode_text} for zone {zone}", start)
            # follow a CNAME chain inside this reply before deciding anything
            chain = []
            owner = target
            for _ in range(MAX_CNAMES):
                cname = next((rr for rr in reply.answer if rr.name == owner and
                              rr.rdtype == dns.rdatatype.CNAME), None)
                if cname is None or rdtype == dns.rdatatype.CNAME:
                    break
                chain.append(cname)
                owner = cname[0].target
            final = [rr for rr in reply.answer if rr.name == owner and
                     (rr.rdtype == rdtype or rdtype == dns.rdatatype.ANY)]
            if final:
                rows = rows_of(chain + final)
                answer.extend(rows)
                self._record(kind="answer", records=rows, **base)
                return self._result(qname, rdtype_text, answer, rcode_text, True, "", start)
            if chain:
                rows = rows_of(chain)
                answer.extend(rows)
                cnames += len(chain)
                self._record(kind="cname", records=rows,
                             note=f"following {owner} from the root", **base)
                if cnames > MAX_CNAMES:
                    return self._result(qname, rdtype_text, answer, rcode_text, False,
                                        "too many CNAMEs (a loop?)", start)
                target, servers, zone = owner, list(self.roots), "."
                continue
            referral = [rr for rr in reply.authority if rr.rdtype == dns.rdatatype.NS]
            if referral and not (reply.flags & dns.flags.AA):
                cut = referral[0].name
                if not (cut.is_subdomain(dns.name.from_text(zone)) and
                        cut != dns.name.from_text(zone)) or not target.is_subdomain(cut):
                    self._record(kind="error", records=rows_of(referral),
                                 note=f"bad referral to {cut} (not below {zone})", **base)
                    return self._result(qname, rdtype_text, answer, rcode_text, False,
                                        f"{sname} sent a bad referral to {cut}", start)
                glued = {rr.name for rr in reply.additional}
                unglued = [rd.target.to_text() for rd in referral[0]
                           if rd.target not in glued]
                note = ("" if len(unglued) < len(referral[0]) else
                        f"no glue: looking up {unglued[0]} from the root first")
                self._record(kind="referral", note=note,
                             records=rows_of(referral) + rows_of(reply.additional), **base)
                servers = self._next_servers(referral[0], reply, depth)
                zone = cut.to_text()
                if not servers:
                    return self._result(qname, rdtype_text, answer, rcode_text, False,
                                        f"no address found for the servers of {zone}",
                                        start)
                continue
            self._record(kind="nodata", records=rows_of(reply.authority),
                         note=f"{target} has no {rdtype_text} records", **base)
            return self._result(qname, rdtype_text, answer, rcode_text, True,
                                f"{target} has no {rdtype_text} records (NODATA)", start)
        return self._result(qname, rdtype_text, answer, "-", False,
                            f"stopped after {MAX_STEPS} steps", start)

    def _next_servers(self, ns_rrset, reply: dns.message.Message,
                      depth: int) -> list[tuple[str, str]]:
        servers: list[tuple[str, str]] = []
        glue = {rr.name: [rd.address for rd in rr] for rr in reply.additional
                if rr.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)}
        missing = []
        for rd in ns_rrset:
            literal = rd.target.to_text(omit_final_dot=True)
            # a server named by its address (as the lab's are) needs no glue: use it, as
            # dig does
            addresses = glue.get(rd.target) or ([literal] if is_address(literal) else [])
            if addresses:
                # IPv4 first: it works on more networks
                for address in sorted(addresses, key=lambda a: ":" in a):
                    servers.append((rd.target.to_text(), address))
            else:
                missing.append(rd.target)
        if not servers and depth < 2:
            for target in missing[:2]:
                nested = self.resolve(target, dns.rdatatype.A, depth + 1)
                servers += [(target.to_text(), r.value) for r in nested.answer
                            if r.rdtype == "A"]
                if servers:
                    break
        return servers

    def _result(self, qname: dns.name.Name, rdtype: str, answer: list[RecordRow],
                rcode: str, complete: bool, problem: str, start: float) -> TraceResult:
        return TraceResult(qname=qname.to_text(), rdtype=rdtype, steps=list(self.steps),
                           answer=answer, rcode=rcode, complete=complete, problem=problem,
                           elapsed_ms=(time.monotonic() - start) * 1000)


def trace(name: str, rdtype: str = "A", roots: str | list | tuple = INTERNET_ROOTS,
          port: int | str = 53, timeout: float = 2.0, deadline: float = 30.0,
          on_step: Callable[[TraceStep], None] | None = None) -> TraceResult:
    """Resolve ``name`` iteratively from ``roots``; steps are also passed to ``on_step``."""
    qtype = parse_type(rdtype)
    raw = (name or "").strip()
    if qtype == dns.rdatatype.PTR and is_address(raw):
        qname = dns.reversename.from_address(raw)
    else:
        qname = to_dns_name(raw, "Name")
    hints = parse_roots(roots)
    number = check_port(port, "Port")
    if not 0 < timeout <= 60:
        raise UserError("Timeout must be between 0 and 60 seconds.", "Timeout")
    tracer = Tracer(hints, number, timeout, time.monotonic() + deadline, on_step)
    return tracer.resolve(qname, qtype)
