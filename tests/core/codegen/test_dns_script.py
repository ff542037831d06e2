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
