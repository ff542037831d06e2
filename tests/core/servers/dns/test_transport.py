"""TCP message reading with an overall deadline; the UDP socket group."""

from __future__ import annotations

import socket
import struct

import pytest

from core.servers.dns.transport import REUSEPORT, read_message, udp_socket


def test_a_whole_message_is_read_and_eof_is_none() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!H", 5) + b"hello")
        assert read_message(b, 2.0, 1.0) == b"hello"
        a.shutdown(socket.SHUT_WR)
        assert read_message(b, 2.0, 1.0) is None


def test_a_message_dripping_past_the_io_timeout_raises() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"\x00")  # the first byte of a length, then nothing
        with pytest.raises(TimeoutError):
            read_message(b, 2.0, 0.1)


def test_udp_sockets_share_one_port() -> None:
    assert REUSEPORT is not None  # Linux has it; the group needs it
    first = udp_socket(socket.AF_INET, "127.0.0.1", 0)
    port = first.getsockname()[1]
    second = udp_socket(socket.AF_INET, "127.0.0.1", port)
    with first, second:
        assert second.getsockname()[1] == port
