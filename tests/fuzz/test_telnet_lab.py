"""Fuzzed: the lab telnet server's input parser (core/servers/telnet_lab.py), over a real
socket: whatever a client sends, the server goes on (the next client is negotiated with
at once, and after all of it still gets a login prompt)."""

from __future__ import annotations

import socket

from hypothesis import given
from hypothesis import strategies as st

from core.servers.telnet_lab import TelnetLabServer
from tests.fuzz.budget import fuzz
from tests.hostile.served import recv_until

IAC, SB, SE = 255, 250, 240
_PIECE = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda c, o: bytes((IAC, c, o)), st.sampled_from([251, 252, 253, 254]),
              st.integers(0, 255)),
    st.builds(lambda o, body: bytes((IAC, SB, o)) + body + bytes((IAC, SE)),
              st.sampled_from([24, 31, 39, 32, 33, 36]), st.binary(max_size=40)),
    st.sampled_from([b"lab\r\n", b"wirebench\r\n", b"help\r\n", b"flood 10\r\n",
                     b"\r\x00", b"\x03", b"\x04", b"\x7f" * 5, b"x" * 5000, b"\xff\xff"]))
STREAM = st.lists(_PIECE, min_size=1, max_size=20).map(b"".join)


@fuzz(60)
@given(STREAM)
def test_any_input_leaves_the_lab_greeting_the_next_client(telnet_lab: TelnetLabServer,
                                                          data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", telnet_lab.port), timeout=5) as sock:
        sock.sendall(data)
        recv_until(sock, b"\x00end", 0.1)  # whatever comes in 0.1 s
    with socket.create_connection(("127.0.0.1", telnet_lab.port), timeout=5) as sock:
        assert bytes((IAC,)) in recv_until(sock, bytes((IAC,)), 10)  # the loop is alive

