"""Service and protocol names from the system files (origin document 2.7.2 and 4.1)."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.lookup import services


def test_seed_examples() -> None:
    assert services.getservbyname("http", "tcp") == 80
    assert services.getservbyname("ftp") == 21
    assert services.getservbyname("domain", "udp") == 53
    assert services.getprotobyname("icmp") == 1
    assert services.getprotobyname("tcp") == 6
    assert services.getprotobynumber(17) == "udp"
    assert services.getservbyport(80) == "http"
    assert services.getservbyport("22", "tcp") == "ssh"


def test_unknown_service_says_where_it_looked() -> None:
    with pytest.raises(UserError) as info:
        services.getservbyname("no-such-service", "tcp")
    assert "Unknown service no-such-service/tcp" in str(info.value)
    assert "/etc/services" in str(info.value)
    assert info.value.field_name == "Service"


@pytest.mark.parametrize(("call", "args", "needle"), [
    (services.getservbyname, ("",), "empty"),
    (services.getservbyname, ("http", "sctp-ish"), "tcp or udp"),
    (services.getservbyport, (70000,), "0–65535"),
    (services.getservbyport, ("x",), "number"),
    (services.getservbyport, (1, "udp"), "No service"),
    (services.getprotobyname, ("nope",), "Unknown protocol"),
    (services.getprotobyname, ("",), "empty"),
    (services.getprotobynumber, (300,), "0–255"),
    (services.getprotobynumber, ("abc",), "0–255"),
    (services.getprotobynumber, (254,), "No protocol"),
])
def test_bad_inputs(call, args, needle) -> None:
    with pytest.raises(UserError, match=needle):
        call(*args)


def test_tables_hold_the_system_files() -> None:
    table = services.service_table()
    assert any(e.name == "http" and e.port == 80 and e.proto == "tcp" for e in table)
    assert any("www" in e.aliases for e in table if e.name == "http")
    protocols = services.protocol_table()
    assert any(e.name == "icmp" and e.number == 1 for e in protocols)


def test_search() -> None:
    assert {e.name for e in services.search_services("21")} >= {"ftp"}
    assert all(e.port == 21 for e in services.search_services("21"))
    found = services.search_services("smtp")
    assert any(e.port == 25 for e in found)
    assert len(services.search_services("")) == len(services.service_table())
    assert [e.name for e in services.search_protocols("1")] == ["icmp"]
    assert any(e.name == "tcp" for e in services.search_protocols("transmission"))


def test_parser_skips_comments_and_junk(tmp_path) -> None:
    path = tmp_path / "services"
    path.write_text("# comment\nfoo 1234/tcp bar baz # the foo\nbroken\nx y/tcp\n")
    assert services.service_table(path) == [
        services.ServiceEntry("foo", 1234, "tcp", ("bar", "baz"), "the foo")]
    assert services.service_table(tmp_path / "missing") == []
