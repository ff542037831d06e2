"""The origin document's resolver functions against this host's own resolver."""

from __future__ import annotations

import socket
import threading

import pytest

from core.errors import UserError
from core.lookup import resolver


def test_gethostname_and_fqdn() -> None:
    assert resolver.gethostname() == socket.gethostname()
    assert resolver.getfqdn() == socket.getfqdn()
    assert resolver.getfqdn("localhost")


def test_gethostbyname_localhost_and_literal() -> None:
    assert resolver.gethostbyname("localhost") == "127.0.0.1"
    assert resolver.gethostbyname("127.0.0.1") == "127.0.0.1"


def test_gethostbyname_ex_gives_name_aliases_addresses() -> None:
    entry = resolver.gethostbyname_ex("localhost")
    assert "127.0.0.1" in entry.addresses
    assert isinstance(entry.aliases, list)
    assert entry.name


def test_gethostbyaddr_loopback() -> None:
    entry = resolver.gethostbyaddr("127.0.0.1")
    assert "127.0.0.1" in entry.addresses
    assert entry.name == socket.gethostbyaddr("127.0.0.1")[0]


def test_getaddrinfo_family_type_and_service() -> None:
    rows = resolver.getaddrinfo("localhost", "http", family="IPv4", socktype="stream (TCP)")
    assert rows and all(r.port == 80 and r.family == "AF_INET" for r in rows)
    assert all(r.socktype == "SOCK_STREAM" and r.proto == "tcp" for r in rows)
    v6 = resolver.getaddrinfo("::1", 21, family="IPv6", flags=["AI_NUMERICHOST"])
    assert {r.address for r in v6} == {"::1"} and v6[0].port == 21
    passive = resolver.getaddrinfo("", 8080, family="IPv4", flags=["AI_PASSIVE"])
    assert passive[0].address == "0.0.0.0"
    canon = resolver.getaddrinfo("localhost", None, flags=["AI_CANONNAME"])
    assert canon[0].canonname


def test_getaddrinfo_bad_input() -> None:
    with pytest.raises(UserError, match="Unknown service 'nosuchservice'"):
        resolver.getaddrinfo("localhost", "nosuchservice")
    with pytest.raises(UserError, match="65535"):
        resolver.getaddrinfo("localhost", "70000")
    with pytest.raises(UserError, match="both empty"):
        resolver.getaddrinfo("", "")
    with pytest.raises(UserError, match="empty label"):
        resolver.getaddrinfo("a..b", 80)
    with pytest.raises(UserError, match="Name not found|could not reach"):
        resolver.getaddrinfo("no-such-host.invalid", 80)


def test_unknown_host_is_a_sentence() -> None:
    with pytest.raises(UserError) as info:
        resolver.gethostbyname("no-such-host.invalid")
    assert "no-such-host.invalid" in str(info.value)
    with pytest.raises(UserError, match="empty"):
        resolver.gethostbyname("")
    with pytest.raises(UserError, match="Address is empty"):
        resolver.gethostbyaddr(" ")


def test_pool_refuses_instead_of_piling_up_threads() -> None:
    pool = resolver.BoundedResolverPool(workers=1, queued=1)
    release = threading.Event()
    try:
        # two stuck calls fill the pool; each caller gives up at its deadline
        for _ in range(2):
            with pytest.raises(UserError, match="did not answer"):
                pool.call(release.wait, 10, deadline=0.05, what="stuck")
        assert pool.in_use() == 2
        with pytest.raises(resolver.ResolverBusy, match="still waiting"):
            pool.call(lambda: 1, deadline=1)
        threads = [t for t in threading.enumerate() if "resolver" in t.name]
        assert len(threads) >= 1
    finally:
        release.set()
    # once the stuck calls return, their slots come back
    for _ in range(100):
        if pool.in_use() == 0:
            break
        threading.Event().wait(0.01)
    assert pool.in_use() == 0
    assert pool.call(lambda: 42, deadline=1) == 42
    pool._executor.shutdown(wait=True)
