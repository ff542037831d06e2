"""What the user types (host, port, family, path) to socket addresses, and back."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.errors import UserError
from core.sockets.addressing import (
    check_unix_path,
    claim_unix_path,
    format_address,
    parse_address,
    resolve,
)
from core.sockets.options import check_option, options_for


def test_resolve_special_hosts() -> None:
    assert resolve("<broadcast>", 9, "auto", "udp") == [(socket.AF_INET, ("255.255.255.255", 9))]
    assert resolve("", 0, "ipv4", "tcp", passive=True) == [(socket.AF_INET, ("0.0.0.0", 0))]
    family, addr = resolve("", 0, "ipv6", "tcp", passive=True)[0]
    assert family == socket.AF_INET6 and addr[0] == "::"
    with pytest.raises(UserError, match="Host is empty"):
        resolve("", 80, "auto", "tcp")
    with pytest.raises(UserError, match="only in IPv4"):
        resolve("<broadcast>", 9, "ipv6", "udp")
    with pytest.raises(UserError, match="Family must be auto, ipv4 or ipv6"):
        resolve("127.0.0.1", 9, "ipx", "tcp")


def test_resolve_families() -> None:
    assert {f for f, _ in resolve("localhost", 80, "ipv4", "tcp")} == {socket.AF_INET}
    v6 = resolve("::1", 80, "auto", "tcp")
    assert v6[0][0] == socket.AF_INET6 and v6[0][1][:2] == ("::1", 80)


def test_format_and_parse_addresses() -> None:
    assert format_address(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert format_address(("::1", 80, 0, 0)) == "[::1]:80"
    assert format_address("/tmp/x.sock") == "/tmp/x.sock"
    assert format_address(b"\0abc") == "@abc"
    assert format_address("") == "unnamed"
    assert parse_address("[::1]:80", "udp") == ("::1", 80)
    assert parse_address("10.0.0.1:53", "udp") == ("10.0.0.1", 53)
    assert parse_address("@abc", "unix-dgram") == b"\0abc"
    with pytest.raises(UserError, match="needs a port"):
        parse_address("10.0.0.1", "udp")


def test_unix_path_checks(unix_dir: Path) -> None:
    with pytest.raises(UserError, match="Path is empty"):
        check_unix_path("  ")
    with pytest.raises(UserError, match="Choose a shorter path"):
        check_unix_path("/tmp/" + "y" * 200)
    live = str(unix_dir / "live.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(live)
        server.listen(1)
        with pytest.raises(UserError, match="is in use"):
            claim_unix_path(live, "unix-stream")
        with pytest.raises(UserError, match="another type"):
            claim_unix_path(live, "unix-dgram")
    claim_unix_path(live, "unix-stream")  # now stale: removed
    assert not Path(live).exists()


def test_option_values() -> None:
    assert check_option("TCP_NODELAY", "on") == 1 and check_option("SO_KEEPALIVE", 0) == 0
    assert check_option("SO_RCVBUF", " 4096 ") == 4096
    with pytest.raises(UserError, match="SO_SNDBUF must be 1–67108864 bytes"):
        check_option("SO_SNDBUF", 0)
    with pytest.raises(UserError, match="Unknown socket option"):
        check_option("SO_LINGER", 1)
    assert "TCP_NODELAY" not in {o.name for o in options_for("udp")}
    assert "SO_BROADCAST" in {o.name for o in options_for("udp")}
