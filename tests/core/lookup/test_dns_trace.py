"""Iterative trace through the lab root (127.0.0.2) -> test. (127.0.0.3) -> authority."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.lookup.dns_trace import LAB_ROOTS, parse_roots, trace


def run(dns_lab, name: str, rdtype: str = "A", **kw):
    steps = []
    result = trace(name, rdtype, roots=LAB_ROOTS, port=dns_lab.port, timeout=2,
                   on_step=steps.append, **kw)
    assert steps == result.steps  # every step was reported live, in order
    return result


def test_root_tld_authority(dns_lab) -> None:
    result = run(dns_lab, "www.wirebench.test", "A")
    assert result.complete and result.rcode == "NOERROR"
    assert [s.kind for s in result.steps] == ["referral", "referral", "answer"]
    assert [s.server_address for s in result.steps] == ["127.0.0.2", "127.0.0.3", "127.0.0.1"]
    assert [s.zone for s in result.steps] == [".", "test.", "wirebench.test."]
    assert any(r.rdtype == "NS" and r.name == "test." for r in result.steps[0].records)
    assert any(r.rdtype == "A" and r.value == "127.0.0.3" for r in result.steps[0].records)
    assert [r.value for r in result.answer] == ["127.0.0.1"]
    text = result.text()
    assert "asked 127.0.0.3. (127.0.0.3)" in text and "ANSWER" in text


def test_cname_leaving_the_reply_is_followed_from_the_root(dns_lab) -> None:
    result = run(dns_lab, "smtp.wirebench.test", "A")
    assert result.complete
    assert result.answer[0].rdtype == "CNAME"
    assert result.answer[-1].value == "127.0.0.1"
    chain = run(dns_lab, "chain.wirebench.test", "A")
    assert [r.rdtype for r in chain.answer] == ["CNAME", "CNAME", "A"]
    assert len(chain.steps) == 3


def test_nxdomain_and_nodata_end_the_trace(dns_lab) -> None:
    nx = run(dns_lab, "nope.wirebench.test", "MX")
    assert nx.rcode == "NXDOMAIN" and nx.steps[-1].kind == "nxdomain"
    assert "does not exist" in nx.problem
    nodata = run(dns_lab, "nodata.wirebench.test", "A")
    assert nodata.steps[-1].kind == "nodata" and "NODATA" in nodata.problem
    other = run(dns_lab, "example.com", "A")
    assert other.rcode == "NXDOMAIN" and len(other.steps) == 1


def test_reverse_trace(dns_lab) -> None:
    result = run(dns_lab, "127.0.0.1", "PTR")
    assert result.qname == "1.0.0.127.in-addr.arpa."
    assert result.steps[0].zone == "." and result.steps[1].zone == "127.in-addr.arpa."
    assert result.answer[0].value == "wirebench.test."


def test_dead_root_gives_up_within_its_deadline(closed_udp_port) -> None:
    result = trace("www.wirebench.test", "A", roots="127.0.0.1", port=closed_udp_port,
                   timeout=0.3, deadline=3)
    assert not result.complete
    assert result.steps[0].kind == "timeout"
    assert "no server for zone . answered" in result.problem


def test_parse_roots_and_bad_input() -> None:
    assert parse_roots("a.root=198.41.0.4, 192.0.2.1") == [
        ("a.root", "198.41.0.4"), ("192.0.2.1", "192.0.2.1")]
    assert parse_roots(LAB_ROOTS) == [("a.root-servers.test.", "127.0.0.2")]
    with pytest.raises(UserError, match="not an IP address"):
        parse_roots("root.example")
    with pytest.raises(UserError, match="empty"):
        parse_roots("")
    with pytest.raises(UserError, match="empty"):
        trace("", "A", roots="127.0.0.2")
    with pytest.raises(UserError, match="1–65535"):
        trace("x.test", "A", roots="127.0.0.2", port=0)
    with pytest.raises(UserError, match="unknown"):
        trace("x.test", "NOPE", roots="127.0.0.2")


def test_referral_without_glue_looks_the_server_up(dns_lab) -> None:
    result = run(dns_lab, "www.noglue.test", "A")
    assert result.complete and [r.value for r in result.answer] == ["127.0.0.1"]
    referral = result.steps[1]
    assert referral.zone == "test." and "no glue" in referral.note
    assert "ns2.wirebench.test." in referral.note
    # the name server's own address was traced from the root, then asked
    assert [s.zone for s in result.steps[2:5]] == [".", "test.", "wirebench.test."]
    assert result.steps[-1].server_name == "ns2.wirebench.test."
    assert result.steps[-1].zone == "noglue.test."


def test_trace_of_the_root_name(dns_lab) -> None:
    result = run(dns_lab, ".", "NS")
    assert result.complete and result.rcode == "NOERROR"
    assert [s.kind for s in result.steps] == ["answer"]
    assert [r.value for r in result.answer] == ["127.0.0.2."]
