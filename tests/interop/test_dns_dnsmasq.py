"""The Lookup tab's core (dns_query, dns_batch, the session the tab drives) against dnsmasq.

dnsmasq serves a local zone (see tests/interop/dns_peers.py); every record type, the
error answers and the UDP-to-TCP retry are checked by value, and a batch must give what
``dig -f`` gives for the same names from the same server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import Failed
from core.lookup.dns_batch import BatchResult, run_batch
from core.lookup.dns_query import DnsReply, DnsRequest, query
from core.lookup.session import LookupSession
from core.worker import deliver, drain
from tests.fixtures.daemon_peers import peer_program
from tests.fixtures.waiting import wait_for
from tests.interop.dns_peers import BIG_TXT, ZONE, Dnsmasq


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dnsmasq]:
    server = Dnsmasq(tmp_path_factory.mktemp("dnsmasq"))
    yield server
    assert server.stop() == 0  # SIGTERM: a clean exit


def ask(dnsmasq: Dnsmasq, name: str, rdtype: str, **kw) -> DnsReply:
    return query(DnsRequest(name=name, rdtype=rdtype, server="127.0.0.1", port=dnsmasq.port,
                            timeout=5, **kw))


@pytest.mark.parametrize(("name", "rdtype", "values"), [
    (f"www.{ZONE}", "A", ["192.0.2.10"]),
    (f"www.{ZONE}", "AAAA", ["2001:db8::10"]),
    (ZONE, "MX", [f"10 mail.{ZONE}.", f"20 mail2.{ZONE}."]),
    (ZONE, "TXT", ['"v=spf1 -all"']),
    (f"_sip._tcp.{ZONE}", "SRV", [f"10 20 5060 sip.{ZONE}."]),
    ("192.0.2.10", "PTR", [f"www.{ZONE}."]),  # an address: its in-addr.arpa name
])
def test_each_record_type(dnsmasq: Dnsmasq, name: str, rdtype: str, values: list[str]) -> None:
    reply = ask(dnsmasq, name, rdtype)
    assert (reply.rcode, reply.problem, reply.transport) == ("NOERROR", "", "udp")
    assert "AA" in reply.flags  # dnsmasq is authoritative for its local records
    assert sorted(reply.short()) == values
    assert {r.rdtype for r in reply.answer} == {rdtype}


def test_mx_and_srv_targets_come_with_their_addresses(dnsmasq: Dnsmasq) -> None:
    mx = ask(dnsmasq, ZONE, "MX")
    assert {(r.name, r.value) for r in mx.additional if r.rdtype == "A"} == {
        (f"mail.{ZONE}.", "192.0.2.25"), (f"mail2.{ZONE}.", "192.0.2.26")}
    srv = ask(dnsmasq, f"_sip._tcp.{ZONE}", "SRV")
    assert [(r.name, r.value) for r in srv.additional if r.rdtype == "A"] == [
        (f"sip.{ZONE}.", "192.0.2.50")]


def test_a_cname_chain_in_order(dnsmasq: Dnsmasq) -> None:
    reply = ask(dnsmasq, f"chain.{ZONE}", "A")
    assert [(r.name, r.rdtype, r.value) for r in reply.answer] == [
        (f"chain.{ZONE}.", "CNAME", f"alias.{ZONE}."),
        (f"alias.{ZONE}.", "CNAME", f"www.{ZONE}."),
        (f"www.{ZONE}.", "A", "192.0.2.10")]


def test_nxdomain_and_refused_are_answers_with_a_sentence(dnsmasq: Dnsmasq) -> None:
    missing = ask(dnsmasq, f"nope.{ZONE}", "A")
    assert missing.rcode == "NXDOMAIN" and not missing.answer
    assert f"nope.{ZONE}." in missing.problem and "does not exist" in missing.problem
    refused = ask(dnsmasq, "example.com", "A")  # no upstream: dnsmasq refuses
    assert refused.rcode == "REFUSED" and not refused.answer
    assert "refused" in refused.problem.lower()


def test_truncated_over_udp_then_retried_over_tcp(dnsmasq: Dnsmasq) -> None:
    # without EDNS the answer (~850 bytes) cannot fit 512: TC, then the same over TCP
    reply = ask(dnsmasq, f"big.{ZONE}", "TXT", edns=False)
    assert reply.retried_over_tcp and reply.transport == "udp→tcp"
    assert reply.short() == [" ".join(f'"{s}"' for s in BIG_TXT)]
    assert reply.size > 512
    roomy = ask(dnsmasq, f"big.{ZONE}", "TXT")  # EDNS 1232: one UDP reply holds it
    assert roomy.transport == "udp" and roomy.short() == reply.short()
    tcp = ask(dnsmasq, f"big.{ZONE}", "TXT", transport="tcp")
    assert tcp.transport == "tcp" and tcp.short() == reply.short()


BATCH_NAMES = [f"www.{ZONE}", f"chain.{ZONE}", f"mail.{ZONE}", f"nope.{ZONE}",
               "example.com", f"alias.{ZONE}", f"_sip._tcp.{ZONE}", ZONE, f"mail2.{ZONE}",
               f"missing.{ZONE}"]


def dig_batch(dnsmasq: Dnsmasq, names_file: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, status, answer values) for each query of ``dig -f``, in order."""
    result = subprocess.run(
        [peer_program("dig", "dnsutils"), "@127.0.0.1", "-p", str(dnsmasq.port), "+tries=1",
         "+time=3", "+noall", "+comments", "+answer", "+question", "-f", str(names_file)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = []
    for block in result.stdout.split(";; Got answer:")[1:]:
        status = block.split("status: ", 1)[1].split(",", 1)[0]
        question = next(line for line in block.splitlines() if line.startswith(";") and
                        "\tIN\t" in line)
        name = question[1:].split()[0].rstrip(".")
        values = tuple(line.split(None, 4)[4] for line in block.splitlines()
                       if line and not line.startswith(";"))
        rows.append((name, status, values))
    return rows


def test_a_batch_equals_dig_f(dnsmasq: Dnsmasq, tmp_path: Path) -> None:
    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(BATCH_NAMES) + "\n")
    expected = dig_batch(dnsmasq, names_file)
    assert len(expected) == len(BATCH_NAMES)
    result = run_batch(BATCH_NAMES, "A", server="127.0.0.1", port=dnsmasq.port, timeout=3)
    assert [(r.name, r.status, r.answers) for r in result.rows] == expected
    assert result.counts() == {"NOERROR": 7, "NXDOMAIN": 2, "REFUSED": 1}


def test_the_lookup_session_runs_the_batch_as_the_tab_does(dnsmasq: Dnsmasq) -> None:
    session = LookupSession()
    results: list[BatchResult] = []
    failures: list[Failed] = []
    try:
        session.batch(BATCH_NAMES, on_done=results.append, rdtype="A", server="127.0.0.1",
                      port=dnsmasq.port, timeout=3)
        # what the bridge does on the Tk thread: make the on_done calls in order
        wait_for(lambda: results or failures, 30, "the batch never finished", pump=lambda:
                 failures.extend(e for e in deliver(drain(session.outbox))
                                 if isinstance(e, Failed)))
    finally:
        session.close()
    assert not failures and len(results) == 1, failures
    rows = results[0].rows
    assert [r.name for r in rows] == BATCH_NAMES
    assert rows[1].answers == (f"alias.{ZONE}.", f"www.{ZONE}.", "192.0.2.10")
