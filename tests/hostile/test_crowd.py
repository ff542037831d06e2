"""Issue 14's "done when": a normal client is served within a second while 1,000 idle or
slow clients hold connections, on every server kind."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests.hostile.served import (
    ServedProcess,
    hold_connections,
    served_among,
)
from tests.hostile.telnet_peer import login_prompt_time
from tests.hostile.test_cgi_server import get_time
from tests.hostile.test_dns_lab import tcp_query_time
from tests.hostile.test_echo import echo_time
from tests.hostile.test_ftp_lab import login_time
from tests.hostile.test_smtp_sink import send_mail

CROWD = 1000


def _smtp_time(served: ServedProcess) -> float:
    took, done = send_mail(served)
    return took if done.startswith(b"250") else float("inf")


#: kind -> (serve arguments, what a slow client sends and never finishes, normal client)
KINDS: dict[str, tuple[tuple[str, ...], bytes, Callable[[ServedProcess], float]]] = {
    "echo-threaded": (("echo", "--mode", "threaded"), b"", lambda s: echo_time(s, False)),
    "echo-select": (("echo", "--mode", "select"), b"", lambda s: echo_time(s, False)),
    "echo-fork": (("echo", "--mode", "fork"), b"", lambda s: echo_time(s, False)),
    "echo-fork-double": (("echo", "--mode", "fork", "--fork-style", "double"), b"",
                         lambda s: echo_time(s, False)),
    "cgi": (("cgi",), b"GET / HTTP/1.1\r\nHost: lab\r\n", get_time),
    "dns-tcp": (("dns", "--no-tls", "--no-hierarchy"), b"\x00", tcp_query_time),
    "ftp": (("ftp", "--tls", "none", "--large-size", "1024"), b"USER anonym", login_time),
    "smtp": (("smtp",), b"EHLO slow.exam", _smtp_time),
    "telnet": (("telnet",), b"la", lambda s: login_prompt_time(s.host, s.port)),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_normal_client_is_served_within_a_second_among_1000_others(kind: str) -> None:
    args, slow_bytes, normal = KINDS[kind]
    with ServedProcess(*args) as served:
        def crowd() -> list[socket.socket]:
            idle = hold_connections(served.host, served.port, CROWD // 2)
            slow = hold_connections(served.host, served.port, CROWD - len(idle),
                                    first=slow_bytes)
            assert len(idle) + len(slow) == CROWD
            return idle + slow

        served_among(served, crowd, normal, tries=5, label=f"crowd {kind}")


def test_the_crowd_test_holds_its_sockets() -> None:
    # the test process itself needs more than a stock 1024 descriptors for the crowd
    import resource

    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > CROWD + 100
    assert socket.SOMAXCONN > 0
