"""A Lookup session recorded, rendered and replayed against the lab DNS server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.codegen import render
from core.lookup.dns_query import DnsRequest
from core.lookup.session import LookupSession
from core.recording import Recording
from core.servers.dns.lab import DnsLabServer
from core.worker import deliver, drain


def test_recorded_queries_replay_with_the_same_answers(tmp_path: Path) -> None:
    server = DnsLabServer(port=0, hierarchy=False)
    server.start()
    try:
        recording = Recording("dns")
        session = LookupSession(recording=recording)
        replies: list = []
        for rdtype in ("MX", "TXT", "A"):
            session.dns(DnsRequest(name="wirebench.test", rdtype=rdtype, server="127.0.0.1",
                                   port=server.port), on_done=replies.append).join(10)
        session.dns(DnsRequest(name="127.0.0.1", rdtype="PTR", server="127.0.0.1",
                               port=server.port, reverse=True), on_done=replies.append).join(10)
        deliver(drain(session.outbox))
        assert len(replies) == 4 and [s.op for s in recording] == ["query"] * 3 + ["reverse"]
        script = render(recording)
        (tmp_path / "q.py").write_text(script)
        result = subprocess.run([sys.executable, str(tmp_path / "q.py")], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        printed = {line for line in result.stdout.splitlines() if not line.startswith(";;")}
        expected = {f"{row.name} {row.rdtype} {row.value}"
                    for reply in replies for row in reply.answer}
        assert expected and printed == expected
    finally:
        server.stop()


def run_script(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    compile(script, "lookup.py", "exec")
    (tmp_path / "lookup.py").write_text(script)
    return subprocess.run([sys.executable, "-I", str(tmp_path / "lookup.py")],
                          capture_output=True, text=True, timeout=90,
                          stdin=subprocess.DEVNULL)


def test_getaddrinfo_with_the_defaults_renders_a_script_that_runs(tmp_path: Path) -> None:
    """Fault 1: enum reprs (<AddressFamily.AF_UNSPEC: 0>) made the script a SyntaxError."""

    recording = Recording("dns")
    session = LookupSession(recording=recording)
    try:
        # as the Local view asks: the session records the socket module's enums
        rows: list = []
        session.getaddrinfo("localhost", "80", "any", "stream (TCP)", ["AI_CANONNAME"],
                            on_done=rows.extend).join(10)
        deliver(drain(session.outbox))
    finally:
        session.close()
    script = render(recording)
    assert "socket.AF_UNSPEC" in script and "socket.SOCK_STREAM" in script
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert rows
    for row in rows:
        assert repr(row.address) in result.stdout


def dnsmasq_queries(log: Path) -> list[str]:
    """``query[MX] wirebench.test`` for every query dnsmasq received, in order."""
    return [line.split(": ", 1)[1].split(" from ")[0] for line in log.read_text().splitlines()
            if ": query[" in line]


def test_queries_and_batch_replay_against_dnsmasq(dnsmasq, tmp_path: Path) -> None:
    port, log = dnsmasq
    recording = Recording("dns")
    session = LookupSession(recording=recording)
    try:
        for rdtype, transport in (("A", "udp"), ("MX", "tcp"), ("TXT", "udp")):
            session.dns(DnsRequest(name="wirebench.test", rdtype=rdtype, server="127.0.0.1",
                                   port=port, transport=transport)).join(10)
        session.batch(["wirebench.test", "www.wirebench.test"], rdtype="A",
                      server="127.0.0.1", port=str(port), mode="dns", timeout=2.0).join(20)
        events = drain(session.outbox)
    finally:
        session.close()
    assert [s.op for s in recording] == ["query"] * 3 + ["batch"], events
    seen_by_session = dnsmasq_queries(log)
    assert len(seen_by_session) == 5
    script = render(recording)
    assert "Needs: dnspython (pip install dnspython)." in script
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert dnsmasq_queries(log) == seen_by_session * 2  # the same queries, in order
    assert "wirebench.test. MX 10 mail.wirebench.test." in result.stdout
    assert "www.wirebench.test NOERROR 192.0.2.7" in result.stdout


def test_trace_dot_and_doh_replay_against_the_lab(dns_lab, secure_lab, tmp_path: Path) -> None:
    from core.lookup.dns_trace import LAB_ROOTS
    from core.tlscerts import self_signed

    cert = str(self_signed()[0])
    recording = Recording("dns")
    session = LookupSession(recording=recording)
    try:
        done: list = []
        session.trace("www.wirebench.test", "A", LAB_ROOTS, dns_lab.port,
                      on_done=done.append).join(20)
        for transport in ("tls", "https"):
            session.dns(DnsRequest(name="wirebench.test", rdtype="MX", server="127.0.0.1",
                                   port=secure_lab.tls_port, transport=transport,
                                   ca_file=cert), on_done=done.append).join(20)
        deliver(drain(session.outbox))
    finally:
        session.close()
    assert [s.op for s in recording] == ["trace", "query", "query"]
    trace_result, *replies = done
    result = run_script(render(recording), tmp_path)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    for row in trace_result.answer:
        assert f"{row.name} {row.rdtype} {row.value}" in printed
    for reply in replies:
        assert f"@127.0.0.1:{secure_lab.tls_port} ({reply.transport})" in result.stdout
        for row in reply.answer:
            assert printed.count(f"{row.name} {row.rdtype} {row.value}") == 2
