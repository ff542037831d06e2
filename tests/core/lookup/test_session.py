"""LookupSession runs every lookup on a worker and reports through its outbox."""

from __future__ import annotations

import time

from core.events import Failed, Progress
from core.lookup.dns_query import DnsRequest
from core.lookup.dns_trace import LAB_ROOTS, TraceStepEvent
from core.lookup.session import LookupSession, RecentQueries, services
from core.worker import deliver, drain


class Done:
    """An ``on_done`` that keeps the result (called by :func:`deliver`, as the bridge would)."""

    def __init__(self) -> None:
        self.results: list = []

    def __call__(self, result: object) -> None:
        self.results.append(result)


def wait_for(session: LookupSession, done: Done, timeout: float = 10.0) -> list:
    """Deliver the outbox until ``done`` was called or a Failed arrived; the other events."""
    events: list = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        events += deliver(drain(session.outbox))
        if done.results or any(isinstance(e, Failed) for e in events):
            return events
        time.sleep(0.01)
    raise AssertionError(f"the lookup did not finish: {events}")


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
        wait_for(session, reply)
        assert reply.results[0].short()[0].endswith("mail2.wirebench.test.") or \
            "10 mail.wirebench.test." in reply.results[0].short()

        traced = Done()
        session.trace("www.wirebench.test", "A", LAB_ROOTS, dns_lab.port, on_done=traced)
        events = wait_for(session, traced)
        steps = [e.step for e in events if isinstance(e, TraceStepEvent)]
        assert [s.kind for s in steps] == ["referral", "referral", "answer"]
        assert traced.results[0].steps[-1].kind == "answer"

        names = [f"n{i}.batch.wirebench.test" for i in range(50)]
        batch = Done()
        session.batch(names, on_done=batch, server="127.0.0.1", port=dns_lab.port)
        events = wait_for(session, batch)
        assert any(isinstance(e, Progress) and e.done == 50 for e in events)
        assert len(batch.results[0].rows) == 50
    finally:
        session.close()


def test_errors_arrive_as_failed_with_the_field() -> None:
    session = LookupSession()
    try:
        done = Done()
        session.run(services.getservbyname, "no-such-service", "tcp", on_done=done)
        failed = [e for e in wait_for(session, done) if isinstance(e, Failed)]
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
        wait_for(session, done)
        session.resolver(services.getservbyname, "nope-service", "tcp", on_done=(done := Done()))
        wait_for(session, done)  # fails: not recorded
        session.dns(DnsRequest("wirebench.test", "MX", server="127.0.0.1", port=dns_lab.port,
                               transport="tcp"), on_done=(done := Done()))
        wait_for(session, done)
        session.dns(DnsRequest("127.0.0.1", "PTR", server="127.0.0.1", port=dns_lab.port),
                    on_done=(done := Done()))
        wait_for(session, done)
    finally:
        session.close()
    assert steps.steps == [
        ("resolver", {"function": "gethostbyname", "args": ["localhost"]}),
        ("query", {"name": "wirebench.test", "rdtype": "MX", "server": "127.0.0.1",
                   "port": dns_lab.port, "tcp": True, "timeout": 3.0}),
        ("reverse", {"address": "127.0.0.1", "server": "127.0.0.1", "port": dns_lab.port,
                     "timeout": 3.0}),
    ]
