"""LookupSession runs every lookup on a worker and reports through its outbox."""

from __future__ import annotations

import socket

from core.events import Failed, Progress
from core.lookup.dns_query import DnsRequest
from core.lookup.dns_trace import LAB_ROOTS, TraceStepEvent
from core.lookup.session import LookupSession, RecentQueries, services
from core.worker import deliver, drain
from tests.fixtures.waiting import wait_for


class Done:
    """An ``on_done`` that keeps the result (called by :func:`deliver`, as the bridge would)."""

    def __init__(self) -> None:
        self.results: list = []

    def __call__(self, result: object) -> None:
        self.results.append(result)


def finish(session: LookupSession, done: Done, timeout: float = 10.0,
           until=lambda: False) -> list:
    """Deliver the outbox until ``done`` was called, ``until()`` holds or a Failed
    arrived; the other events."""
    events: list = []

    def finished() -> bool:
        events.extend(deliver(drain(session.outbox)))
        return bool(done.results) or bool(until()) or any(isinstance(e, Failed)
                                                          for e in events)

    wait_for(finished, timeout, lambda: f"the lookup did not finish: {events}")
    return events


def test_recent_queries_are_bounded_and_deduplicated() -> None:
    store: dict = {}
    recent = RecentQueries(store, limit=3)
    for text in ("a", "b", "a", "c", "d", " ", "d"):
        recent.add(text)
    assert recent.items() == ["d", "c", "a"]
    assert store["recent"] == ["d", "c", "a"]
    store["recent"] = "corrupt"
    assert recent.items() == []


def test_dns_trace_and_batch_through_the_session(dns_lab) -> None:
    session = LookupSession()
    try:
        reply = Done()
        session.dns(DnsRequest("wirebench.test", "MX", server="127.0.0.1", port=dns_lab.port),
                    on_done=reply)
        finish(session, reply)
        assert reply.results[0].short()[0].endswith("mail2.wirebench.test.") or \
            "10 mail.wirebench.test." in reply.results[0].short()

        traced = Done()
        session.trace("www.wirebench.test", "A", LAB_ROOTS, dns_lab.port, on_done=traced)
        events = finish(session, traced)
        steps = [e.step for e in events if isinstance(e, TraceStepEvent)]
        assert [s.kind for s in steps] == ["referral", "referral", "answer"]
        assert traced.results[0].steps[-1].kind == "answer"

        names = [f"n{i}.batch.wirebench.test" for i in range(50)]
        batch = Done()
        session.batch(names, on_done=batch, server="127.0.0.1", port=dns_lab.port)
        events = finish(session, batch)
        assert any(isinstance(e, Progress) and e.done == 50 for e in events)
        assert len(batch.results[0].rows) == 50
    finally:
        session.close()


def test_errors_arrive_as_failed_with_the_field() -> None:
    session = LookupSession()
    try:
        done = Done()
        session.run(services.getservbyname, "no-such-service", "tcp", on_done=done)
        failed = [e for e in finish(session, done) if isinstance(e, Failed)]
        assert done.results == []
        assert failed and failed[0].field_name == "Service"
        assert "Unknown service" in failed[0].message
    finally:
        session.close()


class StepList:
    """Collects steps the way core.recording.Recording does (op + keyword args)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict]] = []

    def add(self, op: str, **args) -> None:
        self.steps.append((op, args))


def test_successful_lookups_are_recorded_for_show_as_python(dns_lab) -> None:
    from core.lookup import resolver

    steps = StepList()
    session = LookupSession(recording=steps)
    try:
        session.resolver(resolver.gethostbyname, "localhost", on_done=(done := Done()))
        finish(session, done)
        session.resolver(services.getservbyname, "nope-service", "tcp", on_done=(done := Done()))
        finish(session, done)  # fails: not recorded
        session.dns(DnsRequest("wirebench.test", "MX", server="127.0.0.1", port=dns_lab.port,
                               transport="tcp"), on_done=(done := Done()))
        finish(session, done)
        session.dns(DnsRequest("127.0.0.1", "PTR", server="127.0.0.1", port=dns_lab.port),
                    on_done=(done := Done()))
        finish(session, done)
    finally:
        session.close()
    options = {"server": "127.0.0.1", "port": dns_lab.port, "timeout": 3.0,
               "recurse": True, "edns": True, "dnssec": False, "cd": False, "verify": True,
               "ca_file": None, "doh_path": "/dns-query"}
    assert steps.steps == [
        ("resolver", {"function": "gethostbyname", "args": ["localhost"]}),
        ("query", {"name": "wirebench.test", "rdtype": "MX", "transport": "tcp", **options}),
        ("reverse", {"address": "127.0.0.1", "transport": "udp", **options}),
    ]


class Errors:
    """An ``on_error(sentence, field_name)`` that keeps what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, message: str, field_name: str) -> None:
        self.calls.append((message, field_name))


def test_verbs_answer_record_and_name_the_field_on_error() -> None:
    steps = StepList()
    session = LookupSession(recording=steps)
    try:
        address = Done()
        session.gethostbyname("localhost", on_done=address)
        finish(session, address)
        assert address.results == ["127.0.0.1"]

        machine = Done()
        session.machine(on_done=machine)
        finish(session, machine)
        name, fqdn, bind = machine.results[0]
        assert name and fqdn and bind.startswith(f"({name!r}, ")

        rows = Done()
        session.getaddrinfo("127.0.0.1", "80", "IPv4", "stream (TCP)", ["AI_NUMERICHOST"],
                            on_done=rows)
        finish(session, rows)
        assert [(r.address, r.port) for r in rows.results[0]] == [("127.0.0.1", 80)]

        service = Done()
        session.getservbyport(" 80 ", "tcp", on_done=service)
        finish(session, service)
        assert service.results == ["http"]

        # an error goes to on_error with its field, not to the outbox as Failed
        errors, never = Errors(), Done()
        session.getaddrinfo("127.0.0.1", "99999", "any", "any", [], on_done=never,
                            on_error=errors)
        finish(session, never, until=lambda: errors.calls)
        assert never.results == [] and errors.calls[0][1] == "Port"
        assert "65535" in errors.calls[0][0]

        # byte order: at once, on the caller's thread, recorded too
        assert session.convert("htons", "0x1234").result == 0x3412
        assert session.address("inet_aton", "192.0.2.1").packed_hex == "c0 00 02 01"
    finally:
        session.close()
    assert steps.steps == [
        ("resolver", {"function": "gethostbyname", "args": ["localhost"]}),
        ("resolver", {"function": "getaddrinfo", "args": [
            "127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST]}),
        ("resolver", {"function": "getservbyport", "args": [80, "tcp"]}),
        ("resolver", {"function": "htons", "args": [0x1234]}),
        ("resolver", {"function": "inet_aton", "args": ["192.0.2.1"]}),
    ]
